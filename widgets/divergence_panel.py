"""The divergence panel: BTC against ^RUT rebased to 100 (a braille chart drawn here, no
extra dependency), the rolling 30- and 90-day correlations of daily returns, each side's
drawdown from its high and the gap, the co-highs, and the divergence flag with its
thresholds. Renders a :class:`~feeds.model.history.DivergenceView`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content, Span
from textual.message import Message
from textual.widget import Widget

from feeds.model.history import DivergenceView, Side
from widgets.border import set_subtitle, set_title
from widgets.cells import Cell
from widgets.fit import FitPanel, Need
from widgets.format import coarse_age, signed
from widgets.tick_gate import TickGate
from widgets.words import RECORD, AthFacts, ath_word

WINDOWS = ("3m", "1y", "5y")

# Braille dot bits, indexed [row][column] inside one 2x4 cell.
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


def braille(
    series: Sequence[Sequence[float]], width: int, height: int
) -> list[list[tuple[int, ...]]]:
    """Plot each series on a shared y scale into ``height`` rows of ``width`` braille cells.

    Returns rows of cells; each cell holds one dot mask per series. Consecutive points are
    joined vertically so a line stays continuous. Empty or constant input gives blank or
    flat lines, never an error.
    """
    w, h = max(1, width) * 2, max(1, height) * 4
    cells = [[[0] * len(series) for _ in range(max(1, width))] for _ in range(max(1, height))]
    values = [v for s in series for v in s]
    if not values:
        return [[tuple(c) for c in row] for row in cells]
    lo, hi = min(values), max(values)
    span = hi - lo or 1.0
    for k, s in enumerate(series):
        n = len(s)
        if n == 0:
            continue
        cols: dict[int, float] = {}
        for i, v in enumerate(s):
            x = round(i * (w - 1) / (n - 1)) if n > 1 else w - 1
            cols[x] = v
        prev_y: int | None = None
        for x in sorted(cols):
            y = round((hi - cols[x]) / span * (h - 1))
            y0, y1 = (y, y) if prev_y is None else (min(prev_y, y), max(prev_y, y))
            for yy in range(y0, y1 + 1):
                cells[yy // 4][x // 2][k] |= _DOTS[yy % 4][x % 2]
            prev_y = y
    return [[tuple(c) for c in row] for row in cells]


@dataclass(frozen=True, slots=True)
class _Plot:
    key: tuple[object, ...]
    grid: list[list[tuple[int, ...]]]
    lines: tuple[Content, ...]


class DivergenceChart(Widget):
    """The two rebased lines. Colours come from the ``divergence-chart--a``/``--b``/
    ``--both`` component classes (set in ``tui/history.tcss``)."""

    COMPONENT_CLASSES = {"divergence-chart--a", "divergence-chart--b", "divergence-chart--both"}
    DEFAULT_CSS = """
    DivergenceChart { height: 8; width: 1fr; }
    DivergenceChart > .divergence-chart--a { color: $warning; }
    DivergenceChart > .divergence-chart--b { color: $accent; }
    DivergenceChart > .divergence-chart--both { color: $text; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._a: tuple[float, ...] = ()
        self._b: tuple[float, ...] = ()
        self._plot: _Plot | None = None

    def set_lines(self, a: tuple[float, ...], b: tuple[float, ...]) -> None:
        """Plot new lines (repaints only if a dot moved: the live price moves the last
        point on every tick, but seldom by a whole braille dot)."""
        if a == self._a and b == self._b:
            return
        self._a, self._b = a, b
        if not self.display:
            # Hidden (no room, or low bandwidth): nothing to repaint. Showing it is a
            # layout change, which renders it anew from these lines (``_lines`` keys its
            # plot on them). A refresh here woke the chart every frame for nothing.
            return
        old = self._plot
        width, height = self.size.width, self.size.height
        if old is not None and width > 0 and height > 0 and old.key[2:] == (width, height):
            grid = braille([a, b], width, height)
            if grid == old.grid:
                self._plot = _Plot((a, b, width, height), grid, old.lines)
                return
        self.refresh()

    def plain_lines(self) -> list[str]:
        """The chart as plain text (for tests)."""
        return [c.plain for c in self._lines()]

    def _lines(self) -> tuple[Content, ...]:
        width, height = max(1, self.size.width), max(1, self.size.height)
        key = (self._a, self._b, width, height)
        if self._plot is not None and self._plot.key == key:
            return self._plot.lines
        grid = braille([self._a, self._b], width, height)
        style_a = self.get_visual_style("divergence-chart--a", partial=True)
        style_b = self.get_visual_style("divergence-chart--b", partial=True)
        style_ab = self.get_visual_style("divergence-chart--both", partial=True)
        lines = []
        for row in grid:
            text = []
            spans = []
            for x, masks in enumerate(row):
                ma, mb = masks
                text.append(chr(0x2800 + (ma | mb)) if ma | mb else " ")
                style = style_ab if ma and mb else style_a if ma else style_b if mb else None
                if style is not None:
                    spans.append(Span(x, x + 1, style))
            lines.append(Content("".join(text), spans))
        self._plot = _Plot(key, grid, tuple(lines))
        return self._plot.lines

    def render(self) -> Content:
        """The chart."""
        return Content("\n").join(self._lines())


def _corr(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


def _price(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 1000 else f"{value:,.2f}"


class DivergencePanel(FitPanel, can_focus=True):
    """BTC vs the index. ``w`` cycles the chart window; the app turns the
    :class:`WindowSelected` message into a ``SetChartWindow`` event."""

    BINDINGS = [Binding("w", "cycle_window", "Chart window")]
    DEFAULT_CSS = """
    DivergencePanel { height: auto; }
    DivergencePanel > Cell { height: 1; width: 1fr; }
    """

    @dataclass
    class WindowSelected(Message):
        """The user picked a chart window (``"3m"``, ``"1y"`` or ``"5y"``)."""

        window: str

    def __init__(self, *, id: str | None = "divergence", chart_height: int = 8) -> None:
        super().__init__(id=id)
        set_title(self, "BTC vs small caps")
        self._view: DivergenceView | None = None
        self._chart_height = chart_height
        self._now_mono = 0.0
        self._now_wall: datetime | None = None
        self._gate = TickGate()
        """The view and the ages of the last tick that painted the sides."""
        self._marks: dict[str, AthFacts] = {}
        self._chart_on = True

    def compose(self) -> ComposeResult:
        """The flag with the gap (the headline), then sides, figures, legend, chart and
        co-highs."""
        yield Cell(id="div-flag", classes="div-flag")
        yield Cell(id="div-a")
        yield Cell(id="div-b")
        yield Cell(id="div-corr")
        yield Cell(id="div-legend", classes="div-legend")
        chart = DivergenceChart(id="div-chart")
        chart.styles.height = self._chart_height
        yield chart
        yield Cell(id="div-cohighs", classes="div-cohighs")

    # -- layout (the screen deals the rows) -------------------------------------------

    def need(self, width: int) -> Need:
        """The flag and gap always; then both sides, the correlations, the legend with
        a chart that grows into the rows left, the co-highs."""
        chart = ((5, 4),) if self._chart_on else ((5, 1),)
        return Need(1, ((3, 2), (4, 1), *chart, (6, 1)), grow=self._chart_on)

    def fit(self, rows: int) -> None:
        """Show the lines dealt; the chart takes every row the others leave."""
        super().fit(rows)
        left = rows - 1
        for wid, size in (("div-a", 1), ("div-b", 1), ("div-corr", 1)):
            shown = left >= size
            self.query_one(f"#{wid}", Cell).display = shown
            left -= size if shown else 0
        legend = left >= (4 if self._chart_on else 1)
        self.query_one("#div-legend", Cell).display = legend
        left -= 1 if legend else 0
        chart_rows = max(0, left - 1) if left >= 4 else left
        chart = self.query_one(DivergenceChart)
        chart.display = legend and self._chart_on and chart_rows >= 3
        if chart.display:
            chart.styles.height = chart_rows
            left -= chart_rows
        self.query_one("#div-cohighs", Cell).display = legend and left >= 1

    def set_ath(self, marks: Mapping[str, AthFacts]) -> None:
        """The ATH view's marks: each side reads RECORD/PENDING as every panel does."""
        mine = (self._view.a.symbol, self._view.b.symbol) if self._view else ()
        changed = any(marks.get(s) != self._marks.get(s) for s in mine)
        self._marks = dict(marks)
        if changed or not mine:
            self._paint_sides()

    def set_low_bandwidth(self, on: bool) -> None:
        """Hide the braille chart (fewer bytes over slow links); applies at once."""
        self._chart_on = not on
        self.query_one(DivergenceChart).display = not on
        self._needs_changed(on)

    def action_cycle_window(self) -> None:
        """Ask for the next chart window."""
        current = self._view.window if self._view else "1y"
        nxt = WINDOWS[(WINDOWS.index(current) + 1) % len(WINDOWS)] if current in WINDOWS else "1y"
        self.post_message(self.WindowSelected(nxt))

    def show(self, view: DivergenceView) -> None:
        """Render a new view (called when the ``divergence`` topic changed)."""
        self._view = view
        a, b = view.a, view.b
        windows = " ".join(f"[{w.upper()}]" if w == view.window else w.upper() for w in WINDOWS)
        if view.days:
            first, last = view.a_line[-1], view.b_line[-1]
            legend = (
                f"━ {a.symbol} {last_fmt(first)}  ━ {b.symbol} {last_fmt(last)}  "
                f"(100 = {view.days[0].isoformat()})  {windows}"
            )
        else:
            legend = f"{a.symbol} vs {b.symbol}: waiting for daily history…  {windows}"
        self.query_one("#div-legend", Cell).set(legend)
        self.query_one(DivergenceChart).set_lines(view.a_line, view.b_line)
        self.query_one("#div-corr", Cell).set(
            f"return corr 30d {_corr(view.corr30)}  90d {_corr(view.corr90)}"
            f" ({view.history_days} days)"
        )
        self._paint_flag()
        self._paint_co_highs()
        self._paint_sides()

    def _paint_flag(self) -> None:
        """The headline: the drawdown gap and the divergence flag, shorter when narrow."""
        view = self._view
        if view is None:
            return
        a, b = view.a, view.b
        gap = f"gap {signed(view.gap_pp, 1, ' pp')}" if view.gap_pp is not None else "gap —"
        flag = view.flag
        narrow = 0 < self.size.width < 100
        if flag is None:
            text = f"divergence: — · {gap} (needs both highs and prices)"
        elif flag.raised:
            lag_dd = a.drawdown_pct if flag.laggard == a.symbol else b.drawdown_pct
            lag = f"{flag.laggard} {signed(lag_dd, 1, '%')}"
            if narrow:
                text = (
                    f"DIVERGENCE · {gap} · {flag.leader} near its high, {lag} "
                    f"(flag >{flag.threshold_pct:g}%)"
                )
            else:
                text = (
                    f"DIVERGENCE · {gap} · {flag.leader} at/near its high (within "
                    f"{flag.near_pct:g}%), {lag} (threshold {flag.threshold_pct:g}%)"
                )
        elif narrow:
            text = f"no divergence · {gap} (flag: one side >{flag.threshold_pct:g}% below)"
        else:
            text = (
                f"no divergence · {gap} (flag: one side within {flag.near_pct:g}% of its "
                f"high, the other more than {flag.threshold_pct:g}% below)"
            )
        flag_line = self.query_one("#div-flag", Cell)
        flag_line.set(text)
        flag_line.set_class(bool(flag and flag.raised), "-raised")
        self.set_class(bool(flag and flag.raised), "-diverging")

    def on_resize(self) -> None:
        """Prices join the co-high dates when there is room; the flag shortens."""
        self._paint_co_highs()
        self._paint_flag()

    def _paint_co_highs(self) -> None:
        view = self._view
        if view is None:
            return
        wide = self.size.width >= 130
        if view.co_highs:
            items = " · ".join(
                f"{c.a_day.isoformat()} {_price(c.a_high)} / {c.b_day.isoformat()} "
                f"{_price(c.b_high)}"
                if wide
                else f"{c.a_day.isoformat()}/{c.b_day.strftime('%m-%d')}"
                for c in view.co_highs
            )
            co = f"co-highs ±{view.within_days}d ({view.a.symbol}/{view.b.symbol}): {items}"
        else:
            co = f"co-highs ±{view.within_days}d: none in the stored history"
        self.query_one("#div-cohighs", Cell).set(co)

    def tick(self, now_mono: float, now_wall: datetime) -> None:
        """Keep the ages counting (1 Hz): the sides are painted again only when an age
        reads differently (whole minutes: most seconds change nothing)."""
        self._now_mono, self._now_wall = now_mono, now_wall
        view = self._view
        if view is None:
            return
        words = tuple(
            coarse_age(now_mono - s.received) if s.received is not None else ""
            for s in (view.a, view.b)
        )
        if not self._gate.changed(view, words):
            return
        self._paint_sides()

    def _side(self, s: Side) -> str:
        dd = signed(s.drawdown_pct, 1, "%") if s.drawdown_pct is not None else "—"
        mark = self._marks.get(s.symbol)
        word = ath_word(mark)
        if word is not None:
            dd = word  # the same word as every panel (widgets.words)
        elif mark is None and s.drawdown_pct is not None and s.drawdown_pct >= 0:
            dd = RECORD  # the drawdown is the ATH view's, capped at 0 at the high
        when = ""
        if s.received is not None:
            # Whole minutes: the BTC panel and the quote row show each price's finer age
            # (one idle repaint fewer every 5 s).
            when = f"{s.source} {coarse_age(self._now_mono - s.received)}"
        elif s.as_of is not None:
            when = f"close {s.as_of.isoformat()}"
        ath = f" from ATH {_price(s.ath)} {s.ath_day.isoformat()}" if s.ath and s.ath_day else ""
        return f"{s.symbol:<8} {_price(s.price):>8} {dd:>7}{ath}  {when or 'no price'}"

    def _paint_sides(self) -> None:
        view = self._view
        if view is None:
            return
        self.query_one("#div-a", Cell).set(self._side(view.a))
        self.query_one("#div-b", Cell).set(self._side(view.b))
        live = view.a.received is not None or view.b.received is not None
        sub = f"{view.window.upper()} · {'LIVE' if live else 'CACHED'}"
        if view.flag is not None and view.flag.raised:
            sub = "DIVERGENCE · " + sub
        set_subtitle(self, sub)


def last_fmt(value: float) -> str:
    """A rebased value: ``73.0``."""
    return f"{value:.1f}"
