"""The hub coalesces each venue's BTC ticks before relaying them (``[hub] tick_every_ms``):
the pure :class:`Coalescer` with an injected clock, then the publisher against a real
redis-server (what lands on the stream, in what order). No mock broker."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
import redis.asyncio as aioredis

from feeds.core.clock import ManualClock, SystemClock
from feeds.hub.codec import Decoder
from feeds.hub.keys import HubKeys
from feeds.hub.publish import Coalescer, Publisher, stop_task
from feeds.hub.settings import HubSettings
from feeds.model.btc import Tick
from feeds.model.core import FeedState, FeedStatus
from tests.feeds.hub.redis_server import RedisServer

pytestmark = pytest.mark.timeout(60)


class Now:
    """An injected clock for the pure coalescer."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_the_first_item_after_a_quiet_spell_goes_out_at_once() -> None:
    now = Now()
    c: Coalescer[int] = Coalescer(0.025, now)
    assert c.offer("coinbase", 1) is True
    now.t += 0.025
    assert c.offer("coinbase", 2) is True  # a whole window later: at once again
    assert c.offer("kraken", 3) is True  # another venue has its own window


def test_items_within_the_window_are_held_latest_wins_until_due() -> None:
    now = Now()
    c: Coalescer[int] = Coalescer(0.025, now)
    assert c.offer("coinbase", 1) is True
    now.t += 0.005
    assert c.offer("coinbase", 2) is False
    assert c.due("coinbase") == pytest.approx(100.025)
    now.t += 0.005
    assert c.offer("coinbase", 3) is False
    assert c.holding("coinbase") and c.replaced == 1 and c.held == 1
    now.t = 100.025
    assert c.take("coinbase") == 3  # the latest, at the window's end
    assert not c.holding("coinbase") and c.take("coinbase") is None
    now.t += 0.001
    assert c.offer("coinbase", 4) is False  # a new window began at the release
    assert c.due("coinbase") == pytest.approx(100.050)


def test_at_a_high_rate_one_item_per_window_goes_out_and_the_last_always_does() -> None:
    """1,000 items a second for 1 s, the caller releasing each held item when it is due
    (as the publisher's loop timer does): about one item per 25 ms window, and the
    burst's last item is among them."""
    now = Now()
    window = 0.025
    c: Coalescer[int] = Coalescer(window, now)
    sent: list[tuple[float, int]] = []
    due: float | None = None
    for i in range(1000):
        now.t = 100.0 + i * 0.001
        if due is not None and now.t >= due:
            item = c.take("coinbase")
            assert item is not None
            sent.append((now.t, item))
            due = None
        if c.offer("coinbase", i):
            sent.append((now.t, i))
        elif due is None:
            due = c.due("coinbase")
    if due is not None:
        now.t = due
        item = c.take("coinbase")
        assert item is not None
        sent.append((now.t, item))
    assert sent[-1][1] == 999  # the last tick of the burst arrives
    assert 35 <= len(sent) <= 1.0 / window + 2
    gaps = [b[0] - a[0] for a, b in zip(sent, sent[1:], strict=False)]
    assert min(gaps) >= window - 1e-9  # never two within one window
    assert c.replaced == 1000 - len(sent)


def d(price: str) -> Decimal:
    return Decimal(price)


def tick(price: str, venue: str = "coinbase") -> Tick:
    return Tick(venue, d(price), None, None, None, None, None, None, None, None, 1000.0)


async def relayed(server: RedisServer, count: int, timeout: float = 15.0) -> list[object]:
    """The first ``count`` entries on the hub's stream, decoded (waits for them)."""
    r = aioredis.from_url(server.url)
    stream = HubKeys("lockstep").stream
    try:
        async with asyncio.timeout(timeout):
            while await r.xlen(stream) < count:
                await asyncio.sleep(0.02)
        entries = await r.xrange(stream) or []
    finally:
        await r.aclose()
    decoder = Decoder(SystemClock())
    return [decoder.decode((fields or {}).get(b"e")) for _, fields in entries]


