"""A terminal on a read-only Redis replica (an office's copy of the desk's Redis): its
registration is refused (READONLY), which is not an outage: it reads on, LIVE. Real
redis-servers, the replica started with ``--replicaof``."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
import redis.asyncio as aioredis
import redis.exceptions

from feeds.hub.keys import HubBeat
from feeds.hub.publish import Publisher, stop_task
from feeds.hub.subscribe import HubFeed
from feeds.model.btc import Tick
from feeds.model.core import FeedState, FeedStatus
from tests.feeds.hub.redis_server import start
from tests.feeds.hub.samples import CLOCK, SETTINGS, tick

pytestmark = pytest.mark.timeout(60)


async def test_a_terminal_on_a_read_only_replica_goes_live_and_gets_the_values(
    tmp_path: Path,
) -> None:
    primary = start(tmp_path / "primary")
    replica = start(tmp_path / "replica", replica_of=primary.port)
    pub = Publisher(SETTINGS, primary.url, CLOCK)
    task = asyncio.create_task(pub.run())
    feed = HubFeed(SETTINGS, replica.url, CLOCK, subscriber_id="office-terminal")
    gen = feed.events()
    seen: list[object] = []
    try:
        # The replica really refuses writes.
        r = aioredis.from_url(replica.url)
        with pytest.raises(redis.exceptions.ReadOnlyError):
            await r.zadd("probe", {"x": 1.0})
        await r.aclose()
        pub.offer(tick("100"))
        async with asyncio.timeout(30):
            async for event in gen:
                seen.append(event)
                if isinstance(event, Tick) and event.price == Decimal("100"):
                    break
            pub.offer(tick("200"))  # after a quiet spell: relayed at once, via the replica
            async for event in gen:
                seen.append(event)
                if isinstance(event, Tick) and event.price == Decimal("200"):
                    break
            beats = 0
            async for event in gen:  # the heartbeats keep coming: it stays LIVE
                seen.append(event)
                beats += isinstance(event, HubBeat)
                if beats == 3:
                    break
        states = [e.state for e in seen if isinstance(e, FeedStatus) and e.source == "hub"]
        assert FeedState.LIVE in states
        assert FeedState.DOWN not in states[states.index(FeedState.LIVE) :]
        assert feed.state is FeedState.LIVE
        assert feed.registers is False  # it tried once, was refused, and reads only
        assert pub.subscribers == 0  # the hub cannot count it (its write never reached it)
    finally:
        await gen.aclose()  # type: ignore[attr-defined]
        pub.close_soon()
        await stop_task(task)
        replica.stop()
        primary.stop()


async def test_a_terminal_on_the_primary_still_registers(tmp_path: Path) -> None:
    primary = start(tmp_path / "primary")
    pub = Publisher(SETTINGS, primary.url, CLOCK)
    task = asyncio.create_task(pub.run())
    feed = HubFeed(SETTINGS, primary.url, CLOCK)
    gen = feed.events()
    try:
        async with asyncio.timeout(30):
            async for event in gen:
                if isinstance(event, HubBeat):
                    break
            while pub.subscribers != 1:
                await asyncio.sleep(0.05)
        assert feed.registers is True
    finally:
        await gen.aclose()  # type: ignore[attr-defined]
        pub.close_soon()
        await stop_task(task)
        primary.stop()
