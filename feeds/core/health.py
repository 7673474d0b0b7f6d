"""Per-source health: state, reason, last data, bad-message counts, derived staleness.

Staleness is derived from time at every paint, never from an event that may not
come: if a source goes silent, its age keeps counting and its state turns STALE.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import MappingProxyType

from feeds.model.core import BadMessage, FeedState, FeedStatus, SourceHealth


@dataclass(slots=True)
class _Seen:
    """Per-source counters, mutated in place: one dict lookup per data event."""

    last_seen: float | None = None
    last_data: float | None = None
    messages: int = 0


# How an event type counts, decided once per type (apply runs for every message);
# heartbeats and data, the frequent ones, sort last.
_STATUS, _BAD, _HEARTBEAT, _DATA = range(4)


class HealthSlice:
    """Tracks every source. Data events are anything with ``source`` and ``received``."""

    topic = "health"
    accepts: tuple[type, ...] = (object,)

    def __init__(self, stale_after: dict[str, float], heartbeat_kinds: tuple[type, ...] = ()):
        """``stale_after`` maps a source to its silence threshold in seconds; sources not
        listed never turn STALE by timer. ``heartbeat_kinds`` are events that prove the
        link is alive but are not data."""
        self._stale_after = dict(stale_after)
        self._heartbeats = heartbeat_kinds
        self._status: dict[str, FeedStatus] = {}
        self._seen: dict[str, _Seen] = {}
        self._bad: dict[str, int] = {}
        self._stale: dict[str, bool] = {}
        self._roles: dict[type, int] = {}
        self._rules: dict[str, Callable[[str, float], bool]] = {}
        self._now = 0.0

    def delegate_staleness(
        self, sources: Iterable[str], rule: Callable[[str, float], bool]
    ) -> None:
        """Let ``rule(source, now)`` decide when ``sources`` are stale, instead of this
        slice's own timer: the BTC venues' staleness is the BTC slice's
        (``BtcSlice.venue_stale``), so the status bar, the BTC panel and the alert rules
        agree. The threshold given for them still words the reason."""
        for source in sources:
            self._rules[source] = rule

    def set_threshold(self, source: str, seconds: float | None) -> None:
        """Change (or with None, drop) a source's staleness threshold."""
        if seconds is None:
            self._stale_after.pop(source, None)
        else:
            self._stale_after[source] = seconds

    def _role(self, kind: type) -> int:
        if issubclass(kind, FeedStatus):
            role = _STATUS
        elif issubclass(kind, BadMessage):
            role = _BAD
        elif issubclass(kind, self._heartbeats):
            role = _HEARTBEAT
        else:
            role = _DATA
        self._roles[kind] = role
        return role

    def apply(self, event: object) -> bool:
        """Record one event; True when something visible changed."""
        kind = type(event)
        role = self._roles.get(kind)
        if role is None:
            role = self._role(kind)
        if role >= _HEARTBEAT:
            source = getattr(event, "source", None)
            received = getattr(event, "received", None)
            if not isinstance(source, str) or not isinstance(received, float | int):
                return False
            seen = self._seen.get(source)
            if seen is None:
                seen = self._seen[source] = _Seen()
            seen.last_seen = received
            if role == _DATA:
                seen.last_data = received
                seen.messages += 1
            if self._stale.get(source):
                # Heard from again: the status bar's word goes back from STALE at once.
                self._stale[source] = False
                return True
            # Ages are repainted by the 1 Hz clock; a data event alone changes nothing shown.
            return False
        if isinstance(event, FeedStatus):
            self._status[event.source] = event
            if event.state is FeedState.LIVE:
                self._seen_of(event.source).last_seen = event.since
            self._stale[event.source] = False
            return True
        if isinstance(event, BadMessage):
            self._bad[event.source] = self._bad.get(event.source, 0) + 1
            return True
        return False

    def _seen_of(self, source: str) -> _Seen:
        seen = self._seen.get(source)
        if seen is None:
            seen = self._seen[source] = _Seen()
        return seen

    def refresh(self, now: float) -> bool:
        """Flip silent LIVE sources to STALE (and back); True if any flipped."""
        self._now = now
        changed = False
        for source, status in self._status.items():
            if status.state not in (FeedState.LIVE, FeedState.STALE):
                continue
            rule = self._rules.get(source)
            limit = self._stale_after.get(source)
            if rule is not None:
                stale = rule(source, now)
            elif limit is None:
                continue
            else:
                heard = self._seen.get(source)
                last = heard.last_seen if heard is not None else None
                stale = now - (status.since if last is None else last) > limit
            if stale != self._stale.get(source, False):
                self._stale[source] = stale
                changed = True
        return changed

    def view(self) -> MappingProxyType[str, SourceHealth]:
        """An immutable view of every source seen so far."""
        out = {}
        for source, st in self._status.items():
            seen = self._seen.get(source) or _Seen()
            state = st.state
            reason = st.reason
            if self._stale.get(source) and state is FeedState.LIVE:
                state = FeedState.STALE
                limit = self._stale_after.get(source, 0.0)
                reason = f"no message for over {limit:g} s"
            out[source] = SourceHealth(
                source=source,
                state=state,
                reason=reason,
                since=st.since,
                retry_at=st.retry_at,
                last_data=seen.last_data,
                last_seen=seen.last_seen,
                bad=self._bad.get(source, 0),
                messages=seen.messages,
            )
        return MappingProxyType(out)

    def get(self, source: str) -> SourceHealth | None:
        """One source's health, or None if it has reported nothing yet."""
        return self.view().get(source)
