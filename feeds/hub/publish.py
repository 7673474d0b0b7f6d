"""The publishing side of the desk hub: every event the feeds yield goes to Redis once.

:class:`Tap` wraps a feed: its events go on into the hub's own store unchanged and a copy
goes to the :class:`Publisher`'s bounded queue. The publisher writes them in batches
(one pipeline per batch): each entry onto the bounded stream (``XADD MAXLEN ~``) and,
when it is state, into the latest-value hash, so a terminal that starts paints at once.
Its heartbeat key expires by itself when the hub stops. A Redis that restarts loses
nothing a terminal needs: the hub keeps the latest entries and writes them all again
when it finds the hash gone.

History pages are state that adds up: the latest page of a symbol is not its history.
The publisher merges every page into that symbol's whole daily series (bounded:
:data:`MAX_BARS` days, :data:`MAX_SYMBOLS` symbols) and writes the series to the history
hash before the page goes onto the stream, so a terminal that starts at any time reads
the whole series there and the pages after it from the stream.

BTC ticks are coalesced per venue before they are relayed (:class:`Coalescer`,
``[hub] tick_every_ms``): a venue's first tick after a quiet spell goes out at once, and
within the window after it only the latest tick is kept and goes out at the window's
end. A terminal paints at 10 Hz, so its screen is the same; what it does not see are the
prints inside a window (each relayed tick still carries the venue's 24-hour high, low and
volume, and the hub's own store, whose all-time-high guard judges every print, takes
every tick: a confirmed high reaches terminals as a stored high, see
``tui.hub.LiveHighs``). Every other event is relayed as it comes, after the held tick of
its source, so a venue's status never overtakes that venue's last tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Protocol, TypeVar

import orjson

from feeds.core.clock import Clock
from feeds.hub.codec import BY_NAME, SCHEMA, encode, topic_key, wall_offset, wall_time
from feeds.hub.keys import HubKeys, beat_bytes
from feeds.hub.lease import BEAT, LATEST, PUBLISH, RELEASE, LeaseLost, acquire
from feeds.hub.settings import HubSettings, redact, redact_text
from feeds.model.btc import Tick
from feeds.model.history import Bar, HistoryBars

log = logging.getLogger("lockstep.hub")

QUEUE_MAX = 50_000
"""Entries waiting for Redis at most; beyond it the oldest are dropped (and counted):
the latest values are republished from the hash anyway."""

BATCH = 500
"""Entries per pipeline."""

SUBSCRIBER_TTL_S = 15.0
"""A terminal that has not said it is there for this long is no longer counted."""

MAX_BARS = 40_000
"""Days kept of one symbol's series in the history hash (the oldest go first). The
S&P 500 since 1927 is about 25,000; 40,000 bars encode to under 5 MB, inside the
decoder's 8 MB entry limit."""

MAX_SYMBOLS = 500
"""Symbols kept in the history hash; a page of a symbol beyond them is relayed on the
stream only (the watchlist is far smaller)."""


@dataclass(slots=True)
class _Series:
    """One symbol's whole daily series as the hub has it (pages merged by day)."""

    source: str
    bars: dict[date, Bar] = field(default_factory=dict)
    first_trade: date | None = None
    received: float = 0.0

    def merge(self, page: HistoryBars) -> None:
        self.source, self.received = page.source, page.received
        if page.first_trade is not None:
            self.first_trade = page.first_trade
        for bar in page.bars:
            self.bars[bar.day] = bar
        if len(self.bars) > MAX_BARS:
            for day in sorted(self.bars)[: len(self.bars) - MAX_BARS]:
                del self.bars[day]

    def event(self, symbol: str) -> HistoryBars:
        bars = tuple(self.bars[d] for d in sorted(self.bars))
        return HistoryBars(self.source, symbol, bars, self.first_trade, self.received)


T = TypeVar("T")


