"""The banded compositor: it must write exactly what Textual's own partial update writes,
while visiting only the widgets near each change."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pyte
import pytest
from rich.console import Console
from textual._compositor import ChopsUpdate, Compositor, LayoutUpdate
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from feeds.sim.market import SimMarket
from tests.tui.test_app import live_runtime, market, text, wait_until
from tui.app import LockstepApp
from tui.partial_render import (
    BandedCompositor,
    CroppedChopsUpdate,
    DashboardScreen,
    _crop_single,
    banded_compositor_supported,
    cluster_regions,
)
from widgets.textual_pin import TESTED_TEXTUAL

__all__ = ["market"]  # the fixture, re-exported for pytest


def test_this_textual_supports_the_banded_compositor() -> None:
    # If a Textual upgrade removes the internals, the app silently falls back to the
    # stock compositor: this test makes that visible instead.
    assert banded_compositor_supported()
    assert isinstance(DashboardScreen()._compositor, BandedCompositor)


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        ([], []),
        ([Region(0, 0, 0, 3)], []),
        ([Region(2, 2, 10, 1)], [Region(2, 2, 10, 1)]),
        # Far apart (price at the top, an age in the status bar): two boxes.
        (
            [Region(2, 2, 14, 1), Region(100, 37, 4, 1)],
            [Region(2, 2, 14, 1), Region(100, 37, 4, 1)],
        ),
        # Neighbouring rows of one panel: one box.
        (
            [Region(2, 2, 14, 1), Region(2, 3, 40, 1), Region(2, 4, 30, 1)],
            [Region(2, 2, 40, 3)],
        ),
        # Overlapping regions always merge.
        ([Region(0, 0, 120, 20), Region(5, 5, 5, 5)], [Region(0, 0, 120, 20)]),
    ],
)
def test_cluster_regions(regions: list[Region], expected: list[Region]) -> None:
    assert sorted(cluster_regions(regions)) == sorted(expected)


def test_clusters_cover_every_region() -> None:
    rng = random.Random(3)
    for _ in range(200):
        regions = [
            Region(rng.randrange(110), rng.randrange(38), rng.randrange(1, 10), rng.randrange(1, 3))
            for _ in range(rng.randrange(1, 12))
        ]
        boxes = cluster_regions(regions)
        for r in regions:
            assert any(b.contains_region(r) for b in boxes), (r, boxes)


class _Layered(App[None]):
    """Nested containers, borders, a scrolled list, a docked bar and a footer: the shapes
    the dashboard has, so clipping and overlap are exercised."""

    CSS = """
    #left { width: 1fr; border: round $primary; }
    #right { width: 1fr; }
    #scroll { height: 8; border: solid $secondary; }
    .row { height: 1; }
    #bar { dock: bottom; height: 2; }
    """

    def get_default_screen(self) -> Screen[Any]:
        return DashboardScreen()

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="left"):
                for i in range(12):
                    yield Static(f"left row {i} " + "x" * (i * 3), classes="row", id=f"l{i}")
            with Vertical(id="right"):
                with VerticalScroll(id="scroll"):
                    for i in range(20):
                        yield Static(f"scrolled {i}", classes="row", id=f"s{i}")
                for i in range(6):
                    yield Static(f"right {i}", classes="row", id=f"r{i}")
        yield Static("status bar " * 8, id="bar")
        yield Footer()


def _console(width: int) -> Console:
    return Console(file=io.StringIO(), width=width, force_terminal=True, color_system="truecolor")


Cells = dict[tuple[int, int], tuple[object, ...]]


def _cells(screen: pyte.Screen) -> Cells:
    return {
        (x, y): (c.data, c.fg, c.bg, c.bold, c.italics, c.underscore, c.reverse)
        for y, line in screen.buffer.items()
        for x, c in line.items()
    }


def _check_update(compositor: Compositor, regions: list[Region], width: int, height: int) -> int:
    """Render the whole screen, scribble over ``regions``, apply the banded partial
    update for them: every cell of ``regions`` must be back as the full render has it.
    Returns the bytes written, which must not exceed what Textual's own update writes."""
    console = _console(width)
    full = compositor.render_update(full=True)
    assert isinstance(full, LayoutUpdate)
    screen = pyte.Screen(width, height)
    stream = pyte.Stream(screen)
    stream.feed(full.render_segments(console))
    want = _cells(screen)
    for r in regions:
        for y in range(max(0, r.y), min(height, r.bottom)):
            stream.feed(f"\x1b[{y + 1};{max(0, r.x) + 1}H\x1b[0m" + "X" * r.width)
    compositor._dirty_regions.update(regions)
    stock = Compositor.render_partial_update(compositor)
    compositor._dirty_regions.update(regions)
    banded = compositor.render_partial_update()
    assert banded is not None and stock is not None
    written = banded.render_segments(console)
    stream.feed(written)
    got = _cells(screen)
    screen_box = Region(0, 0, width, height)
    for r in regions:
        box = r.intersection(screen_box)
        for y in range(box.y, box.bottom):
            for x in range(box.x, box.right):
                assert got.get((x, y)) == want.get((x, y)), (x, y, r)
    assert len(written) <= len(stock.render_segments(console))
    if all(screen_box.contains_region(r) for r in regions):
        # Byte for byte what the same writer makes of the stock compositor's chops
        # (which fill every cut of the bounding box): the banded pass fills every chop
        # a span reaches, with the same widget on top. (Not for regions off the screen,
        # which Textual never marks: a span above the top reads the chops of a line
        # counted from the bottom, and what is there depends on the crop.)
        assert isinstance(stock, ChopsUpdate)
        same = CroppedChopsUpdate(stock.chops, stock.spans, stock.chop_ends)
        assert written == same.render_segments(console)
    return len(written)


