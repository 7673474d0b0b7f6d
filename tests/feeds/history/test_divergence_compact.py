"""The divergence slice keeps the pair's start-up history as machine arrays (issue 17:
resident memory): the figures it gives must be the ones a bar per day gives."""

from __future__ import annotations

from array import array
from datetime import UTC, date, datetime

from feeds.core.clock import ManualClock
from feeds.history.divergence_state import DivergenceSlice, SetChartWindow
from feeds.model.history import Bar, DailySeries, DivergenceView, HistoryBars
from feeds.sim.history_data import END, daily_bars

PAIR = ("BTC-USD", "^RUT")


def _slice() -> DivergenceSlice:
    now = datetime.combine(END, datetime.min.time(), UTC).replace(hour=15)
    return DivergenceSlice(clock=ManualClock(now, mono=100.0))


def _series(symbol: str, bars: list[Bar]) -> DailySeries:
    return DailySeries(
        "cache",
        symbol,
        tuple(b.day for b in bars),
        tuple(float(b.high) for b in bars),
        tuple(float(b.close) for b in bars),
        1.0,
    )


def _figures(view: DivergenceView) -> tuple[object, ...]:
    return (
        view.days,
        view.a_line,
        view.b_line,
        view.corr30,
        view.corr90,
        view.co_highs,
        view.history_days,
        view.a,
        view.b,
        view.gap_pp,
        view.flag,
    )


def test_columns_give_the_figures_a_bar_per_day_gives() -> None:
    """The simulated 2015-2025 pair as columns (start-up) and as bars (backfill): the
    same chart, correlations, co-highs, highs, drawdowns and flag, in every window."""
    by_bars, by_columns = _slice(), _slice()
    for symbol in PAIR:
        bars = daily_bars(symbol)
        assert by_bars.apply(HistoryBars("cache", symbol, tuple(bars), None, 1.0))
        assert by_columns.apply(_series(symbol, bars))
    for window in ("1y", "3m", "5y"):
        by_bars.apply(SetChartWindow(window))
        by_columns.apply(SetChartWindow(window))
        got, want = by_columns.view(), by_bars.view()
        assert got.history_days > 1000
        assert got.a.ath is not None and got.a.drawdown_pct is not None
        assert _figures(got) == _figures(want)


def test_columns_are_kept_compact_and_read_back_exactly() -> None:
    """Stored as a date ordinal and two doubles a day, and read back as the same dates
    and floats (a double holds a Python float exactly)."""
    sl = _slice()
    days = (date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1))
    high = (0.1 + 0.2, 1e-7, 123456.789)
    close = (0.3, 9e-8, 120000.5)
    assert sl.apply(DailySeries("cache", "^RUT", days, high, close, 1.0))
    _, job = sl.analysis_job()
    heavy = job()
    assert heavy.b_last == (120000.5, date(2024, 3, 1))
    assert heavy.b_ath == (123456.789, date(2024, 3, 1))
    inputs = sl._bars["^RUT"].snapshot()  # noqa: SLF001 - the storage is the point here
    assert isinstance(inputs.days, array) and isinstance(inputs.high, array)
    assert inputs.series(0) == dict(zip(days, high, strict=True))
    assert inputs.series(1) == dict(zip(days, close, strict=True))
