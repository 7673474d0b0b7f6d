"""One-line text cells that repaint only the characters that changed.

A dashboard line such as ``BTC-USD  92,104  −27.1%  kraken <5s`` changes a few digits at
a time. Textual repaints a whole widget when its content is replaced, so the terminal is
sent the whole line again. A :class:`Cell` compares the new text with what it shows and
marks only the changed run of characters dirty; with :mod:`tui.partial_render` only
those cells are written (bench B6: bytes per changed cell).

Rendering the line is cheap too. Textual renders a widget's content through a general
machine (split into lines, expand tabs, wrap, truncate, pad, link styles, selection,
alignment): ≈ 140 µs per render in the app, for a line that is almost always one line
that fits. :meth:`Cell.render_line` builds that one line's strip itself when it is the
common case (one line, no tab, fits the width, no selection, no links or actions in its
styles, left, right or centred, no line padding, content aligned top left): ≈ 37 µs.
Every other case is Textual's. The strip is the one Textual would make, segment for
segment and style for style (tests compare the two); the Rich styles with their offset
are kept in a small bounded memo keyed on the styles they are made of.

That leans on private parts of Textual 8.2 (``Widget._dirty_regions``,
``Widget._get_style``, ``Style._meta``; ``Widget._render_cache`` as the memory saving
below already did) and on how its ``Content.render_strips`` lays out a line that fits.
They are fenced: pyproject pins Textual to the tested minor (:data:`TESTED_TEXTUAL`),
:data:`FAST_RENDER` is False unless the installed Textual is that minor and has every
name, and a cell without them renders the stock way.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.content import Content
from textual.geometry import NULL_SIZE, Region
from textual.strip import Strip
from textual.style import Style
from textual.visual import VisualType
from textual.widget import Widget
from textual.widgets import Static

from widgets.textual_pin import TESTED_TEXTUAL, textual_version

_LEFT = ("left", "start")


_FAST_ALIGN = frozenset(("left", "start", "right", "end", "center"))
"""Alignments whose one fitting line Textual lays out with padding only (``justify``
spreads words: Textual's way)."""

_NOT_ADDITIVE = ("\u200d", "\ufe0f")
"""A zero-width joiner or an emoji selector makes a line's width other than the sum of
its characters' widths: Rich's wrapper may then break a line that fits."""

_STYLE_MEMO_SIZE = 512
"""Bound on the memo of styles with their offset: a few per cell and theme."""

_style_memo: dict[tuple[Style, Style, int], RichStyle] = {}
"""``(widget style, span style, x)`` to the Rich style Textual gives that segment.
Making one costs a Style sum and a Rich style with its offset serialised into its meta
(≈ 10 µs); the same few recur every frame. Keyed on the styles themselves (Textual's
own ``Style.__add__`` cache does the same), so a toggled class or another theme, which
give another widget style, find or make their own entries."""


def fast_render_supported(version: tuple[int, ...] | None = None) -> bool:
    """True if this Textual (``version``, default the installed one) is the tested minor
    and has the names the one-line fast path uses."""
    if version is None:
        version = textual_version()
    return (
        version[:2] == TESTED_TEXTUAL
        and callable(getattr(Widget, "_get_style", None))
        and callable(getattr(Style, "rich_style_with_offset", None))
        and hasattr(Style, "_meta")
        and hasattr(Style, "background_style")
    )


FAST_RENDER = fast_render_supported()
"""Whether cells build their one line themselves (else always Textual's way)."""


def _offset_style(style: Style, text_style: Style, x: int) -> RichStyle | None:
    """The Rich style Textual gives a segment at ``x`` styled ``text_style`` on a
    widget styled ``style``, or None if it carries meta or a link (actions, links:
    Textual's way, which restyles links)."""
    key = (style, text_style, x)
    rich_style = _style_memo.get(key)
    if rich_style is None:
        combined = style + text_style
        if combined._meta is not None or combined.link is not None:
            return None
        rich_style = combined.rich_style_with_offset(x, 0)
        if len(_style_memo) >= _STYLE_MEMO_SIZE:
            _style_memo.clear()
        _style_memo[key] = rich_style
    return rich_style


def changed_span(old: str | Content, new: str | Content) -> tuple[int, int] | None:
    """The [start, end) run of cells where ``new`` differs from ``old``, or None when the
    difference cannot be narrowed to one run of one line (another length or style,
    several lines, double-width characters: repaint it all)."""
    old_text = old.plain if isinstance(old, Content) else old
    new_text = new.plain if isinstance(new, Content) else new
    if len(old_text) != len(new_text) or "\n" in new_text or "\n" in old_text:
        return None
    if isinstance(old, Content) or isinstance(new, Content):
        old_spans = old.spans if isinstance(old, Content) else []
        new_spans = new.spans if isinstance(new, Content) else []
        if old_spans != new_spans:
            return None
    if cell_len(new_text) != len(new_text) or cell_len(old_text) != len(old_text):
        return None
    n = len(new_text)
    start = 0
    while start < n and old_text[start] == new_text[start]:
        start += 1
    if start == n:
        return (0, 0)
    end = n
    while end > start and old_text[end - 1] == new_text[end - 1]:
        end -= 1
    return (start, end)


class Cell(Static):
    """A one-line Static that repaints only when its content changes, and then only the
    characters that changed (left-aligned cells of unchanged length)."""

    def __init__(
        self, text: str | Content = "", *, id: str | None = None, classes: str = ""
    ) -> None:  # noqa: A002 - Textual's name
        shown = Content(text) if isinstance(text, str) else text
        super().__init__(shown, id=id, classes=classes, markup=False)
        self._last: str | Content = text
        self._shown: Content = shown
        # Per cell as well as per module: a test renders the same cell both ways.
        self._fast_render = FAST_RENDER and isinstance(getattr(self, "_dirty_regions", None), set)

    @property
    def text(self) -> str:
        """The line as shown, without styles."""
        return self._shown.plain

    def render(self) -> Content:
        """What :meth:`set` last received."""
        return self._shown

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the content, rendered again if the last render was let go.

        Textual keeps two copies of every line it paints: the content as rendered (the
        render cache) and the line with the widget's styles applied (the styles cache,
        which the screen repaints from). A one-line cell needs only the second between
        changes, and a strip with its own crop and style caches is ~1-3 KB: 150 cells
        held 0.4 MB of render caches for lines already in their styles caches. A partial
        refresh still re-renders only this one line, and the styles cache still
        re-styles only the dirty run.

        Since every paint of a changed cell renders its line again, the common line (one
        that fits: see the module's docstring) is built here directly, as Textual would
        build it."""
        size = self.size
        if y == 0 and size.height == 1 and self._fast_render and not self.BLANK:
            strip = self._one_line(size.width)
            if strip is not None:
                self._dirty_regions.clear()  # what Textual's render clears
                if self._render_cache.lines:  # rendered the stock way when taller
                    self._render_cache = self._render_cache._replace(size=NULL_SIZE, lines=[])
                return strip
        if self._render_cache.size != size:  # let go below, or never rendered
            self._render_content()
        line = super().render_line(y)
        if size.height == 1:
            self._render_cache = self._render_cache._replace(size=NULL_SIZE, lines=[])
        return line

    def _one_line(self, width: int) -> Strip | None:
        """The strip Textual renders for this cell's one line ``width`` cells wide, or
        None when the line is not the common case (Textual's way then).

        For a line that fits, Textual's wrapping, truncating and padding each give the
        line back unchanged, link styles touch only segments with an action, and the
        strip is the line's segments after the alignment's padding: that is all this
        builds."""
        content = self.render()
        if type(content) is not Content:  # a subclass may render itself otherwise
            return None
        text = content.plain
        # len() as well as cells: Textual trims trailing spaces past the width counted
        # in characters (zero-width characters make more characters than cells).
        if len(text) > width or "\n" in text or "\t" in text:
            return None
        if any(mark in text for mark in _NOT_ADDITIVE):
            return None
        cell_length = content.cell_length
        if cell_length > width:
            return None
        styles = self.styles
        align = styles.text_align
        if (
            align not in _FAST_ALIGN
            or styles.line_pad
            or styles.content_align != ("left", "top")
            or self.text_selection is not None
        ):
            return None
        style = self.visual_style
        if align in _LEFT:
            pad_left = pad_right = 0
        elif align == "center":
            pad_left = (width - cell_length) // 2
            pad_right = width - cell_length - pad_left
        else:
            pad_left, pad_right = width - cell_length, 0
        segments: list[Segment] = []
        if pad_left:
            segments.append(Segment(" " * pad_left, style.background_style.rich_style))
        x = 0
        for part, part_style in content.render(style, end="", parse_style=self._get_style):
            rich_style = _offset_style(style, part_style, x)
            if rich_style is None:
                return None
            segments.append(Segment(part, rich_style))
            x += len(part)
        if pad_right:
            segments.append(Segment(" " * pad_right, style.background_style.rich_style))
        return Strip(segments, cell_length + pad_left + pad_right)

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        """Text goes through :meth:`set` (never parsed as markup); anything else is shown
        as a Static would."""
        if isinstance(content, str | Content):
            self.set(content)
            return
        super().update(content, layout=layout)

    def _size_follows_text(self, old: str | Content, new: str | Content) -> bool:
        """True if a cell showing ``new`` instead of ``old`` may take another size.

        A layout pass reflows the whole screen (≈ 20 ms here), and a cell that fills its
        row does not change size with its text: only an auto-width cell does, or one that
        wraps onto more lines (several lines of text, or longer than the row where text
        wraps). Asking for layout on every change of length (an age going from 9s to
        10s, a price gaining a digit) made the frames after it late (bench B4 p99)."""
        styles = self.styles
        width = styles.width
        if width is not None and width.is_auto:
            return True
        height = styles.height
        if height is not None and not height.is_auto:
            return False  # a fixed height: another text cannot change the size
        old_plain = old.plain if isinstance(old, Content) else old
        new_plain = new.plain if isinstance(new, Content) else new
        if "\n" in old_plain or "\n" in new_plain:
            return True
        room = self.content_size.width
        if not room:
            return True  # not laid out yet
        return styles.text_wrap != "nowrap" and max(cell_len(old_plain), cell_len(new_plain)) > room

    def set(self, content: str | Content) -> None:
        """Show ``content``; plain text is never parsed as markup."""
        old = self._last
        if content == old:
            return
        self._last = content
        self._shown = Content(content) if isinstance(content, str) else content
        if len(content) != len(old):
            if self._size_follows_text(old, content):
                self.refresh(layout=True)
            else:
                self.refresh()
            return
        span = changed_span(old, content)
        if span is None or self.styles.text_align not in _LEFT:
            self.refresh()
            return
        start, end = span
        if end > start:
            self.refresh(Region(start, 0, end - start, 1))
