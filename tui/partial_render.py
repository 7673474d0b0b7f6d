"""Partial screen updates that render only the parts of the screen that changed.

Textual's compositor answers a partial update by rendering every visible widget that
overlaps the *bounding box* of all the regions changed since the last frame. On this
dashboard a frame often changes the BTC price near the top and an age in the status bar
at the bottom, so that box is the whole screen and all ~80 visible widgets go through
``render_lines`` (cache hits, but ≈ 80 µs each): two thirds of the app's CPU at
1,000 msg/s went there (py-spy, bench P2).

:class:`BandedCompositor` groups the changed regions into clusters that are close to each
other, renders each cluster's box on its own and merges the results. Only the widgets
near a change are visited. The bytes written are the same as before: the spans sent to
the terminal are still computed from the changed regions themselves.

A small change looks at few widgets: for each map the compositor keeps a row index (the
visible widgets on each screen line, front to back), so a cluster visits only the
widgets on its own lines instead of walking all ~150 visible widgets, and only the lines
that are written get a line of chops.

This leans on private parts of Textual's ``Compositor`` (``_dirty_regions``,
``_regions_to_spans``, ``_full_map``, ``visible_widgets``, ``cuts``, ``clear``, ``size``
and ``ChopsUpdate``), and on two facts about them: ``visible_widgets`` and ``cuts`` are
replaced by new objects whenever the map changes and never edited in place (the row
index is rebuilt when either is not the object it was built from), and an update's
``chops`` and ``chop_ends`` are read only on the rows of its spans.
They are fenced three ways: pyproject pins Textual to the tested minor version
(:data:`TESTED_TEXTUAL`); :func:`banded_compositor_supported` checks the version and every
name, and without them the stock compositor is used; and ``[ui] compositor = "stock"``
opts out by hand. Tests compare the two outputs byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.control import Control
from rich.segment import Segment
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from widgets.textual_pin import TESTED_TEXTUAL, textual_version

if TYPE_CHECKING:
    from textual._compositor import ChopsUpdate, Compositor
else:
    try:
        from textual._compositor import ChopsUpdate, Compositor
    except ImportError:  # a Textual without them: the classes below are never used
        ChopsUpdate = Compositor = object


_SLACK_CELLS = 240
"""Merge two clusters when their common box is at most this many cells bigger than the
two apart: close changes are cheaper to render together than to visit twice."""


def banded_compositor_supported(version: tuple[int, ...] | None = None) -> bool:
    """True if this Textual (``version``, default the installed one) is the tested minor
    and has the compositor internals :class:`BandedCompositor` needs."""
    if version is None:
        version = textual_version()
    if version[:2] != TESTED_TEXTUAL or Compositor is object:
        return False
    probe = Compositor()
    return (
        isinstance(getattr(probe, "_dirty_regions", None), set)
        and isinstance(getattr(probe, "visible_widgets", None), dict)
        and isinstance(getattr(probe, "_full_map", None), dict)
        and isinstance(getattr(probe, "_full_map_invalidated", None), bool)
        and callable(getattr(Compositor, "_regions_to_spans", None))
        and hasattr(Compositor, "cuts")
        and callable(getattr(Compositor, "clear", None))
    )


def cluster_regions(regions: Iterable[Region], slack: int = _SLACK_CELLS) -> list[Region]:
    """Boxes covering ``regions``, merging neighbours while that wastes ≤ ``slack`` cells.

    Greedy and quadratic in the number of boxes, which is small (the regions changed in
    one frame: a few dozen at most).
    """
    boxes = [(r, r.area) for r in regions if r.area]
    merged = True
    while merged and len(boxes) > 1:
        merged = False
        for i in range(len(boxes)):
            a, a_cells = boxes[i]
            for j in range(i + 1, len(boxes)):
                b, b_cells = boxes[j]
                union = a.union(b)
                if union.area <= a_cells + b_cells + slack or a.overlaps(b):
                    boxes[i] = (union, a_cells + b_cells)
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return [box for box, _ in boxes]


class BandedCompositor(Compositor):
    """A compositor whose partial updates visit only the widgets near each change."""

    def __init__(self) -> None:
        super().__init__()
        self._index: _MapIndex | None = None
        """The row index of the last map an update used (see :class:`_MapIndex`)."""

    def update_widgets(self, widgets: set[Widget]) -> None:
        """Mark ``widgets`` for repaint.

        Textual drops its whole-screen widget map whenever a repainted widget is not
        on screen, and the next frame then re-arranges every widget (≈ 2-5 ms here).
        Panels off screen repaint all the time: a panel the layout left out (``display:
        none``, e.g. All-time highs at 120×40) repaints with every BTC tick, because its
        view carries the BTC price, so that happened on every frame (bench B4: +1-3 ms
        displayed age); a panel below the fold repaints its ages every second.

        Repainting cannot move a widget or show a hidden one: that is a layout refresh,
        and its reflow marks every widget it moves, shows or adds. So while the map is
        valid, a repaint only needs the widgets on screen; the others are left out
        rather than dropping the map (a widget mounted since the last reflow is not in
        the map either, and the reflow its mount asks for paints it)."""
        if not self._full_map_invalidated and self._full_map:
            visible = self.visible_widgets.keys()
            if not widgets.issubset(visible):
                widgets = widgets & visible
        super().update_widgets(widgets)

    def clear(self) -> None:
        """Forget every widget (the screen closed), the row index's too."""
        super().clear()
        self._index = None

    def render_partial_update(self) -> CroppedChopsUpdate | None:
        """Render the changed regions cluster by cluster (see the module docstring)."""
        dirty = self._dirty_regions
        if not dirty:
            return None
        screen = self.size.region
        clusters = [c.intersection(screen) for c in cluster_regions(dirty)]
        update_regions = dirty.copy()
        dirty.clear()
        spans = list(self._regions_to_spans(update_regions))
        index = self._map_index()
        # Rows that no span is on are never read (the update writes the spans' rows
        # only, and every pass below skips the others): they share one empty dict.
        rendered = {y for y, _, _ in spans}
        empty: dict[int, Strip | None] = {}
        chops = [empty] * len(index.cut_starts)
        cut_starts = index.cut_starts
        fromkeys = dict.fromkeys
        for y in rendered:
            if 0 <= y < len(chops):
                chops[y] = fromkeys(cut_starts[y])
        for crop in clusters:
            if crop.area:
                self._render_cluster(index, crop, rendered, chops)
        return CroppedChopsUpdate(chops, spans, index.chop_ends)

    def _map_index(self) -> _MapIndex:
        """The row index of the current map, rebuilt when Textual rebuilt the map."""
        visible_widgets, cuts = self.visible_widgets, self.cuts
        index = self._index
        if index is None or not index.matches(visible_widgets, cuts):
            index = self._index = _MapIndex(visible_widgets, cuts)
        return index

    def _render_cluster(
        self,
        index: _MapIndex,
        crop: Region,
        rendered: set[int],
        chops: list[dict[int, Strip | None]],
    ) -> None:
        """Fill ``chops`` for the lines of ``crop`` from the widgets that show there.

        Unlike Textual's own pass, a widget is visited only if the part of it that is
        visible overlaps ``crop`` on a line being rendered (not merely its container),
        and it renders only the lines of ``crop``, so a change in one row never
        re-renders a whole panel. The widgets come from the row index, so only those
        on the crop's lines are looked at, in ``visible_widgets`` order (front to back).
        A widget that reaches the crop only on lines not rendered would be skipped
        anyway: it has nothing to fill there."""
        cuts = index.cuts
        crop_x, crop_right = crop.x, crop.right
        rows = index.rows
        found: dict[int, _Entry] = {}
        for y in range(crop.y, crop.bottom):
            if y in rendered:
                for entry in rows[y]:
                    found[entry.order] = entry
        is_rendered_line = rendered.__contains__
        for order in sorted(found):
            entry = found[order]
            visible = entry.visible
            if visible.x >= crop_right or visible.right <= crop_x:
                continue
            part = visible.intersection(crop)
            if _covered(chops, cuts, part, is_rendered_line):
                # Everything of it inside the crop is behind widgets already drawn (a
                # panel or the screen behind a changed cell): no need to render it.
                continue
            region = entry.region
            strips = entry.widget.render_lines(
                Region(visible.x - region.x, part.y - region.y, visible.width, part.height)
            )
            for y, strip in zip(range(part.y, part.bottom), strips, strict=False):
                if y not in rendered:
                    continue
                line = chops[y]
                final_cuts, offsets = entry.line_cuts(y, cuts[y])
                pieces = strip.divide(offsets)
                for cut, end, piece in zip(final_cuts, final_cuts[1:], pieces, strict=False):
                    # Only cuts that reach into the crop: every widget covering such a
                    # cut was visited in this pass, so the first to fill it (front to
                    # back) is the one on top. Cuts outside the crop are left to the
                    # pass whose crop they are in.
                    if cut < crop_right and end > crop_x and line.get(cut) is None:
                        line[cut] = piece
            if _covered(chops, cuts, crop, is_rendered_line):
                # The crop is full: every widget left is behind (its part is inside the
                # crop), so each would be skipped above. One check instead of one each.
                break


