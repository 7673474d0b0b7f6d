"""A hub terminal never goes blind: with no hub it falls back to its own feeds and says
so; it returns to the hub once the hub is LIVE; the hub killed, it goes STALE and falls
back again. A real redis-server and the simulated market, loopback only."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from feeds.btc.state import BtcSlice
from feeds.core.clock import DEMO_START, ShiftedClock
from feeds.core.health import HealthSlice
from feeds.history.ath_state import AthSlice
from feeds.hub.settings import HubSettings
from feeds.hub.subscribe import HubFeed
from feeds.model.core import FeedState
from feeds.sim.market import MarketThread
from tests.feeds.hub.redis_server import RedisServer, free_port, running, start
from tui.config import Settings, with_endpoints
from tui.hub import FALLBACK_NOTE, HubFallback, probe_hub, serve
from tui.runtime import Feed, Runtime, TaskJob, build_runtime

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running(tmp_path / "redis") as server:
        yield server


@pytest.fixture(scope="module")
def market() -> Iterator[dict[str, str]]:
    thread = MarketThread(ShiftedClock(DEMO_START))
    endpoints = thread.start()
    yield endpoints
    thread.stop()


async def until(rt: Runtime, check: Callable[[], bool], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while True:
            rt.drain(rt.clock.monotonic())
            if check():
                return
            await asyncio.sleep(0.05)


def hub_state(rt: Runtime) -> tuple[FeedState | None, str]:
    h = rt.store.slice("health", HealthSlice).view().get("hub")
    return (h.state, h.reason) if h is not None else (None, "")


async def test_no_hub_then_fallback_then_back_to_the_hub_then_the_hub_killed(
    market: dict[str, str], redis_server: RedisServer
) -> None:
    hub = HubSettings(heartbeat_s=0.2, fallback_after=1.0)
    settings = with_endpoints(Settings(hub=hub), **market)
    clock = ShiftedClock(DEMO_START)
    term = build_runtime(settings, clock, demo=True, data=None, hub=redis_server.url)
    fallback = term.on_drain
    assert isinstance(fallback, HubFallback)
    term.start()
    hub_task: asyncio.Task[int] | None = None
    stop = asyncio.Event()
    try:
        # No hub publishing: after fallback_after the terminal runs its own feeds, says so,
        # and shows a price it fetched itself.
        await until(term, lambda: fallback.fallbacks == 1)
        assert [type(f) for f in term.feeds if isinstance(f, HubFeed)] == [HubFeed]
        assert len(term.feeds) > 1
        state, reason = hub_state(term)
        assert state is FeedState.DOWN
        assert FALLBACK_NOTE in reason
        btc = term.store.slice("btc", BtcSlice)
        await until(term, lambda: btc.view().tick is not None)

        # The hub starts: the terminal returns to it and stops its own feeds.
        hub_rt = build_runtime(settings, clock, demo=True, data=None)
        hub_task = asyncio.create_task(
            serve(hub_rt, redis_server.url, out=io.StringIO(), stop=stop)
        )
        await until(term, lambda: not fallback.active)
        assert [type(f) for f in term.feeds] == [HubFeed]
        assert hub_state(term)[0] is FeedState.LIVE

        # The hub stops: STALE first, then after fallback_after the terminal's own feeds.
        seen: list[FeedState | None] = []
        stop.set()
        async with asyncio.timeout(20):
            assert await hub_task == 0

        def watch() -> bool:
            seen.append(hub_state(term)[0])
            return fallback.fallbacks == 2

        await until(term, watch)
        assert FeedState.STALE in seen  # seen STALE before it fell back
        assert FALLBACK_NOTE in hub_state(term)[1]
    finally:
        stop.set()
        if hub_task is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(20):
                    await hub_task
        async with asyncio.timeout(20):
            await term.aclose()


async def test_fallback_none_keeps_the_terminal_on_the_hub(redis_server: RedisServer) -> None:
    settings = Settings(hub=HubSettings(fallback="none"))
    term = build_runtime(
        settings, ShiftedClock(DEMO_START), demo=True, data=None, hub=redis_server.url
    )
    assert term.on_drain is None
    assert [type(f) for f in term.feeds] == [HubFeed]
    assert term.sources[0] == "hub"
    await term.aclose()


FALLBACK_HISTORY = {"history", "coinbase-candles", "yahoo-history", "history-persist"}
"""A direct run's history feeds: the loader, both backfills and the history's writer."""


def jobs_of(rt: Runtime, feeds: list[Feed]) -> list[asyncio.Task[None]]:
    """The tasks running ``feeds`` in ``rt``."""
    jobs = [rt._jobs[id(f)] for f in feeds]
    assert all(isinstance(j, TaskJob) for j in jobs)
    return [j.task for j in jobs if isinstance(j, TaskJob)]


async def test_redis_down_at_start_runs_the_whole_direct_terminal_then_moves_to_the_hub(
    market: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()  # nothing listens here yet
    url = f"redis://:sekret-pw-9@127.0.0.1:{port}/0"
    settings = with_endpoints(
        Settings(hub=HubSettings(heartbeat_s=0.2, fallback_after=30.0)), **market
    )
    clock = ShiftedClock(DEMO_START)
    probe = await probe_hub(url, settings.hub)
    assert probe.problem is not None and not probe.fatal  # an outage, not configuration
    assert "sekret-pw-9" not in probe.problem
    term = build_runtime(settings, clock, demo=True, data=None, hub=url, hub_down=probe.problem)
    fallback = term.on_drain
    assert isinstance(fallback, HubFallback)
    term.start()
    server = None
    stop = asyncio.Event()
    hub_task: asyncio.Task[int] | None = None
    try:
        # At once, not after fallback_after (30 s here): the whole direct terminal.
        await until(term, lambda: fallback.fallbacks == 1, timeout=5)
        state, reason = hub_state(term)
        assert state is FeedState.DOWN and FALLBACK_NOTE in reason
        assert "cannot connect" in reason and "sekret-pw-9" not in reason
        assert {f.source for f in fallback.active} >= FALLBACK_HISTORY
        ath = term.store.slice("ath", AthSlice)
        btc = term.store.slice("btc", BtcSlice)
        # Its own backfill filled the history; its own streams the price.
        await until(term, lambda: btc.view().tick is not None and ath.record("BTC-USD") is not None)
        own = jobs_of(term, fallback.active)

        # Redis and a hub come up: the terminal moves to the hub and stops its own feeds.
        server = start(tmp_path / "redis", port=port, password="sekret-pw-9")
        hub_rt = build_runtime(settings, clock, demo=True, data=None)
        hub_task = asyncio.create_task(serve(hub_rt, url, out=io.StringIO(), stop=stop))
        await until(term, lambda: not fallback.active, timeout=60)
        assert [type(f) for f in term.feeds] == [HubFeed]
        assert hub_state(term)[0] is FeedState.LIVE
        async with asyncio.timeout(10):  # every one of its own feeds stopped
            while not all(t.done() for t in own):
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        if hub_task is not None:
            async with asyncio.timeout(20):
                await hub_task
        async with asyncio.timeout(20):
            await term.aclose()
        if server is not None:
            server.stop()


async def test_fallback_none_with_redis_down_at_start_waits_showing_the_hub_down() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings = Settings(hub=HubSettings(heartbeat_s=0.2, fallback="none"))
    term = build_runtime(
        settings, ShiftedClock(DEMO_START), demo=True, data=None, hub=url, hub_down="down"
    )
    assert term.on_drain is None
    term.start()
    try:
        await until(term, lambda: hub_state(term)[0] is FeedState.DOWN, timeout=10)
        assert "cannot connect" in hub_state(term)[1]
        assert [type(f) for f in term.feeds] == [HubFeed]  # no feed of its own
    finally:
        await term.aclose()


async def test_each_terminal_waits_fallback_after_plus_its_own_jitter_of_up_to_a_fifth() -> None:
    """No herd: a desk's terminals do not all fall back at the same instant."""
    from feeds.core.clock import ManualClock

    clock = ManualClock()
    settings = Settings(hub=HubSettings(fallback_after=10.0))
    rt = build_runtime(settings, clock, data=None, hub="redis://127.0.0.1:9/0")
    try:
        assert isinstance(rt.on_drain, HubFallback)
        assert 10.0 <= rt.on_drain.after <= 12.0  # drawn with the real random
        assert HubFallback(rt, list, 10.0, jitter=lambda: 0.0).after == 10.0
        assert HubFallback(rt, list, 10.0, jitter=lambda: 1.0).after == pytest.approx(12.0)
        assert HubFallback(rt, list, 10.0, jitter=lambda: 7.0).after == pytest.approx(12.0)
        spread = {HubFallback(rt, list, 10.0).after for _ in range(20)}
        assert len(spread) > 1 and all(10.0 <= a <= 12.0 for a in spread)
        # With the longest jitter, nothing happens until 12 s without the hub.
        fb = HubFallback(rt, list, 10.0, jitter=lambda: 1.0)
        start = clock.monotonic()
        rt.store.refresh(start)
        fb(start + 11.9)
        assert fb.fallbacks == 0
        fb(start + 12.1)
        assert fb.fallbacks == 1
    finally:
        await rt.aclose()
