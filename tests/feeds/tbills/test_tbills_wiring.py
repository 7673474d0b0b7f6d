"""End to end on loopback: the simulated Dec 12, 2025 through the real feeds, the slice
and the ``snapshot --json`` section; plus the settings' validation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from feeds.core.clock import DEMO_START, ManualClock
from feeds.core.poll import PolledFeed, PollTiming, make_client
from feeds.model.tbills import FredSeries, SchedulePage, TsyOperations
from feeds.sim.fred import fred_liquidity_series, register_fred_routes
from feeds.sim.http import SimHttpServer
from feeds.sim.nyfed_tsy import register_tsy_routes
from feeds.sim.nyfed_web import register_schedule_routes
from feeds.tbills.factory import build_tbills_feeds, make_tbills_slice
from feeds.tbills.fred import FredSeriesFeed
from feeds.tbills.nyfed import NyFedTsyFeed
from feeds.tbills.schedule import NyFedScheduleFeed
from feeds.tbills.settings import TbillsSettings
from tui.snapshot_json import tbills_snapshot_json


def test_settings_validation() -> None:
    s = TbillsSettings()
    assert s.start_date.isoformat() == "2025-12-12"
    for bad in (
        {"program_start": "12/12/2025"},
        {"last_n": 0},
        {"active_poll_s": 1.0},
        {"liquidity_series": ("WALCL",)},
        {"request_spacing_s": -1.0},
    ):
        with pytest.raises(ValueError):
            TbillsSettings(**bad)


def test_feed_factory_respects_settings() -> None:
    clock = ManualClock()
    client = make_client()
    feeds = build_tbills_feeds(TbillsSettings(), "http://a", "http://b", "http://c", client, clock)
    assert [type(f) for f in feeds] == [NyFedTsyFeed, NyFedScheduleFeed, FredSeriesFeed]
    off = build_tbills_feeds(
        TbillsSettings(show_liquidity=False), "http://a", "http://b", "http://c", client, clock
    )
    assert [type(f) for f in off] == [NyFedTsyFeed, NyFedScheduleFeed]
    assert build_tbills_feeds(TbillsSettings(enabled=False), "a", "b", "c", client, clock) == []


async def test_demo_day_end_to_end_snapshot_json() -> None:
    # A few minutes after the demo starts: the $8.2 bn operation has closed (10:30 ET)
    # and its results are out (10:31 ET).
    clock = ManualClock(DEMO_START.replace(minute=32), mono=5000.0)
    assert clock.now() == datetime(2025, 12, 12, 15, 32, tzinfo=UTC)
    api, web, fred = SimHttpServer("nyfed"), SimHttpServer("nyfed_web"), SimHttpServer("fred")
    ctl = register_tsy_routes(api, clock)
    register_schedule_routes(web, clock, ctl.ops)
    register_fred_routes(fred, fred_liquidity_series(clock))
    for server in (api, web, fred):
        await server.start(0)
    settings = TbillsSettings(request_spacing_s=0.0)
    client = make_client(timing=PollTiming(deadline=2.0, attempts=1))
    feeds = build_tbills_feeds(settings, api.url, web.url, fred.url, client, clock)
    slice_ = make_tbills_slice(settings, clock)
    seen: set[type] = set()

    async def drain(feed: PolledFeed, want: type, count: int) -> None:
        n = 0
        async for event in feed.events():
            slice_.apply(event)
            if isinstance(event, want):
                n += 1
                seen.add(want)
                if n >= count:
                    return

    try:
        async with asyncio.timeout(8):
            await asyncio.gather(
                drain(feeds[0], TsyOperations, 4),  # backfill, recent, today, details
                drain(feeds[1], SchedulePage, 1),
                drain(feeds[2], FredSeries, 3),
            )
    finally:
        for feed in feeds:
            await feed.aclose()
        await client.aclose()
        for server in (api, web, fred):
            await server.stop()
    assert seen == {TsyOperations, SchedulePage, FredSeries}
    doc = tbills_snapshot_json(slice_, clock.monotonic())
    (today,) = doc["today_operations"]
    assert today["accepted_usd"] == "8200000000"
    assert int(today["submitted_usd"]) > 3 * int(today["accepted_usd"])
    assert today["phase"] == "RESULTS" and today["kind"] == "BILL"
    assert today["window_et"] == "10:10-10:30 ET"
    assert len(today["details"]) == 4
    assert doc["tally"]["period"] == {
        "start": "2025-12-12",
        "end": "2026-01-14",
        "planned_usd": "40000000000",
        "accepted_usd": "8200000000",
    }
    assert doc["tally"]["total_usd"] == "8200000000"
    assert doc["next_operation"]["date"] == "2025-12-15"
    assert doc["next_operation"]["window_start"] == "2025-12-15T15:10:00Z"
    assert doc["schedule"]["available"] is True
    assert len(doc["schedule"]["operations"]) == 11
    assert doc["next_schedule_due"] == "2026-01-14"
    assert {r["series"] for r in doc["liquidity"]} == {"WRESBAL", "RRPONTSYD", "WTREGEN"}
    assert not doc["stale"]
    kinds = {r["kind"] for r in doc["recent"]}
    assert kinds == {"BILL", "COUPON"}
