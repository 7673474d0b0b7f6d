"""Simulated Coinbase Exchange ws-feed and Kraken v2 servers on 127.0.0.1.

They speak the documented message shapes (sources.md A1, A3) and can be scripted:
message rate, price path, clean closes, accept-then-close, stalls, rejected
subscriptions, oversized and bad frames, maintenance notices, refused connections
and HTTP errors on the upgrade.
"""

from __future__ import annotations

import abc
import asyncio
import itertools
import random
import time
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from feeds.core.clock import Clock, SystemClock
from feeds.sim.http import LOOPBACK
from feeds.sim.levels import LEVELS


@dataclass(frozen=True, slots=True)
class WsScript:
    """How a simulated venue behaves for new and running connections.

    Attributes:
        mode: ``normal``; ``accept_close`` (close right after the handshake);
            ``close_after_subscribe``; ``stall`` (subscribe ack, then silence; pings are
            still answered); ``reject_subscribe``; ``oversize`` (a 2 MiB frame after the
            subscription); ``upgrade_503`` / ``upgrade_403`` (refuse the HTTP upgrade).
        rate: Ticker messages per second per connection.
        close_after: Close cleanly (1001) after this many ticks on a connection.
        bad_every: Replace every Nth message with a malformed one.
        duplicate_every: Resend the previous ticker message every Nth message.
        heartbeat: Send a heartbeat every second.
        status: Kraken's ``system`` status to announce (``online``, ``maintenance`` ...).
        latency: Seconds the venue's own timestamps lie before the moment a message is
            sent: the feed lag a client sees behind a slow link (reliability.md W15).
            Negative: the venue's clock runs ahead (clock skew, D7).
    """

    mode: str = "normal"
    rate: float = 4.0
    close_after: int | None = None
    bad_every: int | None = None
    duplicate_every: int | None = None
    heartbeat: bool = True
    status: str = "online"
    latency: float = 0.0


@dataclass(slots=True)
class PricePath:
    """The simulated BTC price. ``walk`` is a seeded random walk around the start;
    ``sequence`` encodes the message number in the price (for the benchmarks:
    price = base + n / 100, so a price read off the screen gives back its send time)."""

    start: float = LEVELS["BTC-USD"].last
    seed: int = 7
    mode: str = "walk"
    base: float = 40_000.0
    vol: float = 0.00012
    price: float = 0.0
    n: int = 0
    high: float = 0.0
    low: float = 0.0
    send_times: list[float] | None = None
    """When a list, the monotonic time of every step is appended (benchmarks: the
    price on screen maps back to the moment it was sent)."""
    _rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)
        self.price = self.high = self.low = self.start

    def step(self) -> float:
        """The next trade price."""
        n = self.n = self.n + 1
        times = self.send_times
        if times is not None:
            times.append(time.monotonic())
        if self.mode == "sequence":
            price = self.base + n / 100
        else:
            price = max(1.0, self.price * (1.0 + self._rng.gauss(0.0, self.vol)))
        self.price = price
        if price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        return price