class _Entry:
    """One visible widget of a map: where it is, what of it shows, and its cuts by line."""

    __slots__ = ("_lines", "order", "region", "visible", "widget")

    def __init__(self, order: int, widget: Widget, region: Region, visible: Region) -> None:
        self.order = order
        """Its place in ``visible_widgets`` (front to back)."""
        self.widget = widget
        self.region = region
        self.visible = visible
        """``region`` clipped: the cells of it that show."""
        self._lines: dict[int, tuple[list[int], list[int]]] = {}

    def line_cuts(self, y: int, line_cuts: list[int]) -> tuple[list[int], list[int]]:
        """The cuts of line ``y`` (``line_cuts``) within the widget, and where its strip
        divides at them; worked out once per line and map (bounded by its height)."""
        cached = self._lines.get(y)
        if cached is None:
            first_cut, last_cut = self.visible.column_span
            final_cuts = [cut for cut in line_cuts if last_cut >= cut >= first_cut]
            x0 = self.visible.x
            cached = self._lines[y] = (final_cuts, [c - x0 for c in final_cuts[1:]])
        return cached


class _MapIndex:
    """The visible widgets of one compositor map by screen row, so that a small change
    looks at the few widgets on its lines rather than all of them (~150 here).

    It is derived from ``visible_widgets`` and ``cuts`` alone. Textual replaces both
    with new objects whenever the map changes (a reflow, a resize, a widget shown,
    hidden or mounted, a scroll) and never edits them in place, so the index holds
    the two and is rebuilt when either is not the very object it was built from.
    Holding them also means their ids cannot be reused by newer objects."""

    __slots__ = ("chop_ends", "cut_starts", "cuts", "rows", "visible_widgets")

    def __init__(
        self, visible_widgets: dict[Widget, tuple[Region, Region]], cuts: list[list[int]]
    ) -> None:
        self.visible_widgets = visible_widgets
        self.cuts = cuts
        height = len(cuts)
        rows: list[list[_Entry]] = [[] for _ in range(height)]
        for order, (widget, (region, clip)) in enumerate(visible_widgets.items()):
            visible = region.intersection(clip)
            if not visible.area:
                continue
            entry = _Entry(order, widget, region, visible)
            for y in range(max(visible.y, 0), min(visible.bottom, height)):
                rows[y].append(entry)
        self.rows = rows
        """Per screen line, the widgets showing on it, front to back."""
        self.cut_starts = [cut_set[:-1] for cut_set in cuts]
        """Per line, where each chop starts (the keys of a line's chops)."""
        self.chop_ends = [cut_set[1:] for cut_set in cuts]
        """Per line, where each chop ends (read only, shared by every update)."""

    def matches(
        self, visible_widgets: dict[Widget, tuple[Region, Region]], cuts: list[list[int]]
    ) -> bool:
        """True if built from these very objects (the map has not changed since)."""
        return self.visible_widgets is visible_widgets and self.cuts is cuts


