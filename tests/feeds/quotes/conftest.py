"""Fixtures for the quotes tests: a frozen session clock, the simulated Yahoo and Cboe on
127.0.0.1, and fast timings (production numbers scaled down)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence

import httpx
import pytest

from feeds.core.clock import ManualClock
from feeds.core.poll import PolledFeed, PollTiming, make_client
from feeds.core.store import Store
from feeds.quotes.session import SessionIntervals
from feeds.sim.cboe import SimCboe, start_sim_cboe
from feeds.sim.yahoo import SimYahoo, start_sim_yahoo
from tests.feeds.quotes.helpers import FRIDAY_1030

FAST = PollTiming(
    connect=0.5,
    read=0.5,
    deadline=1.0,
    max_body=5_000_000,
    attempts=3,
    retry_base=0.01,
    retry_after_cap=3600.0,
    no_retry_after_base=0.2,
    no_retry_after_cap=0.8,
)
FAST_IV = SessionIntervals(regular=0.05, extended=0.1, futures=0.1, closed=0.3)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(FRIDAY_1030)


@pytest.fixture
async def sim_yahoo(clock: ManualClock) -> AsyncIterator[SimYahoo]:
    sim = await start_sim_yahoo(clock)
    yield sim
    await sim.server.stop()


@pytest.fixture
async def sim_cboe(clock: ManualClock) -> AsyncIterator[SimCboe]:
    sim = await start_sim_cboe(clock)
    yield sim
    await sim.server.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    c = make_client(timing=FAST)
    yield c
    await c.aclose()


class Runner:
    """Runs feeds into a store (and a plain event list) until the test ends."""

    def __init__(self, feeds: Sequence[PolledFeed], store: Store | None = None) -> None:
        self.feeds = feeds
        self.store = store
        self.events: list[object] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def _run(self, feed: PolledFeed) -> None:
        async for event in feed.events():
            self.events.append(event)
            if self.store is not None:
                self.store.apply(event)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(f)) for f in self.feeds]

    async def until(self, pred: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not pred():
                for t in self._tasks:
                    if t.done():
                        t.result()  # surface a crash instead of timing out
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t


@pytest.fixture
async def runner_factory() -> AsyncIterator[Callable[..., Runner]]:
    made: list[Runner] = []

    def make(feeds: Sequence[PolledFeed], store: Store | None = None) -> Runner:
        r = Runner(feeds, store)
        made.append(r)
        r.start()
        return r

    yield make
    for r in made:
        await r.stop()
