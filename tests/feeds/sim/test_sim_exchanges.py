"""The simulated Coinbase venue's fast sender: its pre-formatted ticker messages are the
documented message shapes, and in ``sequence`` mode every message's price gives back its
number and its send time (what the benchmarks read off the screen)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest
from websockets.asyncio.client import connect

from feeds.btc.parse import parse_coinbase
from feeds.core.clock import ManualClock
from feeds.model import Tick
from feeds.sim.exchanges import CoinbaseSim, PricePath, start_sim_btc
from feeds.sim.levels import LEVELS

BTC = LEVELS["BTC-USD"]


def documented(seq: int, price: float, path: PricePath, when: datetime) -> dict[str, object]:
    """A Coinbase ws-feed ticker (sources.md A1) as the simulator means to send it."""
    return {
        "type": "ticker",
        "sequence": seq,
        "product_id": "BTC-USD",
        "price": f"{price:.2f}",
        "open_24h": f"{BTC.prev_close:.2f}",
        "volume_24h": "8123.45678901",
        "low_24h": f"{min(path.low, BTC.last * 0.985):.2f}",
        "high_24h": f"{max(path.high, BTC.prev_close * 1.012):.2f}",
        "volume_30d": "301234.5",
        "best_bid": f"{price - 0.01:.2f}",
        "best_bid_size": "0.25000000",
        "best_ask": f"{price + 0.01:.2f}",
        "best_ask_size": "0.31000000",
        "side": "buy",
        "time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "trade_id": seq,
        "last_size": "0.00120000",
    }


@pytest.mark.parametrize("mode", ["sequence", "walk"])
@pytest.mark.parametrize(
    "start",
    [
        datetime(2025, 12, 12, 15, 25, 0, 799258, tzinfo=UTC),
        datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # the second, day, year roll
        datetime(2026, 1, 1, 0, 0, tzinfo=UTC),  # microsecond 0 still has six digits
    ],
)
def test_ticker_messages_are_the_documented_json(mode: str, start: datetime) -> None:
    clock = ManualClock(start)
    path = PricePath(mode=mode)
    sim = CoinbaseSim(path, clock)
    for i in range(300):
        price = path.step()
        raw = sim.tick_message(1_000_000 + i, price)
        want = documented(1_000_000 + i, price, path, clock.now())
        assert raw == orjson.dumps(want).decode()  # same bytes, same key order
        clock.advance(0.0123 * (i % 5))
        if i % 100 == 99:
            clock.jump_wall(-3600.0)  # the cached second must follow the clock both ways


def test_sequence_prices_encode_the_message_number_and_record_send_times() -> None:
    path = PricePath(mode="sequence")
    path.send_times = []
    sim = CoinbaseSim(path, ManualClock())
    before = time.monotonic()
    for n in range(1, 2001):
        tick = parse_coinbase(orjson.loads(sim.tick_message(n, path.step())), 1.0)
        assert isinstance(tick, Tick)
        assert round((tick.price - Decimal(40_000)) * 100) == n
        assert tick.bid is not None and tick.ask is not None and tick.bid < tick.price
    assert path.n == len(path.send_times) == 2000
    assert before <= path.send_times[0] <= path.send_times[-1] <= time.monotonic()
    assert path.send_times == sorted(path.send_times)


def test_price_path_keeps_its_range() -> None:
    path = PricePath(seed=3, vol=0.01)
    prices = [path.step() for _ in range(2000)]
    assert path.high == max([path.start, *prices])
    assert path.low == min([path.start, *prices])
    assert path.price == prices[-1]


def price_of(raw: bytes) -> Decimal:
    tick = parse_coinbase(orjson.loads(raw), 1.0)
    assert isinstance(tick, Tick)
    return tick.price


async def test_streamed_messages_are_consecutive_and_counted() -> None:
    """At a few thousand messages a second, every message arrives once, in order, and
    ``sent`` / the path / the send times all agree (bench/simhost.py reads them)."""
    sim = await start_sim_btc(rate=0.0, price_mode="sequence")
    try:
        sim.path.send_times = []
        sim.coinbase.set_script(rate=3000.0, heartbeat=False)
        prices: list[Decimal] = []
        async with connect(sim.coinbase.url, compression=None) as ws:
            await ws.send('{"type":"subscribe","product_ids":["BTC-USD"],"channels":["ticker"]}')
            assert orjson.loads(await ws.recv())["type"] == "subscriptions"
            async with asyncio.timeout(5.0):
                while len(prices) < 600:
                    prices.append(price_of(await ws.recv(decode=False)))
            sim.coinbase.set_script(rate=0.0)
            # Read what is still on the way, so no send is in flight when counting.
            with contextlib.suppress(TimeoutError):
                while True:
                    async with asyncio.timeout(0.3):
                        prices.append(price_of(await ws.recv(decode=False)))
            numbers = [round((p - Decimal(40_000)) * 100) for p in prices]
            assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
            assert sim.coinbase.sent == sim.path.n == len(sim.path.send_times) == numbers[-1]
    finally:
        await sim.stop()
