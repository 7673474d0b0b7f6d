"""Daily history backfill: bitcoin from Coinbase Exchange candles (Yahoo as the fallback)
and indices from Yahoo's v8 chart with ``range=max`` (sources.md §B, §C8).

Both feeds are polled feeds doing one request per poll, so every page ends with a
:class:`~feeds.model.history.BackfillProgress` event and the panels never sit frozen. A
page is on disk (through the store's single writer) before the cursor moves, so an
interrupted backfill resumes where it stopped: the cursors are derived from what the store
holds, not from memory. After the first complete run only the missing days are fetched.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx

from feeds.core.clock import Clock
from feeds.core.decode import price
from feeds.core.poll import FetchError, PolledFeed, PollTiming, RateLimited
from feeds.history.db import HistoryStore, HistoryWriteError, PutBars, SeriesInfo, SetSeries
from feeds.model.core import BadMessage
from feeds.model.history import BackfillProgress, Bar, HistoryBars
from feeds.quotes.parse import parse_chart_bars, parse_chart_meta_first_trade

CANDLES_PER_PAGE = 300
"""Coinbase refuses requests for more than 300 candles (sources.md §B)."""

BTC_HISTORY_START = date(2015, 1, 1)
"""How far back bitcoin is paged. Coinbase's BTC-USD book opened in 2015."""

COINBASE_UA = "lockstep-monitor/0.1 (terminal market monitor; daily candles, polite)"
"""Coinbase answered requests without a User-Agent with HTTP 400 (sources.md §B)."""


def parse_candles(payload: object, symbol: str, source: str = "coinbase") -> list[Bar] | BadMessage:
    """Coinbase Exchange candles ``[[time, low, high, open, close, volume], ...]`` as daily
    bars, oldest first. Rows with a bad time or price, or high below low, are skipped; a
    row that does not start at 00:00 UTC refuses the whole answer (wrong granularity).

    The column order is settled by a real answer (tests/data/real/coinbase/
    rest_candles_1h_BTC-USDT_ccxt-static_2024-03-13.json, numbers, time in seconds)."""
    if not isinstance(payload, list):
        if isinstance(payload, dict) and "message" in payload:
            return BadMessage(source, "candles error: " + str(payload.get("message"))[:80])
        return BadMessage(source, "candles payload is not a list")
    by_day: dict[date, Bar] = {}
    for row in payload:
        if not isinstance(row, list) or len(row) < 5:
            continue
        t = row[0]
        if isinstance(t, bool) or not isinstance(t, int) or not 1_230_940_800 <= t <= 4_102_444_800:
            continue  # before the first block or after 2100: not a candle
        if t % 86_400:
            # A candle starts on a multiple of its granularity (the real hourly sample,
            # tests/data/real/coinbase/rest_candles_1h_*, starts on the hour): one that
            # does not start at 00:00 UTC is not a daily candle, and an hourly answer
            # read as days would store intraday highs as daily ones.
            when = datetime.fromtimestamp(t, UTC).strftime("%H:%M")
            return BadMessage(source, f"not daily candles (one starts at {when} UTC)")
        lo, hi, op, cl = price(row[1]), price(row[2]), price(row[3]), price(row[4])
        if lo is None or hi is None or op is None or cl is None or hi < lo:
            continue
        day = datetime.fromtimestamp(t, UTC).date()
        by_day[day] = Bar(symbol, day, op, hi, lo, cl, source)
    return [by_day[d] for d in sorted(by_day)]


@dataclass(slots=True)
class _Cursor:
    phase: str
    """``forward`` (catching up to today), ``back`` (paging to the start) or ``idle``."""
    forward_from: date | None
    back_end: date | None
    first_day: date | None
    last_day: date | None
    complete: bool
    pages: int = 0
    next_run: float = 0.0


