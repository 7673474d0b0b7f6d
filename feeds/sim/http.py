"""A small asyncio HTTP/1.1 server for the simulated sources, with scriptable faults.

One server per simulated source (Yahoo, Cboe, Kalshi ...), so a test or the demo can
refuse one source's connections while the others keep answering. Bound to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class SimRequest:
    """A request as the simulated server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    received: float


@dataclass(slots=True)
class SimResponse:
    """What a route answers. ``chunks`` streams a body with ``chunk_delay`` between parts."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    chunks: AsyncIterator[bytes] | None = None
    chunk_delay: float = 0.0
    truncate_to: int | None = None


Handler = Callable[[SimRequest], Awaitable[SimResponse]]


@dataclass(slots=True)
class HttpFault:
    """A scripted misbehaviour, applied to every request while set.

    Attributes:
        kind: ``status`` (answer ``status`` with ``retry_after``), ``hang`` (hold the
            request for ``seconds``), ``trickle`` (one byte every ``seconds``), ``html``
            (an HTML page as 200), ``truncate`` (cut the body in half and drop the
            connection), ``huge`` (stream ``size`` bytes), ``redirect`` (302 to
            ``location``).
        status: The status for ``status`` faults.
        retry_after: A Retry-After header value to send with the status.
        seconds: Hang duration or trickle interval.
        size: Body size for ``huge``.
        location: Redirect target for ``redirect``.
        count: Apply to this many requests, then clear; None means until cleared.
    """

    kind: str
    status: int = 500
    retry_after: str | None = None
    seconds: float = 60.0
    size: int = 50_000_000
    location: str = "http://127.0.0.2/elsewhere"
    count: int | None = None


_REASONS = {
    200: "OK",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class SimHttpServer:
    """One simulated HTTP source on 127.0.0.1 with a route table and a request log."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[tuple[re.Pattern[str], Handler]] = []
        self.log: deque[tuple[float, str]] = deque(maxlen=20_000)
        self.fault: HttpFault | None = None
        self._truncate_next = False
        self._tls: ssl.SSLContext | None = None
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """The base URL to configure as this source's endpoint."""
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://{LOOPBACK}:{self.port}"

    def route(self, pattern: str, handler: Handler) -> None:
        """Answer paths matching the regular expression ``pattern`` (full match)."""
        self.routes.append((re.compile(pattern), handler))

    def set_fault(self, fault: HttpFault | None) -> None:
        """Start (or with None, stop) a scripted misbehaviour."""
        self.fault = fault

    def requests_since(self, t: float) -> list[tuple[float, str]]:
        """Logged (monotonic time, target) pairs at or after ``t``."""
        return [entry for entry in self.log if entry[0] >= t]

    async def start(self, port: int | None = None, *, tls: ssl.SSLContext | None = None) -> None:
        """Listen on 127.0.0.1 (``port`` 0 picks a free one; a restart reuses the old).
        ``tls`` serves HTTPS with that context (the TLS tests use a throwaway CA)."""
        want = self.port if port is None else port
        self._tls = tls if tls is not None else self._tls
        self._server = await asyncio.start_server(
            self._serve, LOOPBACK, want, reuse_address=True, ssl=self._tls
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop open connections (the source looks dead: refused)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def running(self) -> bool:
        """True while listening."""
        return self._server is not None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > 16_384:
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        split = urlsplit(target)
        req = SimRequest(
            method, split.path, dict(parse_qsl(split.query)), headers, time.monotonic()
        )
        self.log.append((req.received, target))
        resp = await self._fault_response() or await self._dispatch(req)
        if self._truncate_next:
            self._truncate_next = False
            resp.truncate_to = len(resp.body) // 2
        await self._write(writer, resp)

    async def _fault_response(self) -> SimResponse | None:
        f = self.fault
        if f is None:
            return None
        if f.count is not None:
            f.count -= 1
            if f.count <= 0:
                self.fault = None
        if f.kind == "status":
            hdrs = {"Retry-After": f.retry_after} if f.retry_after else {}
            return SimResponse(
                f.status, b'{"error":"simulated"}', headers=hdrs, content_type="application/json"
            )
        if f.kind == "hang":
            await asyncio.sleep(f.seconds)
            return SimResponse(504, b"")
        if f.kind == "html":
            page = b"<!DOCTYPE html><html><body>Will be right back...</body></html>"
            return SimResponse(200, page, content_type="text/html")
        if f.kind == "trickle":
            return SimResponse(200, chunks=_trickle(f.seconds), chunk_delay=0.0)
        if f.kind == "huge":
            return SimResponse(200, chunks=_huge(f.size))
        if f.kind == "truncate":
            self._truncate_next = True
            return None
        if f.kind == "redirect":
            return SimResponse(302, b"", headers={"Location": f.location})
        return None

    async def _dispatch(self, req: SimRequest) -> SimResponse:
        for pattern, handler in self.routes:
            if pattern.fullmatch(req.path):
                return await handler(req)
        return SimResponse(404, b'{"error":"not found"}')

    async def _write(self, writer: asyncio.StreamWriter, resp: SimResponse) -> None:
        status_line = f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, 'Status')}\r\n"
        hdrs = {"Content-Type": resp.content_type, "Connection": "close", **resp.headers}
        if resp.chunks is None:
            body = resp.body
            hdrs["Content-Length"] = str(len(body))
            out = status_line + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
            writer.write(out.encode("latin-1"))
            if resp.truncate_to is not None:
                writer.write(body[: resp.truncate_to])
                await writer.drain()
                transport = writer.transport
                transport.abort()
                return
            writer.write(body)
            await writer.drain()
            return
        out = status_line + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        writer.write(out.encode("latin-1"))
        async for part in resp.chunks:
            writer.write(part)
            await writer.drain()
            if resp.chunk_delay:
                await asyncio.sleep(resp.chunk_delay)


async def _trickle(interval: float) -> AsyncIterator[bytes]:
    for ch in b'{"slow":"' + b"x" * 10_000:
        yield bytes([ch])
        await asyncio.sleep(interval)


async def _huge(size: int) -> AsyncIterator[bytes]:
    block = b"[" + b"0," * 32_767 + b"0]"
    sent = 0
    while sent < size:
        yield block
        sent += len(block)


def json_response(payload: bytes, status: int = 200, **headers: str) -> SimResponse:
    """A JSON answer."""
    return SimResponse(status, payload, "application/json", dict(headers))
