"""Wiring for index and commodity quotes: the ``[quotes]`` settings, the feed factory,
the store slice and the ``snapshot --json`` rows."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from feeds.core.clock import Clock
from feeds.model.quotes import QuoteRow
from feeds.quotes.cboe import DEFAULT_CBOE_MAP, CboeQuotesFeed
from feeds.quotes.failover import FailoverGate
from feeds.quotes.session import SessionIntervals
from feeds.quotes.state import QuotesSlice
from feeds.quotes.yahoo import YAHOO_COOKIE_URL, YahooChartFeed

if TYPE_CHECKING:
    import httpx

    from feeds.core.poll import PolledFeed, PollTiming


@dataclass(frozen=True, slots=True)
class QuotesSettings:
    """The ``[quotes]`` table of the config file."""

    watchlist: tuple[str, ...] = ("^RUT", "IWM", "^GSPC", "^DJI", "^NDX", "SI=F", "GC=F")
    """Yahoo symbols shown in the quotes panel, in order."""
    futures: tuple[str, ...] = ("RTY=F", "ES=F", "YM=F", "NQ=F")
    """Index futures shown (labelled as futures) while the cash session is not open."""
    show_futures_when_closed: bool = True
    """Show and poll the index futures outside the NYSE regular session."""
    interval_regular: float = 15.0
    """Seconds between Yahoo polls while the NYSE regular session is open."""
    interval_extended: float = 60.0
    """Seconds between polls in pre-market and after hours."""
    interval_futures: float = 60.0
    """Seconds between polls while the NYSE is closed but futures trade."""
    interval_closed: float = 300.0
    """Seconds between polls while everything is closed (weekends, holidays)."""
    backoff_cap: float = 600.0
    """Longest wait between failed Yahoo cycles, seconds (jittered doubling up to it)."""
    stale_multiplier: float = 3.0
    """A value older than this many poll intervals is marked stale."""
    fallback: bool = True
    """Use Cboe delayed quotes for the indices and IWM while Yahoo fails."""
    cboe_symbols: tuple[str, ...] = tuple(f"{k}={v}" for k, v in DEFAULT_CBOE_MAP.items())
    """Yahoo-to-Cboe symbol pairs for the fallback, as ``"YAHOO=CBOE"``
    (``^DJI=_DJX``: DJX is the Dow / 100 and is scaled back)."""
    cboe_min_interval: float = 30.0
    """Shortest interval between Cboe polls, seconds (its data is 15 minutes late)."""
    yahoo_crumb: bool = True
    """On a 401 Invalid Crumb, fetch Yahoo's session cookie and crumb once and retry."""

    def intervals(self) -> SessionIntervals:
        """The per-session intervals as the feeds take them."""
        return SessionIntervals(
            regular=self.interval_regular,
            extended=self.interval_extended,
            futures=self.interval_futures,
            closed=self.interval_closed,
        )

    def cboe_map(self) -> dict[str, str]:
        """``cboe_symbols`` as a mapping; malformed pairs are skipped."""
        out: dict[str, str] = {}
        for pair in self.cboe_symbols:
            yahoo, sep, cboe = pair.partition("=")
            # "SI=F" has an "=" too: split on the last one when there are two.
            if pair.count("=") == 2:
                yahoo, _, cboe = pair.rpartition("=")
            if sep and yahoo and cboe:
                out[yahoo] = cboe
        return out


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
) -> list[PolledFeed]:
    """The Yahoo chart feed and, when ``fallback`` is on, the gated Cboe feed."""
    gate = FailoverGate() if settings.fallback else None
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
        gate=gate,
        timing=timing,
    )
    feeds: list[PolledFeed] = [yahoo]
    if gate is not None:
        mapping = {k: v for k, v in settings.cboe_map().items() if k in settings.watchlist}
        feeds.append(
            CboeQuotesFeed(
                cboe_url,
                client=client,
                clock=clock,
                symbols=mapping,
                gate=gate,
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


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _row_json(row: QuoteRow, now_mono: float) -> dict[str, object]:
    q = row.quote
    pct = q.change_pct if q is not None else None
    return {
        "symbol": row.symbol,
        "name": row.name,
        "is_future": row.is_future,
        "state": row.state.value,
        "price": _num(q.price) if q else None,
        "prev_close": _num(q.prev_close) if q else None,
        "change": _num(q.change) if q else None,
        "change_pct": None if pct is None else f"{pct:.2f}",
        "day_low": _num(q.day_low) if q else None,
        "day_high": _num(q.day_high) if q else None,
        "year_high": _num(q.year_high) if q else None,
        "currency": q.currency if q else None,
        "source": q.source if q else None,
        "fallback": row.fallback,
        "delay_s": q.delay_s if q else None,
        "age_s": None if q is None else round(max(0.0, now_mono - q.received), 1),
        "stale": row.stale,
        "stale_since": row.stale_since.isoformat() if row.stale_since else None,
        "market_time": q.market_time.isoformat() if q and q.market_time else None,
        "reason": row.reason or None,
    }


def quotes_snapshot_json(slice: QuotesSlice, now_mono: float) -> list[dict[str, object]]:
    """One JSON-ready dict per row (watchlist, then any futures rows shown), with its
    state, source, delay and age. Prices are strings, so no precision is lost."""
    view = slice.view()
    return [_row_json(r, now_mono) for r in view.rows + view.futures]
