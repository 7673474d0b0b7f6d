"""The BTC slice of the store: per-venue latest ticks, which venue is shown, and the
intraday sparkline.

Failover: the primary venue is shown while it is healthy (LIVE and heard from within
``stale_after``). When it is not and the secondary is, the secondary is shown and the
panel says so. The primary comes back once it has been healthy for ``failback_after``
seconds without interruption, so a flapping venue does not make the panel flicker.

Timing (given a ``clock``): the shown tick's feed lag is judged when a view is built,
never per tick; lag over 2 s is DELAYED (still shown), a venue timestamp more than 60 s
after receipt is clock skew, and such a tick never opens a sparkline minute.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from feeds.core.clock import Clock
from feeds.core.health import DELAYED_AFTER, is_clock_skew, lag_at_receipt, skew_hint
from feeds.model.btc import BtcView, Heartbeat, Tick, VenueNotice, VenueView
from feeds.model.core import FeedState, FeedStatus

_NO_BUCKET = datetime.min.replace(tzinfo=UTC)
"""Bucket bounds before the first tick: an empty interval, so the first tick opens one."""
_MINUTE = timedelta(minutes=1)


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
        clock: Clock | None = None,
    ) -> None:
        """``venues`` is in preference order: the first is the primary. ``clock`` (wall
        time) lets the view judge the feed lag; without it lag is unknown."""
        self.clock = clock
        self.venues = venues
        self.stale_after = stale_after
        self.failback_after = failback_after
        self._status: dict[str, FeedStatus] = {}
        self._last: dict[str, Tick] = {}
        self._seen: dict[str, float] = {}
        self._notice: dict[str, str] = {}
        self._healthy_since: dict[str, float | None] = dict.fromkeys(venues)
        self.active: str | None = None
        self._shown: Tick | None = None
        """The shown venue's latest tick: the one BTC price every panel shows."""
        self._stale: dict[str, bool] = {}
        self._primary_was_live = False
        self._reason = ""
        self._spark: deque[tuple[int, float]] = deque(maxlen=spark_minutes)
        self._spark_end: datetime | None = None
        # The newest bucket [lo, hi) and the newest tick in it, whose price is written
        # into the bucket only when it closes or a view is built: a tick inside the
        # current minute costs two datetime comparisons and no float or tuple.
        self._bucket_lo = self._bucket_hi = _NO_BUCKET
        self._bucket_tick: Tick | None = None
        self._spark_prefix: tuple[float, ...] | None = None
        """Every bucket but the newest, as built for the last view (None: rebuild)."""
        self.ticks = 0
        self._now = 0.0

    # -- events ---------------------------------------------------------------------

    def apply(self, event: object) -> bool:
        """Take a tick, heartbeat, status or notice for one of our venues."""
        if isinstance(event, Tick):
            # The hot path: thousands a second, so O(1) and allocation-free.
            venue = event.source
            if venue not in self._healthy_since:
                return False
            self.ticks += 1
            self._last[venue] = event
            self._seen[venue] = event.received
            if self.active is None:
                self._choose(event.received)
            if venue == self.active:
                self._shown = event
                when = event.exchange_time
                if when is not None:
                    if self._bucket_lo <= when < self._bucket_hi:
                        self._bucket_tick = event
                    else:
                        self._add_spark(event, when)
                return True
            return False
        source = getattr(event, "source", None)
        if source not in self._healthy_since:
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
        """Re-check venue health against the clock; True if the shown venue changed or a
        venue turned stale (or fresh again)."""
        before = self.active
        self._choose(now)
        flipped = False
        for v in self.venues:
            stale = self.venue_stale(v, now)
            if stale != self._stale.get(v, False):
                self._stale[v] = stale
                flipped = True
        return self.active != before or flipped

    def shown_tick(self) -> Tick | None:
        """The shown venue's latest tick (the view's ``tick``), without building a view.

        The ATH and divergence slices read BTC's price through this, so every panel
        shows the one price and venue the BTC panel shows. O(1), no allocation: it is
        called for every tick."""
        return self._shown

    def venue_stale(self, source: str, now: float) -> bool:
        """The one staleness rule for a BTC venue: LIVE, yet nothing (data or heartbeat)
        heard for more than ``stale_after`` seconds. The health slice asks this too."""
        st = self._status.get(source)
        if st is None or st.state is not FeedState.LIVE:
            return False
        return now - self._seen.get(source, st.since) > self.stale_after

    # -- selection ------------------------------------------------------------------

    def healthy(self, source: str, now: float) -> bool:
        """LIVE, heard from recently, and not announcing maintenance."""
        st = self._status.get(source)
        if st is None or st.state is not FeedState.LIVE or source not in self._last:
            return False
        if self._notice.get(source):
            return False
        return not self.venue_stale(source, now)

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
        self._shown = self._last.get(venue) if venue is not None else None
        self._reason = reason if venue != self.venues[0] else ""

    # -- sparkline ------------------------------------------------------------------

    def _add_spark(self, tick: Tick, when: datetime) -> None:
        """A tick outside the newest bucket: open a newer bucket, or ignore an older one
        or one stamped in the future (clock skew: it would freeze the line there)."""
        minute = int(when.timestamp()) // 60
        spark = self._spark
        if spark and minute <= spark[-1][0]:
            if minute == spark[-1][0]:  # lo/hi unset: after a seed, or out of range
                self._bucket_tick = tick
                self._set_bucket(minute)
            return
        # Reached once a minute normally; on every tick only while a venue is skewed.
        clock = self.clock
        if clock is not None and is_clock_skew(lag_at_receipt(when, tick.received, clock)):
            return
        self._close_bucket()
        spark.append((minute, float(tick.price)))
        self._spark_end = when
        self._spark_prefix = None
        self._set_bucket(minute)

    def _set_bucket(self, minute: int) -> None:
        try:
            lo = datetime.fromtimestamp(minute * 60, UTC)
            hi = lo + _MINUTE
        except (OverflowError, OSError, ValueError):
            # Outside datetime's range (only a hand-made tick): every tick takes the slow path.
            lo = hi = _NO_BUCKET
        self._bucket_lo, self._bucket_hi = lo, hi

    def _close_bucket(self) -> None:
        """Write the newest bucket's latest price into it."""
        tick = self._bucket_tick
        if tick is not None:
            self._bucket_tick = None
            if self._spark:  # empty only with spark_minutes=0
                self._spark[-1] = (self._spark[-1][0], float(tick.price))

    def seed_spark(self, points: list[tuple[int, float]]) -> None:
        """Pre-fill the sparkline (minute index since the epoch, price), e.g. from cache."""
        self._close_bucket()
        for minute, px in sorted(points):
            if not self._spark or minute > self._spark[-1][0]:
                self._spark.append((minute, px))
        self._spark_prefix = None
        # The next tick finds its bucket again from the (possibly newer) last minute.
        self._bucket_lo = self._bucket_hi = _NO_BUCKET

    def _spark_view(self) -> tuple[float, ...]:
        """The closes, oldest first; all but the newest are reused until a bucket opens."""
        self._close_bucket()
        spark = self._spark
        if not spark:
            return ()
        prefix = self._spark_prefix
        if prefix is None:
            prefix = self._spark_prefix = tuple(px for _, px in list(spark)[:-1])
        return (*prefix, spark[-1][1])

    # -- view -----------------------------------------------------------------------

    def view(self) -> BtcView:
        """An immutable picture of the BTC state."""
        tick = self._shown
        venues = {}
        for v in self.venues:
            st = self._status.get(v)
            state = st.state if st else FeedState.CONNECTING
            reason = st.reason if st else ""
            if self.venue_stale(v, self._now):
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
        shown = venues.get(self.active) if self.active is not None else None
        if shown is None or tick is None:
            states = {v.state for v in venues.values()}
            state = FeedState.DOWN if states == {FeedState.DOWN} else FeedState.CONNECTING
        else:
            state = shown.state
        fresh = (
            tick is not None
            and shown is not None
            and shown.state is FeedState.LIVE
            and not shown.notice
        )
        lag: float | None = None
        note = ""
        if tick is not None and tick.exchange_time is not None and self.clock is not None:
            lag = lag_at_receipt(tick.exchange_time, tick.received, self.clock)
            if is_clock_skew(lag):
                note = skew_hint(lag)
            elif lag > DELAYED_AFTER:
                note = f"DELAYED {lag:.1f}s"
        return BtcView(
            active=self.active,
            tick=tick,
            failover_reason=reason,
            venues=MappingProxyType(venues),
            spark=self._spark_view(),
            spark_end=self._spark_end,
            ticks=self.ticks,
            stale_after=self.stale_after,
            state=state,
            fresh=fresh,
            lag=lag,
            delayed=lag is not None and lag > DELAYED_AFTER,
            clock_skew=lag is not None and is_clock_skew(lag),
            timing_note=note,
        )
