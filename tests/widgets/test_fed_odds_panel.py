"""The Fed odds panel: text, words for states, classes, tick, widths and a snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Static

from feeds.core.clock import DEMO_START, ManualClock
from feeds.model.core import FeedState, FeedStatus
from feeds.model.fed import FedOddsView, TargetRange
from feeds.rates.calendar import load_calendar
from feeds.rates.kalshi import parse_decision_event, parse_ladder_event
from feeds.rates.odds_checks import MarketChecks
from feeds.rates.polymarket import parse_events
from feeds.rates.state import FedOddsSlice
from feeds.sim.http import SimHttpServer
from feeds.sim.kalshi import SimKalshi
from feeds.sim.polymarket import SimPolymarket
from widgets.fed_odds_panel import (
    FedOddsPanel,
    bp_text,
    countdown_text,
    pct,
    short_flags,
    spread_text,
)
from widgets.format import step_age

TCSS = Path(__file__).parent.parent.parent / "tui" / "fed_odds.tcss"
MONO = 1000.0
CAL = load_calendar()


def make_view(
    *,
    shown: int = 6,
    junk: bool = False,
    missing: bool = False,
    baseline: bool = False,
    placeholders: frozenset[str] = frozenset(),
) -> FedOddsView:
    clock = ManualClock(DEMO_START, mono=MONO)
    kalshi = SimKalshi(SimHttpServer("k"), clock)
    kalshi.placeholder_ladders |= placeholders
    if junk:
        kalshi.overrides["KXFEDDECISION-26MAR-H0"] = {"yes_bid_dollars": "1.7000"}
    if missing:
        kalshi.dropped.add("KXFEDDECISION-26APR")
    poly = SimPolymarket(SimHttpServer("p"), clock)
    if junk or missing:
        poly.dropped |= {"fed-decision-in-march-2026", "fed-decision-in-april-2026"}
    s = FedOddsSlice(calendar=CAL, clock=clock, shown=shown)
    s.apply(
        TargetRange(
            "fed_target",
            "nyfed",
            Decimal("3.50"),
            Decimal("3.75"),
            Decimal("3.64"),
            datetime(2025, 12, 11).date(),
            MONO - 3600,
        )
    )
    checks = MarketChecks()
    for ev in kalshi.decision_events():
        s.apply(parse_decision_event(ev, CAL, checks, MONO))
    for ev in kalshi.ladder_events():
        s.apply(parse_ladder_event(ev, CAL, MONO))
    for e in parse_events(poly.events(), CAL, checks, MONO - 30):
        s.apply(e)
    for name in ("kalshi", "polymarket", "fed_target"):
        s.apply(FeedStatus(name, FeedState.LIVE, "", MONO))
    s.apply(
        FeedStatus("yahoo_zq", FeedState.DEGRADED, "no per-month ZQ contract on Yahoo (0/9)", MONO)
    )
    if baseline:
        head = s.headline()
        s.set_baseline({"cum_bp": head["cum_bp"] + 8.0, "p_cut:2026-01-28": 0.18})
    return s.view()


class Host(App[None]):
    CSS_PATH = str(TCSS)

    def compose(self) -> ComposeResult:
        yield FedOddsPanel()


def text(app: App[Any], name: str) -> str:
    return str(app.query_one(f"#fed-{name}", Static).render())


async def test_compact_rows_and_summary() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(FedOddsPanel)
        panel.show(make_view())
        panel.tick(MONO + 12, DEMO_START)
        await pilot.pause()
        head = text(app, "head")
        assert head == (
            "Target 3.50\u20133.75% (NY Fed) \u00b7 FOMC Wed Jan 28 2:00 p.m. ET in 47d 03h35m"
        )
        assert len(head) <= 76
        row = text(app, "row-0")
        assert row.startswith("Jan 28 ")
        assert "3.50\u20133.75" in row and "Kalshi" in row and "10s" in row
        assert "  1\u00a2  Kalshi" in row  # the widest spread that matters, in cents
        brief = text(app, "brief")  # the one-line form a short terminal shows
        assert brief.startswith("Jan 28: cut ") and " · hold " in brief
        assert brief.endswith("Kalshi 10s") and len(brief) <= 76
        assert text(app, "row-1").startswith("Mar 18*")
        assert "Poly" not in text(app, "cols")  # compact: no cross-check column
        assert not app.query_one("#fed-row-6", Static).display
        summary = text(app, "sum")
        assert summary == "Priced: \u221250 bp by Dec 2026 (kalshi) \u00b7 vs yday: n/a"
        sources = text(app, "sources")
        assert "Kalshi LIVE 10s" in sources and "ZQ DEGRADED" in sources
        assert "Target LIVE 1h" in sources  # a slow source is not STALE after an hour
        assert "FedWatch unavailable" in text(app, "notes")
        assert panel.border_subtitle == "Kalshi LIVE"
        assert not panel.has_class("-down") and not panel.has_class("-stale")
        assert all(len(text(app, f"row-{i}")) <= 78 for i in range(6))


async def test_tick_moves_the_countdown_and_ages() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(FedOddsPanel)
        panel.show(make_view())
        panel.tick(MONO + 5, DEMO_START)
        await pilot.pause()
        panel.tick(MONO + 125, DEMO_START + timedelta(seconds=120))
        await pilot.pause()
        assert "in 47d 03h33m" in text(app, "head")
        assert " 2m" in text(app, "row-0")


async def test_a_second_that_changes_no_age_or_countdown_renders_nothing() -> None:
    """Idle CPU: the countdown reads by the minute and the ages in 5 s steps, so most
    1 Hz ticks leave every line as it was and render nothing."""
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(FedOddsPanel)
        panel.show(make_view())
        renders: list[int] = []
        render_all = panel._render_all

        def counted() -> None:
            renders.append(1)
            render_all()

        panel._render_all = counted  # type: ignore[method-assign]
        panel.tick(MONO + 5, DEMO_START + timedelta(seconds=1))
        assert len(renders) == 1
        panel.tick(MONO + 6, DEMO_START + timedelta(seconds=2))  # same minute, same steps
        assert len(renders) == 1
        panel.tick(MONO + 125, DEMO_START + timedelta(seconds=120))
        assert len(renders) == 2
        await pilot.pause()
        assert "in 47d 03h33m" in text(app, "head") and " 2m" in text(app, "row-0")


async def test_excluded_and_missing_meetings_are_written_out() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(FedOddsPanel)
        panel.show(make_view(junk=True, missing=True))
        panel.tick(MONO, DEMO_START)
        await pilot.pause()
        mar = app.query_one("#fed-row-1", Static)
        assert "EXCLUDED" in text(app, "row-1") and mar.has_class("-down")
        assert "NO MARKET" in text(app, "row-2")
        assert app.query_one("#fed-row-2", Static).has_class("-down")
        assert "Mar 18: kalshi EXCLUDED: H0 yes_bid_dollars 1.7000 out of range" in text(
            app, "notes"
        )
        assert text(app, "sum").endswith("vs yday: n/a")
        assert "ladder" in text(app, "sum")


async def test_wide_layout_adds_cross_check_fedwatch_and_vs_yesterday() -> None:
    app = Host()
    async with app.run_test(size=(130, 24)) as pilot:
        panel = app.query_one(FedOddsPanel)
        panel.show(make_view(shown=8, baseline=True))
        panel.tick(MONO, DEMO_START)
        await pilot.pause()
        assert "Next FOMC Wed Jan 28, 2:00 p.m. ET \u00b7 in 47d 03h35m" in text(app, "head")
        assert "(NY Fed, EFFR 3.64)" in text(app, "head")
        cols = text(app, "cols")
        assert "\u0394yday" in cols and "Poly" in cols and "FedW" in cols
        row = text(app, "row-0")
        assert "+" in row and "pt" in row  # P(cut) up against yesterday's 18%
        assert app.query_one("#fed-row-7", Static).display
        assert text(app, "sum") == (
            "Priced: \u221250 bp by Dec 2026 (kalshi decision markets) \u00b7 ladder \u221253 bp"
            " \u00b7 vs yday: \u22128 bp"
        )


async def test_no_data_and_stale_states_are_words() -> None:
    app = Host()
    clock = ManualClock(DEMO_START, mono=MONO)
    s = FedOddsSlice(calendar=CAL, clock=clock)
    s.apply(FeedStatus("kalshi", FeedState.DOWN, "connection refused", MONO))
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(FedOddsPanel)
        panel.show(s.view())
        panel.tick(MONO, DEMO_START)
        await pilot.pause()
        assert "Target range: waiting" in text(app, "head")
        assert "NO MARKET" in text(app, "row-0")
        assert "Kalshi DOWN" in text(app, "sources")
        assert panel.border_subtitle == "Kalshi DOWN · NO ODDS"
        assert panel.has_class("-down")


async def test_placeholder_ladder_is_not_used_and_the_panel_says_why() -> None:
    app = Host()
    view = make_view(shown=8, placeholders=frozenset({"KXFED-26MAR", "KXFED-26DEC"}))
    async with app.run_test(size=(130, 24)) as pilot:
        panel = app.query_one(FedOddsPanel)
        panel.show(view)
        panel.tick(MONO, DEMO_START)
        await pilot.pause()
        row = text(app, "row-1")
        assert row.startswith("Mar 18*") and "3.50\u20133.75" in row  # not 5.00-6.25
        assert "6.25" not in row  # the placeholders' argmax was 6.00-6.25 at 50%
        notes = text(app, "notes")
        assert (
            "Mar 18: ladder not used (THIN: 4 of 5 strikes are placeholders, 1 WIDE and THIN;"
            " none left to price); likely range from decision markets"
        ) in notes
        assert text(app, "sum") == (
            "Priced: \u221250 bp by Dec 2026 (kalshi decision markets) \u00b7 ladder not used"
            " (THIN: 4 of 5 strikes are placeholders, 1 WIDE and THIN; none left to price)"
            " \u00b7 vs yday: n/a"
        )


def test_formatters() -> None:
    assert step_age(None) == "\u2014" and step_age(59) == "55s" and step_age(3600) == "1h00m"
    assert step_age(90_000) == "25h00m"
    assert countdown_text(timedelta(seconds=-1)) == "decision due"
    assert countdown_text(timedelta(hours=2, seconds=5)) == "2h 00m"
    assert countdown_text(timedelta(minutes=59, seconds=5)) == "59m 05s"
    assert countdown_text(timedelta(seconds=45)) == "45s"
    assert countdown_text(timedelta(days=1, hours=3, minutes=4, seconds=59)) == "1d 03h04m"
    assert pct(None) == "\u2014" and pct(0.214) == "21%"
    assert spread_text(Decimal("0.0150")) == "2\u00a2" and spread_text(None) == "\u2014"
    assert bp_text(-49.6) == "\u221250bp" and bp_text(0.2) == "0bp" and bp_text(12) == "+12bp"
    assert short_flags(("WIDE", "kalshi EXCLUDED: x", "polymarket EXCLUDED: y")) == "WIDE EXCLUDED"


def test_snapshot_compact(snap_compare: Any) -> None:
    view = make_view(junk=True)

    async def before(pilot: Any) -> None:
        panel = pilot.app.query_one(FedOddsPanel)
        panel.show(view)
        panel.tick(MONO + 12, datetime(2025, 12, 12, 15, 25, tzinfo=UTC))
        await pilot.pause()

    assert snap_compare(Host(), terminal_size=(80, 16), run_before=before)


def test_snapshot_wide(snap_compare: Any) -> None:
    view = make_view(shown=8, baseline=True)

    async def before(pilot: Any) -> None:
        panel = pilot.app.query_one(FedOddsPanel)
        panel.show(view)
        panel.tick(MONO + 12, datetime(2025, 12, 12, 15, 25, tzinfo=UTC))
        await pilot.pause()

    assert snap_compare(Host(), terminal_size=(130, 18), run_before=before)
