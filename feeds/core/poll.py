"""The shared HTTP polling engine: one client, single flight, deadlines, body caps,
Retry-After, jittered retries, and health as data.

A polled feed subclasses :class:`PolledFeed` and implements :meth:`PolledFeed.poll`,
which fetches through :meth:`PolledFeed.get` and returns model events. The base
class owns the schedule (the next poll starts after the last one ends), the
rate-limit circuit and the status events.
"""

from __future__ import annotations

import abc
import asyncio
import email.utils
import errno
import random
import socket
import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from feeds.core.clock import Clock
from feeds.core.decode import DecodeError, loads
from feeds.core.text import clean_text
from feeds.model.core import BadMessage, FeedState, FeedStatus

BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@dataclass(frozen=True, slots=True)
class PollTiming:
    """Timeouts and retry limits for one polled source (reliability.md G-HTTP-1..5).

    Attributes:
        connect: Connect timeout, seconds.
        read: Per-chunk read timeout, seconds.
        deadline: Overall limit for one request, body included: a server trickling one
            byte every few seconds never trips ``read`` alone.
        max_body: Largest body read, bytes; the read is aborted past it.
        attempts: Attempts per poll cycle for transient errors (connect, timeout, 5xx).
        retry_base: First retry delay inside a cycle, seconds (fully jittered, doubling).
        retry_after_cap: Longest Retry-After honoured, seconds.
        no_retry_after_base: First wait after a 429 without Retry-After, seconds.
        no_retry_after_cap: Longest wait after repeated 429s without Retry-After, seconds.
    """

    connect: float = 5.0
    read: float = 10.0
    deadline: float = 15.0
    max_body: int = 5_000_000
    attempts: int = 3
    retry_base: float = 1.0
    retry_after_cap: float = 3600.0
    no_retry_after_base: float = 60.0
    no_retry_after_cap: float = 900.0


