"""End to end on loopback: the simulated Dec 12, 2025 through the real feeds and the
slice (tests/tui/test_snapshot_json.py encodes the same run); plus the settings'
validation."""

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
from feeds.tbills.state import TbillsSlice


def test_settings_validation() -> None:
    s = TbillsSettings()
    assert s.start_date.isoformat() == "2025-12-12"
    for bad in (
        {"program_start": "12/12/2025"},
        {"last_n": 0},
        {"liquidity_series": ("WALCL",)},
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


async def run_demo_day() -> tuple[TbillsSlice, ManualClock]:
    """The feeds against the simulated Dec 12, 2025 until each has answered."""
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
    return slice_, clock


async def test_demo_day_end_to_end() -> None:
    slice_, _ = await run_demo_day()
    v = slice_.view()
    (today,) = v.today_ops
    assert today.operation.accepted == 8_200_000_000
    assert today.operation.submitted is not None
    assert today.operation.submitted > 3 * today.operation.accepted
    assert today.status.value == "RESULTS" and len(today.operation.details) == 4
    assert v.tally.total == 8_200_000_000 and v.tally.period_accepted == 8_200_000_000
    assert v.next_operation is not None and v.next_operation.operation_date.isoformat() == (
        "2025-12-15"
    )
    assert v.schedule is not None and len(v.schedule.operations) == 11
    assert {r.series_id for r in v.liquidity} == {"WRESBAL", "RRPONTSYD", "WTREGEN"}
    assert not v.ops_stale
    assert {o.kind.value for o in v.recent} == {"BILL", "COUPON"}
