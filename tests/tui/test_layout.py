"""The dashboard's layout: one column when narrow, two from 160 columns, the essentials
at 80×24, zoom, low bandwidth everywhere; snapshots at 80×24, 120×40 and 200×60 in the
dark and light themes and under NO_COLOR, all from frozen data and a frozen clock."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from feeds.core.clock import DEMO_START, ManualClock
from feeds.history.divergence_state import DivergenceSlice
from feeds.model.core import FeedState, FeedStatus
from feeds.model.fed import TargetRange
from feeds.model.history import HistoryBars
from feeds.model.tbills import FredSeries
from feeds.rates.calendar import load_calendar
from feeds.rates.kalshi import parse_decision_event, parse_ladder_event
from feeds.rates.odds_checks import MarketChecks
from feeds.rates.polymarket import parse_events
from feeds.sim.history_data import daily_bars
from feeds.sim.http import SimHttpServer
from feeds.sim.kalshi import SimKalshi
from feeds.sim.levels import LEVELS
from feeds.sim.polymarket import SimPolymarket
from feeds.tbills.schedule import parse_schedule_page
from tests.feeds.quotes.helpers import quote
from tests.tui.test_app import seed
from tests.widgets.test_tbills_panel import DATA, batch
from tui.app import LockstepApp
from tui.config import Settings
from tui.runtime import Runtime, build_runtime
from widgets.ath_panel import AthPanel
from widgets.btc_panel import SPARK_MAX_ROWS, BtcPanel
from widgets.divergence_panel import DivergenceChart
from widgets.quotes_panel import QuotesPanel
from widgets.status_bar import SHORT
from widgets.tbills_panel import TbillsPanel

MONO = 1000.0
SIZES = [(80, 24), (100, 30), (120, 40), (160, 45), (200, 60), (250, 70)]


@functools.cache
def bars(symbol: str) -> tuple[Any, ...]:
    """The last 400 simulated daily bars (slow to make: made once per worker)."""
    return tuple(daily_bars(symbol)[-400:])


def seed_full(runtime: Runtime, clock: ManualClock) -> None:
    """BTC (from the app test), quotes, all-time highs, Fed odds and T-bills."""
    seed(runtime, clock)
    store, now = runtime.store, clock.monotonic()
    quotes = {
        "^RUT": ("2558.12", "2541.03"),
        "IWM": ("253.10", "251.40"),
        "^GSPC": ("6880.50", "6886.68"),
        "^DJI": ("48712.00", "48704.00"),
        "^NDX": ("25640.00", "25560.00"),
        "SI=F": ("64.21", "62.90"),
        "GC=F": ("4329.70", "4312.00"),
    }
    for sym, (px, prev) in quotes.items():
        store.apply(quote(sym, px, prev=prev, year_high=None, name=sym, received=now - 4))
    for sym in ("BTC-USD", *quotes):
        store.apply(HistoryBars("yahoo", sym, bars(sym), LEVELS[sym].first_trade, now - 100))
    cal = load_calendar()
    kalshi = SimKalshi(SimHttpServer("k"), clock)
    poly = SimPolymarket(SimHttpServer("p"), clock)
    store.apply(
        TargetRange(
            "fed_target", "nyfed", Decimal("3.50"), Decimal("3.75"), Decimal("3.64"),
            DEMO_START.date(), now - 3600,
        )
    )  # fmt: skip
    checks = MarketChecks()
    for ev in kalshi.decision_events():
        store.apply(parse_decision_event(ev, cal, checks, now - 12))
    for ev in kalshi.ladder_events():
        store.apply(parse_ladder_event(ev, cal, now - 12))
    for e in parse_events(poly.events(), cal, checks, now - 30):
        store.apply(e)
    for name in ("kalshi", "polymarket", "fed_target"):
        store.apply(FeedStatus(name, FeedState.LIVE, "", now - 12))
    store.apply(parse_schedule_page((DATA / "operational_details.html").read_text(), now - 60))
    store.apply(batch("latest_announcement.json", "today"))
    store.apply(batch("results_last.json", "recent"))
    store.apply(FredSeries("fred", "WRESBAL", ((DEMO_START.date(), Decimal("2889455")),), now - 60))


def full_app(
    tmp_path: Path, settings: Settings | None = None, **kw: Any
) -> tuple[LockstepApp, Runtime, ManualClock]:
    """The app with no feeds, a frozen clock and frozen data (apply it on the app's loop
    with :func:`frozen_run_before`)."""
    clock = ManualClock(start=DEMO_START, mono=MONO)
    runtime = build_runtime(settings or Settings(), clock, demo=True, data=tmp_path / "data")
    runtime.feeds = []
    # The divergence analysis in the view, not in a worker thread: a frozen screen.
    runtime.store.slice("divergence", DivergenceSlice).background = False
    return LockstepApp(runtime, watch_terminal=False, **kw), runtime, clock


async def settle(app: LockstepApp, runtime: Runtime, clock: ManualClock, pilot: Any) -> None:
    seed_full(runtime, clock)
    app._paint()
    app._tick()
    await pilot.pause()
    app._tick()  # panels that size from their width settle on the second tick
    await pilot.pause()


def _export(app: LockstepApp) -> str:
    """The screen's text, one line per terminal row, from the SVG screenshot (runs of
    spaces are drawn as backgrounds there, so words of adjacent cells may touch)."""
    rows: dict[int, list[str]] = {}
    pattern = r'<text[^>]*clip-path="url\(#[\w-]*?line-(\d+)\)"[^>]*>([^<]*)</text>'
    for m in re.finditer(pattern, app.export_screenshot()):
        rows.setdefault(int(m.group(1)), []).append(html.unescape(m.group(2)).replace("\n", ""))
    lines = ["".join(rows.get(y, [])) for y in range(app.size.height)]
    return "\n".join(lines).replace("\xa0", " ")


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_dashboard(
    snap_compare: Any, tmp_path: Path, size: tuple[int, int], theme: str
) -> None:
    settings = replace(Settings(), ui=replace(Settings().ui, theme=theme))
    app, runtime, clock = full_app(tmp_path, settings)

    async def run_before(pilot: Any) -> None:
        await settle(app, runtime, clock, pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_no_color(
    snap_compare: Any, tmp_path: Path, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app, runtime, clock = full_app(tmp_path)
    assert app.no_color

    async def run_before(pilot: Any) -> None:
        await settle(app, runtime, clock, pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def _headline_misses(shown: str, sources: Sequence[str]) -> list[str]:
    """The headline facts (values, not labels) missing from the screen's text."""
    checks = {
        "BTC price": r"\$92,104\.17",
        "BTC venue and age": r"via Coinbase\s*· (<5s|\d+s|\d+m)",
        "BTC distance from ATH": r"\$92,104\.17.*(ATH −\d+\.\d%|RECORD|PENDING)",
        "next FOMC and its odds": r"(Jan 28:? .*cut \d+%|Jan 28 +\d+% +\d+% +\d+%)",
        "cuts priced over 12 months": r"Priced: [^\n]*−\d+ bp by \w+ \d{4}",
        "next T-bill operation": r"NEXT  Mon Dec 15 10:10-10:30 ET",
        "latest T-bill result": r"LATEST \w+ \w+ \d+ \w+ accepted \$[\d.]+ \w+ of \$",
        "program tally": r"PERIOD \w+ \d+-\w+ \d+ \$[\d.]+\s?\w* of \$[\d.]+ \w+",
        "gap and its flag": r"(DIVERGENCE|no divergence) · gap [−+]?\d+\.\d pp",
    }
    misses = [name for name, pattern in checks.items() if not re.search(pattern, shown)]
    for sym in ("^RUT", "IWM", "^GSPC", "^DJI", "^NDX", "SI=F", "GC=F"):
        line = next((ln for ln in shown.splitlines() if ln.lstrip("│ ").startswith(sym)), "")
        if not re.search(r"\d[\d,]*\.\d\d.*(ATH−\d+(\.\d)?%|RECORD|PENDING)", line):
            misses.append(f"{sym} quote with its distance from ATH")
    for name in sources:
        label = SHORT.get(name, name)
        if not re.search(rf"{re.escape(label)} (LIVE|STALE|DOWN|CONNECTING)", shown):
            misses.append(f"{name} state")
    return misses


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_headline_fact_is_on_screen_without_scrolling(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(app, runtime, clock, pilot)
        await pilot.pause()
        assert app.screen.has_class("-grid") == (size[0] >= 160)
        shown = _export(app)
        misses = _headline_misses(shown, runtime.sources)
        assert misses == [], f"{misses}\n{shown}"
        # Nothing needs scrolling to be seen.
        assert app.query_one("#dashboard").max_scroll_y == 0
        for column in app.query(".column"):
            assert column.max_scroll_y == 0
        await app.action_quit()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_no_band_of_blank_rows_in_the_dashboard(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(app, runtime, clock, pilot)
        await pilot.pause()
        dash = app.query_one("#dashboard").region
        lines = _export(app).splitlines()[dash.y : dash.bottom]
        blank = [i for i, ln in enumerate(lines) if not ln.strip()]
        assert len(blank) <= 2, "\n".join(lines)
        # An Alerts panel with no rules and no alerts takes no line at all.
        assert not app.query_one("#alerts-panel").display
        await app.action_quit()


async def test_80x24_uses_title_rules_and_a_resize_reflows(tmp_path: Path) -> None:
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, runtime, clock, pilot)
        assert app.screen.has_class("-tight") and not app.screen.has_class("-grid")
        assert not app.query_one("#ath").display  # detail goes first
        await pilot.resize_terminal(160, 45)
        await pilot.pause()
        await pilot.pause()
        assert not app.screen.has_class("-tight") and app.query_one("#ath").display
        assert app.query_one("#fed-row-3").display  # more meetings with room
        await app.action_quit()


async def test_two_columns_from_160_and_one_below(tmp_path: Path) -> None:
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(app, runtime, clock, pilot)
        btc, fed = app.query_one("#btc"), app.query_one("#fed-odds")
        assert app.screen.has_class("-grid")
        assert fed.region.x > btc.region.right - 1 and fed.region.y == btc.region.y
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert not app.screen.has_class("-grid") and not app.screen.has_class("-tight")
        assert app.query_one("#quotes-panel").region.y > btc.region.y
        assert fed.region.x == btc.region.x
        await app.action_quit()


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_number_keys_zoom_a_panel_and_back(tmp_path: Path, size: tuple[int, int]) -> None:
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(app, runtime, clock, pilot)
        await pilot.press("4")
        await pilot.pause()
        fed = app.query_one("#fed-odds")
        assert app.screen.has_class("-zoomed") and fed.has_class("-zoomed")
        assert not app.screen.has_class("-tight")  # zoomed: the whole panel
        assert not app.query_one(BtcPanel).display or app.query_one(BtcPanel).region.area == 0
        assert fed.region.height >= size[1] - 6  # top bar, status bar, footer remain
        assert app.query_one("#fed-sum").region.area > 0  # the details show when zoomed
        await pilot.press("2")  # another number switches
        await pilot.pause()
        assert app.query_one(QuotesPanel).has_class("-zoomed") and not fed.has_class("-zoomed")
        await pilot.press("2")  # the same number returns
        await pilot.pause()
        assert not app.screen.has_class("-zoomed")
        assert app.query_one(BtcPanel).region.area > 0
        await pilot.press("6", "escape")  # Esc returns too
        await pilot.pause()
        assert not app.screen.has_class("-zoomed")
        await pilot.press("9")  # no such panel: nothing happens
        assert not app.screen.has_class("-zoomed")
        await app.action_quit()


async def test_keyboard_focus_and_enter_zoom_and_mouse_double_click(tmp_path: Path) -> None:
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, runtime, clock, pilot)
        await pilot.press("tab")
        assert app.focused is app.query_one(BtcPanel)
        await pilot.press("enter")
        assert app.query_one(BtcPanel).has_class("-zoomed")
        await pilot.press("enter")
        assert not app.screen.has_class("-zoomed")
        await pilot.click("#quotes-panel", times=2)
        await pilot.pause()
        assert app.query_one(QuotesPanel).has_class("-zoomed")
        await app.action_quit()


