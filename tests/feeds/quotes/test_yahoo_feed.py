"""The Yahoo chart feed against the simulated Yahoo on 127.0.0.1 (reliability.md §8 H rows)."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import orjson

from feeds.core.clock import ManualClock
from feeds.model.core import FeedState, FeedStatus
from feeds.model.quotes import Quote, QuoteMiss
from feeds.quotes.yahoo import YahooChartFeed
from feeds.sim.http import HttpFault
from feeds.sim.yahoo import RawAnswer, SimYahoo
from tests.feeds.quotes.conftest import FAST, FAST_IV, Runner

SYMS = ("^RUT", "^GSPC", "SI=F")


def feed(
    sim: SimYahoo,
    client: httpx.AsyncClient,
    clock: ManualClock,
    symbols: tuple[str, ...] = SYMS,
    **kw: object,
) -> YahooChartFeed:
    return YahooChartFeed(
        sim.url,
        client=client,
        clock=clock,
        symbols=symbols,
        futures=("RTY=F", "ES=F"),
        intervals=FAST_IV,
        cookie_url=sim.cookie_url,
        timing=FAST,
        **kw,  # type: ignore[arg-type]
    )


def statuses(r: Runner) -> list[FeedStatus]:
    return [e for e in r.events if isinstance(e, FeedStatus)]


def quotes(r: Runner) -> list[Quote]:
    return [e for e in r.events if isinstance(e, Quote)]


def chart_times(sim: SimYahoo) -> list[float]:
    return [at for at, t in sim.server.log if "/v8/finance/chart/" in t]


async def test_quotes_flow_and_prices_move(
    sim_yahoo: SimYahoo,
    client: httpx.AsyncClient,
    clock: ManualClock,
    runner_factory: Callable[..., Runner],
) -> None:
    r = runner_factory([feed(sim_yahoo, client, clock)])
    await r.until(lambda: len(quotes(r)) >= 9)
    qs = quotes(r)
    assert {q.symbol for q in qs} == set(SYMS)
    rut = [q.price for q in qs if q.symbol == "^RUT"]
    assert len(set(rut)) > 1  # the simulated walk moves every poll
    assert all(q.price > 0 for q in qs)
    assert {q.is_future for q in qs if q.symbol == "SI=F"} == {True}
    # Single flight: polls never overlap, so requests are strictly sequential per cycle.
    assert statuses(r)[0].state is FeedState.CONNECTING
    assert statuses(r)[1].state is FeedState.LIVE


async def test_h4_retry_after_honoured_seconds_and_http_date(
    sim_yahoo: SimYahoo,
    client: httpx.AsyncClient,
    clock: ManualClock,
    runner_factory: Callable[..., Runner],
) -> None:
    f = feed(sim_yahoo, client, clock, symbols=("^GSPC",))
    r = runner_factory([f])
    await r.until(lambda: len(quotes(r)) >= 1)
    for value in (
        "1",
        email.utils.format_datetime(clock.now() + timedelta(seconds=1), usegmt=True),
    ):
        sim_yahoo.server.set_fault(HttpFault("status", status=429, retry_after=value, count=1))
        n = len(statuses(r))

        def limited_since(n: int = n) -> bool:
            return any(s.state is FeedState.RATE_LIMITED for s in statuses(r)[n:])

        await r.until(limited_since)
        limited = next(s for s in statuses(r)[n:] if s.state is FeedState.RATE_LIMITED)
        assert limited.retry_at is not None and limited.retry_at - limited.since >= 0.99
        t429 = chart_times(sim_yahoo)[-1]
        seen = len(quotes(r))

        def more(seen: int = seen) -> bool:
            return len(quotes(r)) > seen

        await r.until(more, timeout=4)
        after = [t for t in chart_times(sim_yahoo) if t > t429]
        assert after and min(after) - t429 >= 1.0, "a request arrived inside Retry-After"


async def test_h5_absurd_retry_after_is_capped(
    sim_yahoo: SimYahoo,
    client: httpx.AsyncClient,
    clock: ManualClock,
    runner_factory: Callable[..., Runner],
) -> None:
    from dataclasses import replace

    f = feed(sim_yahoo, client, clock, symbols=("^GSPC",))
    f.timing = replace(FAST, retry_after_cap=0.3)
    sim_yahoo.server.set_fault(HttpFault("status", status=429, retry_after="86400", count=1))
    r = runner_factory([f])
    await r.until(lambda: len(quotes(r)) >= 1, timeout=3)
    st = next(s for s in statuses(r) if s.state is FeedState.RATE_LIMITED)
    assert st.retry_at is not None and st.retry_at - st.since <= 0.31


async def test_h7_invalid_crumb_refreshes_cookie_and_crumb_once(
    sim_yahoo: SimYahoo,
    client: httpx.AsyncClient,
    clock: ManualClock,
    runner_factory: Callable[..., Runner],
) -> None:
    sim_yahoo.require_crumb = True
    f = feed(sim_yahoo, client, clock)
    r = runner_factory([f])
    await r.until(lambda: len(quotes(r)) >= 3)
    log = [t for _, t in sim_yahoo.server.log]
    assert sum("/v1/test/getcrumb" in t for t in log) == 1
    assert sum(t.startswith("/fc") for t in log) == 1
    assert f.crumb == sim_yahoo.crumb
    # A rotated crumb: one more refresh, then quotes again.
    sim_yahoo.rotate_crumb()
    n = len(quotes(r))
    await r.until(lambda: len(quotes(r)) >= n + 3)
    assert f.crumb_refreshes == 2


async def test_h7_still_401_is_degraded_with_at_most_three_requests(
    sim_yahoo: SimYahoo,
    client: httpx.AsyncClient,
    clock: ManualClock,
    runner_factory: Callable[..., Runner],
) -> None:
    sim_yahoo.always_401 = True
    start = time.monotonic()
    r = runner_factory([feed(sim_yahoo, client, clock)])
    await r.until(lambda: any(s.state is FeedState.DEGRADED for s in statuses(r)))
    st = next(s for s in statuses(r) if s.state is FeedState.DEGRADED)
    assert "Invalid Crumb" in st.reason
    first_cycle = [t for at, t in sim_yahoo.server.requests_since(start) if not t.startswith("/fc")]
    # chart (401), getcrumb, chart again (401): then the cycle stops; no other symbol asked.
    paths = [t.split("?")[0] for t in first_cycle]
    rut = "/v8/finance/chart/%5ERUT"
    assert paths[:3] == [rut, "/v1/test/getcrumb", rut]
    assert "crumb=simCrumb0" in first_cycle[2]
    # The next request, if any, is the next cycle starting over, not another symbol.
    assert paths[3:4] in ([], [rut])
    assert not quotes(r)


async def test_h8_html_page_is_degraded_and_recovers(
    sim_yahoo: SimYahoo,
    client: httpx.AsyncClient,
    clock: ManualClock,
    runner_factory: Callable[..., Runner],
) -> None:
    sim_yahoo.server.set_fault(HttpFault("html"))
    r = runner_factory([feed(sim_yahoo, client, clock)])
    await r.until(lambda: any(s.state is FeedState.DEGRADED for s in statuses(r)))
    st = next(s for s in statuses(r) if s.state is FeedState.DEGRADED)
    assert "HTML" in st.reason
    assert not quotes(r)
    sim_yahoo.server.set_fault(None)
    await r.until(lambda: len(quotes(r)) >= 3)
    assert statuses(r)[-1].state is FeedState.LIVE


async def test_h9_truncated_body_is_handled(
    sim_yahoo: SimYahoo,
    client: httpx.AsyncClient,
    clock: ManualClock,
    runner_factory: Callable[..., Runner],
) -> None:
    sim_yahoo.truncate_next = 3  # every attempt of the first request is cut short
    r = runner_factory([feed(sim_yahoo, client, clock)])
    await r.until(lambda: len(statuses(r)) >= 2)
    st = statuses(r)[1]
    assert st.state is not FeedState.LIVE and "dropped" in st.reason
    await r.until(lambda: len(quotes(r)) >= 3)


async def test_h10_50mb_body_read_aborted_at_cap(
    sim_yahoo: SimYahoo,
    client: httpx.AsyncClient,
    clock: ManualClock,
    runner_factory: Callable[..., Runner],
) -> None:
    sim_yahoo.server.set_fault(HttpFault("huge", size=50_000_000))
    r = runner_factory([feed(sim_yahoo, client, clock, symbols=("^GSPC",))])
    await r.until(lambda: any(s.state is FeedState.DEGRADED for s in statuses(r)), timeout=8)
    st = next(s for s in statuses(r) if s.state is FeedState.DEGRADED)
    assert "larger than 5 MB" in st.reason


async def test_h14_null_result_for_one_symbol_keeps_the_others(
    sim_yahoo: SimYahoo,
    client: httpx.AsyncClient,
    clock: ManualClock,
    runner_factory: Callable[..., Runner],
) -> None:
    body = {
        "chart": {"result": None, "error": {"code": "Not Found", "description": "No data found"}}
    }
    sim_yahoo.raw["SI=F"] = RawAnswer(404, orjson.dumps(body))
    r = runner_factory([feed(sim_yahoo, client, clock)])
    await r.until(lambda: any(isinstance(e, QuoteMiss) for e in r.events))
    miss = next(e for e in r.events if isinstance(e, QuoteMiss))
    assert miss.symbol == "SI=F" and "No data found" in miss.reason
    await r.until(lambda: len(quotes(r)) >= 2)
    assert {q.symbol for q in quotes(r)} == {"^RUT", "^GSPC"}
    assert statuses(r)[-1].state is FeedState.LIVE


async def test_futures_polled_only_while_cash_closed(
    sim_yahoo: SimYahoo,
    client: httpx.AsyncClient,
    runner_factory: Callable[..., Runner],
) -> None:
    clock = ManualClock(datetime(2025, 12, 12, 21, 30, tzinfo=UTC))  # Friday 16:30 ET: post
    f = feed(sim_yahoo, client, clock, symbols=("^GSPC",))
    assert f.symbols_now() == ("^GSPC", "RTY=F", "ES=F")
    r = runner_factory([f])
    await r.until(lambda: {q.symbol for q in quotes(r)} >= {"RTY=F", "ES=F"})
    assert all(q.is_future for q in quotes(r) if q.symbol.endswith("=F"))
    clock.jump_wall(-7 * 3600)  # back to 09:30 ET, session open
    assert f.symbols_now() == ("^GSPC",)
    off = feed(sim_yahoo, client, clock, symbols=("^GSPC",), show_futures_when_closed=False)
    clock.jump_wall(7 * 3600)
    assert off.symbols_now() == ("^GSPC",)


def test_interval_adapts_to_session_and_backs_off(client: httpx.AsyncClient) -> None:
    import random

    clock = ManualClock(datetime(2025, 12, 12, 15, 0, tzinfo=UTC))
    f = YahooChartFeed(
        "http://127.0.0.1:9", client=client, clock=clock, symbols=("^GSPC",), rng=random.Random(1)
    )
    assert f.interval() == 15.0
    clock.jump_wall(6.5 * 3600)  # 16:30 ET post
    assert f.interval() == 60.0
    clock.jump_wall(24 * 3600)  # Saturday
    assert f.interval() == 300.0
    clock.jump_wall(-24 * 3600 - 6.5 * 3600)  # back in session, failing
    f.failures = 1
    waits = {f.interval() for _ in range(20)}
    assert all(15.0 <= w <= 30.0 for w in waits) and len(waits) > 1  # jittered
    f.failures = 10
    assert all(300.0 <= f.interval() <= 600.0 for _ in range(20))  # capped