class Coalescer(Generic[T]):
    """Latest-wins per key, at most one item per ``window`` seconds per key.

    :meth:`offer` says whether an item goes out now (the first after a quiet spell of
    ``window``); otherwise it is held, replacing any item held for that key, and the
    caller calls :meth:`release` at :meth:`due` (a loop timer: nothing polls). A held
    item is never dropped unsent: it is replaced by a newer one, released, or taken
    (:meth:`take`) to go out before something that must not overtake it. Pure: the
    clock is injected and nothing here schedules anything."""

    def __init__(self, window: float, now: Callable[[], float]) -> None:
        self.window = window
        self._now = now
        self._sent: dict[str, float] = {}
        """When each key's last item went out."""
        self._held: dict[str, T] = {}
        self.replaced = 0
        """Items superseded by a newer one within their window (never relayed)."""

    def offer(self, key: str, item: T) -> bool:
        """True: send ``item`` now. False: it is held until :meth:`due` (replacing the
        one held before, if any)."""
        if key in self._held:
            self._held[key] = item
            self.replaced += 1
            return False
        now = self._now()
        last = self._sent.get(key)
        if last is None or now - last >= self.window:
            self._sent[key] = now
            return True
        self._held[key] = item
        return False

    def due(self, key: str) -> float:
        """When the item held for ``key`` is to go out (the end of its window)."""
        return self._sent.get(key, self._now()) + self.window

    def holding(self, key: str) -> bool:
        """True while an item is held for ``key``."""
        return key in self._held

    def take(self, key: str) -> T | None:
        """The held item of ``key``, to send now; a new window starts from now."""
        item = self._held.pop(key, None)
        if item is not None:
            self._sent[key] = self._now()
        return item

    @property
    def held(self) -> int:
        """Items held now (one per key at most)."""
        return len(self._held)


class _Feed(Protocol):
    source: str

    def events(self) -> AsyncIterator[object]: ...

    async def aclose(self) -> None: ...


class Tap:
    """A feed whose events also go to a :class:`Publisher` (same contract as the feed)."""

    def __init__(self, feed: _Feed, publisher: Publisher) -> None:
        self.inner = feed
        self.source = feed.source
        self._publisher = publisher

    async def events(self) -> AsyncIterator[object]:
        """The inner feed's events, each also offered to the publisher."""
        offer = self._publisher.offer
        async for event in self.inner.events():
            offer(event)
            yield event

    async def aclose(self) -> None:
        """Close the inner feed."""
        await self.inner.aclose()


def connect(url: str, ca_file: str = "") -> Any:
    """A redis-py asyncio client for ``url`` (not connected until first used). A
    ``rediss://`` URL verifies the server's certificate and host name (redis-py's
    default, never turned off), against ``ca_file`` when given, else the system's
    trust store."""
    import redis.asyncio as aioredis

    tls: dict[str, Any] = {}
    if ca_file and url.startswith("rediss:"):
        tls["ssl_ca_certs"] = os.path.expanduser(ca_file)
    return aioredis.from_url(url, socket_connect_timeout=5.0, socket_timeout=10.0, **tls)


def _cert_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind ``exc`` (redis-py wraps it), if any."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def is_config_error(exc: BaseException) -> bool:
    """True for a failure that retrying cannot fix: a wrong user or password, a server
    certificate that does not verify. Anything else (refused, timed out) is an outage."""
    import redis.exceptions as rex

    if isinstance(exc, rex.AuthenticationError | rex.AuthorizationError):
        return True
    if isinstance(exc, rex.ResponseError) and "WRONGPASS" in str(exc):
        return True
    return _cert_error(exc) is not None or "CERTIFICATE_VERIFY_FAILED" in str(exc)


def describe_error(exc: BaseException, url: str) -> str:
    """One line about a Redis failure, naming the URL without its password."""
    import redis.exceptions as rex

    where = redact(url)
    if isinstance(exc, rex.AuthenticationError | rex.AuthorizationError) or (
        isinstance(exc, rex.ResponseError) and "WRONGPASS" in str(exc)
    ):
        return f"hub {where}: authentication failed (wrong user or password)"
    cert = _cert_error(exc)
    if cert is not None or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        why = cert.verify_message if cert is not None and cert.verify_message else ""
        why = redact_text(str(why), url)[:100]
        return (
            f"hub {where}: TLS certificate verify failed{f' ({why})' if why else ''}; "
            "set [hub] ca_file to the CA that signed the server's certificate"
        )
    if isinstance(exc, rex.TimeoutError | TimeoutError):
        return f"hub {where}: timed out"
    if isinstance(exc, rex.ConnectionError | OSError):
        return f"hub {where}: cannot connect ({redact_text(str(exc), url)[:160]})"
    return f"hub {where}: {type(exc).__name__}: {redact_text(str(exc), url)[:160]}"


