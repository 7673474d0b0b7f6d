"""The target range: NY Fed EFFR parsing, the FRED fallback, and the feed on loopback."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from feeds.core.clock import DEMO_START, ManualClock
from feeds.core.poll import FetchError, PollTiming, make_client
from feeds.model.core import BadMessage
from feeds.model.fed import TargetRange
from feeds.rates.effr import FedTargetFeed, parse_effr, parse_fred_range
from feeds.sim.fed_rates import fed_rates_fred_series, register_effr_routes
from feeds.sim.fred import register_fred_routes
from feeds.sim.http import HttpFault, SimHttpServer

DATA = Path(__file__).parents[2] / "data" / "fed_odds"


def test_effr_payload_gives_the_target_range() -> None:
    got = parse_effr(json.loads((DATA / "nyfed_effr_last1.json").read_text()), 7.0)
    assert got == TargetRange(
        "fed_target",
        "nyfed",
        Decimal("3.5"),
        Decimal("3.75"),
        Decimal("3.64"),
        date(2025, 12, 11),
        7.0,
    )


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"refRates": []},
        {"refRates": [{"effectiveDate": "2025-12-11", "type": "EFFR", "targetRateFrom": 3.5}]},
        {"refRates": [{"effectiveDate": "x", "targetRateFrom": 3.5, "targetRateTo": 3.75}]},
        {
            "refRates": [
                {"effectiveDate": "2025-12-11", "targetRateFrom": 3.75, "targetRateTo": 3.5}
            ]
        },
        {"refRates": [{"effectiveDate": "2025-12-11", "targetRateFrom": "NaN", "targetRateTo": 3}]},
        [1, 2],
    ],
)
def test_bad_effr_payloads_are_bad_messages(payload: object) -> None:
    assert isinstance(parse_effr(payload, 1.0), BadMessage)


def test_newest_row_wins_and_other_rate_types_are_skipped() -> None:
    payload = {
        "refRates": [
            {
                "effectiveDate": "2025-12-10",
                "type": "EFFR",
                "targetRateFrom": 3.75,
                "targetRateTo": 4.0,
            },
            {"effectiveDate": "2025-12-12", "type": "OBFR", "targetRateFrom": 1, "targetRateTo": 2},
            {
                "effectiveDate": "2025-12-11",
                "type": "EFFR",
                "targetRateFrom": 3.5,
                "targetRateTo": 3.75,
            },
        ]
    }
    got = parse_effr(payload, 1.0)
    assert isinstance(got, TargetRange) and got.upper == Decimal("3.75") and got.effr is None


def test_fred_csvs_give_the_target_range() -> None:
    got = parse_fred_range(
        (DATA / "fred_dfedtarl.csv").read_text(), (DATA / "fred_dfedtaru.csv").read_text(), 2.0
    )
    assert isinstance(got, TargetRange)
    assert (got.origin, got.lower, got.upper, got.as_of) == (
        "fred",
        Decimal("3.5"),
        Decimal("3.75"),
        date(2025, 12, 11),
    )
    bad = parse_fred_range("<html>", (DATA / "fred_dfedtaru.csv").read_text(), 2.0)
    assert isinstance(bad, BadMessage)


async def _servers(clock: ManualClock) -> tuple[SimHttpServer, SimHttpServer]:
    ny = SimHttpServer("nyfed")
    register_effr_routes(ny, clock)
    await ny.start(0)
    fred = SimHttpServer("fred")
    register_fred_routes(fred, fed_rates_fred_series(clock))
    await fred.start(0)
    return ny, fred


async def test_feed_reads_nyfed_and_never_touches_fred_when_it_answers() -> None:
    clock = ManualClock(DEMO_START)
    ny, fred = await _servers(clock)
    try:
        async with make_client() as client:
            feed = FedTargetFeed(ny.url, fred.url, client=client, clock=clock)
            (got,) = await feed.poll()
    finally:
        await ny.stop()
        await fred.stop()
    assert isinstance(got, TargetRange) and got.origin == "nyfed"
    assert (got.lower, got.upper, got.as_of) == (
        Decimal("3.5"),
        Decimal("3.75"),
        date(2025, 12, 11),
    )
    assert [t for _, t in ny.log] == ["/api/rates/unsecured/effr/last/1.json"]
    assert not fred.log


@pytest.mark.parametrize("fault", [HttpFault("status", status=500), HttpFault("html")])
async def test_feed_falls_back_to_fred(fault: HttpFault) -> None:
    clock = ManualClock(DEMO_START)
    ny, fred = await _servers(clock)
    ny.set_fault(fault)
    try:
        async with make_client() as client:
            feed = FedTargetFeed(
                ny.url, fred.url, client=client, clock=clock, timing=PollTiming(attempts=1)
            )
            produced = await feed.poll()
    finally:
        await ny.stop()
        await fred.stop()
    bad, got = produced
    assert isinstance(bad, BadMessage) and bad.reason.startswith("NY Fed")
    assert isinstance(got, TargetRange) and got.origin == "fred"
    assert (got.lower, got.upper, got.as_of) == (
        Decimal("3.5"),
        Decimal("3.75"),
        date(2025, 12, 11),
    )
    assert sorted(t.split("&")[0] for _, t in fred.log) == [
        "/graph/fredgraph.csv?id=DFEDTARL",
        "/graph/fredgraph.csv?id=DFEDTARU",
    ]


async def test_feed_raises_the_nyfed_error_when_both_fail() -> None:
    clock = ManualClock(DEMO_START)
    ny, fred = await _servers(clock)
    ny.set_fault(HttpFault("status", status=502))
    fred.set_fault(HttpFault("status", status=503))
    try:
        async with make_client() as client:
            feed = FedTargetFeed(
                ny.url, fred.url, client=client, clock=clock, timing=PollTiming(attempts=1)
            )
            with pytest.raises(FetchError, match="HTTP 502"):
                await feed.poll()
    finally:
        await ny.stop()
        await fred.stop()
