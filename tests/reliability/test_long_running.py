"""Running for days, accelerated (reliability.md L1-L6). The long soak lives in
bench/ (B7); this short mode proves the same invariants in seconds: tasks, file
descriptors and memory return to baseline, logs stay rate-limited and rotate."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import tracemalloc
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from feeds.btc.coinbase import CoinbaseTickerFeed
from feeds.btc.state import BtcSlice
from feeds.core.clock import SystemClock
from feeds.core.health import HealthSlice
from feeds.core.store import Store
from feeds.model import FeedState, FeedStatus, Heartbeat, Tick
from feeds.sim.exchanges import SimBtc
from feeds.sim.http import SimHttpServer, SimRequest, SimResponse, json_response
from tests.conftest import FAST_WS
from tests.feeds.core.test_poll import CounterFeed
from tui.logs import RateLimitFilter, setup_logging

pytestmark = pytest.mark.timeout(120)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def tick(i: int, when: datetime, received: float) -> Tick:
    px = Decimal(90000 + i % 1000)
    return Tick("coinbase", px, px, px, px, px, px, None, when, i, received)


async def test_l1_l2_accelerated_soak_returns_to_baseline(sim_btc: SimBtc) -> None:
    """Many ticks, many reconnect cycles and many polls; afterwards tasks, fds and
    traced memory are back where they started."""
    server = SimHttpServer("soak")

    async def value(req: SimRequest) -> SimResponse:
        return json_response(b'{"v": 1}')

    server.route(r"/value", value)
    await server.start(0)
    gc.collect()
    tasks0, fds0 = len(asyncio.all_tasks()), open_fds()
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()

    sim_btc.coinbase.set_script(rate=4000, close_after=400)  # a reconnect every 0.1 s
    btc = BtcSlice()
    store = Store([HealthSlice({"coinbase": 5.0}, heartbeat_kinds=(Heartbeat,)), btc])
    feed = CoinbaseTickerFeed(sim_btc.coinbase.url, clock=SystemClock(), timing=FAST_WS)
    poller = CounterFeed(server.url, every=0.001)
    lives = 0
    polls = 0

    async def pump_ws() -> None:
        nonlocal lives
        async for ev in feed.events():
            store.apply(ev)
            if isinstance(ev, FeedStatus) and ev.state is FeedState.LIVE:
                lives += 1

    async def pump_http() -> None:
        nonlocal polls
        async for ev in poller.events():
            polls += hasattr(ev, "value")

    t1, t2 = asyncio.create_task(pump_ws()), asyncio.create_task(pump_http())
    loop = asyncio.get_running_loop()
    end = loop.time() + 60
    while (lives < 10 or polls < 100) and loop.time() < end:
        await asyncio.sleep(0.1)
    await feed.aclose()
    await poller.aclose()
    for t in (t1, t2):
        t.cancel()
    await asyncio.gather(t1, t2, return_exceptions=True)
    await poller.client.aclose()
    assert lives >= 10 and polls >= 100, (lives, polls)
    assert store.applied > 2000
    await asyncio.sleep(0.3)
    gc.collect()
    snap1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in snap1.compare_to(snap0, "filename"))
    assert grown < 3_000_000, grown
    assert len(asyncio.all_tasks()) <= tasks0, asyncio.all_tasks()
    assert open_fds() <= fds0 + 2, (open_fds(), fds0)
    await server.stop()


def test_l3_store_stays_bounded_while_nobody_paints() -> None:
    """The UI stalls (no drain) while 200k ticks arrive: state stays bounded."""
    btc = BtcSlice(spark_minutes=120)
    store = Store([HealthSlice({}), btc])
    start = datetime(2025, 12, 12, tzinfo=UTC)
    store.apply(FeedStatus("coinbase", FeedState.LIVE, "", 0.0))
    tracemalloc.start()
    for i in range(200_000):
        store.apply(tick(i, start + timedelta(seconds=i), float(i)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(btc.view().spark) == 120
    assert peak < 5_000_000
    assert store.drain() == {"btc", "health"}


def test_l4_error_storm_is_rate_limited_and_logs_rotate(tmp_path: Path) -> None:
    setup_logging(tmp_path)
    log = logging.getLogger("lockstep.test")
    for _ in range(1000):
        log.warning("bad frame from %s", "coinbase")
    for i in range(60_000):
        log.warning(f"distinct message {i} " + "x" * 100)  # noqa: G004 - distinct kinds
    logging.getLogger().handlers[0].flush()
    logs = sorted(tmp_path.glob("lockstep.log*"))
    text = "".join(p.read_text() for p in logs)
    assert text.count("bad frame from coinbase") == 1  # the other 999 collapsed
    assert 1 < len(logs) <= 4
    assert all(p.stat().st_size <= 5_100_000 for p in logs)
    for h in logging.getLogger().handlers:
        h.close()
    logging.getLogger().handlers.clear()


def test_l4_rate_limit_reports_what_it_held_back() -> None:
    f = RateLimitFilter(period=60)
    rec = logging.LogRecord("x", logging.WARNING, "f", 1, "boom", None, None)
    assert f.filter(rec)
    assert not any(
        f.filter(logging.LogRecord("x", logging.WARNING, "f", 1, "boom", None, None))
        for _ in range(10)
    )
    f.period = 0
    later = logging.LogRecord("x", logging.WARNING, "f", 1, "boom", None, None)
    assert f.filter(later) and "10 more" in later.getMessage()


def test_l6_day_rollover_keeps_one_bucket_per_minute() -> None:
    btc = BtcSlice()
    store = Store([btc])
    store.apply(FeedStatus("coinbase", FeedState.LIVE, "", 0.0))
    midnight = datetime(2025, 12, 13, tzinfo=UTC)
    for i, s in enumerate(range(-150, 150, 10)):
        store.apply(tick(1000 + i, midnight + timedelta(seconds=s), float(i)))
    spark = btc.view().spark
    assert len(spark) == 6  # 23:57 ... 00:02, one bucket each across midnight
    assert spark[-1] == 90029.0  # the newest price of the newest minute
