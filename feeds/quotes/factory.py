"""The quote feeds and the quotes slice, built from the ``[quotes]`` settings."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from feeds.core.clock import Clock
from feeds.quotes.cboe import CboeQuotesFeed
from feeds.quotes.settings import QuotesSettings
from feeds.quotes.state import QuotesSlice
from feeds.quotes.yahoo import YAHOO_COOKIE_URL, YahooChartFeed

if TYPE_CHECKING:
    import httpx

    from feeds.core.poll import PolledFeed, PollTiming


def _cookie_url(yahoo_url: str) -> str:
    host = urlsplit(yahoo_url).hostname or ""
    if host == "yahoo.com" or host.endswith(".yahoo.com"):
        return YAHOO_COOKIE_URL
    # The simulated Yahoo serves its cookie under /fc on the same server.
    return yahoo_url.rstrip("/") + "/fc"


def build_quote_feeds(
    settings: QuotesSettings,
    yahoo_url: str,
    cboe_url: str,
    client: httpx.AsyncClient,
    clock: Clock,
    timing: PollTiming | None = None,
    *,
    wanted: Callable[[], Collection[str]] | None = None,
) -> list[PolledFeed]:
    """The Yahoo chart feed and, when ``fallback`` is on, the Cboe feed, which asks
    ``wanted`` (the quotes slice's ``fallback_symbols``) which symbols to poll."""
    yahoo = YahooChartFeed(
        yahoo_url,
        client=client,
        clock=clock,
        symbols=settings.watchlist,
        futures=settings.futures,
        show_futures_when_closed=settings.show_futures_when_closed,
        intervals=settings.intervals(),
        backoff_cap=settings.backoff_cap,
        cookie_url=_cookie_url(yahoo_url) if settings.yahoo_crumb else None,
        timing=timing,
    )
    feeds: list[PolledFeed] = [yahoo]
    if settings.fallback and wanted is not None:
        mapping = {k: v for k, v in settings.cboe_map().items() if k in settings.watchlist}
        feeds.append(
            CboeQuotesFeed(
                cboe_url,
                client=client,
                clock=clock,
                symbols=mapping,
                wanted=wanted,
                intervals=settings.intervals(),
                min_interval=settings.cboe_min_interval,
                timing=timing,
            )
        )
    return feeds


def make_quotes_slice(settings: QuotesSettings, clock: Clock) -> QuotesSlice:
    """The ``quotes`` store slice for these settings."""
    return QuotesSlice(
        settings.watchlist,
        clock=clock,
        futures=settings.futures,
        show_futures_when_closed=settings.show_futures_when_closed,
        intervals=settings.intervals(),
        stale_multiplier=settings.stale_multiplier,
    )