def _covered(
    chops: list[dict[int, Strip | None]],
    cuts: list[list[int]],
    part: Region,
    is_rendered_line: Callable[[int], bool],
) -> bool:
    """True if every cut that ``part`` reaches, on the lines being rendered, is filled."""
    x, right = part.x, part.right
    for y in range(part.y, part.bottom):
        if not is_rendered_line(y):
            continue
        line = chops[y]
        line_cuts = cuts[y]
        for cut, end in zip(line_cuts, line_cuts[1:], strict=False):
            if cut >= right:
                break
            if end > x and line.get(cut) is None:
                return False
    return True


class CroppedChopsUpdate(ChopsUpdate):
    """A partial update that writes only the changed cells of a wide widget.

    Textual writes a partly changed widget line from the widget's left edge up to the
    end of the change, so a new age at the right end of the status bar re-sent the
    whole bar (≈ 500 B) every second. This writes from the start of the change instead.
    Lines holding double-width characters are written from the left edge as before, so
    a crop never splits a character."""

    def render_segments(self, console: Console) -> str:
        """The update as terminal sequences (the path Textual's driver writes)."""
        out: list[str] = []
        append = out.append
        move_to = Control.move_to
        chops, chop_ends = self.chops, self.chop_ends
        last_y = self.spans[-1][0]
        for y, x1, x2 in self.spans:
            for end, (x, strip) in zip(chop_ends[y], chops[y].items(), strict=False):
                if strip is None or x >= x2 or end <= x1:
                    continue
                if x >= x1 and end <= x2:
                    append(move_to(x, y).segment.text)
                    append(strip.render(console))
                    continue
                single = _single_width(strip)
                start = x1 - x if x < x1 and single else 0
                stop = min(end, x2) - x
                # Not Strip.crop for single-width strips: it splits through rich's
                # Segment.split_cells, whose 16,384-entry LRU cache keeps every split of
                # a segment holding a character outside rich's short single-width list
                # (the minus sign "−" of every signed figure). Live prices make a new
                # segment each frame, so the cache filled for ~20 min at 2,000 msg/s
                # (issue 20: +38 % GC objects, +RSS in the soak).
                piece = _crop_single(strip, start, stop) if single else strip.crop(start, stop)
                append(move_to(x + start, y).segment.text)
                append(piece.render(console))
            if y != last_y:
                append("\n")
        return "".join(out)


