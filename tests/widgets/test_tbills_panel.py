"""The T-bill purchases panel: text, classes, phases on tick, and a snapshot."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from textual.app import App, ComposeResult
from textual.widgets import Static

from feeds.core.clock import ManualClock
from feeds.model.tbills import (
    FredSeries,
    ScheduleUnavailable,
    TbillsView,
    TsyOperation,
    TsyOperations,
)
from feeds.tbills.nyfed import parse_tsy_payload
from feeds.tbills.schedule import parse_schedule_page
from feeds.tbills.state import TbillsSlice
from widgets.fit import ALL
from widgets.tbills_panel import TbillsPanel, daily_chart, fmt_span, fmt_usd

DATA = Path(__file__).parent.parent / "data" / "tbills"
TCSS = Path(__file__).parent.parent.parent / "tui" / "tbills.tcss"
MONO = 1000.0


def batch(name: str, channel: str) -> TsyOperations:
    parsed = parse_tsy_payload(orjson.loads((DATA / name).read_bytes()), MONO)
    assert isinstance(parsed, list)
    ops = tuple(p for p in parsed if isinstance(p, TsyOperation))
    return TsyOperations("nyfed", channel, date(2025, 12, 12), ops, MONO)


def et(hh: int, mm: int, ss: int = 0, day: int = 12) -> datetime:
    return datetime(2025, 12, day, hh + 5, mm, ss, tzinfo=UTC)


def make_view(*, results: bool, wall: datetime, schedule_ok: bool = True) -> TbillsView:
    clock = ManualClock(wall, mono=MONO)
    s = TbillsSlice(clock)
    page = parse_schedule_page((DATA / "operational_details.html").read_text(), MONO)
    s.apply(page if schedule_ok else ScheduleUnavailable("nyfed_web", "page layout changed", MONO))
    s.apply(batch("latest_announcement.json", "today"))
    if results:
        s.apply(batch("results_details.json", "details"))
        s.apply(batch("results_last.json", "recent"))
    s.apply(FredSeries("fred", "WRESBAL", ((date(2025, 12, 10), Decimal("2889455")),), MONO))
    s.apply(FredSeries("fred", "RRPONTSYD", ((date(2025, 12, 11), Decimal("4.251")),), MONO))
    s.apply(FredSeries("fred", "WTREGEN", ((date(2025, 12, 10), Decimal("847800")),), MONO))
    return s.view()


class Host(App[None]):
    CSS_PATH = str(TCSS)

    def compose(self) -> ComposeResult:
        yield TbillsPanel()


def text(app: App[Any], name: str) -> str:
    return str(app.query_one(f"#tb-{name}", Static).render())


async def test_results_rows() -> None:
    app = Host()
    async with app.run_test(size=(80, 34)) as pilot:
        panel = app.query_one(TbillsPanel)
        panel.show(make_view(results=True, wall=et(10, 31, 30)))
        panel.tick(MONO + 12, et(10, 31, 30))
        await pilot.pause()
        today = text(app, "today")
        assert "RESULTS accepted $8.20 bn of $27.06 bn submitted (3.30x)" in today
        assert "2 CUSIPs at 3.612-3.649%" in today
        assert "Mon Dec 15 10:10-10:30 ET" in text(app, "next")
        assert "opens in 2d 23h" in text(app, "next")
        tally = text(app, "tally")
        assert "$8.20 bn of $40.00 bn" in tally and "20%" in tally
        assert "since Dec 12 $8.20 bn (1 op)" in tally
        recent = text(app, "recent")
        assert "BILL" in recent and "COUPON" in recent
        assert "Reserves $2.89 tn (12/10)" in text(app, "liquidity")
        assert "ON RRP $4.25 bn (12/11)" in text(app, "liquidity")
        assert "next schedule due ~Wed Jan 14" in text(app, "schedule")
        assert str(panel.border_subtitle) == "LIVE"
        # Ages count in a line of their own, not in the border (which repaints the panel).
        assert "NY Fed 10s" in str(panel.query_one("#tb-ages", Static).render())
        assert not panel.has_class("-stale")


async def test_announced_counts_down_then_closes_on_tick() -> None:
    app = Host()
    async with app.run_test(size=(80, 34)) as pilot:
        panel = app.query_one(TbillsPanel)
        panel.show(make_view(results=False, wall=et(10, 25)))
        panel.tick(MONO, et(10, 25))
        await pilot.pause()
        assert "ANNOUNCED 10:10-10:30 ET · up to $8.20 bn · closes (in 5m)" in text(app, "today")
        assert "closes in 5m" in text(app, "next")
        # Seconds count in the last five minutes only.
        panel.tick(MONO + 1, et(10, 25, 1))
        await pilot.pause()
        assert "closes in 4m 59s" in text(app, "next")
        panel.tick(MONO + 330, et(10, 30, 30))
        await pilot.pause()
        assert "CLOSED, awaiting results" in text(app, "today")


async def test_a_second_that_changes_no_countdown_or_age_renders_nothing() -> None:
    """Idle CPU: the countdown shows seconds only in its last five minutes and the ages
    go in 5 s steps, so most 1 Hz ticks leave every line as it was and render nothing;
    a tick whose countdown, phase or age reads differently renders."""
    app = Host()
    async with app.run_test(size=(80, 34)) as pilot:
        panel = app.query_one(TbillsPanel)
        panel.show(make_view(results=False, wall=et(10, 20)))
        renders: list[int] = []
        render_all = panel._render_all

        def counted(reshape: bool = True) -> None:
            renders.append(1)
            render_all(reshape)

        panel._render_all = counted  # type: ignore[method-assign]
        panel.tick(MONO + 1, et(10, 20, 1))
        assert len(renders) == 1  # a new view: rendered
        panel.tick(MONO + 2, et(10, 20, 2))  # "closes in 9m", NY Fed "<5s": as before
        panel.tick(MONO + 3, et(10, 20, 3))
        assert len(renders) == 1
        panel.tick(MONO + 5, et(10, 20, 5))  # the age reads "5s"
        assert len(renders) == 2
        await pilot.pause()
        assert "NY Fed 5s" in str(panel.query_one("#tb-ages", Static).render())
        panel.tick(MONO + 6, et(10, 21, 0))  # the countdown reads "9m" -> "9m": nothing
        assert len(renders) == 2
        panel.tick(MONO + 7, et(10, 21, 1))  # "closes in 8m"
        assert len(renders) == 3
        panel.tick(MONO + 8, et(10, 25, 1))  # seconds in the last five minutes
        panel.tick(MONO + 8.5, et(10, 25, 2))
        assert len(renders) == 5
        await pilot.pause()
        assert "closes in 4m 58s" in text(app, "next")
        panel.show(make_view(results=False, wall=et(10, 25, 2)))  # a new view renders
        panel.tick(MONO + 8.5, et(10, 25, 2))
        assert len(renders) == 7
        panel.tick(MONO + 330, et(10, 30, 30))  # the window closed: the phase reads anew
        await pilot.pause()
        assert "CLOSED, awaiting results" in text(app, "today")


async def test_ages_not_shown_do_not_render_the_panel() -> None:
    """A short panel leaves the sources' ages line out: their 5 s steps render nothing
    there; dealt the room again, the line shows the ages of now."""
    app = Host()
    async with app.run_test(size=(80, 34)) as pilot:
        panel = app.query_one(TbillsPanel)
        panel.show(make_view(results=False, wall=et(9, 0)))
        panel.fit(4)  # the headline and today's operation only
        renders: list[int] = []
        render_all = panel._render_all

        def counted(reshape: bool = True) -> None:
            renders.append(1)
            render_all(reshape)

        panel._render_all = counted  # type: ignore[method-assign]
        panel.tick(MONO + 1, et(9, 0, 1))
        assert len(renders) == 1
        for s in range(2, 40):  # "opens in 1h 10m" all along; the ages step unseen
            panel.tick(MONO + s, et(9, 0, s))
        assert len(renders) == 1
        panel.fit(ALL)
        await pilot.pause()
        ages = panel.query_one("#tb-ages", Static)
        assert ages.display and "NY Fed 35s" in str(ages.render())


async def test_schedule_unavailable_is_written_out() -> None:
    app = Host()
    async with app.run_test(size=(80, 34)) as pilot:
        panel = app.query_one(TbillsPanel)
        panel.show(make_view(results=True, wall=et(10, 31), schedule_ok=False))
        await pilot.pause()
        sched = app.query_one("#tb-schedule", Static)
        assert "SCHEDULE UNAVAILABLE: page layout changed" in text(app, "schedule")
        assert sched.has_class("-down")
        assert "NEXT  unknown (schedule unavailable)" in text(app, "next")
        assert "period plan unknown" in text(app, "tally")


async def test_weekend_and_stale_words() -> None:
    clock = ManualClock(et(12, 0, day=13), mono=MONO)
    s = TbillsSlice(clock)
    s.apply(batch("latest_empty.json", "recent"))
    app = Host()
    async with app.run_test(size=(80, 30)) as pilot:
        panel = app.query_one(TbillsPanel)
        panel.show(s.view())
        await pilot.pause()
        assert text(app, "today") == "TODAY no operation (not a business day)"
    clock2 = ManualClock(et(10, 0, day=15), mono=MONO)
    s2 = TbillsSlice(clock2, active_stale_after=60)
    s2.apply(batch("results_last.json", "recent"))
    clock2.advance(600)
    s2.refresh(clock2.monotonic())
    app = Host()
    async with app.run_test(size=(80, 30)) as pilot:
        panel = app.query_one(TbillsPanel)
        panel.show(s2.view())
        await pilot.pause()
        assert str(panel.border_subtitle).startswith("STALE: no NY Fed answer for 10 min")
        assert panel.has_class("-stale")


async def test_wide_panel_uses_the_width() -> None:
    app = Host()
    async with app.run_test(size=(130, 30)) as pilot:
        panel = app.query_one(TbillsPanel)
        panel.show(make_view(results=True, wall=et(10, 31)))
        await pilot.pause()
        assert "OR 121225 01" in text(app, "recent")
        assert text(app, "liquidity").startswith("LIQUIDITY Reserves")


def test_formatters_and_chart() -> None:
    assert fmt_usd(Decimal("8.2e9")) == "$8.20 bn"
    assert fmt_usd(Decimal("2889455e6")) == "$2.89 tn"
    assert fmt_usd(Decimal("847.8e9")) == "$848 bn"
    assert fmt_usd(None) == "n/a"
    assert fmt_span(299) == "4m 59s" and fmt_span(300) == "5m" and fmt_span(3599) == "59m"
    assert fmt_span(3 * 86400 + 3600) == "3d 1h"
    daily = ((date(2025, 12, 12), Decimal(8)), (date(2025, 12, 15), Decimal(4)))
    assert daily_chart(daily, 10, height=2) == ["█", "██"]
    assert daily_chart((), 10) == []


def test_snapshot_results(snap_compare: Any) -> None:
    view = make_view(results=True, wall=et(10, 31, 30))

    async def before(pilot: Any) -> None:
        panel = pilot.app.query_one(TbillsPanel)
        panel.show(view)
        panel.tick(MONO + 12, et(10, 31, 30))
        await pilot.pause()

    assert snap_compare(Host(), terminal_size=(80, 30), run_before=before)