class SimExchange(abc.ABC):
    """Shared machinery: listening, scripting, recording what clients send."""

    name = "sim"

    def __init__(self, path: PricePath, clock: Clock | None = None) -> None:
        self.path = path
        self.clock = clock or SystemClock()
        self.script = WsScript()
        self.port = 0
        self.received: deque[tuple[int, dict[str, Any]]] = deque(maxlen=10_000)
        """(connection number, message) for every message clients sent."""
        self.connect_times: deque[float] = deque(maxlen=10_000)
        """Monotonic time of every accepted handshake."""
        self.sent = 0
        self._bad_count = 0
        self._server: Server | None = None
        self._conn_ids = itertools.count(1)
        self._seq = itertools.count(1_000_000)
        self._iso_second: int | None = None
        self._iso_prefix = ""

    @property
    def url(self) -> str:
        """The ws:// endpoint to configure."""
        return f"ws://{LOOPBACK}:{self.port}"

    @property
    def running(self) -> bool:
        """True while listening."""
        return self._server is not None

    def set_script(self, **changes: Any) -> None:
        """Change behaviour; running connections pick up rate and status changes."""
        self.script = replace(self.script, **changes)

    async def start(self, port: int | None = None) -> None:
        """Listen on 127.0.0.1 (a restart reuses the previous port)."""
        want = self.port if port is None else port
        self._server = await serve(
            self._handler,
            LOOPBACK,
            want,
            process_request=self._process_request,
            max_size=1 << 16,
            compression=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop every connection (clients see a reset/refusal)."""
        server, self._server = self._server, None
        if server is not None:
            # The venue dies: connections are cut, not closed politely.
            for conn in list(server.connections):
                conn.transport.abort()
            server.close(close_connections=False)
            try:
                async with asyncio.timeout(2.0):
                    await server.wait_closed()
            except TimeoutError:
                pass

    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        if self.script.mode == "upgrade_503":
            return conn.respond(HTTPStatus.SERVICE_UNAVAILABLE, "simulated outage\n")
        if self.script.mode == "upgrade_403":
            return conn.respond(HTTPStatus.FORBIDDEN, "simulated refusal\n")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        conn = next(self._conn_ids)
        self.connect_times.append(time.monotonic())
        if self.script.mode == "accept_close":
            await ws.close(1011, "simulated")
            return
        try:
            await self.on_connect(ws)
            subscribed = await self._await_subscription(ws, conn)
            if not subscribed:
                return
            if self.script.mode == "close_after_subscribe":
                await ws.close(1011, "simulated")
                return
            if self.script.mode == "reject_subscribe":
                await ws.send(self.reject_message())
                await asyncio.sleep(0.05)
                await ws.close(1008, "subscription rejected")
                return
            if self.script.mode == "oversize":
                await ws.send("x" * (2 << 20))
            reader = asyncio.create_task(self._drain_client(ws, conn))
            try:
                await self._stream(ws)
            finally:
                reader.cancel()
        except ConnectionClosed:
            pass

    async def _await_subscription(self, ws: ServerConnection, conn: int) -> bool:
        # Coinbase drops a connection that has not subscribed within 5 seconds.
        try:
            async with asyncio.timeout(5.0):
                while True:
                    raw = await ws.recv()
                    msg = orjson.loads(raw)
                    self.received.append((conn, msg))
                    replies, done = self.on_client_message(msg)
                    for reply in replies:
                        await ws.send(reply)
                    if done:
                        return True
        except TimeoutError:
            await ws.close(1008, "subscribe timeout")
            return False

    async def _drain_client(self, ws: ServerConnection, conn: int) -> None:
        try:
            async for raw in ws:
                msg = orjson.loads(raw)
                self.received.append((conn, msg))
                for reply in self.on_client_message(msg)[0]:
                    await ws.send(reply)
        except (ConnectionClosed, orjson.JSONDecodeError):
            pass

    async def _stream(self, ws: ServerConnection) -> None:
        loop = asyncio.get_running_loop()
        count = 0
        owed = 0.0
        last = loop.time()
        next_beat = last + 1.0
        previous: str | None = None
        # The benchmarks need this loop to send 25,000 messages a second from one core:
        # everything it calls per message is bound once, outside it.
        send = ws.send
        tick_message = self.tick_message
        step = self.path.step
        seqs = self._seq
        while ws.state is State.OPEN:
            # A closed connection is noticed here, not only by the next send: at rate 0
            # with no heartbeat there is none, and stop() would wait for this handler.
            script = self.script
            if script.mode == "stall":
                await asyncio.sleep(0.05)
                last = loop.time()
                continue
            await asyncio.sleep(0.01 if script.rate > 20 else min(0.25, 1.0 / max(script.rate, 1)))
            now = loop.time()
            owed += (now - last) * script.rate
            last = now
            batch = int(owed)
            owed -= batch
            bad_every, duplicate_every = script.bad_every, script.duplicate_every
            close_after = script.close_after
            for _ in range(batch):
                count += 1
                if bad_every and count % bad_every == 0:
                    await send(self.bad_message(count))
                elif duplicate_every and previous and count % duplicate_every == 0:
                    await send(previous)
                else:
                    previous = tick_message(next(seqs), step())
                    await send(previous)
                self.sent += 1
                if close_after and count >= close_after:
                    await ws.close(1001, "going away")
                    return
            if script.heartbeat and now >= next_beat:
                next_beat = now + 1.0
                await send(self.heartbeat_message(next(seqs)))

    # -- dialect ----------------------------------------------------------------------

    async def on_connect(self, ws: ServerConnection) -> None:  # noqa: B027 - optional hook
        """Send anything the venue sends unprompted on connect."""

    @abc.abstractmethod
    def on_client_message(self, msg: Any) -> tuple[list[str], bool]:
        """Replies to a client message, and whether the subscription is now complete."""

    @abc.abstractmethod
    def tick_message(self, seq: int, price: float) -> str:
        """One ticker message."""

    @abc.abstractmethod
    def heartbeat_message(self, seq: int) -> str:
        """One heartbeat message."""

    @abc.abstractmethod
    def reject_message(self) -> str:
        """The venue's answer to a subscription it refuses."""

    def bad_message(self, n: int) -> str:
        """A malformed message (rotating through the kinds reliability.md D1-D3 list)."""
        kinds = [
            "{not json",
            '{"type":"ticker","product_id":"BTC-USD","price":"NaN","sequence":1}',
            '{"type":"ticker","product_id":"BTC-USD","sequence":2}',
            '{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","last":-5}]}',
            '{"type":"ticker","product_id":"BTC-USD","price":"6_4000","sequence":3}',
            "[1,2,3]",
        ]
        self._bad_count += 1
        return kinds[self._bad_count % len(kinds)]

    def _iso_now(self) -> str:
        now = self.clock.now()
        latency = self.script.latency
        if latency:
            now -= timedelta(seconds=latency)
        # strftime costs microseconds, once per message at 25,000 a second: format the
        # date and time once per second and add the microseconds.
        second = int(now.timestamp())
        if second != self._iso_second:
            self._iso_second = second
            self._iso_prefix = now.strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._iso_prefix}.{now.microsecond:06d}Z"


