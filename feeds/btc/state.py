"""The BTC slice of the store: per-venue latest ticks, which venue is shown, and the
intraday sparkline.

Failover: the primary venue is shown while it is healthy (LIVE and heard from within
``stale_after``). When it is not and the secondary is, the secondary is shown and the
panel says so. The primary comes back once it has been healthy for ``failback_after``
seconds without interruption, so a flapping venue does not make the panel flicker.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from feeds.model.btc import Heartbeat, Tick, VenueNotice
from feeds.model.core import FeedState, FeedStatus


@dataclass(frozen=True, slots=True)
class VenueView:
    """One venue as the BTC panel sees it."""

    source: str
    state: FeedState
    reason: str
    last: Tick | None
    last_seen: float | None
    notice: str
    """The venue's own status word when it is not ``online`` (Kraken maintenance ...)."""


@dataclass(frozen=True, slots=True)
class BtcView:
    """An immutable picture of BTC for the panel.

    Attributes:
        active: The venue whose price is shown, or None before any data.
        tick: The shown venue's latest tick.
        failover_reason: Why the secondary venue is shown, or "".
        venues: Every venue's state.
        spark: Per-minute closing prices, oldest first (bounded).
        spark_end: Wall time of the last sparkline bucket, if any.
        ticks: Ticks applied so far (all venues).
        stale_after: Silence after which a venue counts as stale, seconds.
    """

    active: str | None
    tick: Tick | None
    failover_reason: str
    venues: MappingProxyType[str, VenueView]
    spark: tuple[float, ...]
    spark_end: datetime | None
    ticks: int
    stale_after: float


