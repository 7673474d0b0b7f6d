"""The feed that opens the stored history and hands the panels what it holds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

from feeds.core.clock import Clock
from feeds.history.ath_state import HistoryNotice
from feeds.history.db import HistoryStore
from feeds.history.settings import HistorySettings
from feeds.model.history import BackfillProgress, CachedAth, DailySeries, HistoryBars


class HistoryLoader:
    """The feed that opens the history and hands the panels what it holds.

    Opening the file (migrations, ``PRAGMA quick_check``) and reading the cached values
    (:func:`seed_from_cache`) take a hundred milliseconds or more on a warm data
    directory: they run in a worker thread once ``start_after`` returns (the app's: after
    the first frame and the first BTC price). Its first event, yielded at once, marks the
    ATH panel as reading, so rows without highs yet do not read as a missing history.
    Then come the cached highs and last prices, the stored bars and a notice if the file
    was moved aside, once; then the feed ends.

    The backfill feeds wait for :meth:`loaded` before their first request, so a fresher
    answer from the network is never overwritten by the older stored copy of a day.
    """

    source = "history"

    def __init__(
        self,
        store: HistoryStore,
        settings: HistorySettings,
        symbols: tuple[str, ...] | list[str],
        clock: Clock,
        *,
        start_after: Callable[[], Awaitable[object]] | None = None,
        only: bool = False,
    ) -> None:
        self.store = store
        self.settings = settings
        self.symbols = tuple(symbols)
        self.clock = clock
        self.start_after = start_after
        self.only = only
        """Hand over ``symbols`` only, not BTC and the divergence pair too (a symbol
        added while the app runs: the pair's long series is in the store already)."""
        self._loaded = asyncio.Event()

    def _progress(self, finished: bool, note: str) -> BackfillProgress:
        done = 1 if finished else 0
        return BackfillProgress(
            self.source, "all", done, 1, None, finished, note, self.clock.monotonic()
        )

    async def events(self) -> AsyncIterator[object]:
        """The cached values, once; then the feed ends."""
        yield self._progress(False, "reading the stored history")
        if self.start_after is not None:
            await self.start_after()
        warning = await self.store.ready()
        events = await asyncio.to_thread(
            seed_from_cache,
            self.store,
            self.settings,
            self.symbols,
            self.clock,
            warning,
            only=self.only,
        )
        for event in events:
            yield event
        yield self._progress(True, "read")
        # The consumer applies each event before asking for the next, so all of them
        # are in the store by now.
        self._loaded.set()

    async def loaded(self) -> None:
        """Return once every cached value has been handed over."""
        await self._loaded.wait()

    async def aclose(self) -> None:
        """Nothing to stop: the feed ends by itself (closing the store is the runtime's)."""


def seed_from_cache(
    store: HistoryStore,
    settings: HistorySettings,
    symbols: tuple[str, ...] | list[str],
    clock: Clock,
    warning: str | None = None,
    *,
    only: bool = False,
) -> list[object]:
    """Events that paint the cached values before any network answer: every symbol's
    stored highs and last price, the last stored close of each, and the divergence
    pair's daily history. Blocking (tens of milliseconds for a few years of bars): the
    app runs it in :class:`HistoryLoader`'s worker thread.

    The pair's history goes as columns (:class:`DailySeries`, for the divergence slice)
    plus the few bars that decide its all-time highs (a :class:`HistoryBars`, for the ATH
    slice): the same state as a bar per day, at a fifth of the memory. The bars come
    last, so the health slice's "latest event" of the cache is the small one.

    The divergence analysis itself runs later, in a worker thread the runtime starts.
    With ``only``, just ``symbols``' highs, last prices and closes (no pair series).
    """
    now = clock.monotonic()
    btc = settings.pair[0]
    wanted = list(dict.fromkeys(symbols if only else [btc, *symbols, settings.pair[1]]))
    pair = () if only else settings.pair
    records = store.aths(wanted)
    last = store.last_prices()
    events: list[object] = []
    if warning:
        events.append(HistoryNotice("history", warning, now))
    for symbol in wanted:
        lp = last.get(symbol)
        rec = records.get(symbol)
        if rec is None and lp is None:
            continue
        events.append(
            CachedAth(
                "cache",
                symbol,
                rec,
                lp.price if lp else None,
                lp.source if lp else "",
                lp.at if lp else None,
                now,
            )
        )
    for symbol in pair:
        cols = store.daily(symbol)
        if cols.days:
            events.append(DailySeries("cache", symbol, cols.days, cols.high, cols.close, now))
            events.append(HistoryBars("cache", symbol, cols.marks, None, now))
    # Symbols without a persisted last price still show their last stored close.
    for symbol in wanted:
        if symbol in pair or symbol in last:
            continue
        tail = store.bars(symbol, since=_recent(clock))
        if tail:
            events.append(HistoryBars("cache", symbol, (tail[-1],), None, now))
    return events


def _recent(clock: Clock) -> date:
    return date.fromordinal(clock.now().date().toordinal() - 31)