def prices(events: list[object], venue: str = "coinbase") -> list[str]:
    return [str(e.price) for e in events if isinstance(e, Tick) and e.source == venue]


async def test_a_burst_relays_its_first_tick_at_once_and_its_last_at_the_windows_end(
    redis_server: RedisServer,
) -> None:
    clock = ManualClock()  # frozen: the whole burst falls in one window
    pub = Publisher(HubSettings(heartbeat_s=0.2), redis_server.url, clock)
    task = asyncio.create_task(pub.run())
    try:
        for i in range(100):
            pub.offer(tick(str(100 + i)))
            pub.offer(tick(str(500 + i), "kraken"))
        assert pub.queued == 2  # each venue's first tick, at once
        assert pub.pending == 4  # and each venue's latest, held for the window
        events = await relayed(redis_server, 4)
        assert prices(events) == ["100", "199"]  # latest wins
        assert prices(events, "kraken") == ["500", "599"]
        assert pub.coalesced == 2 * 98
        clock.advance(0.03)  # a quiet spell longer than a window: at once again
        pub.offer(tick("300"))
        assert pub.queued == 1
        assert prices(await relayed(redis_server, 5)) == ["100", "199", "300"]
    finally:
        pub.close_soon()
        await stop_task(task)


async def test_a_lone_tick_goes_out_without_waiting_for_the_window(
    redis_server: RedisServer,
) -> None:
    clock = ManualClock()
    pub = Publisher(HubSettings(heartbeat_s=0.2, tick_every_ms=1000), redis_server.url, clock)
    pub.offer(tick("100"))
    assert pub.queued == 1 and pub.pending == 1  # queued at once, not held for the window
    task = asyncio.create_task(pub.run())
    try:
        assert prices(await relayed(redis_server, 1)) == ["100"]
    finally:
        pub.close_soon()
        await stop_task(task)


async def test_a_venues_status_never_overtakes_its_held_tick(redis_server: RedisServer) -> None:
    clock = ManualClock()
    pub = Publisher(HubSettings(heartbeat_s=0.2, tick_every_ms=1000), redis_server.url, clock)
    pub.offer(tick("100"))
    pub.offer(tick("101"))  # held for the rest of the 1 s window
    pub.offer(tick("900", "kraken"))
    pub.offer(tick("901", "kraken"))  # held too
    down = FeedStatus("coinbase", FeedState.DOWN, "connection refused", clock.monotonic())
    pub.offer(down)
    task = asyncio.create_task(pub.run())
    try:
        events = await relayed(redis_server, 4)
        order = [
            (type(e).__name__, getattr(e, "source", ""), str(getattr(e, "price", "")))
            for e in events
        ]
        assert order == [
            ("Tick", "coinbase", "100"),
            ("Tick", "kraken", "900"),
            ("Tick", "coinbase", "101"),  # flushed before the status that followed it
            ("FeedStatus", "coinbase", ""),
        ]
        # Kraken's held tick is unaffected by Coinbase's status and goes at its window's end.
        events = await relayed(redis_server, 5)
        assert prices(events, "kraken") == ["900", "901"]
    finally:
        pub.close_soon()
        await stop_task(task)


async def test_tick_every_ms_zero_relays_every_tick(redis_server: RedisServer) -> None:
    clock = ManualClock()
    pub = Publisher(HubSettings(heartbeat_s=0.2, tick_every_ms=0), redis_server.url, clock)
    for i in range(50):
        pub.offer(tick(str(100 + i)))
    assert pub.pending == 50 and pub.coalesced == 0
    task = asyncio.create_task(pub.run())
    try:
        assert prices(await relayed(redis_server, 50)) == [str(100 + i) for i in range(50)]
    finally:
        pub.close_soon()
        await stop_task(task)


def test_offered_from_outside_a_loop_a_tick_is_never_held() -> None:
    """Nothing could time its release: every tick goes to the queue."""
    pub = Publisher(HubSettings(), "redis://127.0.0.1:9/0", ManualClock())  # never connected
    for i in range(5):
        pub.offer(tick(str(100 + i)))
    assert pub.pending == 5