def _random_regions(rng: random.Random, app: App[Any], width: int, height: int) -> list[Region]:
    """Some widgets' regions and some stray cells: what a frame marks dirty."""
    widgets = [w for w in app.screen.walk_children(Widget) if w.region.area]
    regions = [w.region for w in rng.sample(widgets, min(len(widgets), rng.randrange(1, 6)))]
    regions += [
        Region(rng.randrange(width - 5), rng.randrange(height - 1), rng.randrange(1, 8), 1)
        for _ in range(rng.randrange(3))
    ]
    screen = Region(0, 0, width, height)
    return [c for c in (r.intersection(screen) for r in regions) if c.area]


async def test_a_partial_update_restores_every_changed_cell_on_a_layered_screen() -> None:
    app = _Layered()
    async with app.run_test(size=(100, 30)) as pilot:
        app.query_one("#scroll").scroll_to(y=5, animate=False)
        await pilot.pause()
        compositor = app.screen._compositor
        assert isinstance(compositor, BandedCompositor)
        rng = random.Random(11)
        widgets = list(app.screen.walk_children(Widget))
        for _ in range(120):
            chosen = rng.sample(widgets, rng.randrange(1, 6))
            regions = [w.region for w in chosen if w.region.area]
            regions += [
                Region(rng.randrange(95), rng.randrange(29), rng.randrange(1, 8), 1)
                for _ in range(rng.randrange(3))
            ]
            if regions:
                _check_update(compositor, regions, 100, 30)


async def test_a_change_at_the_right_of_a_wide_line_writes_only_that_part() -> None:
    app = _Layered()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        bar = app.query_one("#bar").region
        tail = Region(bar.right - 6, bar.y, 4, 1)
        written = _check_update(compositor, [tail], 100, 30)
        assert written < 80  # Textual writes the line from its left edge: ~100 cells


async def test_a_line_with_double_width_characters_is_written_whole() -> None:
    app = _Layered()
    async with app.run_test(size=(100, 30)) as pilot:
        bar = app.query_one("#bar", Static)
        bar.update("日本語 status " * 6)
        await pilot.pause()
        compositor = app.screen._compositor
        region = bar.region
        for x in (1, 2, 3, 7):  # some inside a wide character
            _check_update(compositor, [Region(region.x + x, region.y, 5, 1)], 100, 30)


async def test_a_partial_update_restores_every_changed_cell_on_the_dashboard(
    market: SimMarket, tmp_path: Path
) -> None:
    app = LockstepApp(live_runtime(market, tmp_path), watch_terminal=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: text(app, "#btc-price").startswith("$"))
        await pilot.pause(0.3)
        compositor = app.screen._compositor
        assert isinstance(compositor, BandedCompositor)
        probes = [
            ["#btc-price", "#status"],
            ["#btc-price", "#btc-age", "#ath-row-btc-usd"],
            ["#btc-change", "#wall-clock", "Footer"],
            ["#quotes-panel", "#btc-book"],
        ]
        for selectors in probes:
            regions = [app.query_one(s).region for s in selectors]
            _check_update(compositor, [r for r in regions if r.area], 120, 40)


async def test_a_price_change_visits_only_the_widgets_near_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = _Layered()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        visited: list[str] = []
        original = Static.render_lines

        def spy(self: Static, crop: Region) -> Any:
            visited.append(self.id or "")
            return original(self, crop)

        monkeypatch.setattr(Static, "render_lines", spy)
        app.query_one("#l3", Static).update("left row 3 changed")
        app.query_one("#bar", Static).update("status changed")
        await pilot.pause()
        # The two changed Statics, and no other row of the left column.
        assert "l3" in visited and "bar" in visited
        assert not {f"l{i}" for i in range(12) if i != 3} & set(visited)


