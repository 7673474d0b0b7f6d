"""Clock faults: a stepped wall clock changes nothing (D8); a suspend and resume
forces a reconnect at once (D9). A clock wraps the real one so real sleeps still run."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta

from feeds.btc.coinbase import CoinbaseTickerFeed
from feeds.core.clock import SystemClock
from feeds.core.health import HealthSlice
from feeds.core.store import Store
from feeds.model import FeedState, FeedStatus, Heartbeat
from feeds.sim.exchanges import SimBtc
from tests.conftest import FAST_WS


class SteppableClock(SystemClock):
    """The real clocks, plus wall steps and simulated suspends."""

    def __init__(self) -> None:
        self.wall_offset = timedelta()
        self.asleep = 0.0

    def now(self) -> datetime:
        return super().now() + self.wall_offset

    def boottime(self) -> float:
        return self.monotonic() + self.asleep


async def run_feed(sim: SimBtc, clock: SteppableClock, seconds: float) -> list[object]:
    feed = CoinbaseTickerFeed(
        sim.coinbase.url, clock=clock, timing=dataclasses.replace(FAST_WS, reconnect_after=2.0)
    )
    seen: list[object] = []

    async def pump() -> None:
        async for ev in feed.events():
            seen.append(ev)

    task = asyncio.create_task(pump())
    await asyncio.sleep(seconds)
    await feed.aclose()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return seen


def reconnects(seen: list[object]) -> list[FeedStatus]:
    return [e for e in seen if isinstance(e, FeedStatus) and e.state is FeedState.RECONNECTING]


async def test_d8_wall_clock_jumps_cause_no_reconnect_or_stale(sim_btc: SimBtc) -> None:
    clock = SteppableClock()
    health = HealthSlice({"coinbase": 1.0}, heartbeat_kinds=(Heartbeat,))
    store = Store([health])

    async def jumps() -> None:
        await asyncio.sleep(0.4)
        clock.wall_offset = timedelta(hours=1)
        await asyncio.sleep(0.4)
        clock.wall_offset = timedelta(hours=-1)

    jumper = asyncio.create_task(jumps())
    seen = await run_feed(sim_btc, clock, 1.5)
    await jumper
    assert not reconnects(seen)
    for ev in seen:
        store.apply(ev)
    store.refresh(clock.monotonic())
    assert health.view()["coinbase"].state is FeedState.LIVE


async def test_d9_suspend_and_resume_forces_a_reconnect(sim_btc: SimBtc) -> None:
    clock = SteppableClock()

    async def nap() -> None:
        await asyncio.sleep(0.5)
        clock.asleep += 7200  # two hours asleep; the monotonic clock did not move
        clock.wall_offset += timedelta(hours=2)

    sleeper = asyncio.create_task(nap())
    seen = await run_feed(sim_btc, clock, 2.5)
    await sleeper
    dropped = reconnects(seen)
    assert dropped and "suspend" in dropped[0].reason
    lives = [e for e in seen if isinstance(e, FeedStatus) and e.state is FeedState.LIVE]
    assert len(lives) >= 2  # and it came back
