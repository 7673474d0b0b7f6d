"""Polymarket Gamma fed-rates events (including D11 junk) and the feed on loopback."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from feeds.core.clock import DEMO_START, ManualClock
from feeds.core.poll import PollTiming, make_client
from feeds.model.core import BadMessage, Ignored
from feeds.model.fed import MeetingOdds, Move
from feeds.rates.calendar import load_calendar
from feeds.rates.odds_checks import MarketChecks
from feeds.rates.polymarket import PolymarketFedFeed, bucket, parse_event, parse_events
from feeds.sim.polymarket import start_sim_polymarket

DATA = Path(__file__).parents[2] / "data" / "fed_odds"
CAL = load_calendar()
CHECKS = MarketChecks()


def _events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads((DATA / "polymarket_events.json").read_text())
    return events


def _jan() -> dict[str, Any]:
    return copy.deepcopy(_events()[0])


def _odds(event: object) -> MeetingOdds:
    got = parse_event(event, CAL, CHECKS, 3.0)
    assert isinstance(got, MeetingOdds), got
    return got


@pytest.mark.parametrize(
    ("label", "move"),
    [
        ("50+ bps decrease", Move.CUT_BIG),
        ("25 bps decrease", Move.CUT),
        ("No change", Move.HOLD),
        ("25+ bps increase", Move.HIKE),
        ("50+ bps increase", Move.HIKE_BIG),
        ("3 (75 bps)", None),
    ],
)
def test_group_item_titles_map_to_buckets(label: str, move: Move | None) -> None:
    assert bucket(label) is move


def test_events_parse_and_non_decision_events_are_ignored() -> None:
    parsed = parse_events(_events(), CAL, CHECKS, 3.0)
    odds = [p for p in parsed if isinstance(p, MeetingOdds)]
    assert [o.meeting for o in odds] == [date(2026, 1, 28), date(2026, 3, 18), date(2026, 4, 29)]
    assert isinstance(parsed[-1], Ignored)
    jan = odds[0]
    assert jan.usable and jan.source == "polymarket"
    assert sum(o.prob for o in jan.outcomes) == pytest.approx(1.0)
    assert 0.2 < jan.p_cut < 0.3
    assert jan.event == "fed-decision-in-january-2026"


def test_outcome_prices_are_decoded_from_a_json_string_without_best_quotes() -> None:
    ev = _jan()
    for m in ev["markets"]:
        m.pop("bestBid")
        m.pop("bestAsk")
    odds = _odds(ev)
    assert odds.usable
    hold = next(o for o in odds.outcomes if o.move is Move.HOLD)
    assert hold.mid == hold.last and hold.last is not None and hold.bid is None


@pytest.mark.parametrize(
    ("prices", "why"),
    [
        ('["0.2", "0.8"', "not decodable"),
        ("not json", "not decodable"),
        ('["1.7", "-0.7"]', "out of range"),
        ('["-0.1", "1.1"]', "out of range"),
        ("[]", "not a list"),
    ],
)
def test_d11_bad_outcome_prices_exclude_the_meeting(prices: str, why: str) -> None:
    ev = _jan()
    ev["markets"][1]["outcomePrices"] = prices
    ev["markets"][1].pop("bestBid")
    ev["markets"][1].pop("bestAsk")
    odds = _odds(ev)
    assert not odds.usable
    assert any(why in f for f in odds.flags)
    assert odds.p_cut == 0.0


@pytest.mark.parametrize("scale", [0.4, 1.6])
def test_d11_sums_far_from_one_are_excluded(scale: float) -> None:
    ev = _jan()
    for m in ev["markets"]:
        p = float(json.loads(m["outcomePrices"])[0]) * scale
        m["outcomePrices"] = json.dumps([f"{min(p, 1.0):.3f}", "0"])
        m.pop("bestBid")
        m.pop("bestAsk")
    odds = _odds(ev)
    assert not odds.usable and any("sum to" in f for f in odds.flags)


def test_event_for_no_meeting_and_bad_shapes() -> None:
    ev = _jan()
    ev["endDate"] = "2026-02-15T00:00:00Z"
    got = parse_event(ev, CAL, CHECKS, 1.0)
    assert isinstance(got, BadMessage) and "no FOMC meeting near" in got.reason
    ev = _jan()
    ev["endDate"] = None
    assert isinstance(parse_event(ev, CAL, CHECKS, 1.0), BadMessage)
    assert isinstance(parse_event("x", CAL, CHECKS, 1.0), BadMessage)
    assert parse_events({"error": "x"}, CAL, CHECKS, 1.0)[0] == BadMessage(
        "polymarket", "events answer is not a list"
    )
    ev = _jan()
    ev["title"] = "\x1b]0;PWNED\x07Fed"
    ev["slug"] = "fed\x1b[31m-decision"
    assert _odds(ev).event == "fed-decision"


async def test_feed_reads_the_fed_rates_tag_on_loopback() -> None:
    clock = ManualClock(DEMO_START)
    sim = await start_sim_polymarket(clock)
    sim.overrides["600011"] = {"outcomePrices": '["0.3"'}  # Mar, 25 bps decrease
    try:
        async with make_client() as client:
            feed = PolymarketFedFeed(
                sim.url,
                client=client,
                clock=clock,
                meetings=CAL,
                timing=PollTiming(deadline=2.0, attempts=1),
            )
            produced = list(await feed.poll())
    finally:
        await sim.server.stop()
    odds = {o.meeting: o for o in produced if isinstance(o, MeetingOdds)}
    assert len(odds) == 5
    assert odds[date(2026, 1, 28)].usable
    assert not odds[date(2026, 3, 18)].usable
    (target,) = [t for _, t in sim.server.log]
    assert target.startswith("/events?") and "tag_slug=fed-rates" in target
    assert "closed=false" in target