_BTC = LEVELS["BTC-USD"]
_LOW_CAP = _BTC.last * 0.985
_HIGH_FLOOR = _BTC.prev_close * 1.012

# One Coinbase ticker message with its per-message fields left as %-placeholders, in
# the order and spelling orjson gives the dict (tests hold the two equal). Formatting
# this costs a fraction of building and serialising a dict, and the sender must reach
# 25,000 messages a second (performance.md B2).
_COINBASE_TICKER = (
    '{"type":"ticker","sequence":%d,"product_id":"BTC-USD","price":"%.2f",'
    f'"open_24h":"{_BTC.prev_close:.2f}","volume_24h":"8123.45678901",'
    '"low_24h":"%.2f","high_24h":"%.2f","volume_30d":"301234.5",'
    '"best_bid":"%.2f","best_bid_size":"0.25000000",'
    '"best_ask":"%.2f","best_ask_size":"0.31000000",'
    '"side":"buy","time":"%s","trade_id":%d,"last_size":"0.00120000"}'
)


class CoinbaseSim(SimExchange):
    """Coinbase Exchange ws-feed dialect."""

    name = "coinbase"

    def on_client_message(self, msg: Any) -> tuple[list[str], bool]:
        """Answer ``subscribe`` with ``subscriptions`` listing the channels."""
        if isinstance(msg, dict) and msg.get("type") == "subscribe":
            products = msg.get("product_ids") or ["BTC-USD"]
            channels = [
                {"name": c if isinstance(c, str) else c.get("name"), "product_ids": products}
                for c in msg.get("channels", [])
            ]
            reply = {"type": "subscriptions", "channels": channels}
            return [orjson.dumps(reply).decode()], True
        return [], False

    def tick_message(self, seq: int, price: float) -> str:
        """A ``ticker`` message; every number a string, as Coinbase sends them."""
        p = self.path
        return _COINBASE_TICKER % (
            seq,
            price,
            p.low if p.low < _LOW_CAP else _LOW_CAP,
            p.high if p.high > _HIGH_FLOOR else _HIGH_FLOOR,
            price - 0.01,
            price + 0.01,
            self._iso_now(),
            seq,
        )

    def heartbeat_message(self, seq: int) -> str:
        """A ``heartbeat`` message (once a second per product)."""
        msg = {
            "type": "heartbeat",
            "sequence": seq,
            "last_trade_id": 0,
            "product_id": "BTC-USD",
            "time": self._iso_now(),
        }
        return orjson.dumps(msg).decode()

    reject_reason = "simulated rejection"
    """The ``reason`` text of a rejected subscription (hostile-text tests change it)."""

    def reject_message(self) -> str:
        """Coinbase's error message."""
        return orjson.dumps(
            {"type": "error", "message": "Failed to subscribe", "reason": self.reject_reason}
        ).decode()


