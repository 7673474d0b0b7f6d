"""One-line text cells that repaint only the characters that changed.

A dashboard line such as ``BTC-USD  92,104  −27.1%  kraken <5s`` changes a few digits at
a time. Textual repaints a whole widget when its content is replaced, so the terminal is
sent the whole line again. A :class:`Cell` compares the new text with what it shows and
marks only the changed run of characters dirty; with :mod:`tui.partial_render` only
those cells are written (bench B6: bytes per changed cell).
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.content import Content
from textual.geometry import NULL_SIZE, Region
from textual.strip import Strip
from textual.visual import VisualType
from textual.widgets import Static

_LEFT = ("left", "start")


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
        re-styles only the dirty run."""
        if self._render_cache.size != self.size:  # let go below, or never rendered
            self._render_content()
        line = super().render_line(y)
        if self.size.height == 1:
            self._render_cache = self._render_cache._replace(size=NULL_SIZE, lines=[])
        return line

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
