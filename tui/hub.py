"""``lockstep hub``: run every feed once, headless, on the one runtime, and publish every
event to Redis for the desk's terminals (:mod:`feeds.hub.publish`). Also the terminal
side's start-up check of a hub URL (:func:`probe_hub`)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TextIO

from feeds.core.clock import Clock, ShiftedClock
from feeds.core.health import HealthSlice
from feeds.history.ath_state import AthSlice
from feeds.hub.keys import HubKeys, read_shift
from feeds.hub.publish import (
    Publisher,
    Tap,
    connect,
    describe_error,
    is_config_error,
    stop_task,
)
from feeds.hub.settings import HubSettings, redact
from feeds.hub.subscribe import HubFeed
from feeds.model.core import FeedState, FeedStatus
from feeds.model.history import AthRecord, CachedAth
from tui.runtime import Feed, Runtime
from tui.terminal import install_signal_handlers, remove_signal_handlers

FALLBACK_NOTE = "using this terminal's own feeds"

FALLBACK_JITTER = 0.2
"""Each terminal waits ``fallback_after`` plus up to this share of it more (drawn once per
terminal) before it falls back: a desk whose hub went silent does not send every
terminal to the sources at the same instant (the rate-limit herd the hub exists to
avoid)."""


class HubFallback:
    """A hub terminal's safety net: when the hub has given no heartbeat for
    ``after`` seconds (the hub or Redis gone; plus a per-terminal jitter,
    :data:`FALLBACK_JITTER`), run this terminal's own feeds, and say so in the hub's
    status; stop them again once the hub is LIVE. Called with the monotonic now on every
    :meth:`Runtime.drain`."""

    def __init__(
        self,
        runtime: Runtime,
        direct: Callable[[], list[Feed]],
        after: float,
        *,
        down_at_start: str | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.runtime = runtime
        self.direct = direct
        share = min(max(jitter(), 0.0), 1.0)
        self.after = after * (1.0 + FALLBACK_JITTER * share)
        """This terminal's own wait: ``after`` plus 0-20 % of it (``jitter()`` in
        [0, 1], drawn once)."""
        self.active: list[Feed] = []
        """The direct feeds running now (empty: on the hub)."""
        self.fallbacks = 0
        """Times this terminal fell back to its own feeds."""
        self.down_at_start = down_at_start
        """Why the hub's Redis could not be reached at start (password-free), if it
        could not: then this terminal runs its own feeds from its first step."""
        self._started = runtime.clock.monotonic()

    def __call__(self, now: float) -> None:
        """Fall back, or return to the hub, as the hub's health says."""
        store = self.runtime.store
        if not store.has("health"):
            return
        if self.down_at_start is not None:
            # Unreachable at start: no reason to wait fallback_after for it.
            reason, self.down_at_start = self.down_at_start, None
            self._fall_back(FeedStatus("hub", FeedState.DOWN, reason, now))
            return
        hub = store.slice("health", HealthSlice).view().get("hub")
        live = hub is not None and hub.state is FeedState.LIVE
        if self.active:
            if live:
                feeds, self.active = self.active, []
                self.runtime.replace_feeds(feeds, [])
                self._note("")
            return
        if live:
            return
        last = hub.last_data if hub is not None and hub.last_data is not None else self._started
        if now - last < self.after:
            return
        reason = hub.reason if hub is not None and hub.reason else "hub gone"
        state = hub.state if hub is not None else FeedState.DOWN
        since = hub.since if hub is not None else now
        self._fall_back(FeedStatus("hub", state, reason, since))

    def _fall_back(self, status: FeedStatus) -> None:
        """Start this terminal's own feeds and say so in the hub's status."""
        self.active = self.direct()
        self.fallbacks += 1
        self.runtime.replace_feeds([], self.active)
        self._note(FALLBACK_NOTE)
        reason = f"{status.reason}; {FALLBACK_NOTE}" if status.reason else FALLBACK_NOTE
        self.runtime.store.apply(FeedStatus("hub", status.state, reason, status.since))

    def _note(self, text: str) -> None:
        for feed in self.runtime.feeds:
            if isinstance(feed, HubFeed):
                feed.note = text


LIVE_HIGH_SOURCE = "ath-live"
"""Source of the :class:`CachedAth` the hub publishes for a high confirmed from live
prints (its own topic, apart from the stored cache's)."""


class LiveHighs:
    """Publishes the all-time highs the hub's ATH slice confirmed from live prints.

    Such a high exists only in the hub's ATH slice (and its history file): no feed event
    carries it. A terminal that saw fewer prints (it started late, or Redis restarted)
    would judge the next print against an older high. As a :class:`CachedAth` in the
    latest-value hash, it reaches every terminal, late ones first thing."""

    def __init__(self, runtime: Runtime, publisher: Publisher) -> None:
        self.runtime = runtime
        self.publisher = publisher
        self._sent: dict[str, AthRecord] = {}

    def __call__(self) -> None:
        """Offer every live-confirmed record that changed since the last call."""
        store = self.runtime.store
        if not store.has("ath"):
            return
        for row in store.slice("ath", AthSlice).view().rows:
            rec = row.record
            if rec is None or self._sent.get(row.symbol) == rec:
                continue
            if not any(s.startswith("live:") for s in (rec.high_source, rec.close_source)):
                continue
            self._sent[row.symbol] = rec
            now = self.runtime.clock.monotonic()
            event = CachedAth(LIVE_HIGH_SOURCE, row.symbol, rec, None, "", None, now)
            self.publisher.offer(event)