class Publisher:
    """Writes entries to Redis. ``offer`` never blocks a feed; ``run`` drains the queue."""

    def __init__(self, settings: HubSettings, url: str, clock: Clock) -> None:
        self.settings = settings
        self.url = url
        self.keys = HubKeys(settings.prefix)
        self.clock = clock
        self.published = 0
        """Entries written to the stream."""
        self.dropped = 0
        """Entries dropped because Redis could not keep up (queue full)."""
        self.subscribers = 0
        """Terminals counted at the last heartbeat."""
        self.state = "starting"
        """``starting``, ``publishing`` or an error line (password-free)."""
        self.holder = f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        """This hub's name in the lease."""
        self.token: int | None = None
        """The fencing token of the lease this hub holds, if it leads."""
        self.lost = False
        """True once another hub took the lease: this one publishes nothing more."""
        self.rewrites = 0
        """Times this hub wrote its hashes again (after a Redis restart)."""
        self._rewrite = False
        """Set when the lease had to be taken anew: write the hashes again first."""
        self._closing = False
        self._queue: deque[tuple[bytes, str | None]] = deque()
        self._latest: dict[str, bytes] = {}
        self._series: dict[str, _Series] = {}
        self._history: dict[str, bytes] = {}
        """Each symbol's whole series as last written (kept to write again after a
        Redis restart)."""
        self._dirty: set[str] = set()
        """Symbols whose series changed since it was last written."""
        self._wake = asyncio.Event()
        self._lead_lock = asyncio.Lock()
        """Taken for every lease transition (take, renew, retake after a fence)."""
        window = settings.tick_every_ms / 1000.0
        self._ticks: Coalescer[Tick] | None = (
            Coalescer(window, clock.monotonic) if window > 0 else None
        )
        """Each venue's ticks, coalesced before they are relayed (None: every tick)."""
        self._timers: dict[str, asyncio.TimerHandle] = {}
        """The loop timer that releases each venue's held tick."""
        self._redis: Any = connect(url, settings.ca_file)  # no I/O until first used

    @property
    def mine(self) -> str:
        """The lease value while this hub leads (``holder:token``), else ""."""
        return f"{self.holder}:{self.token}" if self.token is not None else ""

    @property
    def _lease_ms(self) -> int:
        return int(self.settings.lease_s * 1000)

    async def try_lead(self) -> bool:
        """Take the lease if it is free (or renew ours); True if this hub now leads."""
        async with self._lead_lock:
            return await self._try_lead()

    async def _try_lead(self) -> bool:
        k = self.keys
        mine = self.mine
        token, fresh = await acquire(
            self._redis, k.lease, k.fence, self.holder, self._lease_ms, mine
        )
        if token > 0:
            if fresh and mine:
                # Ours had gone (Redis restarted empty, or it lapsed): what Redis held
                # may be gone with it. Write the hashes again before anything else.
                self._rewrite = True
            self.token = token
            return True
        return False

    async def _refenced(self) -> None:
        """A fenced write found the lease not ours. Gone altogether (Redis restarted
        empty): take it again. Another hub's: this one has lost it.

        The publishing loop and the heartbeat can both be fenced out by one restart.
        The lock makes them take turns: the second finds the lease already ours again
        (the first retook it) and carries on, instead of reading our own new lease as
        another hub's."""
        async with self._lead_lock:
            cur = await self._redis.get(self.keys.lease)
            if cur is not None and self.token is not None and cur == self.mine.encode():
                return  # retaken by the other path meanwhile: retry with the new token
            if cur is None:
                self.token = None
                if await self._try_lead():
                    self._rewrite = True
                    return
        self.lost = True
        self.state = "lost the lease to another hub; stopped publishing"
        self._wake.set()
        raise LeaseLost(self.state)

    @property
    def pending(self) -> int:
        """Entries waiting to be written: queued, or ticks held for their window."""
        return len(self._queue) + (self._ticks.held if self._ticks is not None else 0)

    @property
    def queued(self) -> int:
        """Entries queued for Redis (not counting ticks held for their window)."""
        return len(self._queue)

    @property
    def coalesced(self) -> int:
        """Ticks not relayed: a newer tick of the same venue replaced them in the window."""
        return self._ticks.replaced if self._ticks is not None else 0

    def offer(self, event: object) -> None:
        """Queue ``event`` for publication if the hub relays its type (others: ignored).
        A tick may be held for the rest of its venue's window (latest wins)."""
        if BY_NAME.get(type(event).__name__) is not type(event):
            return
        ticks = self._ticks
        if ticks is not None:
            source = str(getattr(event, "source", ""))
            if type(event) is Tick:
                if not ticks.offer(source, event):
                    self._arm(source)
                    return
            elif ticks.holding(source):
                # The venue's held tick first: its status (or notice, heartbeat) must
                # not overtake the last tick it followed.
                self._release(source)
        self._enqueue(event)

    def _arm(self, source: str) -> None:
        """Release ``source``'s held tick at the end of its window (one timer a venue)."""
        if source in self._timers or self._ticks is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop to time it (offered from outside one): send now
            self._release(source)
            return
        delay = max(0.0, self._ticks.due(source) - self.clock.monotonic())
        self._timers[source] = loop.call_later(delay, self._release, source)

    def _release(self, source: str) -> None:
        """Queue ``source``'s held tick now (its window ended, or something of the same
        source must follow it)."""
        timer = self._timers.pop(source, None)
        if timer is not None:
            timer.cancel()  # harmless when it is the timer now running
        held = self._ticks.take(source) if self._ticks is not None else None
        if held is not None:
            self._enqueue(held)

    def _enqueue(self, event: object) -> None:
        try:
            entry = encode(event, self.clock)
        except (TypeError, ValueError):
            log.exception("cannot encode %s", type(event).__name__)
            return
        key = topic_key(event)
        if isinstance(event, HistoryBars):
            key = None  # its symbol's whole series goes to the history hash instead
            self._add_page(event)
        if key is not None:
            self._latest[key] = entry
        if len(self._queue) >= QUEUE_MAX:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append((entry, key))
        self._wake.set()

    def _add_page(self, page: HistoryBars) -> None:
        series = self._series.get(page.symbol)
        if series is None:
            if len(self._series) >= MAX_SYMBOLS:
                return
            series = self._series[page.symbol] = _Series(page.source)
        series.merge(page)
        self._dirty.add(page.symbol)

    async def _write_history(self) -> None:
        """Write the changed symbols' whole series to the history hash (fenced). Runs
        before a batch goes onto the stream, so the hash always holds every page the
        stream has had: a terminal that reads it and then the stream misses none."""
        while self._dirty and not self.lost:
            symbols = sorted(self._dirty)
            self._dirty.clear()
            events = [self._series[s].event(s) for s in symbols]
            # Tens of thousands of bars take a while to encode: off the event loop.
            entries = await asyncio.to_thread(_encode_all, events, self.clock)
            pairs: list[object] = []
            for symbol, entry in zip(symbols, entries, strict=True):
                pairs += [symbol, entry]
            k = self.keys
            try:
                done = await self._redis.eval(LATEST, 2, k.lease, k.history, self.mine, *pairs)
            except BaseException:
                self._dirty.update(symbols)
                raise
            if int(done) < 0:
                self._dirty.update(symbols)
                await self._refenced()
                continue
            self._history.update(zip(symbols, entries, strict=True))

    async def run(self) -> None:
        """Publish until cancelled; on a Redis failure say so and retry (the queue stays
        bounded meanwhile)."""
        delay = 0.5
        beat = asyncio.create_task(self._beat_loop(), name="hub-heartbeat")
        try:
            while not self.lost and not self._closing:
                try:
                    if self.token is None and not await self.try_lead():
                        await self._refenced()
                    await self._republish_if_lost()
                    self.state = "publishing"
                    delay = 0.5
                    while not self.lost and not self._closing:
                        await self._flush()
                        self._wake.clear()
                        if not self._queue:
                            with contextlib.suppress(TimeoutError):
                                await asyncio.wait_for(self._wake.wait(), 1.0)
                except asyncio.CancelledError:
                    raise
                except LeaseLost:
                    log.warning("%s", self.state)
                    return
                except Exception as exc:  # noqa: BLE001 - Redis down: retry, never crash
                    self.state = describe_error(exc, self.url)
                    log.warning("%s", self.state)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
        finally:
            # redis-py can swallow a cancellation that lands inside a command; the flag
            # ends the loops whatever happens to the cancellation.
            self._closing = True
            await stop_task(beat)
            await self.aclose()

    async def _flush(self) -> None:
        k = self.keys
        maxlen = self.settings.stream_len
        while self._queue and not self.lost:
            if self._rewrite:
                await self._republish()
            if self._dirty:
                await self._write_history()
            batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
            args: list[object] = [self.mine, maxlen, len(batch)]
            for entry, key in batch:
                args += [entry, key or ""]
            try:
                done = await self._redis.eval(PUBLISH, 3, k.lease, k.stream, k.latest, *args)
            except BaseException:
                # Not sent: back to the front, in order (bounded by offer's limit).
                self._queue.extendleft(reversed(batch))
                raise
            if int(done) < 0:
                # Fenced out: nothing was written. Retried only if the lease was merely
                # gone (a Redis restart) and is ours again.
                self._queue.extendleft(reversed(batch))
                await self._refenced()
                continue
            self.published += len(batch)

    async def _republish_if_lost(self) -> None:
        """After a Redis restart (or on a fresh one) the hashes are gone: write them
        again (the latest values, and every symbol's whole series)."""
        k = self.keys
        for values, key in ((self._latest, k.latest), (self._history, k.history)):
            if self._rewrite or (values and not await self._redis.exists(key)):
                await self._republish()
                return

    async def _republish(self) -> None:
        """Write every latest value and every symbol's whole series again (fenced). A
        value written since is overwritten by itself: ``_latest`` is always the newest."""
        k = self.keys
        self._rewrite = False
        for values, key in ((self._latest, k.latest), (self._history, k.history)):
            if not values:
                continue
            pairs = [v for item in values.items() for v in item]
            try:
                done = await self._redis.eval(LATEST, 2, k.lease, key, self.mine, *pairs)
            except BaseException:
                self._rewrite = True
                raise
            if int(done) < 0:
                self._rewrite = True
                await self._refenced()  # LeaseLost, or ours again: then the next step
                return
        # The heartbeat says so: a terminal that reconnected before this write found
        # the hashes empty or partial, and reads them again.
        self.rewrites += 1

    async def _beat_loop(self) -> None:
        every = self.settings.heartbeat_s
        k = self.keys
        while not self.lost and not self._closing:
            try:
                if self.token is None:
                    # Not leading yet: the publishing loop takes the lease first.
                    await asyncio.sleep(0.05)
                    continue
                if not await self.try_lead():
                    await self._refenced()  # raises LeaseLost unless it is ours again
                wall = wall_time(self.clock)
                shift = self.clock.now().timestamp() - wall
                r = self._redis
                pipe = r.pipeline(transaction=False)
                pipe.zremrangebyscore(k.subscribers, "-inf", wall - SUBSCRIBER_TTL_S)
                pipe.zcard(k.subscribers)
                pipe.exists(k.latest)
                pipe.exists(k.history)
                _, count, has_latest, has_history = await pipe.execute()
                self.subscribers = int(count)
                lost = (self._latest and not has_latest) or (self._history and not has_history)
                if lost or self._rewrite:
                    await self._republish()
                ttl_ms = max(1000, int(every * 3000))
                generation = f"{self.holder}:{self.rewrites}"
                beat = beat_bytes(
                    wall, self.published, self.subscribers, os.getpid(), shift, generation
                )
                if int(await r.eval(BEAT, 2, k.lease, k.heartbeat, self.mine, beat, ttl_ms)) < 0:
                    await self._refenced()
            except asyncio.CancelledError:
                raise
            except LeaseLost:
                return
            except Exception as exc:  # noqa: BLE001 - reported as the state; retried
                self.state = describe_error(exc, self.url)
            await asyncio.sleep(every)

    def close_soon(self) -> None:
        """Ask :meth:`run` to end (with a cancellation: :func:`stop_task`)."""
        self._closing = True
        self._stop_timers()
        self._wake.set()

    def _stop_timers(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    async def aclose(self) -> None:
        """Give the lease up and take the heartbeat down, if still ours (terminals see
        the hub gone at once, a standby takes over at once), and close the connection."""
        self._stop_timers()
        r, self._redis = self._redis, None
        if r is None:
            return
        if self.token is not None and not self.lost:
            k = self.keys
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2.0):
                    await r.eval(RELEASE, 2, k.lease, k.heartbeat, self.mine)
        with contextlib.suppress(Exception):
            await r.aclose()


