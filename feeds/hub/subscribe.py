"""The subscribing side: a terminal reads the hub's events into its own store.

:class:`HubFeed` follows the feed contract (``events()`` forever, never raising for bad
data; ``aclose()``). It reads the latest-value hash (and every symbol's whole daily
series from the history hash) first, so the first frame and the history are full, then
the stream from there (``XREAD BLOCK`` with ``COUNT``: bounded reads). A terminal
more than :data:`BEHIND_MS` behind the stream skips to the latest values: it never makes
the hub wait, and the stream's own bound (``MAXLEN ~``) keeps Redis small.

The hub is a source of its own (``"hub"``): LIVE while its heartbeat comes, STALE when
the heartbeat is missing, DOWN when Redis cannot be reached or the hub has been gone for
``fallback_after`` seconds. Every entry is decoded strictly (:mod:`feeds.hub.codec`); a
bad one is a counted :class:`BadMessage` of the ``hub`` source and is never shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

from feeds.core.clock import Clock
from feeds.hub.codec import SOURCE, Decoder, wall_time
from feeds.hub.keys import HubBeat, HubKeys, read_beat, read_generation
from feeds.hub.publish import connect, describe_error
from feeds.hub.settings import HubSettings, redact
from feeds.model.core import BadMessage, FeedState, FeedStatus
from feeds.model.history import CachedAth, HistoryBars

log = logging.getLogger("lockstep.hub")

COUNT = 500
"""Entries per ``XREAD``."""

BEHIND_MS = 2_000
"""A terminal this far behind the newest entry skips to the latest values."""

RETRY_CAP_S = 10.0
"""The longest wait between two attempts to reach the hub's Redis (before jitter)."""

BASELINE = (HistoryBars, CachedAth)
"""Read first from the hashes: the daily history and the stored highs."""

BIG_ENTRY = 100_000
"""Bytes: an entry this large (a long daily series) is decoded in a worker thread."""

READ_EVERY_S = 0.02
"""A busy stream is read at most this often: each ``XREAD`` then takes what arrived
meanwhile (about 20 entries at 1,000 msg/s instead of 5 or 6), so a terminal pays the
per-read cost (a round trip, a wake-up of its loop, the reply's framing) a fifth as often.
It adds at most this long to a value's age, well under a frame at 10 Hz (bench B13). A
quiet stream is not delayed: a read that waited for its entries is not paced."""


def _read_only(exc: BaseException) -> bool:
    """True for a write refused because the server is a read-only replica."""
    import redis.exceptions as rex

    return isinstance(exc, rex.ReadOnlyError) or str(exc).startswith("READONLY")


