"""``lockstep hub`` as a standby: while another hub holds the lease it says so, runs no
feed (no request leaves it), and stops cleanly; given the lease, it leads."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from feeds.core.clock import SystemClock
from feeds.hub.publish import Publisher
from feeds.hub.settings import HubSettings
from tests.feeds.hub.redis_server import RedisServer, running
from tui.config import Endpoints, Settings, with_endpoints
from tui.hub import serve
from tui.runtime import build_runtime

pytestmark = pytest.mark.timeout(60)

HUB = HubSettings(heartbeat_s=0.2, lease_s=1.0)
DEAD = {
    f.name: "ws://127.0.0.1:9" if f.name.endswith("_ws") else "http://127.0.0.1:9"
    for f in fields(Endpoints)
}
"""Every source on a closed loopback port: nothing here ever leaves the machine."""
SETTINGS = with_endpoints(Settings(hub=HUB), **DEAD)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running(tmp_path / "redis") as server:
        yield server


async def test_a_standby_hub_waits_without_running_its_feeds_then_takes_over(
    redis_server: RedisServer,
) -> None:
    leader = Publisher(HUB, redis_server.url, SystemClock())
    assert await leader.try_lead()
    runtime = build_runtime(SETTINGS, SystemClock(), data=None)
    out = io.StringIO()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(runtime, redis_server.url, out=out, stop=stop))
    async with asyncio.timeout(10):
        while "standby" not in out.getvalue():
            await asyncio.sleep(0.05)
    assert runtime.store.applied == 0  # no feed has run: nothing reached its store
    await leader.aclose()  # the leader stops and gives the lease up
    async with asyncio.timeout(10):
        while "leading" not in out.getvalue():
            await asyncio.sleep(0.05)
    stop.set()
    async with asyncio.timeout(20):
        assert await task == 0
    assert "stopped" in out.getvalue()


async def test_a_standby_told_to_stop_exits_cleanly(redis_server: RedisServer) -> None:
    leader = Publisher(HUB, redis_server.url, SystemClock())
    assert await leader.try_lead()
    runtime = build_runtime(SETTINGS, SystemClock(), data=None)
    out = io.StringIO()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(runtime, redis_server.url, out=out, stop=stop))
    async with asyncio.timeout(10):
        while "standby" not in out.getvalue():
            await asyncio.sleep(0.05)
    stop.set()
    async with asyncio.timeout(10):
        assert await task == 0
    assert "never led" in out.getvalue()
    await leader.aclose()
