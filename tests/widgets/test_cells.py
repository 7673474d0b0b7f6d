"""Cells repaint only the characters that changed."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.content import Content
from textual.geometry import Region

from widgets.cells import Cell, changed_span


@pytest.mark.parametrize(
    ("old", "new", "span"),
    [
        ("92,104.17", "92,104.17", (0, 0)),
        ("92,104.17", "92,104.25", (7, 9)),
        ("92,104.17", "93,104.17", (1, 2)),
        ("92,104.17", "92,1049.17", None),  # another length: a layout pass
        ("a\nb", "a\nc", None),  # several lines
        ("日本", "日木", None),  # double width
        (Content("up 2%"), Content.styled("up 3%", "bold"), None),  # another style
        (Content("up 2%"), Content("up 3%"), (3, 4)),
    ],
)
def test_changed_span(old: str | Content, new: str | Content, span: tuple[int, int] | None) -> None:
    assert changed_span(old, new) == span


class _One(App[None]):
    CSS = "#right { text-align: right; }"

    def compose(self) -> ComposeResult:
        yield Cell("$92,104.17", id="left")
        yield Cell("via Coinbase", id="right")


async def test_a_cell_marks_only_the_changed_characters_dirty() -> None:
    app = _One()
    async with app.run_test(size=(40, 4)) as pilot:
        await pilot.pause()
        left = app.query_one("#left", Cell)
        right = app.query_one("#right", Cell)
        left._exchange_repaint_regions()
        right._exchange_repaint_regions()
        left.set("$92,104.25")
        assert set(left._exchange_repaint_regions()) == {Region(8, 0, 2, 1)}
        left.set("$92,104.25")  # unchanged: nothing
        assert not left._exchange_repaint_regions()
        right.set("via Kraken!!")  # right-aligned: the whole cell
        assert set(right._exchange_repaint_regions()) == {right.size.region}
        assert left.text == "$92,104.25" and str(left.render()) == "$92,104.25"
        left.update("plain [b]text[/b]")  # update() never parses markup either
        assert left.text == "plain [b]text[/b]"


class _Sizes(App[None]):
    CSS = """
    #auto { width: auto; }
    #clip { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def compose(self) -> ComposeResult:
        yield Cell("fills its row: 9s", id="fill")
        yield Cell("$92,104.17", id="auto")
        yield Cell("clipped", id="clip")


async def test_a_cell_asks_for_layout_only_when_its_size_may_change() -> None:
    # A layout pass reflows the whole screen: a cell that fills its row must not ask for
    # one when its text changes length (an age from 9s to 10s).
    app = _Sizes()
    async with app.run_test(size=(40, 6)) as pilot:
        await pilot.pause()
        fill, auto, clip = (app.query_one(f"#{i}", Cell) for i in ("fill", "auto", "clip"))
        fill.set("fills its row: 10s")
        assert not fill._layout_required and fill._repaint_required
        auto.set("$192,104.17")  # an auto-width cell takes another width
        assert auto._layout_required
        await pilot.pause()
        fill.set("a text longer than the forty columns of the row: it wraps")
        assert fill._layout_required  # two lines now
        await pilot.pause()
        assert fill.size.height == 2
        clip.set("a text longer than the forty columns, clipped, not wrapped")
        assert not clip._layout_required


class _Lines(App[None]):
    def compose(self) -> ComposeResult:
        yield Cell("BTC 92,104.17", id="one")
        yield Cell("two\nlines", id="two")


async def test_a_one_line_cell_keeps_one_copy_of_its_line_and_still_paints_changes() -> None:
    app = _Lines()
    async with app.run_test(size=(30, 4)) as pilot:
        await pilot.pause()
        one = app.query_one("#one", Cell)
        two = app.query_one("#two", Cell)
        # Painted: the styled line is in the styles cache, the render cache is let go.
        assert one._render_cache.lines == []
        assert len(two._render_cache.lines) == 2  # several lines: Textual's caching
        one.set("BTC 92,104.25")
        await pilot.pause()
        assert one._render_cache.lines == []
        assert one.render_line(0).text.rstrip() == "BTC 92,104.25"
        strips = one.render_lines(Region(0, 0, one.size.width, 1))
        assert strips[0].text.rstrip() == "BTC 92,104.25"
        # Restyled without a new text (a full refresh): rendered again from the text.
        one.refresh()
        await pilot.pause()
        assert one.render_lines(Region(0, 0, one.size.width, 1))[0].text.rstrip() == (
            "BTC 92,104.25"
        )