@dataclass(frozen=True, slots=True)
class Response:
    """A fully read, size-checked HTTP response."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str

    def json(self) -> Any:
        """Decode the body strictly, refusing HTML served as 200."""
        ctype = self.headers.get("content-type", "")
        head = self.body[:64].lstrip().lower()
        if "html" in ctype or head.startswith((b"<!doctype", b"<html")):
            raise DecodeError("HTML page instead of JSON")
        return loads(self.body)

    def text(self) -> str:
        """The body as text (UTF-8, undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")


class FetchError(Exception):
    """A request that failed; ``reason`` is safe to show."""

    def __init__(self, reason: str, *, transient: bool, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.status = status


class RateLimited(FetchError):
    """HTTP 429 (or 503 with Retry-After): no request until ``wait`` seconds pass."""

    def __init__(self, wait: float | None, status: int) -> None:
        super().__init__(f"HTTP {status}: rate limited", transient=False, status=status)
        self.wait = wait


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def make_client(
    *, user_agent: str = BROWSER_UA, ca_file: str | None = None, timing: PollTiming | None = None
) -> httpx.AsyncClient:
    """The one shared client. TLS verification is always on; ``ca_file`` only adds trust.

    Redirects are not followed (a redirect to another host could leak a session).
    Proxy variables in the environment are honoured, as for the websocket feeds.
    """
    t = timing or PollTiming()
    return httpx.AsyncClient(
        headers={
            "User-Agent": user_agent,
            "Accept": "application/json, text/plain, */*",
            # Only what _decompress_capped can bound; never brotli/zstd bombs.
            "Accept-Encoding": "gzip, deflate",
        },
        timeout=httpx.Timeout(connect=t.connect, read=t.read, write=t.connect, pool=t.connect),
        follow_redirects=False,
        transport=LazyTransport(
            ca_file=ca_file,
            retries=1,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        ),
    )


class LazyTransport(httpx.AsyncBaseTransport):
    """The client's transport, built on the first request rather than with the client.

    Building it loads a CA bundle into a TLS context, about 25 ms of CPU, which would
    otherwise sit on the path to the app's first frame; here it happens in a worker
    thread when the first poll starts. Verification is always on: the context is
    httpx's default (certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``) with ``ca_file``
    added to it, never replacing it.
    """

    def __init__(self, *, ca_file: str | None = None, **options: Any) -> None:
        self.ca_file = ca_file
        self._options = options
        self._inner: httpx.AsyncHTTPTransport | None = None
        self._building = asyncio.Lock()
        self._closed = False

    def _build(self) -> httpx.AsyncHTTPTransport:
        ctx = httpx.create_ssl_context()
        if self.ca_file:
            ctx.load_verify_locations(cafile=self.ca_file)
        return httpx.AsyncHTTPTransport(verify=ctx, **self._options)

    async def _transport(self) -> httpx.AsyncHTTPTransport:
        if self._inner is None:
            async with self._building:  # concurrent first requests build it once
                if self._inner is None:
                    self._inner = await asyncio.to_thread(self._build)
        return self._inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the real transport, building it first if needed."""
        if self._closed:
            raise RuntimeError("the HTTP transport is closed")
        inner = await self._transport()
        return await inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the real transport if it was ever built."""
        self._closed = True
        if self._inner is not None:
            await self._inner.aclose()


def describe_error(exc: BaseException) -> str:
    """A short, safe reason for a transport error (never the URL's query string)."""
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 8:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            return "TLS verification failed"
        if isinstance(e, socket.gaierror):
            return "no network (DNS lookup failed)"
        if isinstance(e, ConnectionRefusedError) or (
            isinstance(e, OSError) and e.errno == errno.ECONNREFUSED
        ):
            return "connection refused"
    text = " ".join(str(e) for e in chain).lower()
    if "connect call failed" in text or "refused" in text:
        return "connection refused"
    if "name or service" in text or "name resolution" in text or "nodename" in text:
        return "no network (DNS lookup failed)"
    if "certificate verify failed" in text:
        return "TLS verification failed"
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timed out"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    if isinstance(exc, httpx.ReadTimeout | TimeoutError):
        return "timed out"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection dropped mid-response"
    if isinstance(exc, httpx.HTTPError):
        return clean_text(type(exc).__name__, 60)
    return clean_text(type(exc).__name__, 80)


class PolledFeed(abc.ABC):
    """Base class for HTTP sources. Subclasses implement :meth:`poll` and :meth:`interval`.

    ``events()`` yields the model events returned by ``poll`` plus :class:`FeedStatus`
    changes, and never raises for network trouble or bad data.
    """

    source: str = "http"
    retry_timeouts: bool = True
    """Try a timed-out request again within the cycle. A source with a fallback sets it
    False: a server that accepts connections and never answers then ends the cycle after
    one deadline, as "not answering", so the fallback takes over at once."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        clock: Clock,
        timing: PollTiming | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.clock = clock
        self.timing = timing or PollTiming()
        self._rng = rng or random.Random()
        self._closed = False
        self._wake = asyncio.Event()
        self._state: FeedState | None = None
        self._reason = ""
        self._no_ra_strikes = 0
        self.requests = 0
        self.not_modified = 0
        """Answers reused after a 304 Not Modified."""
        self.last_success: float | None = None
        self._validated: OrderedDict[str, Response] = OrderedDict()

    # -- for subclasses -------------------------------------------------------------

    def interval(self) -> float:
        """Seconds from the end of one poll to the start of the next."""
        return 60.0

    @abc.abstractmethod
    async def poll(self) -> Sequence[object]:
        """Fetch and parse once; return model events (BadMessage for rejected parts)."""

    def standby(self) -> str | None:
        """Why the last poll had nothing to fetch, or None (it fetched). A source that
        only stands in for another (a fallback) says so here, and shows STANDBY rather
        than LIVE for a cycle that sent no request: LIVE would claim data is flowing."""
        return None

    # -- public ---------------------------------------------------------------------

    def refresh_now(self) -> None:
        """Cut the current wait short (the user pressed refresh)."""
        self._wake.set()

    async def aclose(self) -> None:
        """Stop after the current poll; the shared client is closed by its owner."""
        self._closed = True
        self._wake.set()

    async def events(self) -> AsyncIterator[object]:
        """Poll forever, single flight: the next poll is scheduled after this one ends."""
        yield self._status(FeedState.CONNECTING, "first request")
        while not self._closed:
            try:
                produced = await self.poll()
            except RateLimited as exc:
                wait = self._rate_limit_wait(exc)
                yield self._status(
                    FeedState.RATE_LIMITED, exc.reason, retry_at=self.clock.monotonic() + wait
                )
                await self._sleep(wait, interruptible=False)
                continue
            except FetchError as exc:
                # The schedule is asked for after the poll, so a subclass's backoff on
                # failure applies to the very next attempt.
                wait = self.interval()
                state = FeedState.DEGRADED if exc.status is not None else FeedState.DOWN
                yield self._status(state, exc.reason, retry_at=self.clock.monotonic() + wait)
            except DecodeError as exc:
                wait = self.interval()
                yield self._status(
                    FeedState.DEGRADED,
                    f"unreadable answer: {clean_text(exc, 80)}",
                    retry_at=self.clock.monotonic() + wait,
                )
            else:
                self._no_ra_strikes = 0
                bad = [e for e in produced if isinstance(e, BadMessage)]
                standby = None if produced else self.standby()
                if produced and len(bad) == len(produced):
                    yield self._status(FeedState.DEGRADED, bad[0].reason)
                elif standby is not None:
                    yield self._status(FeedState.STANDBY, standby)
                else:
                    self.last_success = self.clock.monotonic()
                    yield self._status(FeedState.LIVE, "")
                for event in produced:
                    yield event
                wait = self.interval()
            await self._sleep(wait)

    # -- fetching -------------------------------------------------------------------

    async def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """GET with deadline, body cap and in-cycle retries for transient failures.

        Raises :class:`RateLimited` on 429 (and 503 with Retry-After), and
        :class:`FetchError` on transport errors, 3xx (redirects are never followed) and
        5xx after the retries. 2xx and other 4xx answers are returned: the caller knows
        what a 401 (refresh a crumb) or a 404 (unknown symbol) means for its source.
        """
        t = self.timing
        last: FetchError | None = None
        for attempt in range(t.attempts):
            if attempt:
                step = t.retry_base * (2 ** (attempt - 1))
                await asyncio.sleep(self._rng.uniform(step / 2, step))
            try:
                return await self._get_once(url, params, headers)
            except RateLimited:
                raise
            except FetchError as exc:
                if not self.retry_timeouts and timed_out(exc):
                    raise FetchError(
                        f"not answering ({exc.reason})", transient=True, status=None
                    ) from exc
                last = exc
                if not exc.transient:
                    raise
        assert last is not None
        raise last

    async def _get_once(
        self, url: str, params: Mapping[str, str] | None, headers: Mapping[str, str] | None
    ) -> Response:
        t = self.timing
        self.requests += 1
        key = url + "?" + "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
        send = dict(headers or {})
        cached = self._validated.get(key)
        if cached is not None:
            # Conditional request: an unchanged answer costs a 304 and no body.
            if "etag" in cached.headers:
                send["If-None-Match"] = cached.headers["etag"]
            if "last-modified" in cached.headers:
                send["If-Modified-Since"] = cached.headers["last-modified"]
        try:
            async with asyncio.timeout(t.deadline):
                async with self.client.stream(
                    "GET", url, params=dict(params or {}), headers=send
                ) as resp:
                    status = resp.status_code
                    hdrs = {k.lower(): v for k, v in resp.headers.items()}
                    if status == 304 and cached is not None:
                        self.not_modified += 1
                        self._validated.move_to_end(key)
                        return cached
                    if status in (429, 503) and (status == 429 or "retry-after" in hdrs):
                        wait = parse_retry_after(hdrs.get("retry-after"), self.clock.now())
                        raise RateLimited(wait, status)
                    if 300 <= status < 400:
                        where = urlsplit(hdrs.get("location", "")).hostname or "elsewhere"
                        raise FetchError(
                            f"HTTP {status}: redirect to {clean_text(where, 60)} not followed",
                            transient=False,
                            status=status,
                        )
                    if status >= 500:
                        raise FetchError(f"HTTP {status}", transient=True, status=status)
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in resp.aiter_raw():
                        size += len(chunk)
                        if size > t.max_body:
                            raise FetchError(
                                f"answer larger than {t.max_body // 1_000_000} MB, read aborted",
                                transient=False,
                                status=status,
                            )
                        chunks.append(chunk)
                    body = b"".join(chunks)
                    if "gzip" in hdrs.get("content-encoding", "") or "deflate" in hdrs.get(
                        "content-encoding", ""
                    ):
                        body = _decompress_capped(body, hdrs["content-encoding"], t.max_body)
                    answer = Response(status, hdrs, body, str(resp.url.copy_with(query=None)))
                    if status == 200 and ("etag" in hdrs or "last-modified" in hdrs):
                        self._remember(key, answer)
                    return answer
        except (RateLimited, FetchError):
            raise
        except TimeoutError as exc:
            raise FetchError(f"no complete answer within {t.deadline:g} s", transient=True) from exc
        except httpx.HTTPError as exc:
            raise FetchError(describe_error(exc), transient=True) from exc
        except ssl.SSLError as exc:
            raise FetchError("TLS verification failed", transient=False) from exc

    # -- internals ------------------------------------------------------------------

    def _remember(self, key: str, answer: Response) -> None:
        if len(answer.body) > 1_000_000:
            return
        self._validated[key] = answer
        self._validated.move_to_end(key)
        while len(self._validated) > 64:  # bounded: a few answers per source
            self._validated.popitem(last=False)

    def _rate_limit_wait(self, exc: RateLimited) -> float:
        t = self.timing
        if exc.wait is not None:
            return min(exc.wait, t.retry_after_cap)
        self._no_ra_strikes += 1
        step = t.no_retry_after_base * 2.0 ** (self._no_ra_strikes - 1)
        return float(min(t.no_retry_after_cap, step))

    def _status(self, state: FeedState, reason: str, retry_at: float | None = None) -> FeedStatus:
        self._state, self._reason = state, reason
        return FeedStatus(self.source, state, reason, self.clock.monotonic(), retry_at)

    async def _sleep(self, seconds: float, *, interruptible: bool = True) -> None:
        self._wake.clear()
        if seconds <= 0:
            return
        if not interruptible:
            # A rate limit is a promise to the server: refresh keys do not break it.
            await asyncio.sleep(seconds)
            return
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            pass


def _decompress_capped(body: bytes, encoding: str, cap: int) -> bytes:
    import zlib

    wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
    d = zlib.decompressobj(wbits)
    out = d.decompress(body, cap + 1)
    if len(out) > cap:
        raise FetchError("answer too large once decompressed", transient=False)
    return out


def timed_out(exc: FetchError) -> bool:
    """True when the request got no (complete) answer in time, as opposed to a refusal."""
    cause = exc.__cause__
    return isinstance(cause, TimeoutError | httpx.TimeoutException)
