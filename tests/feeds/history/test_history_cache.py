"""Start-up from cache: a restart paints stored values before any network answer
(tests/tui/test_snapshot_json.py encodes the same restart)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from feeds.core.clock import ManualClock
from feeds.core.store import Store
from feeds.history.ath_state import AthSlice
from feeds.history.db import HistoryStore, PutLast
from feeds.history.divergence_state import DivergenceSlice
from feeds.history.factory import close_history, make_ath_slice, make_divergence_slice, open_history
from feeds.history.loader import HistoryLoader, seed_from_cache
from feeds.history.settings import HistorySettings
from feeds.model.history import BackfillProgress, CachedAth, HistoryBars
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
