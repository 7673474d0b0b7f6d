"""The Yahoo ZQ probe: the chart parser, and degradation when contracts are not found."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from datetime import date
from decimal import Decimal
from pathlib import Path

import orjson

from feeds.core.clock import DEMO_START, ManualClock
from feeds.core.poll import PollTiming, make_client
from feeds.model.core import BadMessage, FeedState, FeedStatus
from feeds.model.fed import ZqProbe, ZqQuote
from feeds.rates.zq import YahooZqFeed, months_needed, parse_chart_price
from feeds.sim.http import SimHttpServer, SimRequest, SimResponse, json_response

DATA = Path(__file__).parents[2] / "data" / "fed_odds"
NOT_FOUND = (DATA / "yahoo_chart_not_found.json").read_bytes()


def test_chart_meta_price_is_read() -> None:
    payload = json.loads((DATA / "yahoo_chart_zqf26.json").read_text())
    assert parse_chart_price(payload, "ZQF26.CBT") == Decimal("96.365")


def test_not_found_and_junk_prices_are_bad_messages() -> None:
    got = parse_chart_price(json.loads(NOT_FOUND), "ZQF26.CBT")
    assert isinstance(got, BadMessage) and "No data found" in got.reason
    for price in (9636.5, 0, -96.3, "96.3", None):
        payload = {"chart": {"result": [{"meta": {"regularMarketPrice": price}}], "error": None}}
        assert isinstance(parse_chart_price(payload, "ZQF26.CBT"), BadMessage), price
    assert isinstance(parse_chart_price({"chart": {"result": []}}, "X"), BadMessage)


def test_months_needed_span_the_meetings() -> None:
    got = months_needed(date(2025, 12, 12), date(2026, 4, 29))
    assert got[0] == date(2025, 11, 1) and got[-1] == date(2026, 5, 1)
    assert len(got) == 7
    assert months_needed(date(2025, 12, 12), None) == ()


async def _yahoo(prices: dict[str, float]) -> SimHttpServer:
    server = SimHttpServer("yahoo")

    async def chart(req: SimRequest) -> SimResponse:
        sym = req.path.rsplit("/", 1)[-1]
        if sym not in prices:
            return json_response(NOT_FOUND, 404)
        meta = {"symbol": sym, "instrumentType": "FUTURE", "regularMarketPrice": prices[sym]}
        return json_response(orjson.dumps({"chart": {"result": [{"meta": meta}], "error": None}}))

    server.route(r"/v8/finance/chart/[^/]+", chart)
    await server.start(0)
    return server


async def test_probe_reports_found_and_missing_months() -> None:
    clock = ManualClock(DEMO_START)
    yahoo = await _yahoo({"ZQF26.CBT": 96.365, "ZQG26.CBT": 96.42})
    try:
        async with make_client() as client:
            feed = YahooZqFeed(
                yahoo.url,
                client=client,
                clock=clock,
                last_meeting=lambda: date(2026, 1, 28),
                spacing=0.0,
            )
            produced = await feed.poll()
    finally:
        await yahoo.stop()
    quotes = [e for e in produced if isinstance(e, ZqQuote)]
    assert [(q.symbol, q.month, q.price) for q in quotes] == [
        ("ZQF26.CBT", date(2026, 1, 1), Decimal("96.365")),
        ("ZQG26.CBT", date(2026, 2, 1), Decimal("96.42")),
    ]
    probe = produced[-1]
    assert isinstance(probe, ZqProbe) and probe.missing == ("ZQX25.CBT", "ZQZ25.CBT")
    assert [t.split("?")[0] for _, t in yahoo.log] == [
        "/v8/finance/chart/ZQX25.CBT",
        "/v8/finance/chart/ZQZ25.CBT",
        "/v8/finance/chart/ZQF26.CBT",
        "/v8/finance/chart/ZQG26.CBT",
    ]
    assert feed.interval() == feed.every


async def test_all_months_not_found_degrades_visibly_and_slows_down() -> None:
    clock = ManualClock(DEMO_START)
    yahoo = await _yahoo({})
    try:
        async with make_client() as client:
            feed = YahooZqFeed(
                yahoo.url,
                client=client,
                clock=clock,
                last_meeting=lambda: date(2026, 3, 18),
                spacing=0.0,
                timing=PollTiming(attempts=1),
            )
            events = feed.events()
            assert isinstance(events, AsyncGenerator)
            statuses = [await anext(events), await anext(events)]
            await feed.aclose()
            await events.aclose()
    finally:
        await yahoo.stop()
    degraded = statuses[1]
    assert isinstance(degraded, FeedStatus) and degraded.state is FeedState.DEGRADED
    assert "no per-month ZQ contract on Yahoo (0/6" in degraded.reason
    assert feed.interval() == feed.missing_every
