"""The ``fed_odds`` slice: headline choice, exclusion, fallback, staleness, cumulative
cuts, the FedWatch column, the baseline, bounds, and the snapshot JSON."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from feeds.core.clock import DEMO_START, ManualClock
from feeds.core.store import Store
from feeds.model.core import BadMessage, FeedState, FeedStatus
from feeds.model.fed import MeetingOdds, RateLadder, TargetRange, ZqProbe, ZqQuote
from feeds.rates.calendar import decision_time, load_calendar
from feeds.rates.factory import make_fed_odds_slice
from feeds.rates.kalshi import parse_decision_event, parse_ladder_event
from feeds.rates.odds_checks import MarketChecks
from feeds.rates.polymarket import parse_events
from feeds.rates.settings import FedOddsSettings
from feeds.rates.state import HISTORY_LEN, MAX_KEYS, SLOW_REFRESH_S, FedOddsSlice
from feeds.sim.http import SimHttpServer
from feeds.sim.kalshi import SimKalshi
from feeds.sim.polymarket import SimPolymarket

CAL = load_calendar()
CHECKS = MarketChecks()
JAN, MAR, APR = date(2026, 1, 28), date(2026, 3, 18), date(2026, 4, 29)


def _target(clock: ManualClock) -> TargetRange:
    return TargetRange(
        "fed_target",
        "nyfed",
        Decimal("3.50"),
        Decimal("3.75"),
        Decimal("3.64"),
        date(2025, 12, 11),
        clock.monotonic(),
    )


def _kalshi(clock: ManualClock, sim: SimKalshi | None = None) -> list[object]:
    sim = sim or SimKalshi(SimHttpServer("k"), clock)
    out: list[object] = [
        parse_decision_event(ev, CAL, CHECKS, clock.monotonic()) for ev in sim.decision_events()
    ]
    out += [parse_ladder_event(ev, CAL, clock.monotonic()) for ev in sim.ladder_events()]
    return out


def _poly(clock: ManualClock, sim: SimPolymarket | None = None) -> list[object]:
    sim = sim or SimPolymarket(SimHttpServer("p"), clock)
    return parse_events(sim.events(), CAL, CHECKS, clock.monotonic())


def _slice(clock: ManualClock, **kw: object) -> FedOddsSlice:
    return FedOddsSlice(calendar=CAL, clock=clock, shown=8, **kw)  # type: ignore[arg-type]


def _feed(s: FedOddsSlice, events: list[object]) -> None:
    for e in events:
        s.apply(e)


def test_demo_shaped_state_prices_about_50bp_by_dec_2026() -> None:
    clock = ManualClock(DEMO_START)
    s = _slice(clock)
    _feed(s, [_target(clock), *_kalshi(clock), *_poly(clock)])
    v = s.view()
    assert [r.meeting.decision for r in v.rows][:3] == [JAN, MAR, APR]
    assert len(v.rows) == 8 and all(r.source == "kalshi" for r in v.rows)
    assert v.cum_by == date(2026, 12, 9)
    assert v.cum_bp == pytest.approx(-50, abs=6)
    assert not v.cum_partial and v.cum_method == "kalshi decision markets"
    assert v.ladder_cum_bp == pytest.approx(-50, abs=8)
    jan = v.rows[0]
    assert jan.p_cut is not None and jan.p_hold is not None and jan.p_hike is not None
    assert jan.p_cut + jan.p_hold + jan.p_hike == pytest.approx(1.0)
    assert (jan.likely_lower, jan.likely_upper, jan.likely_method) == (
        Decimal("3.50"),
        Decimal("3.75"),
        "ladder",
    )
    assert jan.cross_p_cut is not None and jan.cross_p_cut > jan.p_cut  # Polymarket leans dovish
    assert v.rows[6].cross_p_cut is None  # Polymarket lists only five meetings
    assert v.next_meeting is not None and v.next_meeting.decision == JAN
    assert v.delta_cum_bp is None


def test_d11_excluded_kalshi_meeting_falls_back_to_polymarket() -> None:
    clock = ManualClock(DEMO_START)
    sim = SimKalshi(SimHttpServer("k"), clock)
    sim.overrides["KXFEDDECISION-26MAR-H0"] = {"yes_bid_dollars": "1.7000"}
    s = _slice(clock)
    _feed(s, [_target(clock), *_kalshi(clock, sim), *_poly(clock)])
    mar = s.view().rows[1]
    assert mar.source == "polymarket"
    assert any("kalshi EXCLUDED: H0" in f for f in mar.flags)
    assert mar.cross_p_cut is None  # the junk market is never a cross-check either


def test_d11_excluded_meeting_without_fallback_leaves_the_headline() -> None:
    clock = ManualClock(DEMO_START)
    sim = SimKalshi(SimHttpServer("k"), clock)
    sim.overrides["KXFEDDECISION-26MAR-C25"] = {"yes_ask_dollars": "-0.1000"}
    s = _slice(clock)
    clean = _slice(clock)
    _feed(s, [_target(clock), *_kalshi(clock, sim)])
    _feed(clean, [_target(clock), *_kalshi(clock)])
    v = s.view()
    mar = v.rows[1]
    assert mar.p_cut is None and mar.expected_bp is None and mar.source == ""
    assert any("EXCLUDED" in f for f in mar.flags)
    # The headline comes from the KXFED ladder instead of a sum with a hole in it.
    assert v.cum_method == "kalshi KXFED ladder"
    assert v.cum_bp == v.ladder_cum_bp
    assert clean.view().cum_method == "kalshi decision markets"


def test_missing_meeting_shows_no_market_and_partial_sum() -> None:
    clock = ManualClock(DEMO_START)
    sim = SimKalshi(SimHttpServer("k"), clock)
    sim.dropped |= {"KXFEDDECISION-26APR", "KXFED-26DEC"}
    s = _slice(clock)
    _feed(s, [_target(clock), *_kalshi(clock, sim)])
    v = s.view()
    apr = v.rows[2]
    assert apr.flags == ("NO MARKET",) and apr.p_cut is None
    assert apr.likely_method == "ladder"  # the ladder still says where the rate goes
    assert v.cum_partial and v.cum_method.startswith("partial: 7 of 8")
    assert "cum_bp" not in s.headline()


def test_tree_gives_the_likely_range_without_a_ladder() -> None:
    clock = ManualClock(DEMO_START)
    s = _slice(clock)
    _feed(s, [_target(clock), *(e for e in _kalshi(clock) if isinstance(e, MeetingOdds))])
    rows = s.view().rows
    assert all(r.likely_method == "tree" for r in rows)
    assert (rows[0].likely_lower, rows[0].likely_upper) == (Decimal("3.50"), Decimal("3.75"))
    assert rows[-1].likely_lower is not None and rows[-1].likely_lower < Decimal("3.50")


def test_stale_primary_loses_to_fresh_fallback() -> None:
    clock = ManualClock(DEMO_START)
    s = _slice(clock, stale_after=600.0)
    _feed(s, [_target(clock), *_kalshi(clock)])
    s.apply(FeedStatus("kalshi", FeedState.LIVE, "", clock.monotonic()))
    clock.advance(700)
    _feed(s, _poly(clock))
    assert s.refresh(clock.monotonic())
    v = s.view()
    assert v.rows[0].source == "polymarket" and "STALE" not in v.rows[0].flags
    assert v.rows[6].source == "kalshi" and v.rows[6].flags[0] == "STALE"
    assert {x.source: x.state for x in v.sources}["kalshi"] == "STALE"


def test_meeting_rolls_over_after_the_decision() -> None:
    clock = ManualClock(DEMO_START)
    s = _slice(clock)
    _feed(s, [_target(clock), *_kalshi(clock)])
    assert s.view().rows[0].meeting.decision == JAN
    clock.jump_wall((date(2026, 1, 28) - date(2025, 12, 12)).days * 86400 + 4 * 3600)
    clock.advance(2)
    assert s.refresh(clock.monotonic())
    assert s.view().rows[0].meeting.decision == MAR
    assert not s.refresh(clock.monotonic())  # rate-limited to once a second


def test_fedwatch_column_from_zq_prices_and_degraded_note() -> None:
    clock = ManualClock(DEMO_START)
    s = _slice(clock)
    _feed(s, [_target(clock), *_kalshi(clock)])
    prices = {date(2026, 1, 1): "96.365", date(2026, 2, 1): "96.42", date(2026, 3, 1): "96.50"}
    for month, p in prices.items():
        s.apply(ZqQuote("yahoo_zq", "ZQ", month, Decimal(p), clock.monotonic()))
    s.apply(ZqProbe("yahoo_zq", ("a", "b", "c"), ("ZQX25.CBT",), clock.monotonic()))
    s.apply(FeedStatus("yahoo_zq", FeedState.LIVE, "", clock.monotonic()))
    v = s.view()
    assert v.rows[0].fedwatch_p_cut == pytest.approx(0.155, abs=0.01)
    assert v.rows[1].fedwatch_p_cut is not None
    assert v.rows[2].fedwatch_p_cut is None
    assert any("1 missing" in n for n in v.notes)
    assert any("no price for Apr 2026" in n for n in v.notes)
    s.apply(FeedStatus("yahoo_zq", FeedState.DEGRADED, "no per-month ZQ contract", 1.0))
    assert any(n.startswith("FedWatch unavailable: no per-month") for n in s.view().notes)


def test_baseline_injected_and_in_memory() -> None:
    clock = ManualClock(DEMO_START)
    s = _slice(clock)
    _feed(s, [_target(clock), *_kalshi(clock)])
    head = s.headline()
    assert set(head) >= {"cum_bp", f"p_cut:{JAN}", f"exp_bp:{JAN}"}
    s.set_baseline({"cum_bp": head["cum_bp"] + 10, f"p_cut:{JAN}": head[f"p_cut:{JAN}"] - 0.05})
    v = s.view()
    assert v.delta_cum_bp == pytest.approx(-10)
    assert v.rows[0].delta_p_cut == pytest.approx(0.05)
    assert v.rows[1].delta_p_cut is None
    s.set_baseline(None)
    assert s.view().delta_cum_bp is None
    # Without an injected baseline, a sample from ~24 h ago in memory serves.
    s.refresh(clock.monotonic())
    clock.advance(24 * 3600)
    s.refresh(clock.monotonic())
    assert s.view().delta_cum_bp == pytest.approx(0.0, abs=3)


def test_state_is_bounded_and_foreign_events_are_ignored() -> None:
    clock = ManualClock(DEMO_START)
    s = _slice(clock, sample_every=0.0)
    assert not s.apply(FeedStatus("coinbase", FeedState.LIVE, "", 1.0))
    assert not s.apply(BadMessage("fred", "T-bill series trouble"))
    assert not s.apply(object())
    base = next(e for e in _kalshi(clock) if isinstance(e, MeetingOdds))
    for i in range(300):
        day = date(2026, 1, 1) + timedelta(days=i)
        s.apply(replace(base, meeting=day))
    assert len(s._odds) <= MAX_KEYS
    for _ in range(HISTORY_LEN + 50):
        clock.advance(SLOW_REFRESH_S)
        s.refresh(clock.monotonic())
    assert len(s._history) == HISTORY_LEN


def test_ladder_junk_is_not_used_for_the_likely_range() -> None:
    clock = ManualClock(DEMO_START)
    s = _slice(clock)
    _feed(s, [_target(clock), *_kalshi(clock)])
    s.apply(
        RateLadder(
            "kalshi", JAN, "KXFED-26JAN", ((Decimal("3.5"), 0.9),), False, ("EXCLUDED: x",), 1.0
        )
    )
    assert s.view().rows[0].likely_method == "tree"


def test_store_routes_events() -> None:
    clock = ManualClock(DEMO_START)
    s = make_fed_odds_slice(FedOddsSettings(meetings_shown=4, zq_enabled=False), clock)
    store = Store([s])
    store.drain()
    for e in [_target(clock), *_kalshi(clock), *_poly(clock)]:
        store.apply(e)
    store.apply(FeedStatus("kalshi", FeedState.LIVE, "", clock.monotonic()))
    assert "fed_odds" in store.drain()


def test_the_view_is_rebuilt_for_the_clock_only_when_something_is_due() -> None:
    """An idle terminal does not rebuild the odds every second: only when a threshold
    or a decision passes, or once a minute for the slow parts (bench B5 P0)."""
    clock = ManualClock(DEMO_START)
    s = _slice(clock)
    _feed(s, [_target(clock), *_kalshi(clock)])
    s.refresh(clock.monotonic())
    first = s.view()
    clock.advance(5)
    assert not s.refresh(clock.monotonic())
    assert s.view() is first  # not rebuilt
    # The next decision passes: the view moves on at once, not a minute later.
    nxt = first.next_decision
    assert nxt is not None
    clock.advance((nxt - clock.now()).total_seconds() - 2)
    s.refresh(clock.monotonic())
    assert s.view().next_decision == nxt
    clock.advance(3)
    assert s.refresh(clock.monotonic())
    moved = s.view().next_decision
    assert moved is not None and moved > nxt
    assert moved == decision_time(s.view().rows[0].meeting)
