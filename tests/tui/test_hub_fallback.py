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
from feeds.hub.settings import HubSettings
from feeds.hub.subscribe import HubFeed
from feeds.model.core import FeedState
from feeds.sim.market import MarketThread
from tests.feeds.hub.redis_server import RedisServer, running
from tui.config import Settings, with_endpoints
from tui.hub import FALLBACK_NOTE, HubFallback, serve
from tui.runtime import Runtime, build_runtime

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
