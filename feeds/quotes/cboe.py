"""Cboe delayed quotes: the fallback source (sources.md §C5), about 15 minutes late.

It asks only for the symbols the quotes slice says Yahoo is not delivering
(:meth:`~feeds.quotes.state.QuotesSlice.fallback_symbols`, handed in as a read-only
callable), so it sends nothing while Yahoo is healthy and hands back as soon as Yahoo
delivers again. The decision is the slice's; this feed only reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from decimal import Decimal
from urllib.parse import quote as urlquote

import httpx

from feeds.core.clock import Clock
from feeds.core.poll import FetchError, PolledFeed, PollTiming, RateLimited
from feeds.model.core import BadMessage
from feeds.model.quotes import QuoteMiss
from feeds.quotes.parse import decode_body, parse_cboe_quote
from feeds.quotes.session import SessionIntervals

QUOTE_PATH = "/api/global/delayed_quotes/quotes/"

DEFAULT_CBOE_MAP: dict[str, str] = {
    "^GSPC": "_SPX",
    "^NDX": "_NDX",
    "^RUT": "_RUT",  # listed by third parties only (UNCONFIRMED); a 403 just means no fallback
    "^DJI": "_DJX",
    "IWM": "IWM",
}
"""Yahoo watchlist symbol -> Cboe symbol. Futures and metals have no Cboe fallback."""

CBOE_SCALE: dict[str, Decimal] = {"_DJX": Decimal(100)}
"""Cboe symbols quoted on another scale: DJX is the Dow Jones Industrial Average / 100."""

DEFAULT_NAMES: dict[str, str] = {
    "^GSPC": "S&P 500",
    "^NDX": "Nasdaq 100",
    "^RUT": "Russell 2000",
    "^DJI": "Dow Jones Industrial Average",
    "IWM": "iShares Russell 2000 ETF",
}


class CboeQuotesFeed(PolledFeed):
    """Polls ``/api/global/delayed_quotes/quotes/{SYM}.json`` for the symbols that need it.

    ``wanted`` is a read-only view of the symbols that need the fallback now (the quotes
    slice's ``fallback_symbols``). A cycle with nothing wanted sends no request; while
    the feed waits, it looks at ``wanted`` every ``watch_every`` seconds (a read of
    in-memory state, no I/O) and polls at once when a symbol is newly wanted. Without
    ``wanted`` every mapped symbol is polled (a standalone source).
    """

    source = "cboe"

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient,
        clock: Clock,
        symbols: Mapping[str, str] | None = None,
        names: Mapping[str, str] | None = None,
        wanted: Callable[[], Collection[str]] | None = None,
        watch_every: float = 0.5,
        intervals: SessionIntervals | None = None,
        min_interval: float = 30.0,
        delay_s: int = 900,
        timing: PollTiming | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(client=client, clock=clock, timing=timing, rng=rng)
        self.base_url = base_url.rstrip("/")
        self.mapping = dict(DEFAULT_CBOE_MAP if symbols is None else symbols)
        self.names = {**DEFAULT_NAMES, **(names or {})}
        self.intervals = intervals or SessionIntervals()
        self.min_interval = min_interval
        self.delay_s = delay_s
        self.wanted = wanted
        self.watch_every = watch_every
        self._served: frozenset[str] = frozenset()

    def targets(self) -> list[str]:
        """Watchlist symbols to ask Cboe for now."""
        if self.wanted is None:
            return list(self.mapping)
        want = self.wanted()
        return [s for s in self.mapping if s in want]

    async def events(self) -> AsyncIterator[object]:
        """As the base class, plus a watcher that cuts the wait short when ``wanted``
        gains a symbol this feed is not serving yet (the failover takes one watch step,
        not one poll interval)."""
        watcher = (
            asyncio.create_task(self._watch(), name="cboe-wanted-watch")
            if self.wanted is not None
            else None
        )
        try:
            async for event in super().events():
                yield event
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.watch_every)
            if not set(self.targets()) <= self._served:
                self.refresh_now()

    def standby(self) -> str | None:
        """While no symbol needs the fallback, the last cycle sent nothing: STANDBY."""
        if self.wanted is not None and not self._served:
            return "not needed: the primary source delivers every symbol"
        return None

    def interval(self) -> float:
        """The session interval, but not below ``min_interval``: the data is 15 min late."""
        return max(self.min_interval, self.intervals.for_time(self.clock.now(), False))

    async def poll(self) -> Sequence[object]:
        """Fetch each target once; per-symbol failures become QuoteMiss."""
        out: list[object] = []
        delivered = 0
        targets = self.targets()
        self._served = frozenset(targets)
        for sym in targets:
            cboe = self.mapping[sym]
            url = self.base_url + QUOTE_PATH + urlquote(cboe, safe="") + ".json"
            try:
                resp = await self.get(url)
            except RateLimited:
                raise
            except FetchError as exc:
                if exc.status is None and not delivered:
                    raise
                out.append(QuoteMiss(self.source, sym, exc.reason, self.clock.monotonic()))
                continue
            now = self.clock.monotonic()
            if resp.status >= 400:
                # Cboe answers 403 for symbols it does not list.
                out.append(QuoteMiss(self.source, sym, f"{cboe}: HTTP {resp.status}", now))
                continue
            payload = decode_body(resp.body, resp.headers.get("content-type", ""), self.source)
            if not isinstance(payload, BadMessage):
                payload = parse_cboe_quote(
                    payload,
                    sym,
                    name=self.names.get(sym, sym),
                    received=now,
                    now=self.clock.now(),
                    scale=CBOE_SCALE.get(cboe, Decimal(1)),
                    delay_s=self.delay_s,
                )
            if isinstance(payload, BadMessage):
                out += [payload, QuoteMiss(self.source, sym, payload.reason, now)]
            else:
                delivered += 1
                out.append(payload)
        if targets and not delivered:
            misses = [e for e in out if isinstance(e, QuoteMiss)]
            raise FetchError(
                misses[0].reason if misses else "nothing delivered", transient=False, status=200
            )
        return out
