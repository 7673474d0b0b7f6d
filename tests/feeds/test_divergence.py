"""BTC vs small caps: rebasing, rolling correlation and co-highs on hand-worked series,
the divergence flag, the slice, and the simulated 2015-2025 history."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from feeds import divergence as dv
from feeds.ath import ath_from_bars
from feeds.clock import ManualClock
from feeds.divergence_state import (
    DivergenceAnalyser,
    DivergenceComputed,
    DivergenceSlice,
    SetChartWindow,
)
from feeds.model.btc import Tick
from feeds.model.history import HistoryBars
from feeds.model.quotes import MarketState, Quote
from feeds.sim.history_data import END, daily_bars
from feeds.sim.levels import LEVELS


def s(values: list[float], start: date = date(2025, 1, 6)) -> pd.Series:
    return pd.Series(
        values, index=[pd.Timestamp(start + timedelta(days=i)) for i in range(len(values))]
    )


def closes(returns: list[float]) -> list[float]:
    out = [100.0]
    for r in returns:
        out.append(out[-1] * (1 + r))
    return out


def test_rolling_correlation_matches_hand_computation() -> None:
    # Returns (1,2,3)% and (2,4,7)%: r = 5 / sqrt(2 * 12.6667) = 0.99340.
    a = s(closes([0.01, 0.02, 0.03]))
    b = s(closes([0.02, 0.04, 0.07]))
    corr = dv.rolling_correlation(a, b, 3)
    assert corr.notna().sum() == 1
    assert dv.last_value(corr) == pytest.approx(5 / math.sqrt(2 * 38 / 3), abs=1e-9)
    neg = dv.rolling_correlation(a, s(closes([0.03, 0.02, 0.01])), 3)
    assert dv.last_value(neg) == pytest.approx(-1.0)
    assert dv.last_value(dv.rolling_correlation(a, b, 30)) is None  # not enough days


def test_alignment_uses_days_both_traded() -> None:
    a = s([1, 2, 3, 4, 5, 6, 7])  # every day
    b = pd.Series(
        [10.0, 20.0], index=[pd.Timestamp(date(2025, 1, 6)), pd.Timestamp(date(2025, 1, 10))]
    )
    df = dv.aligned(a, b)
    assert list(df["a"]) == [1, 5] and list(df["b"]) == [10, 20]


def test_rebased_to_100_at_window_start() -> None:
    a = s([50.0, 100.0, 150.0, 75.0])
    b = s([10.0, 10.0, 12.0, 11.0])
    df = dv.rebased(a, b, days=3, end=date(2025, 1, 9))  # last 3 days: 7th..9th
    assert list(df["a"]) == [100.0, 150.0, 75.0]
    assert list(df["b"]) == pytest.approx([100.0, 120.0, 110.0])


def test_new_high_days() -> None:
    h = s([1, 3, 2, 4, 4, 5])
    assert dv.new_high_days(h, warmup_days=0) == [
        date(2025, 1, 7),
        date(2025, 1, 9),
        date(2025, 1, 11),
    ]
    assert dv.new_high_days(h, warmup_days=4) == [date(2025, 1, 11)]


def test_co_highs_by_hand() -> None:
    a = [date(2021, 1, 5), date(2021, 1, 6), date(2021, 3, 1), date(2021, 6, 10)]
    b = [date(2021, 1, 8), date(2021, 4, 20), date(2021, 6, 1)]
    got = dv.co_highs(a, b, 7)
    assert [(c.a_day, c.b_day) for c in got] == [(date(2021, 1, 6), date(2021, 1, 8))]
    got = dv.co_highs(a, b, 10)
    assert [(c.a_day, c.b_day) for c in got] == [
        (date(2021, 6, 10), date(2021, 6, 1)),
        (date(2021, 1, 6), date(2021, 1, 8)),
    ]
    assert dv.co_highs(a, [], 10) == []


def test_divergence_flag_and_threshold() -> None:
    f = dv.divergence("BTC-USD", -27.0, "^RUT", 0.0, threshold_pct=20, near_pct=2)
    assert f.raised and f.leader == "^RUT" and f.laggard == "BTC-USD" and f.gap_pp == -27.0
    assert not dv.divergence("BTC-USD", -15.0, "^RUT", 0.0, threshold_pct=20, near_pct=2).raised
    assert not dv.divergence("BTC-USD", -27.0, "^RUT", -3.0, threshold_pct=20, near_pct=2).raised
    f = dv.divergence("BTC-USD", -1.0, "^RUT", -25.0, threshold_pct=20, near_pct=2)
    assert f.raised and f.leader == "BTC-USD"


def test_simulated_history_matches_the_story() -> None:
    btc, rut = daily_bars("BTC-USD"), daily_bars("^RUT")
    assert btc[0].day == date(2015, 1, 1) and btc[-1].day == END == date(2025, 12, 11)
    assert len(btc) == (END - date(2015, 1, 1)).days + 1
    for symbol, lv in LEVELS.items():
        bars = daily_bars(symbol)
        rec = ath_from_bars(symbol, bars)
        assert rec is not None
        assert (float(rec.high), rec.high_day) == (lv.ath, lv.ath_date), symbol
        assert float(bars[-1].close) == lv.prev_close and bars[-1].day == END
        assert all(b.low <= min(b.open, b.close) and b.high >= max(b.open, b.close) for b in bars)
    assert daily_bars("^RUT") == rut  # deterministic
    co = dv.co_highs(
        dv.new_high_days(dv.series(btc, "high")),
        dv.new_high_days(dv.series(rut, "high")),
        10,
    )
    months = [(c.a_day.year, c.a_day.month) for c in co]
    assert months == [(2025, 10), (2024, 11), (2021, 11)]
    assert co[2].a_day == date(2021, 11, 10)


def sim_slice(**kw: object) -> DivergenceSlice:
    clock = ManualClock(datetime(2025, 12, 12, 15, 25, tzinfo=UTC), mono=1000.0)
    sl = DivergenceSlice(clock=clock, **kw)  # type: ignore[arg-type]
    sl.apply(HistoryBars("cache", "BTC-USD", tuple(daily_bars("BTC-USD")), None, 1.0))
    sl.apply(HistoryBars("cache", "^RUT", tuple(daily_bars("^RUT")), None, 1.0))
    return sl


def rut_quote(price: str) -> Quote:
    return Quote(
        "yahoo", "^RUT", "Russell 2000", Decimal(price), None, None, None, None, "USD",
        MarketState.REGULAR, False, 0, None, None, 1000.0,
    )  # fmt: skip


def test_slice_on_the_simulated_history_raises_the_flag() -> None:
    sl = sim_slice()
    v = sl.view()
    assert v.b.drawdown_pct == pytest.approx((2541 / 2547 - 1) * 100)
    assert v.a.drawdown_pct is not None
    assert v.a.drawdown_pct == pytest.approx((92_800 / 126_200 - 1) * 100)
    assert v.flag is not None and v.flag.raised and v.flag.leader == "^RUT"
    assert [c.a_day.strftime("%Y-%m") for c in v.co_highs] == ["2025-10", "2024-11", "2021-11"]
    assert v.corr30 is not None and v.corr90 is not None
    assert v.a_line[0] == 100.0 and v.b_line[0] == 100.0 and v.window == "1y"
    n1y = len(v.days)
    sl.apply(
        Tick("kraken", Decimal("92100"), None, None, None, None, None, None, None, None, 1000.0)
    )
    sl.apply(rut_quote("2558"))
    v = sl.view()
    assert v.a.drawdown_pct == pytest.approx(-27.02, abs=0.01)
    assert v.b.ath == 2558.0 and v.b.ath_day == date(2025, 12, 12) and v.b.drawdown_pct == 0.0
    assert v.days[-1] == date(2025, 12, 12) and len(v.days) == n1y + 1
    assert v.gap_pp == pytest.approx(-27.02, abs=0.01)
    assert sl.recomputes == 1  # live prices never re-run pandas
    assert sl.apply(SetChartWindow("3m"))
    assert not sl.apply(SetChartWindow("10y"))
    v3 = sl.view()
    assert v3.window == "3m" and len(v3.days) < n1y and sl.recomputes == 2


def test_tiny_moves_do_not_mark_the_topic_dirty() -> None:
    sl = sim_slice()
    t = Tick("kraken", Decimal("92100"), None, None, None, None, None, None, None, None, 1.0)
    assert sl.apply(t)
    t2 = Tick("kraken", Decimal("92100.5"), None, None, None, None, None, None, None, None, 2.0)
    assert not sl.apply(t2)


async def test_analyser_runs_pandas_off_the_loop() -> None:
    sl = sim_slice(background=True)
    assert sl.view().co_highs == () and sl.recomputes == 0
    analyser = DivergenceAnalyser(sl, debounce=0.01)
    it = analyser.events().__aiter__()
    event = await asyncio.wait_for(it.__anext__(), 10)
    assert isinstance(event, DivergenceComputed)
    assert sl.apply(event)
    assert len(sl.view().co_highs) == 3
    assert not sl.needs_analysis()
    await analyser.aclose()
