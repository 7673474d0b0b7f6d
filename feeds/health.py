"""Per-source health: state, reason, last data, bad-message counts, derived staleness.

Staleness is derived from time at every paint, never from an event that may not
come: if a source goes silent, its age keeps counting and its state turns STALE.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from feeds.model.core import BadMessage, FeedState, FeedStatus


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What the status bar shows for one source.

    Attributes:
        source: Source name.
        state: Effective state (LIVE turns STALE when silent past the threshold).
        reason: Why, in plain words.
        since: Monotonic time the reported state began.
        retry_at: Monotonic time of the next attempt, if any.
        last_data: Monotonic time of the last real data (not heartbeats), if any.
        last_seen: Monotonic time of the last message of any kind, if any.
        bad: Messages rejected so far.
        messages: Messages accepted so far.
    """

    source: str
    state: FeedState
    reason: str
    since: float
    retry_at: float | None
    last_data: float | None
    last_seen: float | None
    bad: int
    messages: int


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
        self._last_data: dict[str, float] = {}
        self._last_seen: dict[str, float] = {}
        self._bad: dict[str, int] = {}
        self._count: dict[str, int] = {}
        self._stale: dict[str, bool] = {}
        self._now = 0.0

    def set_threshold(self, source: str, seconds: float | None) -> None:
        """Change (or with None, drop) a source's staleness threshold."""
        if seconds is None:
            self._stale_after.pop(source, None)
        else:
            self._stale_after[source] = seconds

    def apply(self, event: object) -> bool:
        """Record one event; True when something visible changed."""
        if isinstance(event, FeedStatus):
            self._status[event.source] = event
            if event.state is FeedState.LIVE:
                self._last_seen[event.source] = event.since
            self._stale[event.source] = False
            return True
        if isinstance(event, BadMessage):
            self._bad[event.source] = self._bad.get(event.source, 0) + 1
            return True
        source = getattr(event, "source", None)
        received = getattr(event, "received", None)
        if not isinstance(source, str) or not isinstance(received, float | int):
            return False
        self._last_seen[source] = received
        if self._stale.get(source):
            self._stale[source] = False
        if not isinstance(event, self._heartbeats):
            self._last_data[source] = received
            self._count[source] = self._count.get(source, 0) + 1
        # Ages are repainted by the 1 Hz clock; a data event alone changes nothing shown.
        return False

    def refresh(self, now: float) -> bool:
        """Flip silent LIVE sources to STALE (and back); True if any flipped."""
        self._now = now
        changed = False
        for source, status in self._status.items():
            limit = self._stale_after.get(source)
            if limit is None or status.state not in (FeedState.LIVE, FeedState.STALE):
                continue
            seen = self._last_seen.get(source, status.since)
            stale = now - seen > limit
            if stale != self._stale.get(source, False):
                self._stale[source] = stale
                changed = True
        return changed

    def view(self) -> MappingProxyType[str, SourceHealth]:
        """An immutable view of every source seen so far."""
        out = {}
        for source, st in self._status.items():
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
                last_data=self._last_data.get(source),
                last_seen=self._last_seen.get(source),
                bad=self._bad.get(source, 0),
                messages=self._count.get(source, 0),
            )
        return MappingProxyType(out)

    def get(self, source: str) -> SourceHealth | None:
        """One source's health, or None if it has reported nothing yet."""
        return self.view().get(source)
