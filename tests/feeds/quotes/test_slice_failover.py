"""The quotes slice decides which symbols Cboe serves (issue 13: one owner per fact); the
Cboe feed only reads that decision. Pure tests of the decision, then the two feeds
against the simulated Yahoo and Cboe, including a Yahoo that accepts and never answers
(issue 18 #4)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from feeds.core.clock import ManualClock
from feeds.core.store import Store
from feeds.model.core import FeedState, FeedStatus
from feeds.model.quotes import QuoteMiss, QuoteRow
from feeds.quotes.cboe import CboeQuotesFeed
from feeds.quotes.session import SessionIntervals
from feeds.quotes.state import QuotesSlice
from feeds.quotes.yahoo import YahooChartFeed
from feeds.sim.cboe import SimCboe
from feeds.sim.http import HttpFault
from feeds.sim.yahoo import SimYahoo
from tests.feeds.quotes.conftest import FAST, FAST_IV, Runner
from tests.feeds.quotes.helpers import quote

WATCH = ("^GSPC", "^DJI", "SI=F")
CBOE_MAP = {"^GSPC": "_SPX", "^DJI": "_DJX"}


def _status(state: FeedState, reason: str = "", source: str = "yahoo") -> FeedStatus:
    return FeedStatus(source, state, reason, 1.0)


def test_fallback_symbols_follow_the_primary(clock: ManualClock) -> None:
    s = QuotesSlice(WATCH, clock=clock)
    now = clock.monotonic()
    assert s.fallback_symbols() == frozenset()  # nothing known yet: Cboe asks nothing
    s.apply(_status(FeedState.CONNECTING, "first request"))
    assert s.fallback_symbols() == frozenset()
    for sym in WATCH:
        s.apply(quote(sym, received=now))
    s.apply(_status(FeedState.LIVE))
    assert s.fallback_symbols() == frozenset()
    s.apply(QuoteMiss("yahoo", "^DJI", "HTTP 404", now))
    assert s.fallback_symbols() == {"^DJI"}
    # A Cboe miss is Cboe's business, not a reason to fail over.
    s.apply(QuoteMiss("cboe", "^GSPC", "HTTP 403", now))
    assert s.fallback_symbols() == {"^DJI"}
    s.apply(_status(FeedState.DOWN, "not answering (timed out)"))
    assert s.fallback_symbols() == set(WATCH)
    s.apply(_status(FeedState.LIVE))
    assert s.fallback_symbols() == {"^DJI"}
    s.apply(quote("^DJI", received=now))  # Yahoo delivers it again: handed back at once
    assert s.fallback_symbols() == frozenset()


def test_fallback_symbols_on_rate_limit_and_unknown_symbols(clock: ManualClock) -> None:
    s = QuotesSlice(("^GSPC",), clock=clock)
    s.apply(QuoteMiss("yahoo", "NOT-WATCHED", "x", 1.0))
    assert s.fallback_symbols() == frozenset()
    s.apply(_status(FeedState.RATE_LIMITED, "HTTP 429: rate limited"))
    assert s.fallback_symbols() == {"^GSPC"}


def _feeds(
    sim_yahoo: SimYahoo,
    sim_cboe: SimCboe,
    client: httpx.AsyncClient,
    clock: ManualClock,
    slice_: QuotesSlice,
    intervals: SessionIntervals = FAST_IV,
) -> tuple[YahooChartFeed, CboeQuotesFeed]:
    yahoo = YahooChartFeed(
        sim_yahoo.url,
        client=client,
        clock=clock,
        symbols=WATCH,
        intervals=intervals,
        backoff_cap=0.2,
        cookie_url=sim_yahoo.cookie_url,
        timing=FAST,
    )
    cboe = CboeQuotesFeed(
        sim_cboe.url,
        client=client,
        clock=clock,
        symbols=CBOE_MAP,
        wanted=slice_.fallback_symbols,
        watch_every=0.02,
        intervals=intervals,
        min_interval=0.05,
        timing=FAST,
    )
    return yahoo, cboe


def _rows(slice_: QuotesSlice) -> dict[str, QuoteRow]:
    return {r.symbol: r for r in slice_.view().rows}


def _source(slice_: QuotesSlice, symbol: str) -> str | None:
    q = _rows(slice_)[symbol].quote
    return None if q is None else q.source


async def test_slice_hands_symbols_to_cboe_and_back(
    sim_yahoo: SimYahoo,
    sim_cboe: SimCboe,
    client: httpx.AsyncClient,
    clock: ManualClock,
    runner_factory: Callable[..., Runner],
) -> None:
    slice_ = QuotesSlice(WATCH, clock=clock, intervals=FAST_IV, stale_multiplier=4.0)
    store = Store([slice_])
    r = runner_factory(list(_feeds(sim_yahoo, sim_cboe, client, clock, slice_)), store)
    await r.until(lambda: all(_source(slice_, s) == "yahoo" for s in WATCH))
    await r.until(lambda: len(sim_yahoo.chart_requests()) >= 9)
    assert sim_cboe.quote_requests() == []  # Yahoo healthy: Cboe is asked nothing

    killed = time.monotonic()
    await sim_yahoo.server.stop()

    def failed_over() -> bool:
        store.refresh(clock.monotonic())
        return _source(slice_, "^GSPC") == "cboe" and _source(slice_, "^DJI") == "cboe"

    await r.until(failed_over)
    assert all(at >= killed for at, _ in sim_cboe.server.log)
    assert {t.rsplit("/", 1)[-1] for t in sim_cboe.quote_requests()} <= {"_SPX.json", "_DJX.json"}

    await sim_yahoo.server.start()

    def handed_back() -> bool:
        store.refresh(clock.monotonic())
        return all(_source(slice_, s) == "yahoo" for s in WATCH)

    await r.until(handed_back, timeout=8)
    assert slice_.fallback_symbols() == frozenset()
    # A Cboe cycle under way at the handback may finish; then Cboe goes quiet.
    n = len(sim_yahoo.chart_requests())
    await r.until(lambda: len(sim_yahoo.chart_requests()) >= n + 6)
    settled = len(sim_cboe.quote_requests())
    n = len(sim_yahoo.chart_requests())
    await r.until(lambda: len(sim_yahoo.chart_requests()) >= n + 9)
    assert len(sim_cboe.quote_requests()) == settled


async def test_h2_stalled_yahoo_cold_start_hands_over_after_one_deadline(
    sim_yahoo: SimYahoo,
    sim_cboe: SimCboe,
    client: httpx.AsyncClient,
    clock: ManualClock,
    runner_factory: Callable[..., Runner],
) -> None:
    # Yahoo accepts every request and never answers (for far longer than the test).
    sim_yahoo.server.set_fault(HttpFault("hang", seconds=60.0))
    # Long poll intervals: the only way Cboe gets asked early is the failover itself.
    slow = SessionIntervals(regular=30.0, extended=30.0, futures=30.0, closed=30.0)
    slice_ = QuotesSlice(WATCH, clock=clock, intervals=slow)
    store = Store([slice_])
    yahoo, cboe = _feeds(sim_yahoo, sim_cboe, client, clock, slice_, intervals=slow)
    r = runner_factory([yahoo, cboe], store)

    await r.until(lambda: _source(slice_, "^GSPC") == "cboe" and _source(slice_, "^DJI") == "cboe")
    # One request, one timeout: not three attempts of the same symbol before handing over.
    assert len(sim_yahoo.chart_requests()) == 1
    view = slice_.view()
    assert view.primary is not None and view.primary.state is FeedState.DOWN
    assert "not answering" in view.primary.reason  # said in words, not "first request"
    row = _rows(slice_)["^GSPC"]
    assert row.fallback and "not answering" in row.reason
    # Silver has no Cboe fallback and no value yet: an empty row with the reason.
    si = _rows(slice_)["SI=F"]
    assert si.quote is None and "not answering" in si.reason
