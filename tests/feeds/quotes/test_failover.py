"""Yahoo dies, Cboe takes over for the symbols it lists, Yahoo returns and gets them back;
Cboe is asked nothing while Yahoo is healthy."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from feeds.core.clock import ManualClock
from feeds.core.store import Store
from feeds.model.core import FeedState, FeedStatus
from feeds.model.quotes import QuoteRow
from feeds.quotes.factory import build_quote_feeds, make_quotes_slice
from feeds.quotes.settings import QuotesSettings
from feeds.sim.cboe import SimCboe
from feeds.sim.yahoo import SimYahoo
from tests.feeds.quotes.conftest import FAST, FAST_IV, Runner

SETTINGS = QuotesSettings(
    watchlist=("^GSPC", "^DJI", "SI=F"),
    interval_regular=FAST_IV.regular,
    interval_extended=FAST_IV.extended,
    interval_futures=FAST_IV.futures,
    interval_closed=FAST_IV.closed,
    backoff_cap=0.2,
    cboe_min_interval=0.05,
    stale_multiplier=4.0,
)


def rows(store: Store) -> dict[str, QuoteRow]:
    from feeds.quotes.state import QuotesSlice

    view = store.slice("quotes", QuotesSlice).view()
    return {r.symbol: r for r in view.rows}


def cboe_state(r: Runner) -> FeedState | None:
    """Cboe's latest state word, as the status bar would show it."""
    states = [e.state for e in r.events if isinstance(e, FeedStatus) and e.source == "cboe"]
    return states[-1] if states else None


def source_of(store: Store, symbol: str) -> str | None:
    q = rows(store)[symbol].quote
    return None if q is None else q.source


async def test_fallback_to_cboe_and_back(
    sim_yahoo: SimYahoo,
    sim_cboe: SimCboe,
    client: httpx.AsyncClient,
    clock: ManualClock,
    runner_factory: Callable[..., Runner],
) -> None:
    slice_ = make_quotes_slice(SETTINGS, clock)
    feeds = build_quote_feeds(
        SETTINGS,
        sim_yahoo.url,
        sim_cboe.url,
        client,
        clock,
        timing=FAST,
        wanted=slice_.fallback_symbols,
    )
    store = Store([slice_])

    def refresh() -> None:
        store.refresh(clock.monotonic())

    r = runner_factory(feeds, store)
    await r.until(
        lambda: source_of(store, "^GSPC") == "yahoo" and source_of(store, "SI=F") == "yahoo"
    )
    await r.until(lambda: len(sim_yahoo.chart_requests()) >= 9)
    assert sim_cboe.quote_requests() == []  # Yahoo healthy: Cboe is left alone
    # ... and says so: ready, serving nothing (LIVE would claim data is flowing).
    await r.until(lambda: cboe_state(r) is FeedState.STANDBY)

    killed = time.monotonic()
    await sim_yahoo.server.stop()

    def failed_over() -> bool:
        refresh()
        return source_of(store, "^GSPC") == "cboe" and source_of(store, "^DJI") == "cboe"

    await r.until(failed_over)
    got = rows(store)
    assert got["^GSPC"].fallback and not got["^GSPC"].stale
    assert got["^GSPC"].quote is not None and got["^GSPC"].quote.delay_s == 900
    # The Dow comes from DJX x 100, on the Dow's scale.
    dji = got["^DJI"].quote
    assert dji is not None and 47_000 < dji.price < 50_500
    # Silver has no Cboe fallback: last good Yahoo value, marked stale, never blank.
    si = got["SI=F"]
    assert si.stale and si.quote is not None and si.quote.source == "yahoo"
    assert si.stale_since is not None
    assert all(at >= killed for at, _ in sim_cboe.server.log)

    assert got["^GSPC"].state.value == "OPEN"
    assert cboe_state(r) is FeedState.LIVE  # serving the indices now

    await sim_yahoo.server.start()

    def handed_back() -> bool:
        refresh()
        return all(source_of(store, s) == "yahoo" for s in ("^GSPC", "^DJI", "SI=F"))

    await r.until(handed_back, timeout=8)
    assert not any(row.stale or row.fallback for row in rows(store).values())
    # A Cboe cycle already under way at the handback may finish; then Cboe goes quiet.
    n = len(sim_yahoo.chart_requests())
    await r.until(lambda: len(sim_yahoo.chart_requests()) >= n + 6)
    settled = len(sim_cboe.quote_requests())
    n = len(sim_yahoo.chart_requests())
    await r.until(lambda: len(sim_yahoo.chart_requests()) >= n + 9)
    assert len(sim_cboe.quote_requests()) == settled  # handed back: Cboe idle again
    assert cboe_state(r) is FeedState.STANDBY


def test_settings_cboe_map_parses_pairs() -> None:
    s = QuotesSettings(cboe_symbols=("^GSPC=_SPX", "bad", "X=F=_XF"))
    assert s.cboe_map() == {"^GSPC": "_SPX", "X=F": "_XF"}
    assert QuotesSettings().cboe_map()["^DJI"] == "_DJX"
