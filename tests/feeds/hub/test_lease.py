"""The standby hub's lease and fencing against a real redis-server: one hub leads, the
other waits and takes over once the leader's lease lapses; a hub that lost the lease
writes nothing, not even once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import redis.asyncio as aioredis

from feeds.core.clock import SystemClock
from feeds.hub.keys import HubKeys
from feeds.hub.publish import Publisher, stop_task
from feeds.hub.settings import HubSettings
from feeds.model.quotes import MarketState, Quote
from tests.feeds.hub.redis_server import RedisServer

pytestmark = pytest.mark.timeout(60)

SETTINGS = HubSettings(heartbeat_s=0.2, lease_s=1.0)
CLOCK = SystemClock()
KEYS = HubKeys(SETTINGS.prefix)


def quote(price: str) -> Quote:
    d = Decimal
    return Quote(
        "yahoo", "^RUT", "Russell 2000", d(price), None, None, None, None, "USD",
        MarketState.REGULAR, False, 0, datetime.now(UTC), None, CLOCK.monotonic(),
    )  # fmt: skip


async def test_one_hub_leads_the_other_waits_and_takes_over_when_the_lease_lapses(
    redis_server: RedisServer,
) -> None:
    leader = Publisher(SETTINGS, redis_server.url, CLOCK)
    standby = Publisher(SETTINGS, redis_server.url, CLOCK)
    try:
        assert await leader.try_lead()
        assert not await standby.try_lead()
        assert await leader.try_lead()  # renewing keeps it
        first = leader.token
        # The leader dies without giving the lease up (no renewal from here on).
        async with asyncio.timeout(10):
            while not await standby.try_lead():
                await asyncio.sleep(0.1)
        assert standby.token is not None and first is not None and standby.token > first
        assert not await leader.try_lead()  # the old leader cannot take it back
    finally:
        await leader.aclose()
        await standby.aclose()


async def test_a_clean_stop_hands_the_lease_over_at_once(redis_server: RedisServer) -> None:
    leader = Publisher(HubSettings(heartbeat_s=0.2, lease_s=30.0), redis_server.url, CLOCK)
    standby = Publisher(HubSettings(heartbeat_s=0.2, lease_s=30.0), redis_server.url, CLOCK)
    assert await leader.try_lead()
    await leader.aclose()  # gives the lease up: no 30 s wait
    assert await standby.try_lead()
    await standby.aclose()


async def test_a_hub_that_lost_the_lease_publishes_nothing(redis_server: RedisServer) -> None:
    r = aioredis.from_url(redis_server.url)
    hub = Publisher(SETTINGS, redis_server.url, CLOCK)
    task = asyncio.create_task(hub.run())
    try:
        hub.offer(quote("100"))
        async with asyncio.timeout(10):
            while hub.published < 1:
                await asyncio.sleep(0.02)
        assert await r.xlen(KEYS.stream) == 1
        # The hub stalls past its lease and another takes over meanwhile.
        await r.set(KEYS.lease, b"other-hub:99", px=60_000)
        await r.delete(KEYS.heartbeat)
        hub.offer(quote("4242.42"))
        async with asyncio.timeout(10):
            while not task.done():
                await asyncio.sleep(0.02)
        assert hub.lost and "lost the lease" in hub.state
        assert await r.xlen(KEYS.stream) == 1  # fenced: the second entry never landed
        assert "4242.42" not in str(await r.hgetall(KEYS.latest))
        assert await r.get(KEYS.lease) == b"other-hub:99"  # and the lease left alone
        assert not await r.exists(KEYS.heartbeat)
    finally:
        await stop_task(task)
        await r.aclose()


async def test_a_redis_restart_does_not_make_the_leader_give_up(
    redis_server: RedisServer,
) -> None:
    r = aioredis.from_url(redis_server.url)
    hub = Publisher(SETTINGS, redis_server.url, CLOCK)
    task = asyncio.create_task(hub.run())
    try:
        hub.offer(quote("100"))
        async with asyncio.timeout(10):
            while hub.published < 1:
                await asyncio.sleep(0.02)
        await r.flushall()  # what a restart without persistence leaves
        hub.offer(quote("102"))
        async with asyncio.timeout(10):
            while hub.published < 2:
                await asyncio.sleep(0.02)
        assert not hub.lost and await r.xlen(KEYS.stream) == 1
        assert await r.get(KEYS.lease) == hub.mine.encode()
    finally:
        hub.close_soon()
        await stop_task(task)
        await r.aclose()


async def test_both_fenced_paths_after_a_restart_retake_the_lease_and_neither_gives_up(
    redis_server: RedisServer,
) -> None:
    """The publishing loop and the heartbeat are both fenced out by one Redis restart.
    The second to look must find the lease ours again, not another hub's (CI once saw
    the hub stop publishing here: "lost the lease to another hub")."""
    r = aioredis.from_url(redis_server.url)
    hub = Publisher(SETTINGS, redis_server.url, CLOCK)
    try:
        assert await hub.try_lead()
        first = hub.token
        await r.flushall()  # what a restart without persistence leaves
        await asyncio.gather(hub._refenced(), hub._refenced(), hub._refenced())
        assert not hub.lost
        assert hub.token is not None and first is not None  # (the fence restarts too)
        assert await r.get(KEYS.lease) == hub.mine.encode()
        assert hub._rewrite  # the hashes are written again before anything else
    finally:
        await hub.aclose()
        await r.aclose()
