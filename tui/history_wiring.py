"""Wiring for the history store, the backfill, the ATH and divergence panels: the
``[history]`` settings, opening the store, the feed and slice factories, the start-up
seed from cache and the ``snapshot --json`` section."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from feeds.core.clock import Clock
from feeds.history.ath import AthGuard, parse_bands
from feeds.history.ath_state import AthSlice, AthView, HistoryNotice
from feeds.history.db import HistoryStore
from feeds.history.divergence import WINDOWS
from feeds.history.divergence_state import DivergenceAnalyser, DivergenceSlice, DivergenceView, Side
from feeds.model.history import BackfillProgress, CachedAth, HistoryBars

if TYPE_CHECKING:
    import httpx

    from feeds.core.poll import PollTiming
    from feeds.history.backfill import BtcHistoryFeed, YahooHistoryFeed


@dataclass(frozen=True, slots=True)
class HistorySettings:
    """The ``[history]`` table of the config file."""

    file_name: str = "history.sqlite3"
    """The SQLite file's name inside the data directory."""
    co_high_days: int = 10
    """N: two new all-time highs at most this many days apart are a co-high."""
    divergence_pct: float = 20.0
    """X: the divergence flag needs one side more than this many percent below its high."""
    near_ath_pct: float = 2.0
    """A price within this many percent of its high counts as "at or near" it."""
    outlier_pct: float = 10.0
    """A print this many percent away from the recent median (or the other venue) is an
    outlier: shown, but it never sets an all-time high."""
    confirm_pct: float = 1.0
    """A new high is confirmed at once when a second venue trades within this many percent."""
    persist_s: float = 60.0
    """Otherwise a new high is confirmed after prices stay above the old one this long."""
    drawdown_bands: str = "5,10,20,30"
    """Drawdown band edges in percent below the high, comma-separated, increasing."""
    chart_window: str = "1y"
    """The divergence chart's window at start: ``"3m"``, ``"1y"`` or ``"5y"``."""
    pair: tuple[str, ...] = ("BTC-USD", "^RUT")
    """The two symbols compared in the divergence panel."""
    btc_start: str = "2015-01-01"
    """How far back bitcoin's daily history is paged (ISO date)."""
    page_delay_s: float = 0.35
    """Seconds between backfill requests (Coinbase allows 10/s; we stay polite)."""
    refresh_hours: float = 6.0
    """Hours between incremental history updates once the backfill is complete."""
    coinbase_fallback_after: int = 2
    """Failed Coinbase pages in a row before one Yahoo ``range=max`` request is used."""
    last_price_every_s: float = 60.0
    """Seconds between persisting a symbol's last live price (for the next start-up)."""
    warmup_days: int = 365
    """New highs in a series' first year are not counted as co-highs."""

    def __post_init__(self) -> None:
        problems = []
        if self.co_high_days < 0:
            problems.append("co_high_days must be 0 or more")
        if not 0 < self.divergence_pct < 100:
            problems.append("divergence_pct must be between 0 and 100")
        if not 0 <= self.near_ath_pct < 100:
            problems.append("near_ath_pct must be between 0 and 100")
        if not 0 < self.outlier_pct < 1000:
            problems.append("outlier_pct must be positive")
        if not 0 <= self.confirm_pct < 100:
            problems.append("confirm_pct must be between 0 and 100")
        if self.persist_s < 0 or self.page_delay_s < 0 or self.refresh_hours <= 0:
            problems.append("persist_s, page_delay_s must be >= 0 and refresh_hours > 0")
        if self.chart_window not in WINDOWS:
            problems.append(f"chart_window must be one of {', '.join(WINDOWS)}")
        if len(self.pair) != 2 or self.pair[0] == self.pair[1]:
            problems.append("pair must name two different symbols")
        if not self.file_name or "/" in self.file_name or "\\" in self.file_name:
            problems.append("file_name must be a plain file name")
        try:
            parse_bands(self.drawdown_bands)
        except ValueError as exc:
            problems.append(f"drawdown_bands: {exc}")
        try:
            date.fromisoformat(self.btc_start)
        except ValueError:
            problems.append("btc_start must be an ISO date (YYYY-MM-DD)")
        if problems:
            raise ValueError("; ".join(problems))

    def bands(self) -> tuple[float, ...]:
        """The drawdown band edges as numbers."""
        return parse_bands(self.drawdown_bands)

    def guard(self) -> AthGuard:
        """The all-time-high confirmation guard these settings describe."""
        return AthGuard(
            outlier_pct=self.outlier_pct, confirm_pct=self.confirm_pct, persist_s=self.persist_s
        )


