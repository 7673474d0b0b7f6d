"""The NY Fed Treasury feed against the simulated API on loopback."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime

import pytest

from feeds.core.clock import ManualClock
from feeds.core.poll import PollTiming, make_client
from feeds.model.core import FeedState, FeedStatus
from feeds.model.tbills import OperationStatus, TsyOperations
from feeds.sim.http import HttpFault, SimHttpServer, SimRequest, SimResponse, json_response
from feeds.sim.nyfed_tsy import SimTsyControls, register_tsy_routes
from feeds.tbills.nyfed import NyFedTsyFeed

Setup = tuple[SimHttpServer, SimTsyControls, ManualClock]


@pytest.fixture
async def sim() -> AsyncIterator[Setup]:
    clock = ManualClock(datetime(2025, 12, 12, 15, 25, tzinfo=UTC))  # 10:25 ET
    server = SimHttpServer("nyfed")
    ctl = register_tsy_routes(server, clock)
    await server.start(0)
    yield server, ctl, clock
    await server.stop()


def make_feed(server: SimHttpServer, clock: ManualClock, spacing: float = 0.0) -> NyFedTsyFeed:
    client = make_client(timing=PollTiming(deadline=2.0, attempts=1))
    return NyFedTsyFeed(
        server.url,
        client=client,
        clock=clock,
        last_n=5,
        active_interval=0.02,
        idle_interval=0.02,
        spacing=spacing,
        timing=PollTiming(deadline=2.0, attempts=1),
    )


async def collect(feed: NyFedTsyFeed, until: Callable[[list[object]], bool]) -> list[object]:
    got: list[object] = []
    try:
        async with asyncio.timeout(5):
            async for event in feed.events():
                got.append(event)
                if until(got):
                    break
    finally:
        await feed.aclose()
        await feed.client.aclose()
    return got


def batches(got: list[object], channel: str) -> list[TsyOperations]:
    return [e for e in got if isinstance(e, TsyOperations) and e.channel == channel]


async def test_announced_then_results_with_details_once(sim: Setup) -> None:
    server, ctl, clock = sim
    feed = make_feed(server, clock)
    got = await collect(feed, lambda g: len(batches(g, "today")) >= 1)
    (today,) = batches(got, "today")
    assert [o.status for o in today.operations] == [OperationStatus.ANNOUNCED]
    assert today.operations[0].planned is not None
    assert all(
        o.operation_date < date(2025, 12, 12) for b in batches(got, "recent") for o in b.operations
    )

    clock.advance(7 * 60)  # 10:32 ET: results are out
    feed = make_feed(server, clock)
    got = await collect(feed, lambda g: len(batches(g, "recent")) >= 3)
    newest = batches(got, "recent")[-1].operations[0]
    assert newest.status is OperationStatus.RESULTS
    assert newest.accepted == 8_200_000_000
    assert newest.submitted is not None and newest.submitted > newest.accepted
    details = batches(got, "details")
    assert len(details) == 1 and len(details[0].operations[0].details) == 4
    assert ctl.details_calls == 1  # today's details fetched once, not every cycle


async def test_latest_is_not_called_at_a_weekend(sim: Setup) -> None:
    server, _, clock = sim
    clock.jump_wall(24 * 3600)  # Saturday Dec 13
    feed = make_feed(server, clock)
    got = await collect(feed, lambda g: len(batches(g, "recent")) >= 2)
    assert batches(got, "today") == []
    assert not any("latest" in t for _, t in server.log)
    assert batches(got, "recent")[0].operations[0].operation_date == date(2025, 12, 12)


async def test_requests_are_spaced(sim: Setup) -> None:
    server, _, clock = sim
    feed = make_feed(server, clock, spacing=0.05)
    await collect(feed, lambda g: len(batches(g, "today")) >= 1)
    times = [t for t, _ in server.log]
    assert len(times) >= 3
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.045


async def test_amounts_as_numbers_parse_the_same(sim: Setup) -> None:
    server, ctl, clock = sim
    ctl.amounts_as_numbers = True
    clock.advance(7 * 60)
    feed = make_feed(server, clock)
    got = await collect(feed, lambda g: len(batches(g, "recent")) >= 1)
    assert batches(got, "recent")[0].operations[0].accepted == 8_200_000_000


async def test_search_failure_falls_back_to_last_n(sim: Setup) -> None:
    server, _, clock = sim
    original = list(server.routes)

    async def refuse(req: SimRequest) -> SimResponse:
        return json_response(b'{"error":"bad date format"}', 400)

    server.routes.insert(0, (re.compile(r".*/search\.json"), refuse))
    feed = make_feed(server, clock)
    got = await collect(feed, lambda g: len(batches(g, "backfill")) >= 1)
    server.routes[:] = original
    assert batches(got, "backfill")[0].operations
    assert any("/last/" in t for _, t in server.log)


async def test_server_error_degrades_without_raising(sim: Setup) -> None:
    server, _, clock = sim
    server.set_fault(HttpFault("status", status=500))
    feed = make_feed(server, clock)
    got = await collect(
        feed, lambda g: any(isinstance(e, FeedStatus) and e.state is FeedState.DEGRADED for e in g)
    )
    assert not batches(got, "recent")
