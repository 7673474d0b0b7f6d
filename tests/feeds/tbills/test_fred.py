"""FRED keyless CSV: both header forms, missing values, refusals, and the feed on loopback."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from feeds.core.clock import ManualClock
from feeds.core.poll import PollTiming, make_client
from feeds.model.core import BadMessage, FeedState, FeedStatus
from feeds.model.tbills import FredSeries
from feeds.sim.fred import fred_liquidity_series, register_fred_routes
from feeds.sim.http import SimHttpServer
from feeds.tbills.fred import FredSeriesFeed, parse_fredgraph_csv

DATA = Path(__file__).parents[2] / "data" / "tbills"


def test_observation_date_header() -> None:
    rows = parse_fredgraph_csv((DATA / "fredgraph_wresbal.csv").read_text(), "WRESBAL")
    assert not isinstance(rows, BadMessage)
    assert rows[-1] == (date(2025, 12, 10), Decimal("2889455"))
    assert len(rows) == 4


def test_date_header_and_dot_is_missing() -> None:
    text = (DATA / "fredgraph_rrpontsyd_date_header.csv").read_text()
    rows = parse_fredgraph_csv(text, "RRPONTSYD")
    assert not isinstance(rows, BadMessage)
    assert [d for d, _ in rows] == [date(2025, 12, 8), date(2025, 12, 9), date(2025, 12, 11)]
    assert rows[-1][1] == Decimal("4.251")


def test_empty_field_is_missing_and_rows_sorted() -> None:
    text = "observation_date,DFF\n2025-12-11,3.64\n2025-12-10,\n2025-12-09,3.64\n"
    rows = parse_fredgraph_csv(text, "dff")
    assert rows == [(date(2025, 12, 9), Decimal("3.64")), (date(2025, 12, 11), Decimal("3.64"))]


def test_header_only_is_empty_not_bad() -> None:
    assert parse_fredgraph_csv("DATE,WTREGEN\n", "WTREGEN") == []


def test_refusals() -> None:
    cases = {
        "": "empty",
        "<!DOCTYPE html><html>Error</html>": "HTML",
        "DATE,WALCL\n2025-12-10,1\n": "WALCL",
        "when,WRESBAL\n2025-12-10,1\n": "header",
        "DATE,WRESBAL\n12/10/2025,1\n": "bad date",
        "DATE,WRESBAL\n2025-12-10,1e9\n": "bad value",
        "DATE,WRESBAL\n2025-12-10,NaN-ish\n": "bad value",
        "DATE,WRESBAL\n2025-12-10\n": "short row",
    }
    for text, word in cases.items():
        got = parse_fredgraph_csv(text, "WRESBAL")
        assert isinstance(got, BadMessage), text
        assert word in got.reason, (text, got.reason)


@given(st.text(max_size=300))
def test_parser_never_raises(text: str) -> None:
    got = parse_fredgraph_csv(text, "WRESBAL")
    assert isinstance(got, BadMessage | list)


async def test_feed_polls_each_series_against_sim() -> None:
    clock = ManualClock(datetime(2025, 12, 12, 15, 25, tzinfo=UTC))
    server = SimHttpServer("fred")
    register_fred_routes(server, fred_liquidity_series(clock))
    await server.start(0)
    client = make_client(timing=PollTiming(deadline=2.0, attempts=1))
    feed = FredSeriesFeed(
        server.url,
        ("WRESBAL", "RRPONTSYD", "NOPE"),
        client=client,
        clock=clock,
        every=60.0,
        spacing=0.0,
    )
    got: list[object] = []
    try:
        async with asyncio.timeout(5):
            async for event in feed.events():
                got.append(event)
                if sum(isinstance(e, FredSeries | BadMessage) for e in got) == 3:
                    break
    finally:
        await feed.aclose()
        await client.aclose()
        await server.stop()
    series = {e.series_id: e for e in got if isinstance(e, FredSeries)}
    assert set(series) == {"WRESBAL", "RRPONTSYD"}
    assert series["WRESBAL"].observations[-1][0] == date(2025, 12, 10)
    assert any(isinstance(e, FeedStatus) and e.state is FeedState.LIVE for e in got)
    targets = [t for _, t in server.log]
    assert len(targets) == 3
    assert all("cosd=2025-08-14" in t for t in targets)
