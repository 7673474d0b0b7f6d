"""The status bar: every source's state as a word, with the age of its last real data.
Ages keep counting (1 Hz) while data is frozen; no clock hides staleness."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.content import Content
from textual.geometry import Region, Size
from textual.widget import Widget

from feeds.model.core import FeedState, SourceHealth
from widgets.cells import changed_span
from widgets.format import age, coarse_age, countdown, step_age

SHORT = {
    "coinbase": "Coinbase",
    "kraken": "Kraken",
    "yahoo": "Yahoo",
    "cboe": "Cboe",
    "kalshi": "Kalshi",
    "polymarket": "Polymkt",
    "nyfed": "NYFed",
    "nyfed_web": "NYFed-web",
    "fred": "FRED",
}


def describe(
    h: SourceHealth | None,
    name: str,
    now_mono: float,
    wall_now: object,
    brief: bool = False,
    terse: bool = False,
) -> Content:
    """One source's status as styled words: ``Coinbase LIVE 2s``. ``brief`` (a narrow
    terminal) leaves out the reason, so every source fits: the panel shows it. ``terse``
    (many sources in trouble on a narrow terminal) keeps only the name, the state word
    and a live source's age: every source's state stays on screen, in the same words."""
    if terse:
        brief = True
    label = SHORT.get(name, name)
    if h is None:
        return Content.assemble(label + " ", ("CONNECTING", "italic"))
    state = h.state
    if state is FeedState.LIVE:
        when = h.last_data if h.last_data is not None else h.last_seen
        # Whole minutes: LIVE already says the source is within its staleness limit, and
        # each panel shows its own age in 5 s steps; nine ages in 5 s steps made this
        # bar change nearly every second of an idle day (bench B6 P0). Fixed width: a
        # changing age repaints only its own few cells.
        ago = coarse_age(now_mono - when).rjust(3) if when is not None else "no data yet"
        live = Content.assemble(label + " ", ("LIVE", "bold $success"), f" {ago}")
        if h.hint and not brief:  # a clock-skew hint (reliability D7) rides along
            return Content.assemble(live, (f" · {h.hint}", "$warning"))
        return live
    if state is FeedState.STALE:
        when = h.last_seen if h.last_seen is not None else h.since
        return Content.assemble(
            label + " ", ("STALE", "bold reverse $warning"), f" {step_age(now_mono - when)}"
        )
    if terse:
        return Content.assemble(label + " ", (state.value, _STYLE.get(state, "bold $error")))
    detail = ""
    if state in (FeedState.RECONNECTING, FeedState.DOWN) and h.retry_at is not None:
        detail = f" {countdown(h.retry_at - now_mono)}"
    if state is FeedState.RATE_LIMITED and h.retry_at is not None:
        detail = f" for {age(h.retry_at - now_mono)}"
    # CONNECTING and STANDBY are their own whole story (a fallback on standby serves
    # nothing, so no value of its own is on screen to date).
    quiet = state in (FeedState.CONNECTING, FeedState.STANDBY)
    if h.reason and not quiet and not brief:
        detail += f" ({h.reason})"
    if h.last_data is not None and not quiet:
        detail += f" · data {step_age(now_mono - h.last_data)} old"
    return Content.assemble(label + " ", (state.value, _STYLE.get(state, "bold $error")), detail)


_STYLE = {
    FeedState.RATE_LIMITED: "bold $warning",
    FeedState.CONNECTING: "italic",
    FeedState.STANDBY: "dim",
}
"""The style of a state word that is neither LIVE nor STALE (default: bold $error)."""


class StatusBar(Widget):
    """Every source on flowing lines (two or three on narrow terminals).

    Over SSH this bar is the one thing that changes every second, so a tick repaints
    only the sources whose text changed (a few cells), not the whole bar: the flow is
    recomputed each tick and, while no source moves to another line, only the changed
    spans are marked dirty."""

    DEFAULT_CSS = """
    StatusBar { height: auto; max-height: 3; }
    """
    MAX_LINES = 3
    """The bar's tallest (its ``max-height``)."""

    SEP = "  "
    NARROW_SEP = " "
    NARROW_BELOW = 100
    """Below this width sources are one space apart, so all nine fit two lines at 80."""

    def __init__(self, sources: Sequence[str], *, id: str | None = "status") -> None:
        super().__init__(id=id)
        self.sources = tuple(sources)
        self._health: Mapping[str, SourceHealth] = {}
        self._parts: list[Content] = []
        self._places: list[tuple[int, int]] = []
        self._content = Content("")
        self._text = ""
        self._now: tuple[float, object] | None = None
        """The clocks of the last tick: a resize flows the sources again with them."""
        self.repainted = 0
        """Cells marked for repaint so far (for tests and the bench)."""

    def show(self, health: Mapping[str, SourceHealth]) -> None:
        """New health data (called when the health topic changed)."""
        self._health = health

    def render(self) -> Content:
        """The flowed lines."""
        return self._content

    def _flow(self, parts: list[Content], width: int, sep: str) -> list[tuple[int, int]]:
        """(line, column) of each part, filling lines greedily."""
        places: list[tuple[int, int]] = []
        y = x = 0
        for part in parts:
            n = len(part.plain)
            if x and x + len(sep) + n > width:
                y, x = y + 1, 0
            elif x:
                x += len(sep)
            places.append((y, x))
            x += n
        return places

    def _arrange(
        self, width: int, now_mono: float, now_wall: object
    ) -> tuple[list[Content], list[tuple[int, int]], str]:
        """The sources' texts, their (line, column) places at ``width``, the separator.
        When they need more than :data:`MAX_LINES` lines, the terse words (name and
        state only): the bar is capped at that many lines, and a source on a cut line
        would have no state on screen at all."""
        brief = width < self.NARROW_BELOW
        sep = self.SEP if width >= self.NARROW_BELOW else self.NARROW_SEP
        health = self._health
        parts = [describe(health.get(n), n, now_mono, now_wall, brief) for n in self.sources]
        places = self._flow(parts, width, sep)
        if places and places[-1][0] >= self.MAX_LINES:
            parts = [
                describe(health.get(n), n, now_mono, now_wall, brief, terse=True)
                for n in self.sources
            ]
            places = self._flow(parts, width, sep)
        return parts, places, sep

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """The lines the sources take at ``width``. The layout asks this for a new width
        before any tick has flowed the sources for it: answering from the last flow (the
        old width) gave the dashboard a wrong height after a resize until the next tick,
        up to a second later (bench B12: a stale layout after a resize storm)."""
        if self._now is None:
            return super().get_content_height(container, viewport, width)
        _, places, _ = self._arrange(max(1, width), *self._now)
        return places[-1][0] + 1 if places else 1

    def on_resize(self) -> None:
        """Flow the sources for the new width now, not at the next tick."""
        if self._now is not None:
            self.tick(*self._now)

    def tick(self, now_mono: float, now_wall: object) -> None:
        """Repaint changed ages and states (1 Hz, and after ``show``)."""
        self._now = (now_mono, now_wall)
        width = max(1, self.content_size.width or self.app.size.width - 2)
        parts, places, sep = self._arrange(width, now_mono, now_wall)
        old_parts, old_places = self._parts, self._places
        if places == old_places and parts == old_parts:
            # The same words in the same places (most seconds of an idle day): nothing to
            # join, restyle or repaint. (Content compares its text; a state's style
            # follows from its word.)
            return
        self._parts, self._places = parts, places
        lines: list[list[Content]] = []
        for part, (y, _) in zip(parts, places, strict=True):
            if y == len(lines):
                lines.append([])
            lines[-1].append(part)
        self._content = Content("\n").join(Content(sep).join(line) for line in lines)
        self._text = self._content.plain
        states = {h.state for h in self._health.values()}
        self.set_class(
            bool(states & {FeedState.DOWN, FeedState.RECONNECTING, FeedState.DEGRADED}), "-trouble"
        )
        if [y for y, _ in places] != [y for y, _ in old_places]:
            self.repainted += width * (places[-1][0] + 1 if places else 1)
            self.refresh(layout=True)
            return
        for i, (part, (y, x)) in enumerate(zip(parts, places, strict=True)):
            old = old_parts[i]
            if part == old and (y, x) == old_places[i]:
                continue
            ox = old_places[i][1]
            if ox == x and (run := changed_span(old, part)) is not None:
                # Same place and length: only the characters that differ (an age's
                # digits), so only those cells are sent to the terminal.
                start, end = run
                self.repainted += end - start
                self.refresh(Region(x + start, y, end - start, 1))
                continue
            same_size = len(part.plain) == len(old.plain) and ox == x
            span = len(part.plain) if same_size else width - min(x, ox)
            self.repainted += span
            self.refresh(Region(min(x, ox), y, span, 1))