class BtcSlice:
    """State for the BTC panel. Pure: time comes in through ``received`` and ``refresh``."""

    topic = "btc"
    accepts: tuple[type, ...] = (Tick, Heartbeat, FeedStatus, VenueNotice)

    def __init__(
        self,
        venues: tuple[str, ...] = ("coinbase", "kraken"),
        *,
        stale_after: float = 5.0,
        failback_after: float = 30.0,
        spark_minutes: int = 24 * 60,
    ) -> None:
        """``venues`` is in preference order: the first is the primary."""
        self.venues = venues
        self.stale_after = stale_after
        self.failback_after = failback_after
        self._status: dict[str, FeedStatus] = {}
        self._last: dict[str, Tick] = {}
        self._seen: dict[str, float] = {}
        self._notice: dict[str, str] = {}
        self._healthy_since: dict[str, float | None] = dict.fromkeys(venues)
        self.active: str | None = None
        self._primary_was_live = False
        self._reason = ""
        self._spark: deque[tuple[int, float]] = deque(maxlen=spark_minutes)
        self._spark_end: datetime | None = None
        self.ticks = 0
        self._now = 0.0

    # -- events ---------------------------------------------------------------------

    def apply(self, event: object) -> bool:
        """Take a tick, heartbeat, status or notice for one of our venues."""
        source = getattr(event, "source", None)
        if source not in self._healthy_since:
            return False
        if isinstance(event, Tick):
            self.ticks += 1
            self._last[source] = event
            self._seen[source] = event.received
            if self.active is None:
                self._choose(event.received)
            if source == self.active:
                self._add_spark(event)
                return True
            return False
        if isinstance(event, Heartbeat):
            self._seen[source] = event.received
            return False
        if isinstance(event, FeedStatus):
            self._status[source] = event
            if event.state is FeedState.LIVE:
                self._seen[source] = event.since
            self._choose(event.since)
            return True
        if isinstance(event, VenueNotice) and not event.is_error:
            self._notice[source] = "" if event.status == "online" else event.status
            return True
        return False

    def refresh(self, now: float) -> bool:
        """Re-check venue health against the clock; True if the shown venue changed."""
        before = self.active
        self._choose(now)
        return self.active != before

    # -- selection ------------------------------------------------------------------

    def healthy(self, source: str, now: float) -> bool:
        """LIVE, heard from recently, and not announcing maintenance."""
        st = self._status.get(source)
        if st is None or st.state is not FeedState.LIVE or source not in self._last:
            return False
        if self._notice.get(source):
            return False
        return now - self._seen.get(source, st.since) <= self.stale_after

    def _choose(self, now: float) -> None:
        self._now = now
        for v in self.venues:
            if self.healthy(v, now):
                if self._healthy_since[v] is None:
                    self._healthy_since[v] = now
            else:
                self._healthy_since[v] = None
        primary = self.venues[0]
        current = self.active
        if current is None:
            pick = next((v for v in self.venues if self.healthy(v, now)), None)
            if pick is None:
                pick = next((v for v in self.venues if v in self._last), None)
            self._switch(pick, "" if pick == primary else f"{primary} connecting")
            return
        if current == primary:
            if not self.healthy(primary, now):
                backup = next((v for v in self.venues[1:] if self.healthy(v, now)), None)
                if backup is not None:
                    self._switch(backup, f"{primary} {self._why(primary, now)}")
            return
        since = self._healthy_since[primary]
        if since is not None and (
            now - since >= self.failback_after
            or not self.healthy(current, now)
            or not self._primary_was_live
        ):
            self._switch(primary, "")
        elif not self.healthy(current, now):
            other = next((v for v in self.venues if v != current and self.healthy(v, now)), None)
            if other is not None:
                self._switch(other, f"{current} {self._why(current, now)}")

    def _why(self, source: str, now: float) -> str:
        st = self._status.get(source)
        if self._notice.get(source):
            return f"in {self._notice[source]}"
        if st is None:
            return "not connected"
        if st.state is FeedState.LIVE:
            return "stale"
        return st.state.value.lower()

    def _switch(self, venue: str | None, reason: str) -> None:
        if venue == self.venues[0]:
            # Until the primary has been live once, it is still starting up, not failing:
            # show it as soon as it is healthy rather than after the failback hold-down.
            self._primary_was_live = True
        self.active = venue
        self._reason = reason if venue != self.venues[0] else ""

    # -- sparkline ------------------------------------------------------------------

    def _add_spark(self, tick: Tick) -> None:
        when = tick.exchange_time
        if when is None:
            return
        minute = int(when.timestamp()) // 60
        px = float(tick.price)
        if self._spark and self._spark[-1][0] == minute:
            self._spark[-1] = (minute, px)
        elif not self._spark or minute > self._spark[-1][0]:
            self._spark.append((minute, px))
            self._spark_end = when

    def seed_spark(self, points: list[tuple[int, float]]) -> None:
        """Pre-fill the sparkline (minute index since the epoch, price), e.g. from cache."""
        for minute, px in sorted(points):
            if not self._spark or minute > self._spark[-1][0]:
                self._spark.append((minute, px))

    # -- view -----------------------------------------------------------------------

    def view(self) -> BtcView:
        """An immutable picture of the BTC state."""
        tick = self._last.get(self.active) if self.active else None
        venues = {}
        for v in self.venues:
            st = self._status.get(v)
            state = st.state if st else FeedState.CONNECTING
            reason = st.reason if st else ""
            if state is FeedState.LIVE and not self.healthy(v, self._now) and v in self._last:
                seen = self._seen.get(v)
                if seen is not None and self._now - seen > self.stale_after:
                    state = FeedState.STALE
            venues[v] = VenueView(
                v, state, reason, self._last.get(v), self._seen.get(v), self._notice.get(v, "")
            )
        reason = self._reason
        primary = self.venues[0]
        since = self._healthy_since.get(primary)
        if self.active not in (None, primary) and since is not None:
            left = max(0.0, self.failback_after - (self._now - since))
            reason = f"{primary} live again, back to it in {left:.0f}s"
        return BtcView(
            active=self.active,
            tick=tick,
            failover_reason=reason,
            venues=MappingProxyType(venues),
            spark=tuple(px for _, px in self._spark),
            spark_end=self._spark_end,
            ticks=self.ticks,
            stale_after=self.stale_after,
        )
