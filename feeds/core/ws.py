"""The websocket supervisor shared by the BTC venues.

One long-lived loop per venue: connect, subscribe at once, read, and on any failure
wait a capped, fully jittered backoff before the next attempt. A silence watchdog
forces a reconnect when nothing at all arrives (pings prove the socket, not the
data). Health comes out as :class:`FeedStatus` events; nothing raises out.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import random
import socket
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from feeds.core.backoff import Backoff, BackoffPolicy
from feeds.core.clock import Clock, suspended_seconds
from feeds.core.decode import DecodeError, loads
from feeds.core.text import clean_text
from feeds.model.btc import Heartbeat, Tick, VenueNotice
from feeds.model.core import BadMessage, FeedState, FeedStatus, Ignored

Connect = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class WsTiming:
    """Timing and limits for a websocket venue. Tests scale them down.

    Attributes:
        reconnect_after: Silence (no message of any kind) that forces a reconnect, seconds.
        open_timeout: Limit for the TCP + TLS + HTTP upgrade, seconds.
        max_size: Largest message accepted, bytes. 1 MiB is ample for ticker data; a
            bigger frame closes the connection (1009) and counts as a failure.
        max_queue: Frames buffered before websockets stops reading the socket.
        ping_interval: Library keepalive period, seconds (second line of defence).
        ping_timeout: Library keepalive deadline, seconds.
        close_timeout: Limit for the closing handshake, seconds.
        fatal_retry: Minimum wait after a refusal that retrying will not fix soon
            (HTTP 4xx on upgrade, TLS failure), seconds.
        backoff: Reconnect policy.
    """

    reconnect_after: float = 10.0
    open_timeout: float = 10.0
    max_size: int = 1 << 20
    max_queue: int = 16
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    close_timeout: float = 2.0
    fatal_retry: float = 300.0
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)


class _Drop(Exception):
    """End this connection and reconnect after backoff, for the given reason."""

    def __init__(self, reason: str, *, fatal: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fatal = fatal


class WebSocketFeed(abc.ABC):
    """Base class for a venue. Subclasses set ``source`` and implement
    :meth:`subscriptions` and :meth:`parse`."""

    source = "ws"

    def __init__(
        self,
        url: str,
        *,
        clock: Clock,
        timing: WsTiming | None = None,
        rng: random.Random | None = None,
        ssl_context: ssl.SSLContext | None = None,
        connect: Connect | None = None,
    ) -> None:
        self.url = url
        self.clock = clock
        self.timing = timing or WsTiming()
        self.backoff = Backoff(self.timing.backoff, rng)
        self._ssl = ssl_context
        self._connect = connect or websockets.connect
        self._closed = False
        self._wake = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._last_rx = 0.0
        self._drop_reason: str | None = None
        self._bad_window = 0
        self._bad_recent = 0
        self.connects = 0
        """Connection attempts so far."""
        self.dropped_duplicates = 0
        """Ticks dropped as duplicate or out of order."""

    # -- for subclasses -------------------------------------------------------------

    @abc.abstractmethod
    def subscriptions(self) -> list[dict[str, Any]]:
        """The messages to send right after every handshake, built fresh each time."""

    @abc.abstractmethod
    def parse(
        self, msg: object, received: float
    ) -> Tick | Heartbeat | VenueNotice | Ignored | BadMessage:
        """Turn one decoded message into a model event."""

    def accept_tick(self, tick: Tick) -> bool:
        """False drops the tick (duplicates, out of order). Venues refine this."""
        return True

    # -- the contract ---------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop: close the socket and end ``events()``."""
        self._closed = True
        self._wake.set()
        ws = self._ws
        if ws is not None:
            ws.transport.abort()

    async def events(self) -> AsyncIterator[object]:
        """Connect forever, yielding ticks, heartbeats, notices and status changes."""
        reason = "starting"
        while not self._closed:
            now = self.clock.monotonic()
            wait = self.backoff.delay(now)
            if wait > 0:
                yield FeedStatus(self.source, FeedState.RECONNECTING, reason, now, now + wait)
                await self._sleep(wait)
                if self._closed:
                    break
            self.backoff.attempt(self.clock.monotonic())
            self.connects += 1
            yield FeedStatus(self.source, FeedState.CONNECTING, "opening", self.clock.monotonic())
            connected_at: float | None = None
            try:
                async with contextlib.aclosing(self._session()) as session:
                    async for event in session:
                        if connected_at is None and isinstance(event, FeedStatus):
                            connected_at = self.clock.monotonic()
                        yield event
                reason = self._drop_reason or "closed by the venue"
            except _Drop as drop:
                reason = drop.reason
                if drop.fatal:
                    # Retrying a refusal fast will not help and may get the IP banned.
                    self.backoff.failures = max(self.backoff.failures, 8)
                    fatal_wait = self.timing.fatal_retry
                    self.backoff.ended(connected_at, self.clock.monotonic())
                    now = self.clock.monotonic()
                    yield FeedStatus(self.source, FeedState.DOWN, reason, now, now + fatal_wait)
                    await self._sleep(fatal_wait)
                    continue
            self.backoff.ended(connected_at, self.clock.monotonic())

    # -- internals ------------------------------------------------------------------

    async def _open(self) -> ClientConnection:
        t = self.timing
        kwargs: dict[str, Any] = {
            "open_timeout": t.open_timeout,
            "max_size": t.max_size,
            "max_queue": t.max_queue,
            "ping_interval": t.ping_interval,
            "ping_timeout": t.ping_timeout,
            "close_timeout": t.close_timeout,
            "user_agent_header": "lockstep/0.1 (+terminal market monitor)",
        }
        if self._ssl is not None and self.url.startswith("wss:"):
            kwargs["ssl"] = self._ssl
        try:
            ws: ClientConnection = await self._connect(self.url, **kwargs)
        except InvalidStatus as exc:
            code = exc.response.status_code
            fatal = 400 <= code < 500 and code != 429
            raise _Drop(f"HTTP {code} on upgrade", fatal=fatal) from exc
        except ssl.SSLCertVerificationError as exc:
            raise _Drop("TLS verification failed", fatal=True) from exc
        except ssl.SSLError as exc:
            raise _Drop("TLS error", fatal=True) from exc
        except socket.gaierror as exc:
            raise _Drop("no network (DNS lookup failed) - try --demo") from exc
        except ConnectionRefusedError as exc:
            raise _Drop("connection refused") from exc
        except TimeoutError as exc:
            raise _Drop(f"no handshake within {self.timing.open_timeout:g} s") from exc
        except (OSError, InvalidHandshake, ConnectionClosed) as exc:
            raise _Drop(clean_text(f"cannot connect: {type(exc).__name__}", 80)) from exc
        return ws

    async def _session(self) -> AsyncGenerator[object, None]:
        ws = await self._open()
        self._ws = ws
        self._drop_reason = None
        self._last_rx = self.clock.monotonic()
        self._bad_window = self._bad_recent = 0
        watchdog = asyncio.create_task(self._watchdog(ws), name=f"watchdog:{self.source}")
        live = False
        # The loop below runs for every message (performance.md B2: 20,000 a second), so
        # what it calls is bound once here.
        recv = ws.recv
        monotonic = self.clock.monotonic
        parse = self.parse
        accept_tick = self.accept_tick
        try:
            for message in self.subscriptions():
                await ws.send(_dumps(message))
            while True:
                raw = await recv(decode=False)
                received = self._last_rx = monotonic()
                try:
                    msg = loads(raw)
                except DecodeError as exc:
                    self._count_bad(True)
                    yield BadMessage(self.source, f"not JSON: {exc}")
                    continue
                event = parse(msg, received)
                if isinstance(event, Tick):
                    self._count_bad(False)
                    if not accept_tick(event):
                        self.dropped_duplicates += 1
                        continue
                    if not live:
                        live = True
                        yield FeedStatus(self.source, FeedState.LIVE, "", received)
                elif isinstance(event, Heartbeat):
                    if not live:
                        live = True
                        yield FeedStatus(self.source, FeedState.LIVE, "", received)
                elif isinstance(event, BadMessage):
                    self._count_bad(True)
                elif isinstance(event, VenueNotice) and event.is_error:
                    yield event
                    raise _Drop(f"venue error: {event.status}")
                yield event
        except ConnectionClosed as exc:
            if self._drop_reason is None:
                self._drop_reason = _close_reason(exc)
        finally:
            watchdog.cancel()
            self._ws = None
            ws.transport.abort()

    def _count_bad(self, bad: bool) -> None:
        # More than half of the last 100 messages bad: the stream is garbage, start over.
        self._bad_window += 1
        if bad:
            self._bad_recent += 1
        if self._bad_window >= 100:
            ratio = self._bad_recent / self._bad_window
            self._bad_window = self._bad_recent = 0
            if ratio > 0.5:
                raise _Drop(f"over half of recent messages unreadable ({ratio:.0%})")

    async def _watchdog(self, ws: ClientConnection) -> None:
        limit = self.timing.reconnect_after
        asleep = suspended_seconds(self.clock)
        while True:
            silent = self.clock.monotonic() - self._last_rx
            if silent >= limit:
                self._drop_reason = f"no message for {limit:g} s, reconnecting"
                ws.transport.abort()
                return
            # After a suspend the monotonic clock has not moved, so silence looks short,
            # but the connection is almost surely dead: start over at once.
            now_asleep = suspended_seconds(self.clock)
            if now_asleep - asleep > limit:
                self._drop_reason = "resumed after a suspend, reconnecting"
                ws.transport.abort()
                return
            await asyncio.sleep(min(1.0, limit - silent + 0.01))

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            pass


def _close_reason(exc: ConnectionClosed) -> str:
    rcvd = exc.rcvd
    if rcvd is not None:
        if rcvd.code == 1009:
            return "message too big (1009)"
        text = f"closed by the venue ({rcvd.code}"
        if rcvd.reason:
            text += f": {clean_text(rcvd.reason, 60)}"
        return text + ")"
    sent = exc.sent
    if sent is not None and sent.code == 1009:
        return "message too big (1009)"
    return "connection lost"


def _dumps(message: dict[str, Any]) -> str:
    import orjson

    return orjson.dumps(message).decode()
