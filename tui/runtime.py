"""Wiring: settings in, feeds and a store out, and the one way to run them.

:func:`build_runtime` builds the feeds and the store; :meth:`Runtime.start` runs every
feed into the store (one supervised job per feed), :meth:`Runtime.drain` is the step every
loop that reads the store takes (time-driven refresh, the changed topics, and the
analyses those changes call for), and :meth:`Runtime.aclose` is the one teardown. The
TUI, ``lockstep snapshot``, ``lockstep watch`` and the benchmarks all go through it, so
they run the same feed code and stop it the same way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from feeds.btc.state import BtcSlice
from feeds.core.clock import Clock
from feeds.core.health import HealthSlice
from feeds.core.store import Store
from feeds.history.db import HistoryStore
from feeds.history.divergence_state import DivergenceComputed, DivergenceSlice
from feeds.history.factory import (
    build_backfill_feeds,
    close_history,
    history_store,
    make_ath_slice,
    make_divergence_slice,
    make_history_persister,
)
from feeds.history.loader import HistoryLoader
from feeds.model.btc import Heartbeat, Tick
from feeds.model.core import FeedState, FeedStatus
from feeds.model.quotes import Quote
from feeds.quotes.factory import build_quote_feeds, make_quotes_slice
from feeds.quotes.state import QuotesSlice
from feeds.rates.factory import build_fed_odds_feeds, make_fed_odds_slice
from feeds.rates.state import stale_threshold
from feeds.tbills.factory import build_tbills_feeds, make_tbills_slice
from tui.config import Settings
from tui.snapshot_json import (
    fed_odds_snapshot_json,
    history_snapshot_json,
    quotes_snapshot_json,
    tbills_snapshot_json,
)

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("lockstep.runtime")


class Feed(Protocol):
    """The one contract every feed follows."""

    source: str

    def events(self) -> AsyncIterator[object]:
        """Model events and status changes, forever, never raising for bad data."""
        ...

    async def aclose(self) -> None:
        """Stop."""
        ...


class Job(Protocol):
    """A running piece of work (an asyncio task, or a Textual worker in the app)."""

    def cancel(self) -> object:
        """Ask it to stop."""
        ...

    async def join(self) -> None:
        """Wait until it has finished, however it finished (never raises)."""
        ...


Spawn = Callable[[Coroutine[Any, Any, None], str, str], Job]
"""Starts a coroutine as a :class:`Job`, given a name and a group (``"feed:yahoo"``)."""


class TaskJob:
    """A :class:`Job` on a plain asyncio task (``lockstep snapshot``, ``watch``, tests)."""

    def __init__(self, task: asyncio.Task[None]) -> None:
        self.task = task

    def cancel(self) -> object:
        """Cancel the task."""
        return self.task.cancel()

    async def join(self) -> None:
        """Wait for the task to end (its result or exception stays with it; a timeout
        around this call cancels only the wait)."""
        await asyncio.wait({self.task})
        if not self.task.cancelled():
            self.task.exception()  # retrieved: no "exception was never retrieved" noise


def spawn_task(coro: Coroutine[Any, Any, None], name: str, group: str) -> Job:
    """The default :data:`Spawn`: an asyncio task named ``name``."""
    return TaskJob(asyncio.create_task(coro, name=name))


JOIN_S = 1.0
"""At teardown, how long the cancelled jobs get to finish before the feeds are closed
anyway (a feed that swallows its cancellation must not keep the others open)."""


@dataclass(slots=True)
class Runtime:
    """Everything the app or a headless command needs, built once from the settings."""

    settings: Settings
    clock: Clock
    store: Store
    feeds: list[Feed]
    client: httpx.AsyncClient
    demo: bool = False
    sources: list[str] = field(default_factory=list)
    """Source names in status-bar order."""
    snapshot_sections: dict[str, Callable[[float], object]] = field(default_factory=dict)
    """Extra sections for ``lockstep snapshot --json``, by key, given the monotonic now."""
    history: HistoryStore | None = None
    """The SQLite history (opened by its loader feed, or by the first write)."""
    warnings: list[str] = field(default_factory=list)
    """Start-up warnings to show as notifications. The history's (corrupt file moved
    aside ...) come later, from its loader, as a notice in the ATH panel."""
    first_price: asyncio.Event = field(default_factory=asyncio.Event)
    """Set by the feed pumps when the store first holds a BTC price (the gate of
    :func:`streams_first`)."""
    on_drain: Callable[[float], None] | None = None
    """Called by every :meth:`drain` with the monotonic now (the hub terminal's fallback
    to its own feeds, :class:`tui.hub.HubFallback`)."""
    via_hub: bool = False
    """This terminal reads the desk hub (``--hub``): its sources are the hub's, so it
    starts no feed of its own for a live change (only its fallback does)."""
    _spawn: Spawn = field(default=spawn_task, repr=False)
    _jobs: dict[int, Job] = field(default_factory=dict, repr=False)
    """The running pump of each feed, by ``id(feed)``."""
    _closers: list[Job] = field(default_factory=list, repr=False)
    """Jobs closing feeds taken out by :meth:`replace_feeds`."""
    _analysis: Job | None = field(default=None, repr=False)
    _failed_analysis: int | None = field(default=None, repr=False)
    """The history version whose analysis raised (not retried until the history moves)."""
    _closed: bool = False

    # -- running -------------------------------------------------------------------

    def start(self, spawn: Spawn | None = None) -> None:
        """Run every feed into the store, each in its own job made by ``spawn`` (default:
        an asyncio task). Feeds other than :data:`AT_ONCE` wait in the app for the first
        frame and price (:func:`streams_first`)."""
        if spawn is not None:
            self._spawn = spawn
        for feed in self.feeds:
            self._start_feed(feed)

    def _start_feed(self, feed: Feed) -> None:
        running = self.running
        pump = supervise(feed, self.store, self.clock, running, self.first_price)
        self._jobs[id(feed)] = self._spawn(pump, feed.source, f"feed:{feed.source}")

    def running(self) -> bool:
        """False once :meth:`aclose` has begun."""
        return not self._closed

    def replace_feeds(self, old: list[Feed], new: list[Feed]) -> None:
        """Stop and close the feeds ``old`` (in the background) and run ``new`` instead,
        keeping the order of the others (a live ``[quotes]`` change)."""
        for feed in old:
            job = self._jobs.pop(id(feed), None)
            if job is not None:
                job.cancel()
        kept = [f for f in self.feeds if not any(f is o for o in old)]
        self.feeds[:] = kept + new
        if old:
            self._closers.append(self._spawn(_close_feeds(old), "close", "feeds-close"))
        for feed in new:
            self._start_feed(feed)

    def drain(self, now: float) -> frozenset[str]:
        """One step of a loop that reads the store: let time-driven state move, take the
        changed topics, and start the analyses they call for. Returns those topics."""
        store = self.store
        store.refresh(now)
        if self.on_drain is not None:
            self.on_drain(now)
        topics = store.drain()
        if "divergence" in topics and not self._closed:
            self._analyse()
        return topics

    def _analyse(self) -> None:
        """Start the divergence analysis in a worker thread if its history changed and
        none is running (one at a time; the running one starts the next when done, so a
        backfill's many pages coalesce into few analyses)."""
        if self._analysis is not None or not self.store.has("divergence"):
            return
        slice_ = self.store.slice("divergence", DivergenceSlice)
        if not slice_.background or not slice_.needs_analysis():
            return
        version, job = slice_.analysis_job()
        if version == self._failed_analysis:
            return
        self._analysis = self._spawn(
            self._run_analysis(slice_, version, job), "divergence", "analysis"
        )

    async def _run_analysis(
        self, slice_: DivergenceSlice, version: int, job: Callable[[], Any]
    ) -> None:
        try:
            while True:
                try:
                    heavy = await asyncio.to_thread(job)
                except Exception:  # noqa: BLE001 - bad history must not stop the app
                    log.exception("divergence analysis failed")
                    self._failed_analysis = version
                    return
                slice_.recomputes += 1
                # Ignored by the slice if the history moved on meanwhile; then go again.
                self.store.apply(DivergenceComputed(version, heavy))
                if self._closed or not slice_.needs_analysis():
                    return
                version, job = slice_.analysis_job()
        finally:
            self._analysis = None

    # -- teardown ------------------------------------------------------------------

    async def aclose(self) -> None:
        """The one teardown: stop every job, then close every feed once, flush and close
        the history, close the HTTP client. Safe to call again (it does nothing)."""
        if self._closed:
            return
        self._closed = True
        jobs = list(self._jobs.values())
        if self._analysis is not None:
            jobs.append(self._analysis)
        self._jobs.clear()
        for job in jobs:
            job.cancel()
        await _join(jobs, JOIN_S)
        await _join(self._closers, JOIN_S)
        await _close_feeds(self.feeds)
        if self.history is not None:
            try:
                await close_history(self.history)
            except Exception:  # noqa: BLE001
                log.exception("closing the history")
        await self.client.aclose()


async def _join(jobs: list[Job], timeout: float) -> None:
    if not jobs:
        return
    try:
        async with asyncio.timeout(timeout):
            for job in jobs:
                await job.join()
    except TimeoutError:
        log.warning("%d job(s) still running after %.1f s; closing anyway", len(jobs), timeout)


async def _close_feeds(feeds: list[Feed]) -> None:
    for feed in feeds:
        try:
            await feed.aclose()
        except Exception:  # noqa: BLE001 - closing must not stop closing the rest
            log.exception("closing %s", getattr(feed, "source", feed))


AT_ONCE = ("coinbase", "kraken", "history")
"""The feeds the app starts at once: the BTC websockets, whose price is the first thing a
user looks for, and the history loader, which marks the ATH panel as reading at once and
then waits like the others (:func:`streams_first`)."""

STREAMS_FIRST_S = 1.0
"""Seconds after the first frame the other feeds wait, at most, for the first BTC price."""


async def first_frame() -> bool:
    """Wait until the app's screen has painted its next frame (at start-up, its first)
    when called from one of the app's workers; True if it waited. Returns False at once
    anywhere else (``lockstep watch``, ``snapshot``, tests): no screen to wait for."""
    if "textual.worker" not in sys.modules:
        return False  # no Textual in this process
    from textual.worker import NoActiveWorker, get_current_worker

    try:
        node = get_current_worker().node
    except NoActiveWorker:
        return False
    painted = asyncio.Event()
    # The callback runs after the screen's next refresh.
    if not node.call_after_refresh(painted.set):
        return False
    await painted.wait()
    return True


async def streams_first(store: Store, first_price: asyncio.Event) -> None:
    """In the app, hold a feed back until the first frame is on screen and then the first
    BTC price (``first_price`` set, or :data:`STREAMS_FIRST_S` has passed); elsewhere
    return at once.

    The first steps of the polled feeds, the history loader and the analysis (TLS
    contexts, a dozen first requests and answers, opening and reading the history) take
    a few hundred milliseconds of CPU. Run at once, they delay the first frame, and the
    websocket handshakes, which need the loop a few times, wait behind them.
    """
    if not await first_frame() or not store.has("btc"):
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(first_price.wait(), STREAMS_FIRST_S)
    await first_frame()  # the frame that shows it


async def supervise(
    feed: Feed,
    store: Store,
    clock: Clock,
    running: Callable[[], bool] = lambda: True,
    first_price: asyncio.Event | None = None,
) -> None:
    """Pump one feed into the store for as long as ``running()``. A bug that escapes a
    feed restarts that feed only, with jittered backoff, and shows it as DOWN; the other
    feeds and the app carry on (reliability.md L5). In the app, feeds other than the
    :data:`AT_ONCE` start after the first BTC price (:func:`streams_first`), which this
    pump signals by setting ``first_price`` once the store holds one."""
    gate = first_price if first_price is not None else asyncio.Event()
    if feed.source not in AT_ONCE:
        await streams_first(store, gate)
    first = _first_price_check(store, gate)
    apply = store.apply
    delay = 1.0
    while running():
        try:
            async for event in feed.events():
                apply(event)
                # Only until the first price: then one None check per event.
                if first is not None and isinstance(event, Tick) and first():
                    first = None
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("feed %s crashed; restarting in %.0f s", feed.source, delay)
            now = clock.monotonic()
            store.apply(FeedStatus(feed.source, FeedState.DOWN, "internal error (see log)", now))
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 60.0)


