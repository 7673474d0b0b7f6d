"""Per-source health: state, reason, last data, bad-message counts, derived staleness.

Staleness is derived from time at every paint, never from an event that may not
come: if a source goes silent, its age keeps counting and its state turns STALE.

Timing of a source's own timestamps (reliability.md W15, D7) is judged here by one rule,
:func:`lag_at_receipt`, which the BTC slice uses too: a lag above
:data:`DELAYED_AFTER` is DELAYED, a timestamp more than :data:`SKEW_AHEAD` after
receipt is clock skew.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from feeds.core.clock import Clock
from feeds.model.core import BadMessage, FeedState, FeedStatus, SourceHealth

DELAYED_AFTER = 2.0
"""Seconds of feed lag (receipt minus the source's timestamp) beyond which the data is
shown as DELAYED (reliability.md W15): still shown, marked."""
SKEW_AHEAD = 60.0
"""Seconds a source's timestamp may lie after its receipt before it counts as clock
skew (reliability.md D7): its data is kept out of time-keyed history and a hint shown."""


def lag_at_receipt(source_time: datetime, received: float, clock: Clock) -> float:
    """Seconds from ``source_time`` (the source's own timestamp) to the wall time at
    receipt; negative when the source's clock runs ahead of ours.

    ``received`` is monotonic: it is put on the wall clock with the current wall minus
    monotonic offset, so the answer is exact unless the wall clock stepped since receipt
    (read it when the data is shown, seconds later at most)."""
    wall = received + (clock.now().timestamp() - clock.monotonic())
    return wall - source_time.timestamp()


def is_clock_skew(lag: float) -> bool:
    """True when a lag from :func:`lag_at_receipt` means the source's clock is ahead."""
    return lag < -SKEW_AHEAD


def skew_hint(lag: float) -> str:
    """The words shown for clock skew (``"clock skew: source time 120 s ahead"``)."""
    return f"clock skew: source time {-lag:.0f} s ahead"


def source_time(event: object) -> datetime | None:
    """The source's own timestamp of a data event (a tick's ``exchange_time``, a quote's
    ``market_time``), if it carries one."""
    when = getattr(event, "exchange_time", None)
    if when is None:
        when = getattr(event, "market_time", None)
    return when if isinstance(when, datetime) else None


@dataclass(slots=True)
class _Seen:
    """Per-source counters, mutated in place: one dict lookup per data event."""

    last_seen: float | None = None
    last_data: float | None = None
    messages: int = 0
    last_event: object = None
    """The latest data event (kept, not copied: its timestamp is judged at paint)."""


# How an event type counts, decided once per type (apply runs for every message);
# heartbeats and data, the frequent ones, sort last.
_STATUS, _BAD, _HEARTBEAT, _DATA = range(4)


class HealthSlice:
    """Tracks every source. Data events are anything with ``source`` and ``received``."""

    topic = "health"
    accepts: tuple[type, ...] = (object,)

    def __init__(
        self,
        stale_after: dict[str, float],
        heartbeat_kinds: tuple[type, ...] = (),
        *,
        clock: Clock | None = None,
    ):
        """``stale_after`` maps a source to its silence threshold in seconds; sources not
        listed never turn STALE by timer. ``heartbeat_kinds`` are events that prove the
        link is alive but are not data. With a ``clock``, a source whose latest data is
        stamped in the future gets a clock-skew ``hint``."""
        self._clock = clock
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
                seen.last_event = event
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
                hint=self._hint(seen),
            )
        return MappingProxyType(out)

    def _hint(self, seen: _Seen) -> str:
        """The clock-skew hint for a source's latest data, or ""."""
        event, clock, received = seen.last_event, self._clock, seen.last_data
        if event is None or clock is None or received is None:
            return ""
        when = source_time(event)
        if when is None:
            return ""
        lag = lag_at_receipt(when, received, clock)
        return skew_hint(lag) if is_clock_skew(lag) else ""

    def get(self, source: str) -> SourceHealth | None:
        """One source's health, or None if it has reported nothing yet."""
        return self.view().get(source)