async def test_low_bandwidth_turns_off_every_flash_sparkline_and_chart(tmp_path: Path) -> None:
    app, runtime, clock = full_app(tmp_path, low_bandwidth=True)
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(app, runtime, clock, pilot)
        btc = app.query_one(BtcPanel)
        assert not btc.flash_enabled and not btc.query_one("#btc-spark").display
        assert not app.query_one(DivergenceChart).display
        tb = app.query_one(TbillsPanel)
        assert not tb.charts and not app.query_one("#tb-chart").display
        app._apply_low_bandwidth(False)  # live, as a config reload does
        await pilot.pause()
        assert btc.flash_enabled and btc.query_one("#btc-spark").display
        assert app.query_one(DivergenceChart).display
        await app.action_quit()


async def test_status_bar_tick_repaints_only_what_changed(tmp_path: Path) -> None:
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, runtime, clock, pilot)
        status = app.query_one("#status")
        before = status.repainted  # type: ignore[attr-defined]
        app._tick()  # nothing changed: nothing repainted
        assert status.repainted == before  # type: ignore[attr-defined]
        clock.advance(5.0)  # every age moves on by one 5 s step
        app._tick()
        cost = status.repainted - before  # type: ignore[attr-defined]
        # The digits of each age, not whole sources, let alone the whole bar.
        assert 0 < cost <= 3 * len(runtime.sources), cost
        assert "Coinbase LIVE" in str(status.render())
        await app.action_quit()