def _first_price_check(store: Store, gate: asyncio.Event) -> Callable[[], bool] | None:
    """A check, run after each tick applied, that sets ``gate`` once the BTC view holds a
    price and says whether it is set; None when there is nothing to watch."""
    if gate.is_set() or not store.has("btc"):
        gate.set()  # no BTC slice: nothing to wait for
        return None
    btc = store.slice("btc", BtcSlice)

    def check() -> bool:
        if not gate.is_set() and btc.view().tick is not None:
            gate.set()
        return gate.is_set()

    return check


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """The default verifying context, plus the configured extra CA if any."""
    ctx = ssl.create_default_context()
    if settings.network.ca_file:
        ctx.load_verify_locations(cafile=settings.network.ca_file)
    return ctx


def _stream_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The websockets' TLS context, or None when neither venue is reached over TLS
    (loading the CA bundle costs about 25 ms before the first frame)."""
    ep = settings.endpoints
    if not any(url.startswith("wss:") for url in (ep.coinbase_ws, ep.kraken_ws)):
        return None
    return ssl_context(settings)


def build_runtime(
    settings: Settings,
    clock: Clock,
    *,
    demo: bool = False,
    data: Path | None = None,
    hub: str | None = None,
    hub_down: str | None = None,
) -> Runtime:
    """Build feeds and store from the settings. ``data`` is the data directory (the
    history database lives there); None keeps history in memory only. With ``hub`` (a
    Redis URL), the store is the same but its one feed is the desk hub's
    (:class:`~feeds.hub.subscribe.HubFeed`): nothing is fetched directly, until the hub
    is gone and ``[hub] fallback = "direct"`` runs this terminal's own feeds. With
    ``hub_down`` (why the hub's Redis could not be reached at start), that fallback
    starts at once.

    Nothing here opens a file or a connection: the history is opened by the
    :class:`~feeds.history.loader.HistoryLoader` feed and the HTTP client's transport on
    its first request, both off the path to the app's first frame."""
    # Imported here: the transports are not needed to import the app (bench B8).
    from feeds.btc.coinbase import CoinbaseTickerFeed
    from feeds.btc.kraken import KrakenTickerFeed
    from feeds.core.backoff import BackoffPolicy
    from feeds.core.poll import make_client
    from feeds.core.ws import WsTiming

    b = settings.btc
    policy = BackoffPolicy(
        base=b.backoff_base,
        cap=b.backoff_cap,
        healthy_after=b.healthy_after,
        window=60.0,
        max_attempts=b.max_attempts_per_minute,
    )
    timing = WsTiming(reconnect_after=b.reconnect_after, backoff=policy)
    ctx = _stream_ssl_context(settings)
    ep = settings.endpoints
    coinbase = CoinbaseTickerFeed(ep.coinbase_ws, clock=clock, timing=timing, ssl_context=ctx)
    kraken = KrakenTickerFeed(ep.kraken_ws, clock=clock, timing=timing, ssl_context=ctx)
    venues = ("coinbase", "kraken") if b.primary == "coinbase" else ("kraken", "coinbase")
    health = HealthSlice(
        {"coinbase": b.stale_after, "kraken": b.stale_after},
        heartbeat_kinds=(Heartbeat,),
        clock=clock,
    )
    btc = BtcSlice(venues, stale_after=b.stale_after, failback_after=b.failback_after, clock=clock)
    health.delegate_staleness(venues, btc.venue_stale)  # one staleness rule for BTC
    client = make_client(ca_file=settings.network.ca_file or None)
    q, f, t, h = settings.quotes, settings.fed, settings.tbills, settings.history
    quotes = make_quotes_slice(q, clock)
    fed = make_fed_odds_slice(f, clock)
    tbills = make_tbills_slice(t, clock)
    history = history_store(data if data is not None else _NO_DIR, h)
    symbols = list(dict.fromkeys([*q.watchlist, *q.futures]))

    def quote_shown(symbol: str) -> Quote | None:
        # The quotes slice the store holds now: a live [quotes] change (the palette, a
        # reload) replaces it, and the ATH rows must show what the quotes panel shows.
        return store.slice("quotes", QuotesSlice).shown_quote(symbol)

    ath = make_ath_slice(
        h, history, symbols, clock, btc_shown=btc.shown_tick, quote_shown=quote_shown
    )
    divergence = make_divergence_slice(h, clock, btc_shown=btc.shown_tick, ath_view=ath.view)
    for name, every in (("kalshi", f.kalshi_interval), ("polymarket", f.polymarket_interval)):
        # The Fed panel's threshold for the same source comes from the same function.
        limit = stale_threshold(name, every)
        if limit is not None:
            health.set_threshold(name, limit)
    store = Store([health, btc, quotes, fed, tbills, ath, divergence])
    first_price = asyncio.Event()
    loader = HistoryLoader(
        history, h, symbols, clock, start_after=lambda: streams_first(store, first_price)
    )
    # The streams first: the app starts the feeds in this order.
    feeds: list[Feed] = [coinbase, kraken, loader]
    feeds += build_quote_feeds(q, ep.yahoo, ep.cboe, client, clock, wanted=quotes.fallback_symbols)
    feeds += build_fed_odds_feeds(
        f, ep.kalshi, ep.polymarket, ep.nyfed, ep.fred, ep.yahoo, client, clock
    )
    feeds += build_tbills_feeds(t, ep.nyfed, ep.nyfed_web, ep.fred, client, clock)
    feeds += build_backfill_feeds(
        h, history, ep.coinbase_rest, ep.yahoo, symbols, client, clock, loader=loader
    )
    feeds.append(make_history_persister(ath, history))  # the ATH slice's writes
    runtime = Runtime(
        settings,
        clock,
        store,
        feeds,
        client,
        demo,
        sources=[*venues, *STATUS_SOURCES],
        history=history,
        first_price=first_price,
    )
    if hub is not None:
        from feeds.hub.subscribe import HubFeed
        from tui.hub import HubFallback

        def direct() -> list[Feed]:
            """This terminal's own feeds, all of a direct run's, for when the hub is
            gone: the streams, the polled sources, the history loader, the backfill and
            the history's writer (new ones each time: a closed feed is not restarted).
            The loader reads this terminal's stored history, so the backfill only
            catches up."""
            own: list[Feed] = [
                CoinbaseTickerFeed(ep.coinbase_ws, clock=clock, timing=timing, ssl_context=ctx),
                KrakenTickerFeed(ep.kraken_ws, clock=clock, timing=timing, ssl_context=ctx),
            ]
            own_loader = HistoryLoader(history, h, symbols, clock)
            own.append(own_loader)
            # The watchlist and the quotes slice as they are now (a live [quotes] change
            # replaces both), not as they were at start.
            shown = store.slice("quotes", QuotesSlice)
            own += build_quote_feeds(
                runtime.settings.quotes,
                ep.yahoo,
                ep.cboe,
                client,
                clock,
                wanted=shown.fallback_symbols,
            )
            own += build_fed_odds_feeds(
                f, ep.kalshi, ep.polymarket, ep.nyfed, ep.fred, ep.yahoo, client, clock
            )
            own += build_tbills_feeds(t, ep.nyfed, ep.nyfed_web, ep.fred, client, clock)
            own += build_backfill_feeds(
                h, history, ep.coinbase_rest, ep.yahoo, symbols, client, clock, loader=own_loader
            )
            own.append(make_history_persister(ath, history))
            return own

        # The hub's own source: STALE when its heartbeat stops (three missed beats).
        health.set_threshold("hub", settings.hub.heartbeat_s * 3 + 1.0)
        runtime.feeds[:] = [HubFeed(settings.hub, hub, clock)]
        runtime.via_hub = True
        runtime.sources.insert(0, "hub")
        if settings.hub.fallback == "direct":
            runtime.on_drain = HubFallback(
                runtime, direct, settings.hub.fallback_after, down_at_start=hub_down
            )
    runtime.snapshot_sections.update(
        quotes=lambda now: quotes_snapshot_json(quotes, now),
        history=lambda now: history_snapshot_json(ath.view(), divergence.view(), now),
        fed_odds=lambda now: fed_odds_snapshot_json(fed, now),
        tbills=lambda now: tbills_snapshot_json(tbills, now),
    )
    return runtime


STATUS_SOURCES = ("yahoo", "cboe", "kalshi", "polymarket", "nyfed", "nyfed_web", "fred")
"""Polled sources in the status bar (the BTC venues come first). The history backfill,
the target-range and ZQ probes report in their own panels."""

_NO_DIR = Path("/nonexistent/lockstep-memory-only")
