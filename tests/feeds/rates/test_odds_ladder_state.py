"""The ``fed_odds`` slice with placeholder ladders (issue 19), one staleness threshold
shared with the health slice (issue 13), and the cross-check in full."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from feeds.core.clock import DEMO_START, ManualClock
from feeds.core.health import HealthSlice
from feeds.model.core import FeedState, FeedStatus
from feeds.model.fed import MeetingOdds, RateLadder, TargetRange
from feeds.rates.calendar import load_calendar
from feeds.rates.kalshi import parse_decision_event, parse_ladder_event
from feeds.rates.odds_checks import MarketChecks
from feeds.rates.polymarket import parse_events
from feeds.rates.state import FedOddsSlice, stale_threshold
from feeds.sim.http import SimHttpServer
from feeds.sim.kalshi import SimKalshi
from feeds.sim.polymarket import SimPolymarket

CAL = load_calendar()
CHECKS = MarketChecks()
DATA = Path(__file__).parents[2] / "data" / "fed_odds"
OCT_2026 = datetime(2026, 10, 14, 13, 5, tzinfo=UTC)
APR_2027 = date(2027, 4, 28)


def _target(clock: ManualClock) -> TargetRange:
    return TargetRange(
        "fed_target",
        "nyfed",
        Decimal("3.50"),
        Decimal("3.75"),
        Decimal("3.64"),
        clock.now().date(),
        clock.monotonic(),
    )


def _decisions(clock: ManualClock, sim: SimKalshi | None = None) -> list[object]:
    sim = sim or SimKalshi(SimHttpServer("k"), clock)
    return [parse_decision_event(e, CAL, CHECKS, clock.monotonic()) for e in sim.decision_events()]


def _ladders(clock: ManualClock, sim: SimKalshi) -> list[object]:
    return [parse_ladder_event(e, CAL, clock.monotonic(), CHECKS) for e in sim.ladder_events()]


def _slice(clock: ManualClock, events: list[object], **kw: Any) -> FedOddsSlice:
    s = FedOddsSlice(calendar=CAL, clock=clock, shown=8, **kw)
    for e in events:
        s.apply(e)
    return s


def test_issue19_placeholder_page_moves_neither_likely_range_nor_cuts_priced() -> None:
    """On the page modelled on issue 19 (see test_kalshi_ladder: not a recording)."""
    clock = ManualClock(OCT_2026)
    page = json.loads((DATA / "kalshi_ladder_placeholders.json").read_text())["events"]
    ladders = [parse_ladder_event(e, CAL, clock.monotonic(), CHECKS) for e in page]
    base = [_target(clock), *_decisions(clock)]
    with_page = _slice(clock, [*base, *ladders]).view()
    without = _slice(clock, base).view()
    apr = next(r for r in with_page.rows if r.meeting.decision == APR_2027)
    apr0 = next(r for r in without.rows if r.meeting.decision == APR_2027)
    assert apr.likely_method == "tree"
    assert (apr.likely_lower, apr.likely_upper, apr.likely_p) == (
        apr0.likely_lower,
        apr0.likely_upper,
        apr0.likely_p,
    )
    assert apr.likely_upper is not None and apr.likely_upper < Decimal("4.00")  # not 6.25
    assert apr.ladder_note == (
        "ladder not used (THIN: 4 of 5 strikes are placeholders, 1 WIDE and THIN; "
        "none left to price); likely range from decision markets"
    )
    assert with_page.cum_bp == without.cum_bp and with_page.cum_method == without.cum_method
    dec = next(r for r in with_page.rows if r.meeting.decision == date(2026, 12, 9))
    assert dec.likely_method == "ladder" and (dec.likely_lower, dec.likely_upper) == (
        Decimal("3.50"),
        Decimal("3.75"),
    )
    assert dec.ladder_note == "ladder: T3.50 WIDE interpolated from neighbours"


def test_placeholder_ladder_at_the_horizon_never_prices_the_cuts() -> None:
    clock = ManualClock(DEMO_START)
    sim = SimKalshi(SimHttpServer("k"), clock)
    sim.placeholder_ladders.add("KXFED-26DEC")
    sim.dropped.add("KXFEDDECISION-26APR")  # a hole: the ladder would be the fallback
    s = _slice(clock, [_target(clock), *_decisions(clock, sim), *_ladders(clock, sim)])
    v = s.view()
    assert v.cum_by == date(2026, 12, 9)
    assert v.ladder_cum_bp is None
    assert v.cum_partial and v.cum_method.startswith("partial: 7 of 8")
    assert v.ladder_cum_note.startswith("ladder not used (THIN: 4 of 5 strikes are placeholders")
    clean = SimKalshi(SimHttpServer("k"), clock)
    clean.dropped.add("KXFEDDECISION-26APR")
    ok = _slice(clock, [_target(clock), *_decisions(clock, clean), *_ladders(clock, clean)])
    assert ok.view().cum_method == "kalshi KXFED ladder"  # the clean ladder still serves
    dec = next(r for r in v.rows if r.meeting.decision == date(2026, 12, 9))
    assert dec.likely_method == "" and dec.likely_upper is None  # no tree past the hole
    assert dec.ladder_note.endswith("; no likely range")


def test_default_sim_far_placeholders_change_nothing() -> None:
    clock = ManualClock(DEMO_START)
    sim = SimKalshi(SimHttpServer("k"), clock)
    ladders = [e for e in _ladders(clock, sim) if isinstance(e, RateLadder)]
    assert len(ladders) == 9 and [lad.usable for lad in ladders] == [True] * 8 + [False]
    for lad in ladders[:8]:
        assert sum(q.problems == ("PLACEHOLDER", "THIN") for q in lad.quotes) == 2
        assert all(0.0 <= p <= 0.05 for k, p in lad.strikes if k >= Decimal("3.75"))
    v = _slice(clock, [_target(clock), *_decisions(clock), *ladders]).view()
    assert all(r.likely_method == "ladder" and r.ladder_note == "" for r in v.rows)
    assert v.ladder_cum_bp == pytest.approx(-50, abs=8)


@pytest.mark.parametrize(("source", "every"), [("kalshi", 60.0), ("polymarket", 120.0)])
def test_silent_source_turns_stale_in_the_same_second_as_the_status_bar(
    source: str, every: float
) -> None:
    """One threshold function feeds both slices; step an injected clock through the
    silence and compare the first STALE moment of the status bar and of the panel."""
    clock = ManualClock(DEMO_START)
    limit = stale_threshold(source, every)
    assert limit == 3 * every
    health = HealthSlice({})
    health.set_threshold(source, limit)
    fed = FedOddsSlice(calendar=CAL, clock=clock, shown=8, thresholds={source: limit})
    t0 = clock.monotonic()
    odds: list[object] = (
        _decisions(clock)
        if source == "kalshi"
        else list(parse_events(SimPolymarket(SimHttpServer("p"), clock).events(), CAL, CHECKS, t0))
    )
    # What a poll yields: its LIVE report, then the data it read.
    for e in [FeedStatus(source, FeedState.LIVE, "", t0 + 0.4), *odds]:
        health.apply(e)
        fed.apply(e)
    bar = panel = row = None
    for _ in range(2 * int(limit) + 40):
        clock.advance(0.5)  # two paints a second
        now = clock.monotonic()
        health.refresh(now)
        fed.refresh(now)
        h = health.get(source)
        assert h is not None
        v = fed.view()
        line = {x.source: x for x in v.sources}[source]
        if bar is None and h.state is FeedState.STALE:
            bar = now
        if panel is None and line.state == "STALE":
            panel = now
            assert line.reason == h.reason  # the same words too
        first = next(r for r in v.rows if r.source == source)
        if row is None and "STALE" in first.flags:
            row = now
    assert bar is not None and bar == panel == row == t0 + limit + 0.5


def test_thresholds_default_to_stale_after_and_zq_never() -> None:
    clock = ManualClock(DEMO_START)
    s = FedOddsSlice(calendar=CAL, clock=clock, stale_after=900.0, thresholds={"kalshi": 180.0})
    assert (s.limit("kalshi"), s.limit("polymarket"), s.limit("yahoo_zq")) == (180.0, 900.0, None)
    assert stale_threshold("fed_target", 60.0) == 3600.0
    assert stale_threshold("fed_target", 1800.0) == 5400.0
    assert stale_threshold("yahoo_zq", 300.0) is None


def test_cross_check_in_full_with_source_and_age() -> None:
    clock = ManualClock(DEMO_START)
    poly = SimPolymarket(SimHttpServer("p"), clock)
    t_poly = clock.monotonic() - 30
    s = _slice(
        clock,
        [_target(clock), *_decisions(clock), *parse_events(poly.events(), CAL, CHECKS, t_poly)],
        thresholds={"kalshi": 180.0, "polymarket": 360.0},
    )
    jan = s.view().rows[0]
    assert jan.cross is not None
    polys = {
        o.meeting: o
        for o in parse_events(poly.events(), CAL, CHECKS, t_poly)
        if isinstance(o, MeetingOdds)
    }
    want = polys[date(2026, 1, 28)]
    c = jan.cross
    assert (c.source, c.event, c.received, c.stale) == ("polymarket", want.event, t_poly, False)
    assert (c.p_cut, c.p_hold, c.p_hike) == (want.p_cut, want.p_hold, want.p_hike)
    assert jan.cross_p_cut == c.p_cut
    clock.advance(400)
    s.refresh(clock.monotonic())
    later = s.view().rows[0]
    assert later.cross is None or later.cross.stale  # older than Polymarket's threshold
    assert s.view().rows[6].cross is None  # Polymarket lists five meetings