def _same_bar(a: Bar, b: Bar) -> bool:
    """The same day with the same prices as stored (floats: what the store keeps)."""
    return (
        a.day == b.day
        and a.source == b.source
        and float(a.open) == float(b.open)
        and float(a.high) == float(b.high)
        and float(a.low) == float(b.low)
        and float(a.close) == float(b.close)
    )


class _HistoryFeed(PolledFeed):
    """Common parts: the store, the single writer, idle scheduling and the start gate.

    ``start_after`` is awaited before the first request: the app passes the history
    loader's, so that the stored copy of a day, handed to the panels at start-up, never
    lands after (and over) a fresher one from the network.
    """

    def __init__(
        self,
        *,
        store: HistoryStore,
        client: httpx.AsyncClient,
        clock: Clock,
        page_delay: float,
        refresh: float,
        timing: PollTiming | None,
        rng: random.Random | None,
        start_after: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        super().__init__(client=client, clock=clock, timing=timing, rng=rng)
        self.store = store
        self.page_delay = page_delay
        self.refresh = refresh
        self.start_after = start_after
        self.failures = 0
        self.write_error: str | None = None
        self._known: dict[str, Bar] | None = None
        """The newest bar of each symbol that the panels have and the store holds."""

    async def events(self) -> AsyncIterator[object]:
        """As :meth:`PolledFeed.events`, once ``start_after`` (if any) has returned."""
        if self.start_after is not None:
            await self.start_after()
        async for event in super().events():
            yield event

    def _symbols(self) -> Sequence[str]:
        return ()

    async def _fresh(self, symbol: str, bars: Sequence[Bar]) -> list[Bar]:
        """``bars`` less the one already stored and on screen, unchanged.

        Every incremental run asks again for the newest stored day (it may have been a
        partial, live day), and most of the time it comes back as it was: it needs
        neither a write nor a repaint. It is compared with the newest bar as this feed
        knows it: read from the store once, when the feed starts (right after the
        history loader handed the panels their copy), then each one it stored since; not
        with the store as it is at each run, which another instance may have changed
        without this one's panels seeing it.
        """
        if self._known is None:
            self._known = await asyncio.to_thread(self.store.newest_bars, self._symbols())
        known = self._known.get(symbol)
        if known is None:
            return list(bars)
        return [b for b in bars if not _same_bar(b, known)]

    def _stored(self, symbol: str, fresh: Sequence[Bar]) -> None:
        """Remember the newest of ``fresh`` once it is on disk (a failed write keeps the
        old one, so the next run stores the day again)."""
        if self.write_error is None and fresh and self._known is not None:
            known = self._known.get(symbol)
            if known is None or fresh[-1].day >= known.day:
                self._known[symbol] = fresh[-1]

    async def _store(self, bars: Sequence[Bar], meta: SetSeries) -> None:
        try:
            await self.store.writer().write(PutBars(tuple(bars)), meta)
            self.write_error = None
        except HistoryWriteError as exc:
            # The panels still get the bars; only persistence is lost (shown as a note).
            self.write_error = exc.reason

    def _backoff(self) -> float:
        return min(self.refresh, self.page_delay * 4.0 ** min(self.failures, 8))


class BtcHistoryFeed(_HistoryFeed):
    """Bitcoin daily history: Coinbase candles paged back to 2015, 300 per request, one
    request per ``page_delay`` (default 0.35 s, well under the 10 req/s public limit).
    After ``fallback_after`` failed pages in a row, one Yahoo ``BTC-USD`` ``range=max``
    request fills the history instead."""

    source = "coinbase-candles"

    def __init__(
        self,
        coinbase_url: str,
        yahoo_url: str,
        *,
        store: HistoryStore,
        client: httpx.AsyncClient,
        clock: Clock,
        symbol: str = "BTC-USD",
        product: str = "BTC-USD",
        start: date = BTC_HISTORY_START,
        page_delay: float = 0.35,
        refresh: float = 6 * 3600.0,
        fallback_after: int = 2,
        timing: PollTiming | None = None,
        rng: random.Random | None = None,
        start_after: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        super().__init__(
            store=store,
            client=client,
            clock=clock,
            page_delay=page_delay,
            refresh=refresh,
            timing=timing,
            rng=rng,
            start_after=start_after,
        )
        self.coinbase_url = coinbase_url.rstrip("/")
        self.yahoo_url = yahoo_url.rstrip("/")
        self.symbol = symbol
        self.product = product
        self.start = start
        self.fallback_after = fallback_after
        self._cur: _Cursor | None = None
        self._complete_stored = False

    def interval(self) -> float:
        """Polite paging while work remains; the refresh period once caught up."""
        if self.failures:
            return self._backoff()
        if self._cur is not None and self._cur.phase == "idle":
            return max(0.0, self._cur.next_run - self.clock.monotonic())
        return self.page_delay

    async def _load(self) -> _Cursor:
        info: SeriesInfo = await asyncio.to_thread(self.store.series, self.symbol)
        self._complete_stored = info.complete
        today = self.clock.now().date()
        if info.last_day is None:
            return _Cursor("back", None, today, None, None, False)
        # Re-fetch the newest stored day: it may have been a partial (live) candle.
        cur = _Cursor("forward", info.last_day, None, info.first_day, info.last_day, info.complete)
        if not info.complete and info.first_day is not None:
            cur.back_end = info.first_day - timedelta(days=1)
        return cur

    def _symbols(self) -> Sequence[str]:
        return (self.symbol,)

    def _total_pages(self, today: date) -> int:
        return (today - self.start).days // CANDLES_PER_PAGE + 1

    async def poll(self) -> Sequence[object]:
        """Fetch one page (or, when idle and due, start a catch-up run)."""
        if self._cur is None:
            self._cur = await self._load()
        cur = self._cur
        today = self.clock.now().date()
        if cur.phase == "idle":
            if self.clock.monotonic() < cur.next_run:
                return []
            cur.phase, cur.forward_from, cur.pages = "forward", cur.last_day or today, 0
        if cur.phase == "forward":
            assert cur.forward_from is not None
            start = cur.forward_from
            end = min(start + timedelta(days=CANDLES_PER_PAGE - 1), today)
        else:
            assert cur.back_end is not None
            end = cur.back_end
            start = max(end - timedelta(days=CANDLES_PER_PAGE - 1), self.start)
        try:
            bars = await self._page(start, end)
        except RateLimited:
            raise
        except FetchError as exc:
            self.failures += 1
            if self.failures >= self.fallback_after:
                return await self._fallback(exc)
            raise
        if isinstance(bars, BadMessage):
            self.failures += 1
            if self.failures >= self.fallback_after:
                return await self._fallback(FetchError(bars.reason, transient=False))
            return [bars]
        if not bars and cur.first_day is None and end >= today - timedelta(days=7):
            # The newest page is empty and nothing is stored: Coinbase has candles for
            # every recent day, so this is the source failing, not the start of the
            # history (which an empty page further back means). Ask the fallback.
            return await self._fallback(FetchError("no recent candles", transient=False))
        self.failures = 0
        cur.pages += 1
        events: list[object] = []
        if bars:
            cur.first_day = min(cur.first_day or bars[0].day, bars[0].day)
            cur.last_day = max(cur.last_day or bars[-1].day, bars[-1].day)
        now = self.clock.monotonic()
        if cur.phase == "forward":
            if end >= today:
                cur.phase = "back" if not cur.complete and cur.back_end is not None else "idle"
            else:
                cur.forward_from = end + timedelta(days=1)
        else:
            reached_start = start <= self.start or not bars
            if reached_start:
                cur.complete = True
                cur.phase = "idle"
            else:
                cur.back_end = start - timedelta(days=1)
        if cur.back_end is None and cur.phase == "back":  # first ever page was "back" from today
            cur.back_end = start - timedelta(days=1)
        fresh = await self._fresh(self.symbol, bars)
        if fresh or cur.complete != self._complete_stored:
            meta = SetSeries(self.symbol, complete=cur.complete, source="coinbase")
            await self._store(fresh, meta)
            if self.write_error is None:
                self._complete_stored = cur.complete
            self._stored(self.symbol, fresh)
        if cur.phase == "idle":
            cur.next_run = now + self.refresh
        if fresh:
            events.append(HistoryBars(self.source, self.symbol, tuple(fresh), None, now))
        events.append(self._progress(cur, today, now))
        return events

    def _progress(self, cur: _Cursor, today: date, now: float) -> BackfillProgress:
        total = self._total_pages(today)
        if cur.phase == "back" and cur.back_end is not None:
            done = (today - cur.back_end).days // CANDLES_PER_PAGE
            note, reached = "paging back", cur.first_day
        elif cur.phase == "forward":
            done, note, reached = cur.pages, "catching up", cur.last_day
            total = max(total, cur.pages + 1)
        else:
            done, note, reached = total, "complete", cur.first_day
        if self.write_error:
            note = self.write_error
        return BackfillProgress(
            self.source,
            self.symbol,
            min(done, total),
            total,
            reached,
            cur.phase == "idle",
            note,
            now,
        )

    async def _page(self, start: date, end: date) -> list[Bar] | BadMessage:
        params = {
            "granularity": "86400",
            "start": datetime(start.year, start.month, start.day, tzinfo=UTC).isoformat(),
            "end": datetime(end.year, end.month, end.day, tzinfo=UTC).isoformat(),
        }
        resp = await self.get(
            f"{self.coinbase_url}/products/{self.product}/candles",
            params=params,
            headers={"User-Agent": COINBASE_UA},
        )
        return parse_candles(resp.json(), self.symbol)

    async def _fallback(self, cause: FetchError) -> Sequence[object]:
        """One Yahoo ``range=max`` request for the whole history."""
        cur = self._cur
        assert cur is not None
        try:
            resp = await self.get(
                f"{self.yahoo_url}/v8/finance/chart/{self.symbol}",
                params={"range": "max", "interval": "1d"},
            )
            payload = resp.json()
        except RateLimited:
            raise
        except FetchError:
            raise cause from None
        bars = parse_chart_bars(payload, self.symbol, "yahoo")
        if isinstance(bars, BadMessage):
            raise cause
        first_trade = parse_chart_meta_first_trade(payload)
        now = self.clock.monotonic()
        await self._store(
            bars, SetSeries(self.symbol, first_trade=first_trade, complete=True, source="yahoo")
        )
        if self.write_error is None:
            self._complete_stored = True
        self._stored(self.symbol, bars)
        self.failures = 0
        if bars:
            cur.first_day, cur.last_day = bars[0].day, bars[-1].day
        cur.complete, cur.phase, cur.next_run = True, "idle", now + self.refresh
        today = self.clock.now().date()
        total = self._total_pages(today)
        return [
            HistoryBars(self.source, self.symbol, tuple(bars), first_trade, now),
            BackfillProgress(
                self.source,
                self.symbol,
                total,
                total,
                cur.first_day,
                True,
                f"coinbase failed ({cause.reason}); filled from yahoo",
                now,
            ),
        ]


class YahooHistoryFeed(_HistoryFeed):
    """Index, ETF and futures history from Yahoo's chart: ``range=max`` the first time,
    then only the days since the newest stored bar. One symbol per poll."""

    source = "yahoo-history"

    def __init__(
        self,
        yahoo_url: str,
        symbols: Sequence[str],
        *,
        store: HistoryStore,
        client: httpx.AsyncClient,
        clock: Clock,
        page_delay: float = 1.0,
        refresh: float = 6 * 3600.0,
        timing: PollTiming | None = None,
        rng: random.Random | None = None,
        start_after: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        super().__init__(
            store=store,
            client=client,
            clock=clock,
            page_delay=page_delay,
            refresh=refresh,
            timing=timing,
            rng=rng,
            start_after=start_after,
        )
        self.yahoo_url = yahoo_url.rstrip("/")
        self.symbols = tuple(symbols)
        self._index = 0
        self._next_run = 0.0
        self._round_ok = 0
        """Symbols whose history arrived this round (the progress counts these)."""
        self._round_failed = 0
        """Symbols that got no answer this round (the round is retried soon, not after
        the refresh period)."""

    def _symbols(self) -> Sequence[str]:
        return self.symbols

    def interval(self) -> float:
        """Polite pacing between symbols; the refresh period between rounds."""
        if self._index == 0 and self._next_run:
            return max(0.0, self._next_run - self.clock.monotonic())
        return self.page_delay

    async def poll(self) -> Sequence[object]:
        """Fetch the next symbol's missing history."""
        if not self.symbols:
            return []
        if self._index == 0 and self.clock.monotonic() < self._next_run:
            return []
        symbol = self.symbols[self._index]
        info: SeriesInfo = await asyncio.to_thread(self.store.series, symbol)
        params = {"interval": "1d"}
        if info.last_day is not None and info.complete:
            since = datetime(info.last_day.year, info.last_day.month, info.last_day.day, tzinfo=UTC)
            params["period1"] = str(int(since.timestamp()))
            params["period2"] = str(int(self.clock.now().timestamp()))
        else:
            params["range"] = "max"
        events: list[object] = []
        now = self.clock.monotonic()
        no_answer: str | None = None
        try:
            resp = await self.get(f"{self.yahoo_url}/v8/finance/chart/{symbol}", params=params)
            payload = resp.json()
        except RateLimited:
            raise
        except (FetchError, ValueError) as exc:
            # One symbol's trouble must not stall the others; it is retried after the
            # round. A transport failure (no status) is the network, not the symbol.
            reason = exc.reason if isinstance(exc, FetchError) else "unreadable answer"
            if isinstance(exc, FetchError) and exc.status is None:
                no_answer = reason
                self._round_failed += 1
            events.append(BadMessage(self.source, f"{symbol}: {reason}"))
            bars: list[Bar] = []
            first_trade = None
        else:
            parsed = parse_chart_bars(payload, symbol, "yahoo")
            first_trade = parse_chart_meta_first_trade(payload)
            if isinstance(parsed, BadMessage):
                events.append(BadMessage(self.source, f"{symbol}: {parsed.reason}"))
                bars = []
            else:
                self._round_ok += 1
                bars = parsed
                fresh = await self._fresh(symbol, bars)
                meta = SetSeries(symbol, first_trade=first_trade, complete=True, source="yahoo")
                new_start = first_trade is not None and first_trade != info.first_trade
                if fresh or new_start or not (info.complete and info.source == "yahoo"):
                    await self._store(fresh, meta)
                    self._stored(symbol, fresh)
                if fresh or new_start:
                    events.append(HistoryBars(self.source, symbol, tuple(fresh), first_trade, now))
        self._index += 1
        done = self._round_ok
        round_over = self._index >= len(self.symbols)
        # Not finished while the network gave no answer for some symbol: that round is
        # retried after a backoff, not after the refresh period (hours). A symbol the
        # source answered for but refused (404, bad payload) waits for the next round.
        finished = round_over and not self._round_failed
        if round_over:
            self._index = 0
            if self._round_failed:
                self.failures += 1
                self._next_run = now + self._backoff()
            else:
                self.failures = 0
                self._next_run = now + self.refresh
            self._round_ok = self._round_failed = 0
        if no_answer is not None:
            note = f"waiting for the network ({no_answer})"
        elif finished:
            note = "complete"
        elif round_over:
            note = "no answer for some symbols; retrying"
        else:
            note = "range=max" if "range" in params else "catching up"
        if self.write_error:
            note = self.write_error
        reached = bars[-1].day if bars else info.last_day
        events.append(
            BackfillProgress(
                self.source,
                symbol,
                done,
                len(self.symbols),
                reached,
                finished,
                note,
                now,
                waiting=no_answer is not None,
            )
        )
        return events
