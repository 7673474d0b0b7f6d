"""A cell builds its one line itself only where that line is the strip Textual renders:
the same segments with the same styles (colours, attributes, offsets), so the screen
and the snapshots cannot tell the two apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.app import App, ComposeResult
from textual.color import Color
from textual.content import Content, Span
from textual.geometry import Region
from textual.selection import SELECT_ALL
from textual.strip import Strip
from textual.style import Style
from textual.visual import Visual

from tests.tui.test_layout import full_app, settle
from widgets.cells import FAST_RENDER, Cell, fast_render_supported

Facts = list[tuple[str, str, dict[str, Any], bool]]


def facts(strip: Strip) -> tuple[Facts, int]:
    """Everything a segment carries, spelled out (a Rich style compares by its hash)."""
    segments = [
        (text, str(style), dict(style.meta) if style else {}, bool(control))
        for text, style, control in strip
    ]
    return segments, strip.cell_length


def stock(cell: Cell, width: int) -> Strip:
    """The line as Textual renders it (``Widget._render_content`` does this)."""
    strips = Visual.to_strips(cell, cell.render(), width, 1, cell.visual_style)
    assert len(strips) == 1
    return strips[0]


def assert_fast_is_stock(cell: Cell, width: int) -> None:
    fast = cell._one_line(width)
    assert fast is not None, f"not the fast path: {cell.text!r} in {width}"
    expected = stock(cell, width)
    assert facts(fast) == facts(expected)
    assert list(fast) == list(expected)


class _Host(App[None]):
    CSS = """
    Cell { background: $panel 60%; }
    #probe { width: 30; }
    #boxed { width: 24; padding: 0 2; border: round $accent; height: 3; }
    .-up { color: $success; }
    .-downtick { color: $error; text-style: bold; }
    .-dim { opacity: 60%; }
    """

    def compose(self) -> ComposeResult:
        yield Cell("", id="probe")
        yield Cell("boxed", id="boxed")


_STYLED = Content.assemble(("▲ ", "$success"), "0.75%  ", ("−696 24h", "dim italic"))
_OVERLAPPING = Content("BTC 92,104.17", [Span(0, 8, "bold"), Span(4, 13, "reverse on red")])
_STYLE_OBJECT = Content("ATH −27.0%", [Span(4, 10, Style(foreground=Color(255, 136, 0)))])


@pytest.mark.parametrize(
    ("content", "align", "width"),
    [
        (Content("$92,104.17"), "start", 30),
        (Content("$92,104.17"), "left", 10),  # exactly the width
        (Content("$92,104.17"), "right", 30),
        (Content("$92,104.17"), "end", 10),
        (Content("$92,104.17"), "center", 29),  # odd excess: one more on the right
        (Content("  leading and trailing  "), "left", 24),
        (Content("  leading and trailing  "), "center", 30),
        (Content.styled("up 2%", "bold"), "left", 30),
        (_STYLED, "left", 30),
        (_STYLED, "right", 20),
        (_OVERLAPPING, "center", 30),
        (_OVERLAPPING, "left", 13),
        (_STYLE_OBJECT, "right", 30),
        (Content("日本 ¥ 92,104"), "left", 30),  # double width
        (Content("日本 ¥ 92,104"), "right", 13),  # exactly the width in cells
        (Content("cafe\u0301"), "left", 5),  # a zero-width mark: 5 characters, 4 cells
        (Content("−27.1% ▼ · <5s"), "center", 30),
        (Content(""), "left", 30),
        (Content(""), "right", 30),
        (Content(""), "center", 7),
    ],
)
async def test_the_fast_line_is_textuals_line(content: Content, align: str, width: int) -> None:
    app = _Host()
    async with app.run_test(size=(40, 8)) as pilot:
        await pilot.pause()
        cell = app.query_one("#probe", Cell)
        cell.set(content)
        cell.styles.text_align = align  # type: ignore[assignment]
        assert_fast_is_stock(cell, width)


@pytest.mark.parametrize(
    ("content", "css", "width"),
    [
        (Content("two\nlines"), {}, 30),
        (Content("a\ttab"), {}, 30),
        (Content("$92,104.17"), {}, 9),  # longer than the width
        (Content("日本"), {}, 3),  # longer in cells, not in characters
        (Content("cafe\u0301"), {}, 4),  # longer in characters, not in cells
        (Content("👨\u200d👩 family"), {}, 30),  # joined emoji: widths do not add up
        (Content("two words"), {"text_align": "justify"}, 30),
        (Content("$92,104.17"), {"line_pad": 1}, 30),
        (Content("$92,104.17"), {"content_align": ("center", "middle")}, 30),
        (Content.from_markup("[@click=app.bell]bell[/] now"), {}, 30),  # an action
        (Content.from_markup("[link='https://example.org']site[/]"), {}, 30),
    ],
)
async def test_other_lines_are_left_to_textual(
    content: Content, css: dict[str, Any], width: int
) -> None:
    app = _Host()
    async with app.run_test(size=(40, 8)) as pilot:
        await pilot.pause()
        cell = app.query_one("#probe", Cell)
        cell.set(content)
        for rule, value in css.items():
            setattr(cell.styles, rule, value)
        assert cell._one_line(width) is None


async def test_a_selection_is_left_to_textual() -> None:
    app = _Host()
    async with app.run_test(size=(40, 8)) as pilot:
        await pilot.pause()
        cell = app.query_one("#probe", Cell)
        cell.set("$92,104.17")
        assert cell._one_line(30) is not None
        app.screen.selections = {cell: SELECT_ALL}
        assert cell._one_line(30) is None
        await pilot.pause()
        selected = cell.render_lines(Region(0, 0, cell.size.width, 1))[0]
        assert selected.text.startswith("$92,104.17")


async def test_a_toggled_class_and_another_theme_restyle_the_fast_line() -> None:
    # The price cell toggles -up and -downtick; a theme can change at run time. The line
    # built directly must follow both, as Textual's does.
    app = _Host()
    async with app.run_test(size=(40, 8)) as pilot:
        await pilot.pause()
        cell = app.query_one("#probe", Cell)
        cell.set(_STYLED)
        assert_fast_is_stock(cell, 30)
        plain = facts(stock(cell, 30))
        cell.add_class("-up")
        await pilot.pause()
        assert_fast_is_stock(cell, 30)
        up = facts(stock(cell, 30))
        assert up != plain
        cell.set_class(False, "-up").set_class(True, "-downtick")
        await pilot.pause()
        assert_fast_is_stock(cell, 30)
        assert facts(stock(cell, 30)) not in (plain, up)
        cell.set_class(False, "-downtick").set_class(True, "-up")
        await pilot.pause()
        again = cell._one_line(30)
        assert again is not None and facts(again) == up  # back again: the same as before
        cell.add_class("-dim")  # opacity blends the colours
        await pilot.pause()
        assert_fast_is_stock(cell, 30)
        dark = facts(stock(cell, 30))
        app.theme = "textual-light"
        await pilot.pause()
        assert_fast_is_stock(cell, 30)
        assert facts(stock(cell, 30)) != dark


async def test_a_cell_paints_the_same_lines_either_way() -> None:
    # Through the styles cache (padding, border, background): what the screen shows.
    app = _Host()
    async with app.run_test(size=(40, 8)) as pilot:
        await pilot.pause()
        for cell_id, text in (("probe", "$92,104.17"), ("boxed", _STYLED)):
            cell = app.query_one(f"#{cell_id}", Cell)
            cell.set(text)
            await pilot.pause()
            assert cell._one_line(cell.size.width) is not None  # the fast path is taken
            region = Region(0, 0, cell.outer_size.width, cell.outer_size.height)
            painted = []
            for fast in (True, False):
                cell._fast_render = fast and FAST_RENDER
                cell._styles_cache.clear()
                painted.append([facts(strip) for strip in cell.render_lines(region)])
            assert painted[0] == painted[1]
            assert cell_id != "boxed" or any("▲" in s for s, *_ in painted[0][1][0])


_ALPHABET = st.sampled_from(list("abc XYZ 0189.,$%−▲▼·¥日本語éü") + ["e\u0301", "  "])
_SPAN_STYLES: st.SearchStrategy[str | Style] = st.sampled_from(
    [
        "bold",
        "dim italic",
        "reverse",
        "underline on blue",
        "#ff8800 on #002200",
        "$success",
        "$error 50%",
        Style(bold=True),
        Style(foreground=Color(10, 200, 30), background=Color(0, 0, 0, 0.5)),
    ]
)


@st.composite
def _contents(draw: st.DrawFn) -> Content:
    text = "".join(draw(st.lists(_ALPHABET, max_size=12)))
    spans = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text)))
        spans.append(Span(start, end, draw(_SPAN_STYLES)))
    return Content(text, spans)


async def test_property_the_fast_line_is_textuals_line_for_any_fitting_text() -> None:
    app = _Host()
    async with app.run_test(size=(40, 8)) as pilot:
        await pilot.pause()
        cell = app.query_one("#probe", Cell)
        foreground = {}
        for up in (True, False):
            cell.set_class(up, "-up")
            app.stylesheet.update(cell)
            foreground[up] = cell.visual_style.foreground
        assert foreground[True] != foreground[False]

        @given(
            content=_contents(),
            align=st.sampled_from(["left", "start", "right", "end", "center"]),
            extra=st.integers(0, 6),
            up=st.booleans(),
        )
        def check(content: Content, align: str, extra: int, up: bool) -> None:
            cell.set(content)
            cell.styles.text_align = align  # type: ignore[assignment]
            cell.set_class(up, "-up")
            app.stylesheet.update(cell)  # now, not on the next idle: no await in here
            assert cell.visual_style.foreground == foreground[up]
            width = max(len(content.plain), content.cell_length, 1) + extra
            assert_fast_is_stock(cell, width)

        check()

        @given(content=_contents(), width=st.integers(1, 14))
        def any_width(content: Content, width: int) -> None:
            cell.set(content)
            fast = cell._one_line(width)
            if fast is not None:
                assert facts(fast) == facts(stock(cell, width))

        any_width()


async def test_every_cell_of_the_dashboard_renders_as_textual_does(tmp_path: Path) -> None:
    # The real screen's styles: panels, borders, themes' backgrounds with alpha.
    assert FAST_RENDER  # the pinned Textual: otherwise this test proves nothing
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, runtime, clock, pilot)
        for theme in ("textual-dark", "textual-light"):
            app.theme = theme
            await pilot.pause()
            checked = 0
            for cell in app.query(Cell):
                width, height = cell.size
                if height != 1 or not width or not cell.display:
                    continue
                fast = cell._one_line(width)
                if fast is not None:
                    assert facts(fast) == facts(stock(cell, width)), cell.id
                    checked += 1
            assert checked >= 40


def test_another_textual_minor_turns_the_fast_path_off() -> None:
    assert fast_render_supported((8, 2, 8))
    assert not fast_render_supported((8, 3, 0))
    assert not fast_render_supported((9, 0))
    assert not fast_render_supported(())
