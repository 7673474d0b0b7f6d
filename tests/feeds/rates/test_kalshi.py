"""Kalshi KXFEDDECISION / KXFED parsing (including D11 junk) and the feed on loopback."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncGenerator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from feeds.core.clock import DEMO_START, ManualClock
from feeds.core.poll import PollTiming, make_client
from feeds.model.core import BadMessage, FeedState, FeedStatus, Ignored
from feeds.model.fed import MeetingOdds, Move, RateLadder
from feeds.rates.calendar import load_calendar
from feeds.rates.kalshi import KalshiFedFeed, parse_decision_event, parse_ladder_event
from feeds.rates.odds_checks import MarketChecks
from feeds.sim.kalshi import start_sim_kalshi

DATA = Path(__file__).parents[2] / "data" / "fed_odds"
CAL = load_calendar()
CHECKS = MarketChecks()


def _events(name: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads((DATA / name).read_text())["events"]
    return events


def _jan() -> dict[str, Any]:
    return copy.deepcopy(_events("kalshi_decision_events.json")[0])


def _market(event: dict[str, Any], suffix: str) -> dict[str, Any]:
    for m in event["markets"]:
        if m["ticker"].endswith("-" + suffix):
            return m  # type: ignore[no-any-return]
    raise KeyError(suffix)


def _odds(event: object) -> MeetingOdds:
    got = parse_decision_event(event, CAL, CHECKS, 5.0)
    assert isinstance(got, MeetingOdds), got
    return got


def test_decision_events_parse_to_normalised_odds() -> None:
    odds = [_odds(ev) for ev in _events("kalshi_decision_events.json")]
    assert [o.meeting for o in odds] == [date(2026, 1, 28), date(2026, 3, 18), date(2026, 4, 29)]
    jan = odds[0]
    assert jan.usable and jan.flags == ()
    assert [o.move for o in jan.outcomes] == list(Move)
    assert sum(o.prob for o in jan.outcomes) == pytest.approx(1.0)
    assert Decimal("1.0") < jan.raw_sum < Decimal("1.06")  # the overround
    c25 = next(o for o in jan.outcomes if o.move is Move.CUT)
    assert (c25.bid, c25.ask) == (Decimal("0.2200"), Decimal("0.2300"))
    assert c25.mid == Decimal("0.2250") and c25.spread == Decimal("0.0100")
    assert 0.2 < jan.p_cut < 0.27 and 0.72 < jan.p_hold < 0.8
    assert jan.expected_bp == pytest.approx(-6.0, abs=1.0)


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("yes_bid_dollars", "1.7000", "out of range"),
        ("yes_ask_dollars", "-0.1000", "out of range"),
        ("yes_bid_dollars", "NaN", "unreadable"),
        ("last_price_dollars", "0.5e1", "unreadable"),
    ],
)
def test_d11_price_junk_flags_the_market_and_leaves_the_headline(
    field: str, value: str, why: str
) -> None:
    ev = _jan()
    _market(ev, "C25")[field] = value
    odds = _odds(ev)
    assert not odds.usable
    assert any(f.startswith("EXCLUDED: C25") and why in f for f in odds.flags)
    assert odds.p_cut == 0.0 and odds.expected_bp == 0.0  # nothing leaks into sums


@pytest.mark.parametrize(("scale", "ok"), [(0.4, False), (1.6, False), (0.95, True), (1.1, True)])
def test_d11_outcome_sums_far_from_one_are_excluded(scale: float, ok: bool) -> None:
    ev = _jan()
    for m in ev["markets"]:
        for f in ("yes_bid_dollars", "yes_ask_dollars", "last_price_dollars"):
            m[f] = f"{min(1.0, float(m[f]) * scale / 1.02):.4f}"
    odds = _odds(ev)
    assert odds.usable is ok
    if ok:
        assert sum(o.prob for o in odds.outcomes) == pytest.approx(1.0)
    else:
        assert any("sum to" in f for f in odds.flags)


def test_d11_legacy_integer_cents_alone_are_resolved() -> None:
    ev = _jan()
    for m in ev["markets"]:
        for f, legacy in (
            ("yes_bid_dollars", "yes_bid"),
            ("yes_ask_dollars", "yes_ask"),
            ("last_price_dollars", "last_price"),
        ):
            m[legacy] = round(float(m.pop(f)) * 100)
    odds = _odds(ev)
    assert odds.usable
    c25 = next(o for o in odds.outcomes if o.move is Move.CUT)
    assert c25.bid == Decimal("0.22") and c25.ask == Decimal("0.23")


def test_d11_legacy_cents_agreeing_with_dollars_are_fine() -> None:
    ev = _jan()
    m = _market(ev, "H0")
    m["yes_bid"], m["yes_ask"], m["last_price"] = 77, 78, 78
    assert _odds(ev).usable


def test_d11_mixed_units_that_disagree_reject_the_market() -> None:
    ev = _jan()
    _market(ev, "H0")["yes_bid"] = 0.77  # dollars in a cents field, agreeing: resolved
    assert _odds(ev).usable
    ev = _jan()
    _market(ev, "H0")["yes_bid"] = 0.5  # a float that matches neither reading
    odds = _odds(ev)
    assert not odds.usable
    assert any("units unclear" in f for f in odds.flags)
    ev = _jan()
    _market(ev, "H0")["yes_bid"] = 12  # 12 cents vs 0.78 dollars
    odds = _odds(ev)
    assert not odds.usable
    assert any("units conflict" in f for f in odds.flags)


def test_wide_and_thin_markets_are_flagged_but_kept() -> None:
    ev = _jan()
    _market(ev, "H0").update(yes_bid_dollars="0.7200", yes_ask_dollars="0.8400")
    odds = _odds(ev)
    assert odds.usable and "WIDE" in odds.flags
    ev = _jan()
    for m in ev["markets"]:
        m["volume_fp"] = "10.00"
    assert "THIN" in _odds(ev).flags
    ev = _jan()
    _market(ev, "C25").update(yes_bid_dollars="0.0000", yes_ask_dollars="1.0000")
    odds = _odds(ev)  # no two-sided quote on an outcome that matters: last price, THIN
    assert odds.usable and "THIN" in odds.flags


def test_missing_meeting_and_bad_shapes() -> None:
    ev = _jan()
    ev["event_ticker"] = "KXFEDDECISION-26AUG"
    got = parse_decision_event(ev, CAL, CHECKS, 1.0)
    assert isinstance(got, BadMessage) and "no FOMC meeting in Aug 2026" in got.reason
    junk: object
    for junk in (
        None,
        [],
        {"event_ticker": 5},
        {"event_ticker": "KXFEDDECISION-26JAN", "markets": "none"},
    ):
        assert isinstance(parse_decision_event(junk, CAL, CHECKS, 1.0), BadMessage)
    ev = _jan()
    ev["markets"] = [m for m in ev["markets"] if m["ticker"].endswith("H0")]
    odds = _odds(ev)
    assert not odds.usable and "fewer than two" in odds.flags[-1]
    ev = _jan()
    for m in ev["markets"]:
        m["status"] = "finalized"
    assert isinstance(parse_decision_event(ev, CAL, CHECKS, 1.0), Ignored)


def test_ladder_gives_the_implied_upper_bound() -> None:
    ladders = [parse_ladder_event(ev, CAL, 2.0) for ev in _events("kalshi_ladder_events.json")]
    jan = ladders[0]
    assert isinstance(jan, RateLadder) and jan.usable
    assert jan.meeting == date(2026, 1, 28)
    above = [p for _, p in jan.strikes]
    assert above == sorted(above, reverse=True)
    upper, p = max(jan.distribution(), key=lambda kv: kv[1])
    assert upper == Decimal("3.75") and p > 0.7
    assert 3.65 < jan.expected_upper() < 3.75


def test_ladder_junk_is_excluded() -> None:
    ev = copy.deepcopy(_events("kalshi_ladder_events.json")[0])
    ev["markets"][3]["yes_ask_dollars"] = "1.7000"
    lad = parse_ladder_event(ev, CAL, 2.0)
    assert isinstance(lad, RateLadder) and not lad.usable
    ev = copy.deepcopy(_events("kalshi_ladder_events.json")[0])
    # a strike far above another with a much higher P(above) is not a ladder
    top = ev["markets"][-1]
    top.update(yes_bid_dollars="0.9000", yes_ask_dollars="0.9200")
    lad = parse_ladder_event(ev, CAL, 2.0)
    assert isinstance(lad, RateLadder) and not lad.usable


async def test_feed_polls_series_filtered_pages_on_loopback() -> None:
    clock = ManualClock(DEMO_START)
    sim = await start_sim_kalshi(clock)
    sim.page_size = 3  # eight meetings -> three pages per series
    sim.dropped.add("KXFEDDECISION-26APR")  # a missing meeting
    sim.overrides["KXFEDDECISION-26MAR-C25"] = {"yes_bid_dollars": "1.7000"}
    try:
        async with make_client() as client:
            feed = KalshiFedFeed(
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
    assert len(odds) == 7 and date(2026, 4, 29) not in odds
    assert not odds[date(2026, 3, 18)].usable
    assert odds[date(2026, 1, 28)].usable
    ladders = [e for e in produced if isinstance(e, RateLadder)]
    assert len(ladders) == 9  # the ladder for April is still listed; one far placeholder one
    assert [lad.usable for lad in ladders] == [True] * 8 + [False]
    assert "4 of 5 strikes are placeholders" in ladders[-1].reason
    targets = [t for _, t in sim.server.log]
    assert all(t.startswith("/trade-api/v2/events?") for t in targets)
    assert all("series_ticker=KX" in t and "with_nested_markets=true" in t for t in targets)
    assert sum("cursor=" in t for t in targets) == 4  # pages 2 and 3 of each series
    assert len(targets) == 6


async def test_feed_reports_down_when_refused() -> None:
    clock = ManualClock(DEMO_START)
    sim = await start_sim_kalshi(clock)
    url = sim.url
    await sim.server.stop()
    async with make_client() as client:
        feed = KalshiFedFeed(
            url, client=client, clock=clock, meetings=CAL, timing=PollTiming(attempts=1)
        )
        events = feed.events()
        assert isinstance(events, AsyncGenerator)
        first = await anext(events)
        second = await anext(events)
        await feed.aclose()
        await events.aclose()
    assert isinstance(first, FeedStatus) and first.state is FeedState.CONNECTING
    assert isinstance(second, FeedStatus) and second.state is FeedState.DOWN


@pytest.mark.parametrize(
    ("ticker", "decision_ok", "ladder_ok"),
    [
        ("KXFEDDECISION-26JAN", True, False),
        ("KXFED-26JAN", False, True),
        ("KXFEDFUNDSYEAR-26JAN", False, False),  # another Fed series shaped alike
        ("KXCPI-26JAN", False, False),
    ],
)
def test_an_event_is_read_only_by_its_own_series_parser(
    ticker: str, decision_ok: bool, ladder_ok: bool
) -> None:
    """The ticker's series decides which parser may read it: the month code alone would
    let any series shaped ``SERIES-26JAN`` pass as a meeting's odds (a real
    ``KXFEDFUNDSYEAR`` event is in tests/data/real/kalshi)."""
    decision, ladder = _jan(), copy.deepcopy(_events("kalshi_ladder_events.json")[0])
    decision["event_ticker"] = ladder["event_ticker"] = ticker
    got = parse_decision_event(decision, CAL, CHECKS, 1.0)
    assert isinstance(got, MeetingOdds) is decision_ok, got
    lad = parse_ladder_event(ladder, CAL, 1.0)
    assert isinstance(lad, RateLadder) is ladder_ok, lad
    if not decision_ok:
        assert isinstance(got, BadMessage) and "is not a KXFEDDECISION event" in got.reason