def _layout(app: LockstepApp) -> dict[str, Any]:
    """Where everything is: each panel's region, the status bar's and the footer's."""
    out: dict[str, Any] = {
        w.id or "": (w.region, w.display) for w in app.query(".panel") if w.id is not None
    }
    out["status"] = app.query_one("#status").region
    out["footer"] = app.query_one("Footer").region
    return out


async def test_a_resize_storm_ends_in_the_layout_of_a_fresh_start(tmp_path: Path) -> None:
    # The 1 Hz tick is stopped: the layout after a resize must not wait for it (the
    # status bar flowed its sources only on a tick, so its line count, and with it the
    # dashboard's height, stayed those of the previous width for up to a second).
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, runtime, clock, pilot)
        fresh = _layout(app)
        for timer in list(app._timers):
            if timer.name == "ages":
                timer.pause()
        # The last size before 120×40 puts the status bar on three lines (two at 120).
        for cols, rows in ((100, 30), (140, 50), (90, 35), (80, 24)):
            await pilot.resize_terminal(cols, rows)
            await pilot.pause()
            app._tick()  # the storm's sizes had their ticks
            await pilot.pause()
        await pilot.resize_terminal(120, 40)
        for _ in range(4):
            await pilot.pause()
        assert _layout(app) == fresh
        await app.action_quit()


