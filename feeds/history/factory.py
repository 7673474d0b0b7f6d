"""The history store, backfill feeds and the all-time-high and divergence slices, built
from the ``[history]`` settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from feeds.core.clock import Clock
from feeds.history.ath_state import AthSlice
from feeds.history.db import HistoryStore
from feeds.history.divergence_state import AthViewLike, DivergenceSlice
from feeds.history.loader import HistoryLoader
from feeds.history.persist import HistoryPersister
from feeds.history.settings import HistorySettings
from feeds.model.btc import Tick
from feeds.model.quotes import Quote

if TYPE_CHECKING:
    import httpx

    from feeds.core.poll import PollTiming
    from feeds.history.backfill import BtcHistoryFeed, YahooHistoryFeed


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
    from feeds.history.backfill import BtcHistoryFeed

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
        _yahoo_history(settings, store, yahoo_url, others, client, clock, timing, start_after),
    ]


def _yahoo_history(
    settings: HistorySettings,
    store: HistoryStore,
    yahoo_url: str,
    symbols: Sequence[str],
    client: httpx.AsyncClient,
    clock: Clock,
    timing: PollTiming | None,
    start_after: Callable[[], Awaitable[object]] | None,
) -> YahooHistoryFeed:
    """The Yahoo daily-history feed for ``symbols``, paced and refreshed as ``settings``
    say (the start-up backfill's and a symbol added later's alike)."""
    from feeds.history.backfill import YahooHistoryFeed

    return YahooHistoryFeed(
        yahoo_url,
        list(symbols),
        store=store,
        client=client,
        clock=clock,
        page_delay=max(settings.page_delay_s, 0.5) if settings.page_delay_s else 0.0,
        refresh=settings.refresh_hours * 3600.0,
        timing=timing,
        start_after=start_after,
    )


def build_added_history_feeds(
    settings: HistorySettings,
    store: HistoryStore,
    yahoo_url: str,
    symbols: Sequence[str],
    client: httpx.AsyncClient,
    clock: Clock,
    *,
    timing: PollTiming | None = None,
) -> list[HistoryLoader | YahooHistoryFeed]:
    """Feeds for symbols added while the app runs: their stored highs, last prices and
    closes (a loader for those symbols only), then their Yahoo history (only the days
    the store lacks, after the loader has handed over: the same order as at start)."""
    loader = HistoryLoader(store, settings, list(symbols), clock, only=True)
    yahoo = _yahoo_history(
        settings, store, yahoo_url, symbols, client, clock, timing, loader.loaded
    )
    return [loader, yahoo]


def make_ath_slice(
    settings: HistorySettings,
    store: HistoryStore,
    symbols: tuple[str, ...] | list[str],
    clock: Clock,
    *,
    btc_shown: Callable[[], Tick | None] | None = None,
    quote_shown: Callable[[str], Quote | None] | None = None,
) -> AthSlice:
    """The ``"ath"`` slice for BTC and ``symbols``. ``btc_shown`` is the BTC slice's
    ``shown_tick`` (BTC's row then shows the BTC panel's price); ``quote_shown`` is the
    quotes slice's ``shown_quote`` (an index's row then shows the quotes panel's price).
    New highs and last prices go to its outbox; run :func:`make_history_persister` to
    write them."""
    writer = store.writer()
    return AthSlice(
        list(symbols),
        clock=clock,
        guard=settings.guard(),
        edges=settings.bands(),
        near_pct=settings.near_ath_pct,
        btc_symbol=settings.pair[0],
        btc_shown=btc_shown,
        quote_shown=quote_shown,
        last_every=settings.last_price_every_s,
        writer_error=lambda: writer.last_error or store.wal_note,
    )


def make_history_persister(ath: AthSlice, store: HistoryStore) -> HistoryPersister:
    """The feed that hands the ATH slice's write intents to the history writer."""
    return HistoryPersister(ath.outbox, store.writer())


def make_divergence_slice(
    settings: HistorySettings,
    clock: Clock,
    *,
    background: bool = True,
    btc_shown: Callable[[], Tick | None] | None = None,
    ath_view: Callable[[], AthViewLike] | None = None,
) -> DivergenceSlice:
    """The ``"divergence"`` slice. With ``background`` (the app), the slice never computes
    its heavy analysis itself: the runtime runs :meth:`DivergenceSlice.analysis_job` in a
    worker thread after draining the topics, so it never runs on the event loop.
    ``btc_shown`` and ``ath_view`` (the BTC slice's shown tick, the ATH slice's view)
    make its prices, highs and drawdowns theirs."""
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
        btc_shown=btc_shown,
        ath_view=ath_view,
    )


async def close_history(store: HistoryStore) -> None:
    """Shutdown step: flush the writer's queue in one transaction, checkpoint, close."""
    await store.writer().aclose()
    store.close()