def history_store(data_dir: Path, settings: HistorySettings) -> HistoryStore:
    """The history in ``data_dir``, not opened yet: :class:`HistoryLoader` opens it off
    the event loop (or the first read or write does, in its worker thread)."""
    return HistoryStore(Path(data_dir) / settings.file_name)


def open_history(data_dir: Path, settings: HistorySettings) -> tuple[HistoryStore, str | None]:
    """Open (creating) the history in ``data_dir`` now; never raises for a bad file.

    Returns the store and a warning to show (corrupt file moved aside, in-memory only ...)
    or None. Runs ``PRAGMA quick_check`` (tens of milliseconds): the app uses
    :func:`history_store` and :class:`HistoryLoader` instead, off the path to its first
    frame.
    """
    return HistoryStore.open(Path(data_dir) / settings.file_name)


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
    ) -> None:
        self.store = store
        self.settings = settings
        self.symbols = tuple(symbols)
        self.clock = clock
        self.start_after = start_after
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
            seed_from_cache, self.store, self.settings, self.symbols, self.clock, warning
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


def build_backfill_feeds(
    settings: HistorySettings,
    store: HistoryStore,
    coinbase_rest_url: str,
    yahoo_url: str,
    symbols: tuple[str, ...] | list[str],
    client: httpx.AsyncClient,
    clock: Clock,
    *,
    timing: PollTiming | None = None,
    loader: HistoryLoader | None = None,
) -> list[BtcHistoryFeed | YahooHistoryFeed]:
    """The backfill feeds: bitcoin from Coinbase candles (Yahoo fallback), and every other
    symbol (the pair's index included) from Yahoo. Each has ``events()`` and ``aclose()``.
    With a ``loader``, they wait until it has handed over the cached values."""
    from feeds.history.backfill import BtcHistoryFeed, YahooHistoryFeed

    start_after = loader.loaded if loader is not None else None
    btc = settings.pair[0]
    others = [s for s in dict.fromkeys([*symbols, settings.pair[1]]) if s != btc]
    refresh = settings.refresh_hours * 3600.0
    return [
        BtcHistoryFeed(
            coinbase_rest_url,
            yahoo_url,
            store=store,
            client=client,
            clock=clock,
            symbol=btc,
            start=date.fromisoformat(settings.btc_start),
            page_delay=settings.page_delay_s,
            refresh=refresh,
            fallback_after=settings.coinbase_fallback_after,
            timing=timing,
            start_after=start_after,
        ),
        YahooHistoryFeed(
            yahoo_url,
            others,
            store=store,
            client=client,
            clock=clock,
            page_delay=max(settings.page_delay_s, 0.5) if settings.page_delay_s else 0.0,
            refresh=refresh,
            timing=timing,
            start_after=start_after,
        ),
    ]


def make_ath_slice(
    settings: HistorySettings,
    store: HistoryStore,
    symbols: tuple[str, ...] | list[str],
    clock: Clock,
) -> AthSlice:
    """The ``"ath"`` slice for BTC and ``symbols``; new highs and last prices are handed
    to the store's writer. Apply it only on the event loop (the writer needs one)."""
    writer = store.writer()
    return AthSlice(
        list(symbols),
        clock=clock,
        guard=settings.guard(),
        edges=settings.bands(),
        near_pct=settings.near_ath_pct,
        btc_symbol=settings.pair[0],
        persist=writer.submit,
        last_every=settings.last_price_every_s,
        writer_error=lambda: writer.last_error,
    )


def make_divergence_slice(
    settings: HistorySettings, clock: Clock, *, background: bool = True
) -> DivergenceSlice:
    """The ``"divergence"`` slice. With ``background`` (the app), run the feed from
    :func:`make_divergence_analyser` so pandas never runs on the event loop."""
    return DivergenceSlice(
        clock=clock,
        a_symbol=settings.pair[0],
        b_symbol=settings.pair[1],
        within_days=settings.co_high_days,
        threshold_pct=settings.divergence_pct,
        near_pct=settings.near_ath_pct,
        window=settings.chart_window,
        warmup_days=settings.warmup_days,
        background=background,
    )


def make_divergence_analyser(slice_: DivergenceSlice) -> DivergenceAnalyser:
    """The feed that computes the divergence analysis in a worker thread."""
    return DivergenceAnalyser(slice_)