def _encode_all(events: list[HistoryBars], clock: Clock) -> list[bytes]:
    return [encode_series(e, clock) for e in events]


def encode_series(event: HistoryBars, clock: Clock) -> bytes:
    """The entry :func:`~feeds.hub.codec.encode` writes for ``event``, the same JSON
    (decoded by the same strict decoder), written directly: a whole series is tens of
    thousands of bars, and the generic encoder takes about 20 microseconds a bar."""
    offset = wall_offset(clock)
    bars = [
        {
            "symbol": b.symbol,
            "day": b.day.isoformat(),
            "open": str(b.open),
            "high": str(b.high),
            "low": str(b.low),
            "close": str(b.close),
            "source": b.source,
        }
        for b in event.bars
    ]
    first = event.first_trade.isoformat() if event.first_trade is not None else None
    data = {
        "source": event.source,
        "symbol": event.symbol,
        "bars": bars,
        "first_trade": first,
        "received": float(event.received) + offset,
    }
    doc = {"v": SCHEMA, "t": "HistoryBars", "w": clock.monotonic() + offset, "d": data}
    return orjson.dumps(doc)


async def stop_task(task: asyncio.Task[None], timeout: float = 2.0) -> None:
    """Cancel ``task`` and wait for it, at most ``timeout`` seconds per attempt, cancelling
    again if a cancellation was swallowed on the way."""
    for _ in range(3):
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if done:
            if not task.cancelled():
                task.exception()  # retrieved: never "exception was never retrieved"
            return