class KrakenSim(SimExchange):
    """Kraken WebSocket v2 dialect. Kraken trades a few dollars off Coinbase."""

    name = "kraken"
    basis = 4.5

    async def on_connect(self, ws: ServerConnection) -> None:
        """Kraken pushes a ``status`` message on connect."""
        await ws.send(self._status_message())

    def _status_message(self) -> str:
        msg = {
            "channel": "status",
            "type": "update",
            "data": [
                {
                    "version": "2.0.10",
                    "system": self.script.status,
                    "api_version": "v2",
                    "connection_id": 1234567890,
                }
            ],
        }
        return orjson.dumps(msg).decode()

    def on_client_message(self, msg: Any) -> tuple[list[str], bool]:
        """Ack subscriptions; the ticker subscription completes setup (snapshot follows)."""
        if not isinstance(msg, dict):
            return [], False
        method = msg.get("method")
        if method == "ping":
            return [orjson.dumps({"method": "pong", "req_id": msg.get("req_id")}).decode()], False
        if method != "subscribe":
            return [], False
        params = msg.get("params") or {}
        channel = params.get("channel")
        now = self._iso_now()
        result: dict[str, Any] = {"channel": channel}
        if channel == "ticker":
            result.update({"snapshot": True, "symbol": "BTC/USD"})
        ack = {
            "method": "subscribe",
            "result": result,
            "success": True,
            "time_in": now,
            "time_out": now,
            "req_id": msg.get("req_id"),
        }
        replies = [orjson.dumps(ack).decode()]
        if channel == "ticker":
            replies.append(self._ticker(self.path.price + self.basis, "snapshot"))
        return replies, channel == "ticker"

    def _ticker(self, price: float, kind: str) -> str:
        p = self.path
        prev = LEVELS["BTC-USD"].prev_close + self.basis
        item = {
            "symbol": "BTC/USD",
            "bid": round(price - 0.1, 1),
            "bid_qty": 0.0136,
            "ask": round(price + 0.1, 1),
            "ask_qty": 1.718,
            "last": round(price, 1),
            "volume": 2158.32,
            "vwap": round((p.high + p.low) / 2, 1),
            "low": round(min(p.low, LEVELS["BTC-USD"].last * 0.985) + self.basis, 1),
            "high": round(max(p.high, prev * 1.012), 1),
            "change": round(price - prev, 1),
            "change_pct": round((price - prev) / prev * 100, 2),
        }
        return orjson.dumps({"channel": "ticker", "type": kind, "data": [item]}).decode()

    def tick_message(self, seq: int, price: float) -> str:
        """A ticker ``update``; numbers are JSON numbers on Kraken."""
        return self._ticker(price + self.basis, "update")

    def heartbeat_message(self, seq: int) -> str:
        """Kraken's heartbeat."""
        return '{"channel":"heartbeat"}'

    def reject_message(self) -> str:
        """Kraken's failed subscription ack."""
        return orjson.dumps(
            {
                "method": "subscribe",
                "success": False,
                "error": "Currency pair not supported",
                "req_id": 1,
            }
        ).decode()

    async def announce_status(self, status: str) -> None:
        """Change Kraken's ``system`` status (maintenance, cancel_only ...). New connections
        get it on connect; running ones see it within a tick of their next status push."""
        self.set_script(status=status)


@dataclass(slots=True)
class SimBtc:
    """Both simulated venues, sharing one price path."""

    path: PricePath
    coinbase: CoinbaseSim
    kraken: KrakenSim

    async def stop(self) -> None:
        """Stop both."""
        await self.coinbase.stop()
        await self.kraken.stop()


async def start_sim_btc(
    clock: Clock | None = None, *, rate: float = 4.0, price_mode: str = "walk", seed: int = 7
) -> SimBtc:
    """Start the simulated Coinbase and Kraken servers on free loopback ports."""
    path = PricePath(seed=seed, mode=price_mode)
    cb = CoinbaseSim(path, clock)
    kr = KrakenSim(path, clock)
    cb.set_script(rate=rate)
    kr.set_script(rate=rate)
    await cb.start(0)
    await kr.start(0)
    return SimBtc(path, cb, kr)


def intraday_minutes(
    end_price: float, end_minute: int, minutes: int = 360, seed: int = 11, vol: float = 0.0009
) -> list[tuple[int, float]]:
    """A simulated intraday path of per-minute closes ending at ``end_price`` in minute
    ``end_minute`` (minutes since the epoch): the demo's sparkline history."""
    rng = random.Random(seed)
    out = [(end_minute, end_price)]
    px = end_price
    for i in range(1, minutes):
        px = px / (1.0 + rng.gauss(0.0, vol))
        out.append((end_minute - i, px))
    out.reverse()
    return out
