"""The divergence panel: the braille chart, figures, the flag, co-highs, the window key,
and a snapshot."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.geometry import Region

from feeds.core.clock import ManualClock
from feeds.history.divergence_state import DivergenceSlice, SetChartWindow
from feeds.model.btc import Tick
from feeds.model.history import DivergenceView, HistoryBars
from feeds.model.quotes import MarketState, Quote
from feeds.sim.history_data import daily_bars
from widgets.cells import Cell
from widgets.divergence_panel import DivergenceChart, DivergencePanel, braille

TCSS = Path(__file__).parent.parent.parent / "tui" / "history.tcss"
MONO = 1000.0
WALL = datetime(2025, 12, 12, 15, 25, tzinfo=UTC)


def make_view(window: str = "1y", live: bool = True) -> DivergenceView:
    s = DivergenceSlice(clock=ManualClock(WALL, mono=MONO))
    s.apply(HistoryBars("cache", "BTC-USD", tuple(daily_bars("BTC-USD")), None, MONO))
    s.apply(HistoryBars("cache", "^RUT", tuple(daily_bars("^RUT")), None, MONO))
    s.apply(SetChartWindow(window))
    if live:
        s.apply(
            Tick(
                "kraken", Decimal("92100"), None, None, None, None, None, None, None, None, MONO - 3
            )
        )
        s.apply(Quote(
            "yahoo", "^RUT", "Russell 2000", Decimal("2558"), None, None, None, None, "USD",
            MarketState.REGULAR, False, 0, None, None, MONO - 5,
        ))  # fmt: skip
    return s.view()


class Host(App[None]):
    CSS_PATH = str(TCSS)

    def __init__(self) -> None:
        super().__init__()
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield DivergencePanel()

    def on_divergence_panel_window_selected(self, msg: DivergencePanel.WindowSelected) -> None:
        self.selected.append(msg.window)


def line(app: App[Any], name: str) -> str:
    return app.query_one(f"#div-{name}", Cell).text


def test_braille_plots_and_joins_points() -> None:
    grid = braille([[0.0, 1.0], [1.0, 0.0]], 1, 1)
    (cell,) = grid[0]
    a, b = cell
    assert a & 0x40 and a & 0x08  # bottom-left to top-right
    assert b & 0x01 and b & 0x80
    assert braille([[], []], 3, 2) == [[(0, 0)] * 3] * 2
    flat = braille([[5.0, 5.0, 5.0]], 2, 1)
    assert all(cell[0] for cell in flat[0])
    tall = braille([[0.0, 10.0]], 1, 2)
    assert tall[0][0][0] and tall[1][0][0]  # a vertical join crosses both rows


async def test_figures_flag_and_co_highs() -> None:
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        panel = app.query_one(DivergencePanel)
        panel.show(make_view())
        panel.tick(MONO, WALL)
        await pilot.pause()
        assert "DIVERGENCE · gap −27.0 pp · ^RUT near its high" in line(app, "flag")
        assert "BTC-USD −27.0%" in line(app, "flag") and "flag >20%" in line(app, "flag")
        assert panel.has_class("-diverging")
        co = line(app, "cohighs")
        assert "2025-10-06/10-15 · 2024-11-21/11-11 · 2021-11-10/11-08" in co
        a, b = line(app, "a"), line(app, "b")
        assert "BTC-USD" in a and "92,100  −27.0% from ATH 126,200 2025-10-06" in a
        assert "kraken <1m" in a and "RECORD from ATH 2,547 2025-12-11" in b
        assert all(len(line(app, n)) <= 98 for n in ("a", "b", "corr", "cohighs", "flag"))
        corr = line(app, "corr")
        assert "30d +" in corr and "90d +" in corr  # the gap is in the flag headline
        assert "[1Y]" in line(app, "legend")
        chart = app.query_one(DivergenceChart).plain_lines()
        assert len(chart) == 8 and any(ch != " " for row in chart for ch in row)
        assert panel.border_subtitle == "DIVERGENCE · 1Y · LIVE"


async def test_a_second_that_changes_no_age_paints_nothing() -> None:
    """Idle CPU: the sides' ages are in whole minutes, so most 1 Hz ticks leave them as
    they were and paint nothing; the minute that moves an age paints."""
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        panel = app.query_one(DivergencePanel)
        panel.show(make_view())
        paints: list[int] = []
        paint = panel._paint_sides

        def counted() -> None:
            paints.append(1)
            paint()

        panel._paint_sides = counted  # type: ignore[method-assign]
        panel.tick(MONO, WALL)
        assert paints == [1]  # a new view
        for s in range(1, 30):
            panel.tick(MONO + s, WALL)  # "<1m" all along
        assert paints == [1]
        panel.tick(MONO + 60, WALL)
        assert paints == [1, 1]
        await pilot.pause()
        assert "kraken 1m" in line(app, "a")


async def test_window_key_posts_intent() -> None:
    app = Host()
    async with app.run_test(size=(80, 20)) as pilot:
        panel = app.query_one(DivergencePanel)
        panel.show(make_view())
        panel.focus()
        await pilot.press("w")
        await pilot.pause()
        assert app.selected == ["5y"]


async def test_cached_without_live_prices() -> None:
    app = Host()
    async with app.run_test(size=(80, 20)) as pilot:
        panel = app.query_one(DivergencePanel)
        panel.show(make_view(live=False))
        panel.tick(MONO, WALL)
        await pilot.pause()
        assert "close 2025-12-11" in line(app, "a")
        assert str(panel.border_subtitle).endswith("CACHED")


def test_snapshot_divergence_panel(snap_compare: Any) -> None:
    view = make_view(window="5y")

    async def before(pilot: Any) -> None:
        panel = pilot.app.query_one(DivergencePanel)
        panel.show(view)
        panel.tick(MONO, WALL)
        await pilot.pause()

    assert snap_compare(Host(), terminal_size=(80, 18), run_before=before)


async def test_wide_co_highs_show_prices() -> None:
    app = Host()
    async with app.run_test(size=(140, 20)) as pilot:
        panel = app.query_one(DivergencePanel)
        panel.show(make_view())
        await pilot.pause()
        co = line(app, "cohighs")
        assert "2025-10-06 126,200 / 2025-10-15 2,512" in co and "2021-11-10 69,000" in co


def count_refreshes(chart: DivergenceChart) -> list[object]:
    """Every ``refresh`` call on ``chart`` from now on (each still refreshes)."""
    refreshed: list[object] = []
    refresh = chart.refresh

    def counted(*args: Any, **kwargs: Any) -> DivergenceChart:
        refreshed.append(args)
        return refresh(*args, **kwargs)

    chart.refresh = counted  # type: ignore[method-assign]
    return refreshed


async def test_the_chart_repaints_only_when_a_dot_moves() -> None:
    """The live price moves the last point on every tick; the chart is repainted (and
    its bytes sent) only when that moves a braille dot."""
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        chart = app.query_one(DivergenceChart)
        chart.set_lines((100.0, 90.0, 80.0), (100.0, 105.0, 110.0))
        await pilot.pause()
        before = chart.plain_lines()
        refreshed = count_refreshes(chart)
        chart.set_lines((100.0, 90.0, 80.0001), (100.0, 105.0, 110.0))  # under one dot
        assert refreshed == [] and chart.plain_lines() == before
        chart.set_lines((100.0, 90.0, 95.0), (100.0, 105.0, 110.0))  # a dot moves
        assert len(refreshed) == 1


async def test_a_hidden_chart_is_not_repainted_and_shows_its_latest_lines_when_shown() -> None:
    """Hidden (no room, low bandwidth), the chart takes new lines without a repaint (it
    woke every frame for nothing); shown again, it draws the lines it was last given."""
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        chart = app.query_one(DivergenceChart)
        chart.set_lines((100.0, 90.0, 80.0), (100.0, 105.0, 110.0))
        await pilot.pause()
        shown_before = chart.plain_lines()
        chart.display = False
        await pilot.pause()
        refreshed = count_refreshes(chart)
        chart.set_lines((100.0, 80.0, 60.0), (100.0, 110.0, 130.0))
        assert refreshed == []
        chart.display = True
        await pilot.pause()
        drawn = chart.plain_lines()
        assert drawn != shown_before
        # What the screen takes from the chart (its styles cache), not only its model.
        strips = chart.render_lines(Region(0, 0, chart.size.width, chart.size.height))
        assert [strip.text for strip in strips] == drawn
        chart.set_lines((100.0, 80.0, 60.0), (100.0, 110.0, 130.0))  # the same lines
        assert chart.plain_lines() == drawn
        plot = chart._plot
        assert plot is not None and plot.key[:2] == ((100.0, 80.0, 60.0), (100.0, 110.0, 130.0))
