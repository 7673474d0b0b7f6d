"""Start-up from cache: a restart paints stored values before any network answer
(tests/tui/test_snapshot_json.py encodes the same restart)."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from feeds.core.clock import ManualClock
from feeds.core.store import Store
from feeds.history.ath import merge_bars
from feeds.history.ath_state import AthSlice
from feeds.history.db import DailyColumns, HistoryStore, PutLast
from feeds.history.divergence_state import DivergenceSlice
from feeds.history.factory import close_history, make_ath_slice, make_divergence_slice, open_history
from feeds.history.loader import HistoryLoader, seed_from_cache
from feeds.history.settings import HistorySettings
from feeds.model.history import BackfillProgress, CachedAth, DailySeries, HistoryBars
from feeds.sim.history_data import daily_bars

WALL = datetime(2025, 12, 12, 15, 25, tzinfo=UTC)
SYMBOLS = ["^RUT", "^DJI"]


def restart_from_cache(
    tmp_path: Path,
) -> tuple[HistoryStore, AthSlice, DivergenceSlice, ManualClock]:
    """Store history and a last price, reopen, seed the slices from the cache alone."""
    settings = HistorySettings()
    store, warning = open_history(tmp_path, settings)
    assert warning is None
    for sym in ["BTC-USD", *SYMBOLS]:
        store.put_bars(daily_bars(sym))
    store.write_batch([PutLast("BTC-USD", Decimal("92100"), "kraken", WALL)])
    store.close()

    clock = ManualClock(WALL.replace(minute=40), mono=50.0)
    store, warning = open_history(tmp_path, settings)
    events = seed_from_cache(store, settings, SYMBOLS, clock, warning)
    assert any(isinstance(e, CachedAth) for e in events)
    assert {e.symbol for e in events if isinstance(e, HistoryBars)} == {"BTC-USD", "^RUT", "^DJI"}
    ath = make_ath_slice(settings, store, SYMBOLS, clock)
    div = make_divergence_slice(settings, clock, background=False)
    hub = Store([ath, div])
    for e in events:
        hub.apply(e)
    return store, ath, div, clock


async def test_restart_paints_from_cache(tmp_path: Path) -> None:
    store, ath, div, _ = restart_from_cache(tmp_path)
    v = ath.view()
    btc = v.rows[0]
    assert btc.price == Decimal("92100.0") and btc.price_source == "cache" and btc.price_at == WALL
    assert btc.record is not None and btc.record.high == Decimal("126200.0")
    assert v.rows[2].note == "high since 1992" and v.rows[2].price_source == "close sim"
    d = div.view()
    assert d.flag is not None and d.flag.raised and len(d.co_highs) == 3
    assert btc.distance_pct is not None and round(btc.distance_pct, 2) == Decimal("-27.02")
    await close_history(store)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="chart_window"):
        HistorySettings(chart_window="2y")
    with pytest.raises(ValueError, match="drawdown_bands"):
        HistorySettings(drawdown_bands="10,5")
    assert HistorySettings().bands() == (5.0, 10.0, 20.0, 30.0)


async def test_loader_says_reading_then_opens_off_the_loop_and_hands_over_the_cache(
    tmp_path: Path,
) -> None:
    settings = HistorySettings()
    store, _ = open_history(tmp_path, settings)
    store.put_bars(daily_bars("^RUT"))
    store.close()
    gate = asyncio.Event()
    lazy = HistoryStore(tmp_path / settings.file_name)
    loader = HistoryLoader(lazy, settings, SYMBOLS, ManualClock(WALL), start_after=gate.wait)
    events = loader.events()
    first = await anext(events)
    # At once, before any work: the ATH panel says the stored history is being read.
    assert isinstance(first, BackfillProgress) and not first.finished and "reading" in first.note
    pending = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.05)
    assert not pending.done() and not lazy.is_open  # held until the gate opens
    gate.set()
    rest = [await pending]
    waiter = asyncio.ensure_future(loader.loaded())
    async for event in events:
        rest.append(event)
    await asyncio.wait_for(waiter, 1)
    assert any(isinstance(e, CachedAth) and e.symbol == "^RUT" for e in rest)
    assert any(isinstance(e, HistoryBars) and e.symbol == "^RUT" for e in rest)
    last = rest[-1]
    assert isinstance(last, BackfillProgress) and last.finished and last.source == first.source
    await close_history(lazy)


def _slices(
    settings: HistorySettings, store: HistoryStore, clock: ManualClock
) -> tuple[AthSlice, DivergenceSlice, Store]:
    ath = make_ath_slice(settings, store, SYMBOLS, clock)
    div = make_divergence_slice(settings, clock, background=False)
    return ath, div, Store([ath, div])


@pytest.mark.parametrize("high_tie", [False, True])
async def test_columns_and_marks_give_the_same_views_as_a_bar_per_day(
    tmp_path: Path, high_tie: bool
) -> None:
    """The pair's history as columns plus the bars that decide its highs: the ATH and
    divergence views equal those built from every bar (as the loader sent it before)."""
    settings = HistorySettings()
    store, _ = open_history(tmp_path, settings)
    for sym in ["BTC-USD", *SYMBOLS]:
        bars = daily_bars(sym)
        if high_tie:
            # A later day equal to the highest high and close: the earlier day must stay.
            top = max(bars, key=lambda b: b.high)
            last = bars[-1]
            bars = [*bars[:-1], replace(last, high=top.high, close=top.high, low=last.low)]
        store.put_bars(bars)
    store.write_batch([PutLast("BTC-USD", Decimal("92100"), "kraken", WALL)])
    clock = ManualClock(WALL.replace(minute=40), mono=50.0)
    events = seed_from_cache(store, settings, SYMBOLS, clock, None)
    series = [e for e in events if isinstance(e, DailySeries)]
    assert {e.symbol for e in series} == set(settings.pair)
    old = []
    for e in events:
        if isinstance(e, DailySeries):
            continue
        if isinstance(e, HistoryBars) and e.symbol in settings.pair:
            # What the loader sent before: every stored bar.
            e = HistoryBars("cache", e.symbol, tuple(store.bars(e.symbol)), None, e.received)
            assert len(e.bars) > 1000
        old.append(e)
    ath_new, div_new, new_store = _slices(settings, store, clock)
    ath_old, div_old, old_store = _slices(settings, store, clock)
    for e in events:
        new_store.apply(e)
    for e in old:
        old_store.apply(e)
    assert ath_new.view() == ath_old.view()
    assert div_new.view() == div_old.view()
    assert div_new.view().history_days > 1000
    await close_history(store)


def test_daily_reads_every_day_and_the_marks_that_decide_the_highs(tmp_path: Path) -> None:
    store, _ = open_history(tmp_path, HistorySettings())
    bars = daily_bars("^RUT")
    store.put_bars(bars)
    cols = store.daily("^RUT")
    assert cols.days == tuple(b.day for b in bars)
    assert cols.high == tuple(float(b.high) for b in bars)
    assert cols.close == tuple(float(b.close) for b in bars)
    assert merge_bars(None, "^RUT", cols.marks) == merge_bars(None, "^RUT", store.bars("^RUT"))
    assert cols.marks[0].day == bars[0].day and cols.marks[-1].day == bars[-1].day
    assert len(cols.marks) <= 4
    assert store.daily("NOPE") == DailyColumns((), (), (), ())
    store.close()


@pytest.mark.parametrize(
    ("days", "high", "close", "why"),
    [
        ((date(2026, 1, 2),), (1.0, 2.0), (1.0,), "lengths"),
        ((date(2026, 1, 2), date(2026, 1, 2)), (1.0, 2.0), (1.0, 2.0), "ascending"),
        ((date(2026, 1, 3), date(2026, 1, 2)), (1.0, 2.0), (1.0, 2.0), "ascending"),
        ((date(2026, 1, 2),), (math.nan,), (1.0,), "finite"),
        ((date(2026, 1, 2),), (1.0,), (math.inf,), "finite"),
        ((date(2026, 1, 2),), (0.0,), (1.0,), "finite"),
        ((date(2026, 1, 2),), (1.0,), (-3.0,), "finite"),
    ],
)
def test_daily_series_refuses_what_no_price_may_be(
    days: tuple[date, ...], high: tuple[float, ...], close: tuple[float, ...], why: str
) -> None:
    with pytest.raises(ValueError, match=why):
        DailySeries("cache", "^RUT", days, high, close, 1.0)


def test_daily_series_takes_good_columns() -> None:
    s = DailySeries(
        "cache", "^RUT", (date(2026, 1, 2), date(2026, 1, 5)), (2.5, 3.0), (2.0, 2.9), 1
    )
    assert len(s.days) == 2


async def test_a_symbol_added_later_gets_only_its_own_cached_values(tmp_path: Path) -> None:
    """The watchlist gains ^DJI while the app runs: the ATH slice follows it at once (an
    empty row, BTC still first), and a loader for ^DJI alone hands over its stored high
    and last close, not the pair's long series again. Dropping it takes its row away."""
    from feeds.model.history import WatchSymbols

    settings = HistorySettings()
    store, _ = open_history(tmp_path, settings)
    for sym in ["BTC-USD", "^RUT", "^DJI"]:
        store.put_bars(daily_bars(sym))
    clock = ManualClock(WALL.replace(minute=40), mono=50.0)
    ath = make_ath_slice(settings, store, ["^RUT"], clock)
    assert ath.symbols() == ("BTC-USD", "^RUT")
    assert ath.apply(WatchSymbols("watchlist", ("^RUT", "^DJI"), 51.0))
    assert ath.symbols() == ("BTC-USD", "^RUT", "^DJI")
    assert not ath.apply(WatchSymbols("watchlist", ("^RUT", "^DJI"), 52.0))  # no change
    row = ath.view().row("^DJI")
    assert row is not None and row.record is None
    events = seed_from_cache(store, settings, ["^DJI"], clock, None, only=True)
    assert not any(isinstance(e, DailySeries) for e in events)  # not the pair again
    assert {getattr(e, "symbol", None) for e in events} == {"^DJI"}
    for e in events:
        ath.apply(e)
    row = ath.view().row("^DJI")
    assert row is not None and row.record is not None
    assert row.record.high == max(Decimal(str(b.high)) for b in daily_bars("^DJI"))
    assert ath.apply(WatchSymbols("watchlist", ("^DJI",), 53.0))
    assert ath.symbols() == ("BTC-USD", "^DJI") and ath.view().row("^RUT") is None
    await close_history(store)