def seed_from_cache(
    store: HistoryStore,
    settings: HistorySettings,
    symbols: tuple[str, ...] | list[str],
    clock: Clock,
    warning: str | None = None,
) -> list[object]:
    """Events that paint the cached values before any network answer: every symbol's
    stored highs and last price, the last stored close of each, and the divergence
    pair's daily history. Blocking (tens of milliseconds for a few years of bars): the
    app runs it in :class:`HistoryLoader`'s worker thread.

    The divergence analysis itself runs later in the analyser's thread.
    """
    now = clock.monotonic()
    btc = settings.pair[0]
    wanted = list(dict.fromkeys([btc, *symbols, settings.pair[1]]))
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
    for symbol in settings.pair:
        bars = store.bars(symbol)
        if bars:
            events.append(HistoryBars("cache", symbol, tuple(bars), None, now))
    # Symbols without a persisted last price still show their last stored close.
    for symbol in wanted:
        if symbol in settings.pair or symbol in last:
            continue
        tail = store.bars(symbol, since=_recent(clock))
        if tail:
            events.append(HistoryBars("cache", symbol, (tail[-1],), None, now))
    return events


def _recent(clock: Clock) -> date:
    return date.fromordinal(clock.now().date().toordinal() - 31)


def _num(value: Decimal | float | None, places: int = 2) -> float | None:
    return None if value is None else round(float(value), places)


def history_snapshot_json(
    ath: AthView, divergence: DivergenceView, now_mono: float
) -> dict[str, object]:
    """The ``"history"`` section of ``lockstep snapshot --json``."""

    def side(s: Side) -> dict[str, object]:
        return {
            "symbol": s.symbol,
            "price": _num(s.price),
            "source": s.source,
            "age_s": None if s.received is None else round(now_mono - s.received, 1),
            "as_of": s.as_of.isoformat() if s.as_of else None,
            "ath": _num(s.ath),
            "ath_date": s.ath_day.isoformat() if s.ath_day else None,
            "drawdown_pct": _num(s.drawdown_pct),
        }

    rows = []
    for r in ath.rows:
        rec = r.record
        rows.append(
            {
                "symbol": r.symbol,
                "price": _num(r.price),
                "price_source": r.price_source,
                "price_age_s": None
                if r.price_received is None
                else round(now_mono - r.price_received, 1),
                "cached_at": r.price_at.isoformat() if r.price_at else None,
                "ath": _num(rec.high) if rec else None,
                "ath_date": rec.high_day.isoformat() if rec else None,
                "ath_source": rec.high_source if rec else None,
                "close_ath": _num(rec.close) if rec else None,
                "close_ath_date": rec.close_day.isoformat() if rec else None,
                "days_since_ath": (ath.today - rec.high_day).days if rec else None,
                "history_start": rec.first_trade.isoformat() if rec and rec.first_trade else None,
                "distance_pct": _num(r.distance_pct),
                "close_distance_pct": _num(r.close_distance_pct),
                "band": r.band,
                "new_ath": r.new_ath,
                "pending": r.pending,
                "outlier": r.outlier,
                "note": r.note,
            }
        )
    flag = divergence.flag
    return {
        "ath": rows,
        "backfill": [
            {
                "source": p.source,
                "symbol": p.symbol,
                "done": p.done,
                "total": p.total,
                "finished": p.finished,
                "note": p.note,
            }
            for p in ath.progress
        ],
        "notices": list(ath.notices),
        "divergence": {
            "a": side(divergence.a),
            "b": side(divergence.b),
            "window": divergence.window,
            "corr_30d": _num(divergence.corr30, 3),
            "corr_90d": _num(divergence.corr90, 3),
            "gap_pp": _num(divergence.gap_pp),
            "flag": None
            if flag is None
            else {
                "raised": flag.raised,
                "leader": flag.leader,
                "laggard": flag.laggard,
                "threshold_pct": flag.threshold_pct,
                "near_pct": flag.near_pct,
            },
            "co_high_days": divergence.within_days,
            "co_highs": [
                {
                    "a_date": c.a_day.isoformat(),
                    "b_date": c.b_day.isoformat(),
                    "a_high": _num(c.a_high),
                    "b_high": _num(c.b_high),
                }
                for c in divergence.co_highs
            ],
        },
    }


async def close_history(store: HistoryStore) -> None:
    """Shutdown step: flush the writer's queue in one transaction, checkpoint, close."""
    await store.writer().aclose()
    store.close()