async def test_repainting_an_offscreen_widget_keeps_the_widget_map() -> None:
    app = _Layered()
    async with app.run_test(size=(100, 30)) as pilot:
        scroll = app.query_one("#scroll")
        scroll.scroll_to(y=8, animate=False)
        await pilot.pause()
        compositor = app.screen._compositor
        hidden = app.query_one("#s1", Static)
        assert hidden not in compositor.visible_widgets
        _ = compositor.full_map  # settle the map
        hidden.update("scrolled 1 has changed")
        await pilot.pause()
        # Textual would drop the map here and re-arrange every widget on the next frame.
        assert not compositor._full_map_invalidated
        # Scrolled back into view, the widget shows its new content.
        scroll.scroll_to(y=0, animate=False)
        await pilot.pause()
        screen_text = "\n".join(strip.text for strip in compositor.render_strips())
        assert "scrolled 1 has changed" in screen_text


async def test_repainting_a_hidden_widget_keeps_the_widget_map(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The layout leaves panels out (display: none on the panel); the cells inside a
    # left-out panel still repaint with every tick of its view. That must not make the
    # next frame re-arrange every widget.
    app = _Layered()
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one("#scroll")
        inside = app.query_one("#s1", Static)
        panel.display = False
        await pilot.pause()
        compositor = app.screen._compositor
        _ = compositor.full_map  # settle the map
        assert inside not in compositor.full_map
        arranged: list[bool] = []
        original = BandedCompositor._arrange_root

        def spy(self: Compositor, *args: Any, **kw: Any) -> Any:
            arranged.append(True)
            return original(self, *args, **kw)

        monkeypatch.setattr(BandedCompositor, "_arrange_root", spy)
        for i in range(3):
            # Repaints, as a panel's cells do on a tick (no layout refresh).
            inside.update(f"scrolled 1 has changed {i}", layout=False)
            app.query_one("#l3", Static).update(f"left row 3 changed {i}", layout=False)
            await pilot.pause()
        assert not arranged  # Textual re-arranges every widget on each of those frames
        screen_text = "\n".join(strip.text for strip in compositor.render_strips())
        assert "left row 3 changed 2" in screen_text
        # Shown again (a layout refresh), it shows what it was given while left out.
        panel.display = True
        await pilot.pause()
        screen_text = "\n".join(strip.text for strip in compositor.render_strips())
        assert "scrolled 1 has changed 2" in screen_text


def _rows_by_scan(compositor: Compositor) -> list[list[Widget]]:
    """Each screen line's widgets by walking every visible widget: what the index holds."""
    rows: list[list[Widget]] = [[] for _ in range(compositor.size.height)]
    for widget, (region, clip) in compositor.visible_widgets.items():
        visible = region.intersection(clip)
        for y in range(visible.y, visible.bottom) if visible.area else ():
            rows[y].append(widget)
    return rows


async def test_the_row_index_lists_each_lines_widgets_front_to_back() -> None:
    app = _Layered()
    async with app.run_test(size=(100, 30)) as pilot:
        app.query_one("#scroll").scroll_to(y=5, animate=False)
        await pilot.pause()
        compositor = app.screen._compositor
        assert isinstance(compositor, BandedCompositor)
        index = compositor._map_index()
        assert [[e.widget for e in row] for row in index.rows] == _rows_by_scan(compositor)
        # A row of the left column: the Static, its column, the row, the screen.
        l3 = app.query_one("#l3")
        on_l3 = [e.widget for e in index.rows[l3.region.y]]
        assert on_l3.index(l3) < on_l3.index(app.query_one("#left")) < on_l3.index(app.screen)
        assert compositor._map_index() is index  # the map did not change: kept


async def test_partial_updates_stay_exact_when_the_map_changes() -> None:
    # The row index is built per map: after a resize, a panel hidden or shown, a widget
    # mounted or removed and a scroll, every update must still be the stock one.
    app = _Layered()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        assert isinstance(compositor, BandedCompositor)
        rng = random.Random(5)
        size = (100, 30)

        async def check(note: str, must_show: Widget | None = None) -> None:
            await pilot.pause()
            index = compositor._map_index()
            rows = [[e.widget for e in row] for row in index.rows]
            assert rows == _rows_by_scan(compositor), note
            if must_show is not None:
                assert any(must_show in row for row in rows), note
            for _ in range(25):
                regions = _random_regions(rng, app, *size)
                if must_show is not None:
                    regions.append(must_show.region)
                if regions:
                    _check_update(compositor, regions, *size)

        await check("initial")
        first = compositor._map_index()
        size = (80, 24)
        await pilot.resize_terminal(*size)
        await check("resized")
        assert compositor._map_index() is not first
        app.query_one("#left").display = False
        await check("left column hidden", app.query_one("#r0"))
        app.query_one("#left").display = True
        await check("left column shown", app.query_one("#l0"))
        new = Static("mounted late " * 3, classes="row", id="late")
        await app.query_one("#right").mount(new, before=0)
        await check("widget mounted", new)
        await app.query_one("#r2").remove()
        await check("widget removed", app.query_one("#r3"))
        app.query_one("#scroll").scroll_to(y=6, animate=False)
        await check("scrolled", app.query_one("#s7"))


async def test_a_stale_row_index_would_be_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # The check above can fail: an index kept across a map change draws the old places.
    from tui.partial_render import _MapIndex

    app = _Layered()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        _ = compositor.render_update(full=True)
        monkeypatch.setattr(_MapIndex, "matches", lambda *_: True)
        app.query_one("#left").display = False
        await pilot.pause()
        with pytest.raises(AssertionError):
            _check_update(compositor, [app.query_one("#r0").region], 100, 30)


async def test_closing_the_screen_drops_the_row_index() -> None:
    app = _Layered()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        assert isinstance(compositor, BandedCompositor)
        compositor._map_index()
        compositor.clear()  # what Textual does when the screen closes
        assert compositor._index is None  # it held every visible widget


def test_the_banded_compositor_needs_the_tested_textual_minor() -> None:
    assert banded_compositor_supported(TESTED_TEXTUAL + (0,))
    assert not banded_compositor_supported((TESTED_TEXTUAL[0], TESTED_TEXTUAL[1] + 1, 0))
    assert not banded_compositor_supported((TESTED_TEXTUAL[0] + 1, 0, 0))
    assert not banded_compositor_supported(())


def test_the_stock_opt_out_keeps_textuals_compositor() -> None:
    assert type(DashboardScreen(banded=False)._compositor) is Compositor
    assert isinstance(DashboardScreen()._compositor, BandedCompositor)


@pytest.mark.parametrize("choice", ["banded", "stock"])
async def test_ui_compositor_chooses_the_apps_compositor(tmp_path: Path, choice: str) -> None:
    from feeds.core.clock import SystemClock
    from tui.config import Settings
    from tui.runtime import build_runtime

    rt = build_runtime(Settings(), SystemClock(), data=tmp_path)
    rt.feeds = []
    app = LockstepApp(rt, watch_terminal=False, ui_overrides={"compositor": choice})
    async with app.run_test(size=(80, 24)):
        banded = isinstance(app.screen._compositor, BandedCompositor)
        assert banded is (choice == "banded")
        await app.action_quit()


@pytest.mark.parametrize(("value", "ok"), [("banded", True), ("stock", True), ("fast", False)])
def test_ui_compositor_takes_banded_or_stock(tmp_path: Path, value: str, ok: bool) -> None:
    from tui.config import ConfigError, load_settings

    path = tmp_path / "config.toml"
    path.write_text(f'[ui]\ncompositor = "{value}"\n')
    if ok:
        assert load_settings(str(path), env={})[0].ui.compositor == value
    else:
        with pytest.raises(ConfigError, match="compositor"):
            load_settings(str(path), env={})


def test_cropping_a_single_width_strip_matches_strip_crop() -> None:
    from rich.segment import Segment
    from rich.style import Style
    from textual.strip import Strip

    rng = random.Random(20)
    styles = [Style(bold=True), Style(color="red"), None]
    for _ in range(2000):
        segments = [
            Segment(
                "".join(rng.choice("ab−▲· 09") for _ in range(rng.randint(0, 6))),
                rng.choice(styles),
            )
            for _ in range(rng.randint(0, 5))
        ]
        strip = Strip(segments)
        start, end = rng.randint(-2, strip.cell_length + 2), rng.randint(-2, strip.cell_length + 3)
        mine, theirs = _crop_single(strip, start, end), strip.crop(start, end)
        assert mine.cell_length == theirs.cell_length
        assert [(x.text, x.style) for x in mine if x.text] == [
            (x.text, x.style) for x in theirs if x.text
        ]


def test_writing_new_prices_does_not_fill_rich_split_cache() -> None:
    # Issue 20: every crop of a line holding "−" went through rich's Segment._split_cells,
    # a 16,384-entry LRU cache, so each new price added entries for ~20 minutes.
    from rich.segment import Segment
    from textual.strip import Strip

    console = Console(file=io.StringIO(), width=80, color_system="truecolor")
    before = Segment._split_cells.cache_info().currsize
    for i in range(300):
        strip = Strip([Segment(f"BTC ▼ −{i:05d} 24h  age {i % 60:2d}s")])
        # One chop holding the whole line, of which only cells 6..12 changed.
        update = CroppedChopsUpdate([{0: strip}], [(0, 6, 12)], [[strip.cell_length]])
        assert f"{i:05d}"[:5] in update.render_segments(console)
    assert Segment._split_cells.cache_info().currsize == before