def _single_width(strip: Strip) -> bool:
    return strip.cell_length == sum(len(segment.text) for segment in strip)


def _crop_single(strip: Strip, start: int, end: int) -> Strip:
    """``strip.crop(start, end)`` for a strip whose every character is one cell wide
    (:func:`_single_width`): cells are characters, so segments are sliced directly and
    nothing is cached."""
    length = strip.cell_length
    start, end = max(0, start), min(length, end)
    if start == 0 and end == length:
        return strip
    if end <= start:
        return Strip([], 0)
    out: list[Segment] = []
    pos = 0
    for segment in strip:
        text = segment.text
        n = len(text)
        lo, hi = max(start - pos, 0), min(end - pos, n)
        if lo < hi:
            out.append(
                segment
                if lo == 0 and hi == n
                else Segment(text[lo:hi], segment.style, segment.control)
            )
        pos += n
        if pos >= end:
            break
    return Strip(out, end - start)


class DashboardScreen(Screen[None]):
    """The default screen, with :class:`BandedCompositor` when ``banded`` (``[ui]
    compositor``) and Textual allows it; else Textual's own."""

    def __init__(
        self,
        *,
        id: str | None = "_default",  # noqa: A002 - Textual's name
        banded: bool = True,
    ) -> None:
        super().__init__(id=id)
        if banded and _supported():
            self._compositor = BandedCompositor()


_SUPPORTED: list[bool] = []
"""The answer of :func:`banded_compositor_supported`, once asked (a cache)."""


def _supported() -> bool:
    if not _SUPPORTED:
        _SUPPORTED.append(banded_compositor_supported())
    return _SUPPORTED[0]
