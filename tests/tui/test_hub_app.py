"""The App, headless, as a hub terminal: it paints the hub's BTC price with its venue,
and the status bar shows the hub as a source with its state."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from feeds.core.clock import DEMO_START, ShiftedClock
from feeds.hub.settings import HubSettings
from feeds.sim.market import SimMarket, start_market
from tests.feeds.hub.redis_server import RedisServer, running
from tests.tui.test_app import text, wait_until
from tui.app import LockstepApp
from tui.config import Settings, with_endpoints
from tui.hub import serve
from tui.runtime import build_runtime

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def market() -> AsyncIterator[SimMarket]:
    m = await start_market(ShiftedClock(DEMO_START), btc_rate=10.0)
    yield m
    await m.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running(tmp_path / "redis") as server:
        yield server


async def test_the_app_on_a_hub_shows_the_hubs_price_and_the_hub_as_a_source(
    market: SimMarket, redis_server: RedisServer
) -> None:
    settings = with_endpoints(Settings(hub=HubSettings(heartbeat_s=0.2)), **market.endpoints)
    clock = ShiftedClock(DEMO_START)
    hub_rt = build_runtime(settings, clock, demo=True, data=None)
    stop = asyncio.Event()
    hub = asyncio.create_task(serve(hub_rt, redis_server.url, out=io.StringIO(), stop=stop))
    try:
        term = build_runtime(settings, clock, demo=True, data=None, hub=redis_server.url)
        app = LockstepApp(term, watch_terminal=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: text(app, "#btc-price").startswith("$"), 20)
            await wait_until(pilot, lambda: "via Coinbase" in text(app, "#btc-venue"), 20)
            await wait_until(pilot, lambda: "hub LIVE" in text(app, "#status"), 20)
            await app.action_quit()
    finally:
        stop.set()
        async with asyncio.timeout(20):
            assert await hub == 0