def _stream_ms(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    head = text.split("-", 1)[0]
    return int(head) if head.isdigit() else 0


class HubFeed:
    """All of a terminal's data from the desk hub, as one feed."""

    source = SOURCE

    def __init__(
        self,
        settings: HubSettings,
        url: str,
        clock: Clock,
        *,
        block_ms: int = 1_000,
        subscriber_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.url = url
        self.keys = HubKeys(settings.prefix)
        self.clock = clock
        self.decoder = Decoder(clock)
        self.block_ms = block_ms
        self.id = subscriber_id or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.skips = 0
        """Times this terminal fell behind and skipped to the latest values."""
        self.state = FeedState.CONNECTING
        self.note = ""
        """Added to every status reason while set (the terminal's fallback says here that
        it runs its own feeds)."""
        self._last_beat: float | None = None
        self._generation: str | None = None
        """The heartbeat's generation when this terminal last read the hashes."""
        self._reread = False
        """Set when the generation changed: read the hashes again."""
        self.registers = True
        """False once the Redis this terminal reads refused its registration as read
        only (a replica): it then only reads, and the hub does not count it."""
        self._closed = False

    def _status(self, state: FeedState, reason: str, retry_at: float | None = None) -> FeedStatus:
        self.state = state
        if self.note and state is not FeedState.LIVE:
            reason = f"{reason}; {self.note}" if reason else self.note
        return FeedStatus(SOURCE, state, reason, self.clock.monotonic(), retry_at)

    async def events(self) -> AsyncIterator[object]:
        """The hub's events, forever (reconnecting with backoff)."""
        yield self._status(FeedState.CONNECTING, f"connecting to {redact(self.url)}")
        delay = 0.5
        while not self._closed:
            redis = connect(self.url, self.settings.ca_file)
            try:
                async for event in self._session(redis):
                    delay = 0.5
                    yield event
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis gone: say so, retry
                # Jittered, so a desk's terminals do not all come back at the same instant.
                wait = delay * random.uniform(0.5, 1.0)
                now = self.clock.monotonic()
                yield self._status(FeedState.DOWN, describe_error(exc, self.url), now + wait)
                await asyncio.sleep(wait)
                delay = min(delay * 2, RETRY_CAP_S)
            finally:
                with contextlib.suppress(Exception):
                    await redis.aclose()

    async def _session(self, redis: Any) -> AsyncIterator[object]:
        await redis.ping()  # a wrong password or no server shows here, once
        self._generation = read_generation(await redis.get(self.keys.heartbeat))
        self._reread = False
        last_id = await self._newest_id(redis)
        for event in await self._latest(redis):
            yield event
        async for event in self._beat(redis):
            yield event
        next_beat = self.clock.monotonic() + self.settings.heartbeat_s
        block = min(self.block_ms, int(self.settings.heartbeat_s * 1000))
        loop = asyncio.get_running_loop()
        while not self._closed:
            began = loop.time()
            reply = await redis.xread({self.keys.stream: last_id}, count=COUNT, block=block)
            entries = reply[0][1] if reply else []
            for entry_id, fields in entries:
                last_id = entry_id
                yield self.decoder.decode(fields.get(b"e") if isinstance(fields, dict) else None)
            if len(entries) == COUNT:
                newest = await self._newest_id(redis)
                if _stream_ms(newest) - _stream_ms(last_id) > BEHIND_MS:
                    # Fallen behind: the latest values, then only what comes after them.
                    self.skips += 1
                    last_id = newest
                    for event in await self._latest(redis):
                        yield event
            if self.clock.monotonic() >= next_beat:
                next_beat = self.clock.monotonic() + self.settings.heartbeat_s
                async for event in self._beat(redis):
                    yield event
                if self._reread:
                    # The hub wrote its hashes again (Redis restarted): read them again.
                    self._reread = False
                    for event in await self._latest(redis):
                        yield event
            pause = READ_EVERY_S - (loop.time() - began)
            if entries and len(entries) < COUNT and pause > 0:
                await asyncio.sleep(pause)

    async def _newest_id(self, redis: Any) -> bytes | str:
        newest = await redis.xrevrange(self.keys.stream, count=1)
        return newest[0][0] if newest else "0-0"

    async def _latest(self, redis: Any) -> list[object]:
        """Every latest value and every symbol's whole daily series: the history and
        stored highs first, then the rest, each oldest publication first (a source's
        status before the data that followed it)."""
        pipe = redis.pipeline(transaction=False)
        pipe.hgetall(self.keys.latest)
        pipe.hgetall(self.keys.history)
        latest, history = await pipe.execute()
        decoded: list[tuple[float, object]] = []
        for value in latest.values():
            event = self.decoder.decode(value)
            decoded.append((self.decoder.published or 0.0, event))
        for value in history.values():
            # A long series takes a while to decode (strictly, like every entry): off
            # the event loop, one at a time (the decoder's counters are not shared).
            big = isinstance(value, bytes) and len(value) > BIG_ENTRY
            event = (
                await asyncio.to_thread(self.decoder.decode, value)
                if big
                else (self.decoder.decode(value))
            )
            decoded.append((self.decoder.published or 0.0, event))
        # The history and the stored highs first: they are what a live print is judged
        # against (as in a direct run, whose loader hands them over before any print).
        decoded.sort(key=lambda pair: (not isinstance(pair[1], BASELINE), pair[0]))
        return [event for _, event in decoded]

    async def _beat(self, redis: Any) -> AsyncIterator[object]:
        """Say we are here, read the hub's heartbeat, and report the hub's state."""
        now_wall = wall_time(self.clock)
        if self.registers:
            pipe = redis.pipeline(transaction=False)
            pipe.zadd(self.keys.subscribers, {self.id: now_wall})
            pipe.get(self.keys.heartbeat)
            added, raw = await pipe.execute(raise_on_error=False)
            if isinstance(raw, Exception):
                raise raw
            if isinstance(added, Exception):
                if not _read_only(added):
                    raise added
                # A read-only replica (an office's copy of the desk's Redis): reading is
                # all a terminal needs; the registration only feeds the hub's count.
                self.registers = False
                log.info(
                    "hub %s is a read-only replica: reading only (not counted by the hub)",
                    redact(self.url),
                )
        else:
            raw = await redis.get(self.keys.heartbeat)
        now = self.clock.monotonic()
        beat = read_beat(raw) if raw is not None else None
        generation = read_generation(raw)
        if generation is not None and generation != self._generation:
            self._generation, self._reread = generation, True
        if beat is None and raw is not None:
            yield BadMessage(SOURCE, "bad heartbeat")
        if beat is not None:
            wall, published, subscribers = beat
            received = min(now, now + (wall - now_wall))
            self._last_beat = now
            if self.state is not FeedState.LIVE:
                yield self._status(FeedState.LIVE, "")
            yield HubBeat(SOURCE, published, subscribers, received)
            return
        gone = None if self._last_beat is None else now - self._last_beat
        if gone is not None and gone < self.settings.fallback_after:
            if self.state is not FeedState.STALE:
                yield self._status(FeedState.STALE, f"no heartbeat from the hub for {gone:.0f} s")
        elif self.state is not FeedState.DOWN:
            yield self._status(FeedState.DOWN, f"no hub is publishing on {redact(self.url)}")

    async def aclose(self) -> None:
        """Stop (the connection is closed by the reading loop as it ends)."""
        self._closed = True
