"""The BTC slice's per-tick path: the sparkline keeps one close per minute, whatever the
order of ticks, views and seeds, while a tick inside the current minute costs no more
than remembering it (the close is written when the minute ends or a view is built)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.btc.state import BtcSlice
from feeds.model import FeedState, FeedStatus, Heartbeat, Tick

T0 = datetime(2025, 12, 12, 15, 0, tzinfo=UTC)


def tick(
    cents: int, when: datetime | None, received: float = 1.0, source: str = "coinbase"
) -> Tick:
    px = Decimal(cents) / 100
    return Tick(source, px, None, None, None, None, None, None, when, None, received)


def live(slice_: BtcSlice, source: str = "coinbase", at: float = 0.0) -> None:
    slice_.apply(FeedStatus(source, FeedState.LIVE, "", at))


@dataclass
class SparkSpec:
    """What the sparkline means: one (minute, close) per minute, oldest first; a tick in
    an older minute than the newest is ignored; the end is the first tick of the newest
    minute; at most ``size`` minutes."""

    size: int
    points: list[tuple[int, float]] = field(default_factory=list)
    end: datetime | None = None

    def tick(self, when: datetime, px: float) -> None:
        minute = int(when.timestamp()) // 60
        if self.points and self.points[-1][0] == minute:
            self.points[-1] = (minute, px)
        elif not self.points or minute > self.points[-1][0]:
            self.points = [*self.points, (minute, px)][-self.size :]
            self.end = when

    def seed(self, points: list[tuple[int, float]]) -> None:
        for minute, px in sorted(points):
            if not self.points or minute > self.points[-1][0]:
                self.points = [*self.points, (minute, px)][-self.size :]


STEP = st.one_of(
    st.tuples(st.just("tick"), st.integers(-90, 600), st.integers(1, 10**7)),
    st.tuples(st.just("view"), st.just(0), st.just(0)),
    st.tuples(st.just("seed"), st.integers(-5, 12), st.integers(1, 10**7)),
    st.tuples(st.just("kraken"), st.integers(0, 600), st.integers(1, 10**7)),
    st.tuples(st.just("untimed"), st.just(0), st.integers(1, 10**7)),
)


@settings(max_examples=300)
@given(st.lists(STEP, max_size=80), st.integers(1, 8))
def test_spark_matches_its_definition(steps: list[tuple[str, int, int]], size: int) -> None:
    btc = BtcSlice(spark_minutes=size)
    spec = SparkSpec(size)
    live(btc)
    btc.apply(tick(1, None))  # coinbase, the primary, becomes the shown venue
    assert btc.active == "coinbase"
    for i, (kind, seconds, cents) in enumerate(steps):
        when = T0 + timedelta(seconds=seconds, microseconds=i)
        if kind == "tick":
            assert btc.apply(tick(cents, when, float(i))) is True
            spec.tick(when, float(Decimal(cents) / 100))
        elif kind == "kraken":  # not the shown venue: not in the sparkline
            btc.apply(tick(cents, when, float(i), source="kraken"))
        elif kind == "untimed":  # no exchange time: not placed in any minute
            btc.apply(tick(cents, None, float(i)))
        elif kind == "seed":
            points = [(int(T0.timestamp()) // 60 + seconds, cents / 100)]
            btc.seed_spark(points)
            spec.seed(points)
        else:
            view = btc.view()
            assert view.spark == tuple(px for _, px in spec.points)
            assert view.spark_end == spec.end
    view = btc.view()
    assert view.spark == tuple(px for _, px in spec.points)
    assert view.spark_end == spec.end


def test_ticks_within_a_minute_update_its_close_without_new_buckets() -> None:
    btc = BtcSlice()
    live(btc)
    for s in range(60):
        btc.apply(tick(9_000_000 + s, T0 + timedelta(seconds=s)))
    assert btc.view().spark == (90000.59,)
    btc.apply(tick(9_100_000, T0 + timedelta(seconds=60)))  # the next minute
    btc.apply(tick(8_900_000, T0 + timedelta(seconds=59, microseconds=999_999)))  # late
    view = btc.view()
    assert view.spark == (90000.59, 91000.0)
    assert view.spark_end == T0 + timedelta(seconds=60)


def test_minute_edges_and_other_offsets() -> None:
    """Bucket bounds are compared as instants, so a tick stamped in another offset lands
    in the same minute as its UTC twin."""
    btc = BtcSlice()
    live(btc)
    btc.apply(tick(100, T0))
    plus_one = timezone(timedelta(hours=1))
    btc.apply(tick(200, (T0 + timedelta(seconds=59.999999)).astimezone(plus_one)))
    assert btc.view().spark == (2.0,)
    btc.apply(tick(300, (T0 + timedelta(minutes=1)).astimezone(plus_one)))
    assert btc.view().spark == (2.0, 3.0)


def test_seeded_minute_is_continued_by_live_ticks() -> None:
    btc = BtcSlice()
    live(btc)
    minute = int(T0.timestamp()) // 60
    btc.seed_spark([(minute - 1, 1.0), (minute, 2.0)])
    btc.apply(tick(300, T0 + timedelta(seconds=30)))  # same minute as the last seed
    assert btc.view().spark == (1.0, 3.0)
    btc.apply(tick(400, T0 - timedelta(minutes=5)))  # older than the seeds: ignored
    assert btc.view().spark == (1.0, 3.0)


def test_zero_minute_sparkline_stays_empty() -> None:
    btc = BtcSlice(spark_minutes=0)
    live(btc)
    for s in range(0, 180, 7):
        btc.apply(tick(100 + s, T0 + timedelta(seconds=s)))
    assert btc.view().spark == ()


def test_out_of_range_exchange_time_does_not_break_the_slice() -> None:
    btc = BtcSlice()
    live(btc)
    late = datetime(9999, 12, 31, 23, 59, 30, tzinfo=UTC)
    assert btc.apply(tick(100, late)) is True
    assert btc.apply(tick(200, late)) is True
    assert btc.view().spark == (2.0,)


def test_tick_path_only_counts_our_venues_and_reports_shown_changes() -> None:
    btc = BtcSlice(("coinbase", "kraken"))
    assert btc.apply(tick(100, T0, source="binance")) is False
    live(btc, "coinbase")
    live(btc, "kraken")
    assert btc.apply(tick(100, T0, 1.0, "coinbase")) is True  # shown venue
    assert btc.apply(tick(105, T0, 1.0, "kraken")) is False  # kept, not shown
    assert btc.apply(Heartbeat("coinbase", 2.0)) is False
    view = btc.view()
    assert view.ticks == 2 and view.active == "coinbase"
    assert view.venues["kraken"].last is not None
    assert view.venues["kraken"].last.price == Decimal("1.05")