@pytest.mark.parametrize("size", [(160, 45), (200, 60), (250, 70)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_btc_sparkline_takes_the_rows_left_not_a_blank_band_below_it(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(app, runtime, clock, pilot)
        await pilot.pause()
        spark = app.query_one("#btc-spark")
        assert spark.display and 2 < spark.size.height <= SPARK_MAX_ROWS
        # The column ends at the dashboard's bottom, and the All-time-highs panel below
        # the chart is no taller than what it shows (no blank rows inside its frame).
        ath = app.query_one(AthPanel)
        assert ath.region.bottom == app.query_one("#dashboard").region.bottom
        assert ath.region.height <= ath.need(ath.region.width).full + 2
        await app.action_quit()


async def test_at_80x24_every_source_state_stays_on_screen_when_all_are_in_trouble(
    tmp_path: Path,
) -> None:
    # At 80×24 the panels have no bottom border (no state subtitle): the status bar is
    # the only place a source's state shows, and it is at most three lines.
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, runtime, clock, pilot)
        now = clock.monotonic()
        for name in runtime.sources:
            runtime.store.apply(
                FeedStatus(name, FeedState.RECONNECTING, "connection reset by peer", now, now + 40)
            )
        app._paint()
        app._tick()
        await pilot.pause()
        status = app.query_one("#status")
        assert status.region.height <= 3
        shown = _export(app)
        for name in runtime.sources:
            assert f"{SHORT.get(name, name)} RECONNECTING" in shown, shown
        await app.action_quit()


async def test_a_hidden_panel_is_not_ticked_and_is_brought_up_to_now_when_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Idle CPU: the 1 Hz tick skips panels with no room on screen (the All-time-highs
    panel at 120×40); zooming it ticks it at once, so its ages are never old."""
    ticks: list[float] = []
    real = AthPanel.tick

    def counted(self: AthPanel, now_mono: float, now_wall: Any) -> None:
        ticks.append(now_mono)
        real(self, now_mono, now_wall)

    monkeypatch.setattr(AthPanel, "tick", counted)
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, runtime, clock, pilot)
        ath = app.query_one(AthPanel)
        assert not ath.display
        ticks.clear()
        for _ in range(3):
            clock.advance(1)
            app._tick()
        assert ticks == []
        await pilot.press("3")  # zoom the All-time-highs panel
        await pilot.pause()
        assert ath.display and ticks and ticks[-1] == clock.monotonic()
        shown = len(ticks)
        app._tick()
        assert len(ticks) == shown + 1  # shown: ticked every second again
        await app.action_quit()
