"""The publisher and the subscriber against a real redis-server on loopback: latest
values first, then the stream; poisoned entries; a hub that stops; a Redis restart; a
subscriber that falls behind; a wrong password. No mock broker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
import redis.asyncio as aioredis

from feeds.core.clock import ManualClock
from feeds.hub.codec import Decoder, encode
from feeds.hub.keys import HubBeat, HubKeys, beat_bytes
from feeds.hub.publish import MAX_BARS, QUEUE_MAX, Publisher, encode_series, stop_task
from feeds.hub.subscribe import COUNT, HubFeed
from feeds.model.btc import Tick
from feeds.model.core import BadMessage, FeedState, FeedStatus
from feeds.model.history import Bar, HistoryBars
from feeds.model.quotes import MarketState, Quote
from tests.feeds.hub.redis_server import RedisServer, running, start
from tests.feeds.hub.samples import CLOCK, SETTINGS, tick

pytestmark = pytest.mark.timeout(60)


def quote(price: str) -> Quote:
    d = Decimal
    return Quote(
        "yahoo", "^RUT", "Russell 2000", d(price), d("2541"), None, None, None, "USD",
        MarketState.REGULAR, False, 0, datetime.now(UTC), None, CLOCK.monotonic(),
    )  # fmt: skip


class Reader:
    """Consumes a HubFeed in the background, keeping every event."""

    def __init__(self, feed: HubFeed) -> None:
        self.feed = feed
        self.events: list[object] = []
        self._gen: AsyncIterator[object] = feed.events()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self._gen:
            self.events.append(event)

    async def until(self, check: Callable[[object], bool], timeout: float = 15.0) -> object:
        """The first event (seen so far or to come) for which ``check`` holds."""
        async with asyncio.timeout(timeout):
            while True:
                for e in self.events:
                    if check(e):
                        return e
                await asyncio.sleep(0.02)

    async def stop(self) -> None:
        await self.feed.aclose()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._gen.aclose()  # type: ignore[attr-defined]


def status(state: FeedState) -> Callable[[object], bool]:
    return lambda e: isinstance(e, FeedStatus) and e.source == "hub" and e.state is state


def is_tick(price: str) -> Callable[[object], bool]:
    return lambda e: isinstance(e, Tick) and e.price == Decimal(price)


@contextlib.asynccontextmanager
async def publishing(url: str) -> AsyncIterator[tuple[Publisher, asyncio.Task[None]]]:
    pub = Publisher(SETTINGS, url, CLOCK)
    task = asyncio.create_task(pub.run())
    try:
        yield pub, task
    finally:
        pub.close_soon()
        await stop_task(task)


async def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def test_a_terminal_gets_the_latest_values_at_once_then_the_stream(
    redis_server: RedisServer,
) -> None:
    async with publishing(redis_server.url) as (pub, _):
        for p in ("100", "101", "102"):
            pub.offer(tick(p))
        pub.offer(quote("2556.85"))
        # 101 was coalesced away (102 replaced it within the window): 3 entries.
        await wait_for(lambda: pub.published == 3)
        reader = Reader(HubFeed(SETTINGS, redis_server.url, CLOCK))
        reader.start()
        try:
            await reader.until(status(FeedState.LIVE))
            # Only the latest tick of the venue came from the hash, with the quote.
            assert any(is_tick("102")(e) for e in reader.events)
            assert not any(is_tick("100")(e) or is_tick("101")(e) for e in reader.events)
            assert any(isinstance(e, Quote) and e.symbol == "^RUT" for e in reader.events)
            pub.offer(tick("103"))
            await reader.until(is_tick("103"))
            beat = await reader.until(lambda e: isinstance(e, HubBeat))
            assert isinstance(beat, HubBeat) and beat.received <= CLOCK.monotonic()
            await wait_for(lambda: pub.subscribers == 1)
        finally:
            await reader.stop()


async def test_poisoned_stream_entries_are_counted_and_dropped(
    redis_server: RedisServer,
) -> None:
    async with publishing(redis_server.url) as (pub, _):
        reader = Reader(HubFeed(SETTINGS, redis_server.url, CLOCK))
        reader.start()
        try:
            await reader.until(status(FeedState.LIVE))
            r = aioredis.from_url(redis_server.url)
            stream = HubKeys(SETTINGS.prefix).stream
            for poison in (b"garbage", b'{"v":1,"t":"Tick"', b"\x80\x04\x95", b"[]"):
                await r.xadd(stream, {"e": poison})
            await r.xadd(stream, {"other": b"no entry field"})
            await r.aclose()
            pub.offer(tick("200"))
            await reader.until(is_tick("200"))
            bad = [e for e in reader.events if isinstance(e, BadMessage)]
            assert len(bad) == 5 and all(b.source == "hub" for b in bad)
            assert reader.feed.decoder.bad == 5
            # Nothing of the poison reached the store's side as data.
            assert all(
                isinstance(e, FeedStatus | HubBeat | Tick | BadMessage) for e in reader.events
            )
        finally:
            await reader.stop()


async def test_a_hub_that_stops_turns_stale_then_down(redis_server: RedisServer) -> None:
    reader = Reader(HubFeed(SETTINGS, redis_server.url, CLOCK))
    async with publishing(redis_server.url) as (pub, task):
        pub.offer(tick("300"))
        reader.start()
        await reader.until(status(FeedState.LIVE))
        await stop_task(task)  # the hub stops: its heartbeat goes
    try:
        stale = await reader.until(status(FeedState.STALE))
        after = reader.events.index(stale)
        down = await reader.until(
            lambda e: status(FeedState.DOWN)(e) and e in reader.events[after:]
        )
        assert isinstance(down, FeedStatus) and "no hub is publishing" in down.reason
        # The relayed value is kept (its own age shows it getting older), never dropped.
        assert any(is_tick("300")(e) for e in reader.events)
    finally:
        await reader.stop()


async def test_a_redis_restart_loses_nothing_the_hub_republishes_the_latest_values(
    tmp_path: Path,
) -> None:
    server = start(tmp_path / "r1")
    try:
        async with publishing(server.url) as (pub, _):
            pub.offer(quote("2556.85"))
            await wait_for(lambda: pub.published == 1)
            server.stop()
            server = start(tmp_path / "r2", port=server.port)  # empty: nothing saved
            r = aioredis.from_url(server.url)
            try:
                latest = HubKeys(SETTINGS.prefix).latest
                async with asyncio.timeout(20):
                    while not await r.hlen(latest):
                        await asyncio.sleep(0.05)
                reader = Reader(HubFeed(SETTINGS, server.url, CLOCK))
                reader.start()
                try:
                    q = await reader.until(lambda e: isinstance(e, Quote))
                    assert isinstance(q, Quote) and q.price == Decimal("2556.85")
                finally:
                    await reader.stop()
            finally:
                await r.aclose()
    finally:
        server.stop()


async def test_a_subscriber_that_falls_behind_skips_to_the_latest_values(
    redis_server: RedisServer,
) -> None:
    keys = HubKeys(SETTINGS.prefix)
    r = aioredis.from_url(redis_server.url)
    wall = CLOCK.now().timestamp()
    await r.set(keys.heartbeat, beat_bytes(wall, 0, 0, 1, 0.0), px=60_000)
    await r.hset(keys.latest, "Tick|coinbase", encode(tick("999"), CLOCK))
    feed = HubFeed(SETTINGS, redis_server.url, CLOCK)
    gen = feed.events()
    try:
        async with asyncio.timeout(15):
            async for event in gen:
                if status(FeedState.LIVE)(event):
                    break
        # While this terminal is busy elsewhere, the stream runs far ahead of it.
        for i in range(COUNT + 100):
            await r.xadd(keys.stream, {"e": encode(tick(str(1000 + i)), CLOCK)}, id=f"1000-{i}")
        await r.xadd(keys.stream, {"e": encode(tick("5000"), CLOCK)}, id="9000-0")
        seen: list[object] = []
        async with asyncio.timeout(15):
            async for event in gen:
                seen.append(event)
                if feed.skips:
                    break
        ticks = [e for e in seen if isinstance(e, Tick)]
        assert feed.skips == 1
        assert len(ticks) <= COUNT + 1  # one bounded read, then the latest values
        assert ticks[-1].price == Decimal("999")  # the latest value, from the hash
    finally:
        await gen.aclose()  # type: ignore[attr-defined]
        await r.aclose()


def test_the_publisher_never_blocks_a_feed_and_its_queue_is_bounded() -> None:
    pub = Publisher(SETTINGS, "redis://127.0.0.1:9/0", CLOCK)  # never connected
    event = tick("1")
    for _ in range(QUEUE_MAX + 10):
        pub.offer(event)
    assert pub.dropped == 10


async def test_a_wrong_password_is_one_clear_line_without_the_password(tmp_path: Path) -> None:
    with running(tmp_path / "r", password="right-pass") as server:
        url = f"redis://:wrong-pass-123@127.0.0.1:{server.port}/0"
        reader = Reader(HubFeed(SETTINGS, url, CLOCK))
        reader.start()
        try:
            down = await reader.until(status(FeedState.DOWN))
            assert isinstance(down, FeedStatus)
            assert "authentication failed" in down.reason
            assert f"127.0.0.1:{server.port}" in down.reason
            assert "wrong-pass-123" not in down.reason and "\n" not in down.reason
            assert all("wrong-pass-123" not in str(e) for e in reader.events)
        finally:
            await reader.stop()


def page(start: int, days: int, first_trade: date | None = None) -> HistoryBars:
    """``days`` daily bars of BTC from day ``start`` after 2015-01-01."""
    d0 = date(2015, 1, 1)
    bars = tuple(
        Bar("BTC-USD", d0 + timedelta(days=i), Decimal(100 + i), Decimal(110 + i),
            Decimal(90 + i), Decimal(105 + i), "coinbase")
        for i in range(start, start + days)
    )  # fmt: skip
    return HistoryBars("coinbase", "BTC-USD", bars, first_trade, CLOCK.monotonic())


async def test_a_terminal_that_starts_after_the_backfill_gets_the_whole_series(
    redis_server: RedisServer,
) -> None:
    async with publishing(redis_server.url) as (pub, _):
        # The backfill's pages, newest first as Coinbase pages back, one day overlapping.
        pub.offer(page(300, 300))
        pub.offer(page(0, 301, first_trade=date(2015, 1, 1)))
        await wait_for(lambda: pub.published == 2)
        reader = Reader(HubFeed(SETTINGS, redis_server.url, CLOCK))
        reader.start()
        try:
            got = await reader.until(lambda e: isinstance(e, HistoryBars))
            assert isinstance(got, HistoryBars)
            assert got.bars == page(0, 600).bars  # every day once, oldest first
            assert got.first_trade == date(2015, 1, 1) and got.source == "coinbase"
            # A page after the terminal started comes on the stream.
            pub.offer(page(600, 1))
            later = await reader.until(lambda e: isinstance(e, HistoryBars) and e is not got)
            assert isinstance(later, HistoryBars) and len(later.bars) == 1
        finally:
            await reader.stop()


async def test_a_redis_restart_republishes_the_whole_history(tmp_path: Path) -> None:
    server = start(tmp_path / "r1")
    try:
        async with publishing(server.url) as (pub, _):
            pub.offer(page(0, 50))
            pub.offer(page(50, 50))
            await wait_for(lambda: pub.published == 2)
            server.stop()
            server = start(tmp_path / "r2", port=server.port)  # empty: nothing saved
            reader = Reader(HubFeed(SETTINGS, server.url, CLOCK))
            reader.start()
            try:
                got = await reader.until(lambda e: isinstance(e, HistoryBars), timeout=30)
                assert isinstance(got, HistoryBars) and got.bars == page(0, 100).bars
            finally:
                await reader.stop()
    finally:
        server.stop()


def test_the_history_kept_for_late_terminals_is_bounded() -> None:
    pub = Publisher(SETTINGS, "redis://127.0.0.1:9/0", CLOCK)  # never connected
    pub.offer(page(0, MAX_BARS + 10))
    series = pub._series["BTC-USD"].event("BTC-USD")
    assert len(series.bars) == MAX_BARS
    assert series.bars[0] == page(10, 1).bars[0]  # the oldest went first


@pytest.mark.parametrize(
    "series",
    [
        page(0, 3, first_trade=date(2014, 12, 1)),
        page(5, 1),
        page(0, 0, first_trade=date(2015, 1, 1)),
    ],
)
def test_the_fast_series_encoder_writes_what_the_codec_writes(series: HistoryBars) -> None:
    clock = ManualClock(datetime(2026, 1, 5, 15, 0, tzinfo=UTC), mono=1000.0)
    series = replace(series, received=990.0)
    fast, generic = encode_series(series, clock), encode(series, clock)
    assert orjson.loads(fast) == orjson.loads(generic)
    assert Decoder(clock).decode(fast) == series
