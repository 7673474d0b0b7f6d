"""The runtime's start-up order (bench B8): nothing is opened while it is built, the BTC
streams start with the app, and every other feed after the first frame and the first BTC
price, so that neither waits behind a dozen first requests and the history read."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import io
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import tui.runtime as runtime_module
from feeds.alerts.settings import AlertsSettings
from feeds.btc.state import BtcSlice
from feeds.core.clock import ManualClock, SystemClock
from feeds.core.health import HealthSlice
from feeds.core.poll import LazyTransport
from feeds.core.store import Store
from feeds.history.divergence_state import DivergenceComputed, DivergenceSlice
from feeds.history.loader import HistoryLoader
from feeds.model.btc import Tick
from feeds.model.core import FeedState, FeedStatus
from feeds.model.history import HistoryBars
from feeds.sim.history_data import daily_bars
from tui import snapshot, watch
from tui.app import LockstepApp
from tui.config import Settings
from tui.runtime import Runtime, build_runtime, streams_first, supervise


class Stream:
    """A BTC venue that sends one tick after ``delay`` seconds."""

    source = "coinbase"

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.sent_at: float | None = None

    async def events(self) -> AsyncIterator[object]:
        await asyncio.sleep(self.delay)
        loop = asyncio.get_running_loop()
        self.sent_at = loop.time()
        price = Decimal("92000")
        yield Tick(
            "coinbase", price, None, None, None, None, None, None,
            datetime(2025, 12, 12, tzinfo=UTC), None, SystemClock().monotonic(),
        )  # fmt: skip
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        pass


class Polled:
    """A polled source that notes when it starts."""

    source = "yahoo"

    def __init__(self) -> None:
        self.started_at: float | None = None

    async def events(self) -> AsyncIterator[object]:
        self.started_at = asyncio.get_running_loop().time()
        await asyncio.Event().wait()
        yield None  # pragma: no cover

    async def aclose(self) -> None:
        pass


def runtime(tmp_path: Path) -> Runtime:
    return build_runtime(Settings(), SystemClock(), data=tmp_path)


def test_building_the_runtime_opens_nothing(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    assert rt.history is not None and not rt.history.is_open
    assert not (tmp_path / Settings().history.file_name).exists()
    transport = rt.client._transport
    assert isinstance(transport, LazyTransport) and transport._inner is None
    # The streams first, then the history loader: the app starts them in this order.
    assert [f.source for f in rt.feeds[:3]] == ["coinbase", "kraken", "history"]
    assert isinstance(rt.feeds[2], HistoryLoader)
    assert rt.warnings == []


async def test_without_a_screen_every_feed_starts_at_once(tmp_path: Path) -> None:
    polled = Polled()
    task = asyncio.create_task(supervise(polled, Store([]), SystemClock()))
    await asyncio.sleep(0.05)
    assert polled.started_at is not None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def run_until_polled_starts(app: LockstepApp, polled: Polled) -> None:
    """Run ``app`` headless until the polled feed has started (at most 5 s), then quit."""
    loop = asyncio.get_running_loop()
    async with app.run_test(size=(120, 40)) as pilot:
        end = loop.time() + 5
        while polled.started_at is None and loop.time() < end:
            await pilot.pause(0.05)
        await app.action_quit()


async def test_in_the_app_the_other_feeds_wait_for_the_first_btc_price(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    stream, polled = Stream(delay=0.3), Polled()
    rt.feeds = [stream, polled]
    await run_until_polled_starts(LockstepApp(rt, watch_terminal=False), polled)
    assert stream.sent_at is not None and polled.started_at is not None
    assert polled.started_at >= stream.sent_at


async def test_silent_streams_hold_the_other_feeds_back_for_a_bounded_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime_module, "STREAMS_FIRST_S", 0.2)
    rt = runtime(tmp_path)
    stream, polled = Stream(delay=30.0), Polled()
    rt.feeds = [stream, polled]
    await run_until_polled_starts(LockstepApp(rt, watch_terminal=False), polled)
    assert polled.started_at is not None and stream.sent_at is None


# -- the one runtime: every way of running feeds goes through it, and stops it once ------


class Counting:
    """A feed that reports itself LIVE, then waits; counts how often it is closed."""

    def __init__(self, source: str = "yahoo", *, crash: bool = False, bad_close: bool = False):
        self.source = source
        self.crash = crash
        self.bad_close = bad_close
        self.closed = 0
        self.sent = 0

    async def events(self) -> AsyncIterator[object]:
        self.sent += 1
        yield FeedStatus(self.source, FeedState.LIVE, "", SystemClock().monotonic())
        if self.crash:
            raise ZeroDivisionError("a bug in a parser")
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        self.closed += 1
        if self.bad_close:
            raise OSError("closing failed")


def counting_feeds() -> list[Counting]:
    return [Counting("yahoo"), Counting("kalshi", crash=True), Counting("cboe", bad_close=True)]


def live(rt: Runtime, source: str) -> bool:
    """True once ``source`` has reported to the store (the crashing one is DOWN since)."""
    return rt.store.slice("health", HealthSlice).view().get(source) is not None


async def until(check: Callable[[], bool], limit: float = 10.0) -> None:
    """Wait (a bounded number of loop turns) until ``check()``; fail if it never holds."""
    async with asyncio.timeout(limit):
        while not check():
            await asyncio.sleep(0.01)


async def test_the_runtime_runs_feeds_into_the_store_and_closes_each_once(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    feeds = counting_feeds()
    rt.feeds = list(feeds)
    rt.start()
    await until(lambda: all(live(rt, f.source) for f in feeds))
    await rt.aclose()
    await rt.aclose()  # again: nothing more
    assert [f.closed for f in feeds] == [1, 1, 1]
    assert not rt.running()


async def test_snapshot_goes_through_the_runtime_and_closes_on_timeout(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    feeds = counting_feeds()
    rt.feeds = list(feeds)
    rt.sources = ["yahoo", "kalshi", "cboe", "fred"]  # fred never answers: the timeout
    doc = await snapshot.take(rt, timeout=0.5)
    assert doc["sources"]["yahoo"]["state"] == "LIVE"
    assert doc["sources"]["fred"]["state"] == "CONNECTING"
    assert [f.closed for f in feeds] == [1, 1, 1]


async def test_snapshot_closes_every_feed_once_when_cancelled(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    feeds = counting_feeds()
    rt.feeds = list(feeds)
    rt.sources = ["yahoo", "fred"]
    task = asyncio.create_task(snapshot.take(rt, timeout=3600))
    await until(lambda: live(rt, "yahoo"))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [f.closed for f in feeds] == [1, 1, 1]


def watch_args(**kw: Any) -> argparse.Namespace:
    base = {"json": False, "once": False, "timeout": 1.0, "duration": None, "count": None}
    return argparse.Namespace(**{**base, **kw})


async def test_watch_goes_through_the_runtime_and_closes_each_feed_once(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    feeds = counting_feeds()
    rt.feeds = [Stream(delay=0.0), *feeds]
    alerts = AlertsSettings(rules=("btc above 999999",), bell=False)
    status = await watch._watch(rt, alerts, watch_args(duration=0.5), io.StringIO())
    assert status == 0
    assert rt.store.slice("btc", BtcSlice).view().tick is not None  # reached the store
    assert all(live(rt, f.source) for f in feeds)
    assert [f.closed for f in feeds] == [1, 1, 1]


async def test_watch_closes_every_feed_once_when_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object, now: float) -> None:
        raise RuntimeError("a bug in the loop")

    monkeypatch.setattr(watch._SourceReporter, "check", broken)
    rt = runtime(tmp_path)
    feeds = counting_feeds()
    rt.feeds = list(feeds)
    alerts = AlertsSettings(rules=("btc above 999999",), bell=False)
    with pytest.raises(RuntimeError, match="a bug in the loop"):
        await watch._watch(rt, alerts, watch_args(), io.StringIO())
    assert [f.closed for f in feeds] == [1, 1, 1]


@pytest.mark.parametrize("way_out", ["quit", "exit"])
async def test_the_app_runs_feeds_as_named_workers_and_closes_each_once(
    tmp_path: Path, way_out: str
) -> None:
    rt = runtime(tmp_path)
    feeds = counting_feeds()
    rt.feeds = [Stream(delay=0.0), *feeds]
    app = LockstepApp(rt, watch_terminal=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: all(live(rt, f.source) for f in feeds))
        workers = {(w.name, w.group) for w in app.workers}
        for source in ("coinbase", "yahoo", "kalshi", "cboe"):
            assert (source, f"feed:{source}") in workers
        if way_out == "quit":
            await app.action_quit()
        else:
            app.exit()  # a hang-up takes this way: no _leave, the unmount tears down
        await pilot.pause()
    assert [f.closed for f in feeds] == [1, 1, 1]


# -- the first-price gate --------------------------------------------------------------


async def test_the_first_price_gate_waits_on_the_event_not_the_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def painted() -> bool:
        return True  # as in the app: a frame is on screen

    monkeypatch.setattr(runtime_module, "first_frame", painted)
    monkeypatch.setattr(runtime_module, "STREAMS_FIRST_S", 3600.0)
    rt = runtime(tmp_path)
    gate = asyncio.Event()
    task = asyncio.create_task(streams_first(rt.store, gate))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not task.done()
    gate.set()
    async with asyncio.timeout(10):
        await task


async def test_the_pump_sets_the_gate_when_the_first_price_is_applied(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    gate = asyncio.Event()
    other = asyncio.create_task(
        supervise(Counting("coinbase"), rt.store, rt.clock, first_price=gate)
    )
    await until(lambda: live(rt, "coinbase"))
    assert not gate.is_set()  # a status is not a price
    stream = asyncio.create_task(supervise(Stream(0.0), rt.store, rt.clock, first_price=gate))
    async with asyncio.timeout(10):
        await gate.wait()
    assert rt.store.slice("btc", BtcSlice).view().tick is not None
    for task in (other, stream):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# -- analyses from the drained topics ---------------------------------------------------


def add_history(rt: Runtime, days: int) -> None:
    for sym in ("BTC-USD", "^RUT"):
        rt.store.apply(HistoryBars("yahoo", sym, tuple(bars(sym)[-days:]), None, 1.0))


@functools.cache
def bars(symbol: str) -> tuple[Any, ...]:
    return tuple(daily_bars(symbol)[-120:])


def computed(rt: Runtime) -> list[DivergenceComputed]:
    """Spy: the DivergenceComputed events applied to the store."""
    seen: list[DivergenceComputed] = []
    apply = rt.store.apply

    def spy(event: object) -> None:
        if isinstance(event, DivergenceComputed):
            seen.append(event)
        apply(event)

    rt.store.apply = spy  # type: ignore[method-assign]
    return seen


async def test_a_history_change_yields_one_analysis_coalesced(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    sl = rt.store.slice("divergence", DivergenceSlice)
    seen = computed(rt)
    for days in (30, 60, 90):
        add_history(rt, days)
    assert rt.drain(1.0) >= {"divergence"}
    await until(lambda: not sl.needs_analysis())
    rt.drain(2.0)  # the analysis made the panel dirty; nothing to recompute
    await asyncio.sleep(0.05)
    assert len(seen) == 1 and sl.recomputes == 1
    assert sl.view().history_days > 0
    await rt.aclose()


async def test_changes_during_an_analysis_coalesce_into_one_more(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    sl = rt.store.slice("divergence", DivergenceSlice)
    seen = computed(rt)
    release = threading.Event()
    jobs: list[int] = []
    make_job = sl.analysis_job

    def blocking_job() -> tuple[int, Callable[[], Any]]:
        version, job = make_job()
        jobs.append(version)

        def run() -> Any:
            release.wait(30)
            return job()

        return version, run

    sl.analysis_job = blocking_job  # type: ignore[method-assign]
    add_history(rt, 30)
    rt.drain(1.0)  # starts the first analysis, which blocks
    for days in (60, 90, 120):
        add_history(rt, days)
        rt.drain(1.0)  # one at a time: no second analysis now
    await asyncio.sleep(0.05)
    assert len(jobs) == 1
    release.set()
    await until(lambda: not sl.needs_analysis())
    assert len(jobs) == 2  # the three changes made one more analysis, of the latest
    assert [e.version for e in seen] == jobs  # the first was stale: the slice ignored it
    assert sl.view().history_days == make_job()[1]().common  # of the latest history
    await rt.aclose()


def test_a_hub_terminal_s_fallback_feeds_follow_a_live_watchlist_change(tmp_path: Path) -> None:
    """A hub terminal falls back to its own feeds when the hub is gone: those poll the
    watchlist as it is now (after a palette edit or a reload), and their Cboe fallback
    reads the quotes slice the store holds now, not the ones built at start."""
    from dataclasses import replace

    from feeds.quotes.cboe import CboeQuotesFeed
    from feeds.quotes.factory import make_quotes_slice
    from feeds.quotes.yahoo import YahooChartFeed
    from tui.hub import HubFallback

    settings = Settings()
    runtime = build_runtime(
        settings, ManualClock(), demo=True, data=tmp_path, hub="redis://127.0.0.1:1/0"
    )
    fallback = runtime.on_drain
    assert isinstance(fallback, HubFallback)
    quotes = replace(settings.quotes, watchlist=(*settings.quotes.watchlist, "NVDA"))
    runtime.settings = replace(runtime.settings, quotes=quotes)
    new_slice = make_quotes_slice(quotes, runtime.clock)
    runtime.store.add(new_slice)
    own = fallback.direct()
    yahoo = next(f for f in own if isinstance(f, YahooChartFeed))
    cboe = next(f for f in own if isinstance(f, CboeQuotesFeed))
    assert "NVDA" in yahoo.symbols
    assert cboe.wanted is not None and cboe.wanted.__self__ is new_slice  # type: ignore[attr-defined]
