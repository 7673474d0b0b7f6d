"""All-time-high arithmetic, bands, notes and the outlier / confirmation guard
(reliability.md §3.3, matrix row D4), and the ATH slice."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.core.clock import ManualClock
from feeds.history.ath import (
    AthGuard,
    Verdict,
    ath_from_bars,
    band,
    days_since,
    distance_pct,
    history_note,
    merge_bars,
    parse_bands,
)
from feeds.history.ath_state import AthSlice, HistoryNotice
from feeds.history.db import PutAth, PutLast
from feeds.model.btc import Tick
from feeds.model.history import AthRecord, BackfillProgress, Bar, CachedAth, HistoryBars
from feeds.model.quotes import MarketState, Quote

D = Decimal


def bar(day: date, high: str, close: str, symbol: str = "^RUT") -> Bar:
    return Bar(symbol, day, D(close), D(high), D(close) - 10, D(close), "yahoo")


def tick(venue: str, price: str, t: float) -> Tick:
    return Tick(venue, D(price), None, None, None, None, None, None, None, None, t)


def quote(symbol: str, price: str, t: float, source: str = "yahoo") -> Quote:
    return Quote(
        source, symbol, symbol, D(price), None, None, None, None, "USD",
        MarketState.REGULAR, False, 0, None, None, t,
    )  # fmt: skip


def test_ath_from_bars_intraday_and_closing_separately() -> None:
    bars = [
        bar(date(2021, 11, 8), "2459", "2442"),
        bar(date(2021, 11, 9), "2450", "2444"),  # higher close, lower high
        bar(date(2022, 1, 3), "2300", "2290"),
    ]
    rec = ath_from_bars("^RUT", bars)
    assert rec is not None
    assert (rec.high, rec.high_day) == (D("2459"), date(2021, 11, 8))
    assert (rec.close, rec.close_day) == (D("2444"), date(2021, 11, 9))
    assert rec.first_trade == date(2021, 11, 8)


def test_ath_tie_keeps_the_earliest_day_and_merge_only_raises() -> None:
    rec = ath_from_bars(
        "^RUT", [bar(date(2021, 1, 5), "100", "90"), bar(date(2021, 1, 4), "100", "80")]
    )
    assert rec is not None and rec.high_day == date(2021, 1, 4)
    same = merge_bars(rec, "^RUT", [bar(date(2021, 2, 1), "99", "89")])
    assert same is not None and same.high == D(100) and same.close == D(90)
    up = merge_bars(rec, "^RUT", [bar(date(2021, 2, 1), "120", "89")], date(1987, 9, 10))
    assert up is not None and up.high == D(120) and up.first_trade == date(1987, 9, 10)
    assert merge_bars(None, "^RUT", []) is None


def test_distance_days_and_bands() -> None:
    assert distance_pct(D("92100"), D("126200")).quantize(D("0.1")) == D("-27.0")
    assert days_since(date(2025, 10, 6), date(2025, 12, 12)) == 67
    assert days_since(date(2025, 12, 13), date(2025, 12, 12)) == 0
    edges = parse_bands("5,10,20,30")
    assert band(D("0"), edges, 2.0) == (0, "AT HIGH")
    assert band(D("-1.5"), edges, 2.0) == (0, "NEAR")
    assert band(D("-3"), edges, 2.0) == (1, "<5%")
    assert band(D("-27.0"), edges, 2.0) == (4, "20-30%")
    assert band(D("-45"), edges, 2.0) == (5, ">30%")


@pytest.mark.parametrize("text", ["", "10,5", "0,5", "5,5", "a", "5,120"])
def test_bad_bands_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_bands(text)


def test_history_note_for_late_sources() -> None:
    assert history_note("^DJI", date(1992, 1, 2)) == "high since 1992"
    assert history_note("^RUT", date(1987, 9, 10)) is None
    assert history_note("SI=F", date(2000, 8, 30)) == "high since 2000"
    assert history_note("^GSPC", date(1923, 1, 1)) is None
    assert history_note("BTC-USD", date(2015, 1, 1)) is None
    assert history_note("^DJI", None) is None


def test_d4_single_venue_spike_is_an_outlier_and_never_sets_the_high() -> None:
    g = AthGuard(outlier_pct=10, confirm_pct=1, persist_s=60)
    high = D("126200")
    for i in range(5):
        assert g.observe("BTC", "coinbase", D("125000"), 100.0 + i, high).verdict is Verdict.BELOW
        assert g.observe("BTC", "kraken", D("125010"), 100.5 + i, high).verdict is Verdict.BELOW
    d = g.observe("BTC", "kraken", D("190000"), 106.0, high)  # +50% fat finger
    assert d.verdict is Verdict.OUTLIER and d.outlier and d.value is None
    d = g.observe("BTC", "kraken", D("16000"), 107.0, high)  # -87% flash crash
    assert d.outlier and d.verdict is Verdict.OUTLIER


def test_d4_second_venue_confirms_a_new_high_at_once() -> None:
    g = AthGuard(outlier_pct=10, confirm_pct=1, persist_s=60)
    high = D("126200")
    g.observe("BTC", "coinbase", D("126300"), 10.0, high)
    d = g.observe("BTC", "kraken", D("126350"), 10.5, high)
    assert d.verdict is Verdict.CONFIRMED and d.value == D("126350")


def test_d4_persistence_window_confirms_a_lone_venue() -> None:
    g = AthGuard(outlier_pct=10, confirm_pct=1, persist_s=60)
    high = D("2547")
    assert g.observe("^RUT", "yahoo", D("2550"), 0.0, high).verdict is Verdict.PENDING
    assert g.pending_since("^RUT") == 0.0
    assert g.observe("^RUT", "yahoo", D("2558"), 30.0, high).verdict is Verdict.PENDING
    d = g.observe("^RUT", "yahoo", D("2553"), 60.0, high)
    assert d.verdict is Verdict.CONFIRMED and d.value == D("2558")


def test_d4_a_dip_back_below_cancels_the_pending_high() -> None:
    g = AthGuard(outlier_pct=10, confirm_pct=1, persist_s=60)
    high = D("2547")
    g.observe("^RUT", "yahoo", D("2550"), 0.0, high)
    assert g.observe("^RUT", "yahoo", D("2540"), 30.0, high).verdict is Verdict.BELOW
    assert g.observe("^RUT", "yahoo", D("2551"), 61.0, high).verdict is Verdict.PENDING


def test_far_away_second_venue_does_not_confirm() -> None:
    g = AthGuard(outlier_pct=10, confirm_pct=1, persist_s=60, median_min=99)
    high = D("100")
    g.observe("X", "a", D("95"), 0.0, high)
    d = g.observe("X", "b", D("103"), 1.0, high)  # 8% from venue a: not an outlier, no confirm
    assert d.verdict is Verdict.PENDING


def make_slice(clock: ManualClock) -> AthSlice:
    s = AthSlice(
        ["^RUT", "^DJI"],
        clock=clock,
        guard=AthGuard(outlier_pct=10, confirm_pct=1, persist_s=60),
        last_every=60,
    )
    btc = [
        Bar("BTC-USD", date(2025, 10, 6), D(124000), D(126200), D(123000), D(124500), "coinbase"),
        Bar("BTC-USD", date(2025, 12, 11), D(92000), D(93000), D(91000), D(92800), "coinbase"),
    ]
    s.apply(HistoryBars("coinbase", "BTC-USD", tuple(btc), None, 1.0))
    s.apply(HistoryBars("yahoo", "^RUT", (bar(date(2025, 12, 11), "2547", "2541"),), None, 1.0))
    s.apply(
        HistoryBars(
            "yahoo",
            "^DJI",
            (bar(date(2025, 12, 11), "48704", "48704", "^DJI"),),
            date(1992, 1, 2),
            1.0,
        )
    )
    return s


def test_slice_rows_distance_band_and_note() -> None:
    clock = ManualClock(datetime(2025, 12, 12, 15, 25, tzinfo=UTC), mono=1000.0)
    s = make_slice(clock)
    s.apply(tick("coinbase", "92100", 1000.0))
    v = s.view()
    btc, rut, dji = v.rows
    assert btc.symbol == "BTC-USD" and btc.price == D("92100")
    assert btc.distance_pct is not None and round(btc.distance_pct, 1) == D("-27.0")
    assert btc.band == "20-30%" and not btc.new_ath
    assert (
        rut.price == D("2541") and rut.price_source == "close yahoo" and rut.price_received is None
    )
    assert dji.note == "high since 1992"
    assert [type(op) for op in s.outbox.take()] == [PutLast]


def test_slice_publishes_whole_days_since_the_high_never_negative() -> None:
    clock = ManualClock(datetime(2025, 12, 12, 15, 25, tzinfo=UTC), mono=1000.0)
    s = make_slice(clock)
    btc, rut, _ = s.view().rows
    assert btc.days_since_high == 67  # high on 2025-10-06
    assert rut.days_since_high == 1  # high on 2025-12-11
    # A bar dated after "today" (a clock behind the source's calendar) is 0 days, not -1.
    s.apply(HistoryBars("yahoo", "^RUT", (bar(date(2025, 12, 13), "2600", "2590"),), None, 2.0))
    assert s.view().rows[1].days_since_high == 0
    bare = AthSlice(["^RUT"], clock=clock)
    assert bare.view().row("^RUT") is not None
    assert bare.view().rows[1].days_since_high is None  # no record, no days


def test_slice_new_ath_confirmed_and_persisted() -> None:
    clock = ManualClock(datetime(2025, 12, 12, 15, 25, tzinfo=UTC), mono=1000.0)
    s = make_slice(clock)
    s.apply(quote("^RUT", "2558", 1000.0, "yahoo"))
    assert s.view().rows[1].pending and not s.view().rows[1].new_ath
    s.apply(quote("^RUT", "2557", 1001.0, "cboe"))  # second source within 1%
    row = s.view().rows[1]
    assert row.new_ath and not row.pending
    assert row.record is not None and row.record.high == D("2557")
    assert row.record.high_day == date(2025, 12, 12) and row.record.high_source == "live:cboe"
    aths = [op for op in s.outbox.take() if isinstance(op, PutAth)]
    assert len(aths) == 1 and aths[0].record.high == D("2557")


def test_slice_outlier_print_does_not_set_the_high_nor_flag_a_record() -> None:
    clock = ManualClock(datetime(2025, 12, 12, 15, 25, tzinfo=UTC), mono=1000.0)
    s = make_slice(clock)
    for i in range(4):
        s.apply(tick("coinbase", "92100", 1000.0 + i))
        s.apply(tick("kraken", "92110", 1000.5 + i))
    s.apply(tick("kraken", "190000", 1005.0))
    row = s.view().rows[0]
    # BTC's row shows the shown price (a flash print is a real trade, the BTC panel shows
    # it too), marked OUTLIER: never a record, never a new high, never persisted.
    assert row.outlier and not row.new_ath and row.price == D("190000")
    assert not row.at_high and not s.view().marks["BTC-USD"].at_high
    assert row.record is not None and row.record.high == D("126200")
    ops = s.outbox.take()
    assert not [op for op in ops if isinstance(op, PutAth)]
    assert not [op for op in ops if isinstance(op, PutLast) and op.price == D("190000")]


def test_a_stored_high_at_or_above_a_pending_print_settles_it() -> None:
    # A hub terminal that starts late holds the hub's live print as pending, then gets the
    # high the hub confirmed from it (a CachedAth): the print is at the high, not pending.
    clock = ManualClock(datetime(2025, 12, 12, 15, 25, tzinfo=UTC), mono=1000.0)
    s = make_slice(clock)
    s.apply(quote("^RUT", "2558", 1000.0, "yahoo"))
    assert s.view().rows[1].pending
    low = AthRecord(
        "^RUT", D(2550), date(2025, 12, 12), "yahoo", D(2541), date(2025, 12, 11), "yahoo"
    )
    s.apply(CachedAth("cache", "^RUT", low, None, "yahoo", None, 1.0))
    assert s.view().rows[1].pending  # a high still below the print settles nothing
    confirmed = AthRecord(
        "^RUT", D(2558), date(2025, 12, 12), "live:yahoo", D(2541), date(2025, 12, 11), "yahoo"
    )
    s.apply(CachedAth("ath-live", "^RUT", confirmed, None, "yahoo", None, 1.0))
    row = s.view().rows[1]
    assert not row.pending and row.at_high and row.distance_pct == 0


def test_slice_cache_progress_and_notices() -> None:
    clock = ManualClock(datetime(2025, 12, 12, 15, 25, tzinfo=UTC), mono=1000.0)
    s = AthSlice(["^RUT"], clock=clock)
    rec = AthRecord(
        "^RUT", D(2547), date(2025, 12, 11), "yahoo", D(2541), date(2025, 12, 11), "yahoo"
    )
    at = datetime(2025, 12, 12, 14, 0, tzinfo=UTC)
    assert s.apply(CachedAth("cache", "^RUT", rec, D("2550"), "yahoo", at, 1.0))
    assert s.apply(
        BackfillProgress(
            "coinbase-candles", "BTC-USD", 3, 14, date(2022, 1, 1), False, "paging back", 1.0
        )
    )
    assert s.apply(HistoryNotice("history", "history database was corrupt", 1.0))
    v = s.view()
    rut = v.rows[1]
    assert rut.price == D("2550") and rut.price_source == "cache" and rut.price_at == at
    assert v.rows[0].band == "NO HISTORY"
    assert v.progress[0].done == 3 and v.notices == ("history database was corrupt",)


# -- the per-tick path ------------------------------------------------------------------


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["coinbase", "kraken"]),
            st.integers(1, 400),  # price, with many repeats
            st.floats(0.0, 30.0),  # seconds since the previous print
        ),
        max_size=400,
    ),
    st.sampled_from([None, D(150), D(1000)]),
)
def test_guard_median_window_is_the_sorted_recent_prints(
    prints: list[tuple[str, int, float]], high: Decimal | None
) -> None:
    """The guard keeps its recent window sorted for an O(1) median: whatever the prints,
    that list is exactly the window, and the outlier call is the one the median gives."""
    g = AthGuard(outlier_pct=10, median_s=120.0, median_min=3)
    now = 0.0
    for venue, cents, gap in prints:
        now += gap
        price = D(cents) / 10
        before = g._symbols["X"].recent if g._symbols else []
        window = [p for t, p in before if now - t <= 120.0]
        d = g.observe("X", venue, price, now, high)
        state = g._symbols["X"]
        assert state.ordered == sorted(p for _, p in state.recent)
        assert len(state.recent) <= 256
        if len(window) >= 3:
            ref = statistics.median(window)
            assert d.outlier == (abs(price / ref - 1) > D("0.1"))


def test_btc_prints_below_the_high_are_looked_at_four_times_a_second() -> None:
    clock = ManualClock(datetime(2025, 12, 12, 15, 25, tzinfo=UTC), mono=1000.0)
    s = make_slice(clock)
    s.view()
    for i in range(100):
        s.apply(tick("coinbase", str(92100 + i), 1000.0 + i * 0.01))
    # The guard looks at 0, 0.25, 0.50, 0.75 s; the row shows every price (the shown one).
    assert len(s.guard._symbols["BTC-USD"].recent) == 4
    assert s.view().rows[0].price == D("92199")


def test_btc_prints_above_the_high_are_always_looked_at() -> None:
    clock = ManualClock(datetime(2025, 12, 12, 15, 25, tzinfo=UTC), mono=1000.0)
    s = make_slice(clock)
    for i in range(5):
        s.apply(tick("coinbase", "126000", 990.0 + i))  # a recent window near the high
    changed = [s.apply(tick("coinbase", str(126300 + i), 1000.0 + i * 0.001)) for i in range(50)]
    assert all(changed)
    row = s.view().rows[0]
    assert row.pending and row.price == D("126349")
    assert s.apply(tick("kraken", "126340", 1000.06))  # a second venue confirms
    row = s.view().rows[0]
    assert row.record is not None and row.record.high == D("126340") and row.new_ath