LEAD_RETRY_S = 1.0
"""How often a standby hub tries to take the lease."""

STATUS_EVERY_S = 5.0
"""How often the hub prints its state (when it changed)."""


async def check_redis(url: str, ca_file: str = "", timeout: float = 5.0) -> str | None:
    """A one-line problem reaching Redis at ``url`` (password-free), or None."""
    redis = connect(url, ca_file)
    try:
        async with asyncio.timeout(timeout):
            await redis.ping()
    except Exception as exc:  # noqa: BLE001 - every failure is one line for the user
        return describe_error(exc, url)
    finally:
        with contextlib.suppress(Exception):
            await redis.aclose()
    return None


async def serve(
    runtime: Runtime,
    url: str,
    *,
    out: TextIO,
    stop: asyncio.Event | None = None,
    status_every: float = STATUS_EVERY_S,
    on_ready: Callable[[Publisher], None] | None = None,
) -> int:
    """Publish ``runtime``'s events until ``stop`` is set or a signal arrives; the
    runtime is closed on the way out. Returns the exit status."""
    problem = await check_redis(url, runtime.settings.hub.ca_file)
    if problem is not None:
        print(f"lockstep hub: {problem}", file=sys.stderr)
        await runtime.aclose()
        return 1
    stop = stop if stop is not None else asyncio.Event()
    installed = install_signal_handlers(lambda _name: stop.set())
    publisher = Publisher(runtime.settings.hub, url, runtime.clock)
    where = redact(url)
    if not await _lead(publisher, stop, out):
        await publisher.aclose()
        await runtime.aclose()
        remove_signal_handlers(installed)
        print("lockstep hub: stopped (standby, never led)", file=out)
        out.flush()
        return 0
    runtime.feeds[:] = [Tap(feed, publisher) for feed in runtime.feeds]
    print(
        f"lockstep hub: leading; publishing to {where} (prefix {publisher.keys.prefix}, "
        f"fencing token {publisher.token})",
        file=out,
    )
    out.flush()
    runtime.start()
    task = asyncio.create_task(publisher.run(), name="hub-publisher")
    if on_ready is not None:
        on_ready(publisher)
    last_line = ""
    next_status = 0.0
    live_highs = LiveHighs(runtime, publisher)
    try:
        while not stop.is_set() and not task.done():
            now = runtime.clock.monotonic()
            runtime.drain(now)  # the hub's own store moves on (staleness, analyses)
            live_highs()
            if now >= next_status:
                next_status = now + status_every
                line = (
                    f"lockstep hub: {publisher.state}; {publisher.subscribers} subscriber(s); "
                    f"{publisher.published} published; {publisher.dropped} dropped"
                )
                if line != last_line:
                    print(line, file=out)
                    out.flush()
                    last_line = line
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
    finally:
        publisher.close_soon()
        await stop_task(task, 5.0)
        await runtime.aclose()
        remove_signal_handlers(installed)
    if publisher.lost:
        print(f"lockstep hub: {publisher.state}; exiting", file=out)
        out.flush()
        return 3
    print(f"lockstep hub: stopped ({publisher.published} published)", file=out)
    out.flush()
    return 0


async def _lead(publisher: Publisher, stop: asyncio.Event, out: TextIO) -> bool:
    """Take the lease, waiting as the standby while another hub holds it; False if
    told to stop first. Only the leader runs the feeds: a standby makes no requests."""
    said = ""
    while not stop.is_set():
        try:
            if await publisher.try_lead():
                return True
            line = "standby: another hub leads; waiting for its lease"
        except Exception as exc:  # noqa: BLE001 - Redis gone meanwhile: say so, keep trying
            line = describe_error(exc, publisher.url)
        if line != said:
            print(f"lockstep hub: {line}", file=out)
            out.flush()
            said = line
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), LEAD_RETRY_S)
    return False


@dataclass(frozen=True, slots=True)
class Probe:
    """What a terminal found at its hub's Redis before it started."""

    problem: str | None
    """The one-line problem reaching it (password-free), or None."""
    fatal: bool
    """True when retrying cannot fix the problem (a wrong password, a certificate that
    does not verify): configuration, not an outage."""
    shift: float
    """The hub's clock shift (a demo hub replays a past day; 0 otherwise)."""


async def probe_hub(url: str, settings: HubSettings, timeout: float = 5.0) -> Probe:
    """Before a terminal starts on a hub: can its Redis be reached, and how far is the
    hub's clock shifted."""
    redis = connect(url, settings.ca_file)
    try:
        async with asyncio.timeout(timeout):
            await redis.ping()
            raw = await redis.get(HubKeys(settings.prefix).heartbeat)
    except Exception as exc:  # noqa: BLE001 - every failure is one line for the user
        return Probe(describe_error(exc, url), is_config_error(exc), 0.0)
    finally:
        with contextlib.suppress(Exception):
            await redis.aclose()
    return Probe(None, False, read_shift(raw))


def terminal_clock(shift: float) -> tuple[Clock, bool]:
    """The clock of a terminal on a hub: shifted like the hub's when the hub runs the
    demo (then the values are simulated, and labelled so), else the system's."""
    from feeds.core.clock import SystemClock

    if abs(shift) < 60.0:
        return SystemClock(), False
    return ShiftedClock(datetime.now(UTC) + timedelta(seconds=shift)), True
