"""The dashboard screen and its layout: what is mounted where, the size classes that
reflow it (columns, grid, compact, tight, too small), the rows each panel is dealt for
the terminal's size (:func:`widgets.fit.deal`), zoom, and the low-bandwidth and theme
switches. :class:`DashboardLayout` is the bottom layer of :class:`~tui.app.LockstepApp`.

The layout is planned as btop does: every panel says what its headline takes and what
detail it could add (:meth:`widgets.fit.FitPanel.need`); the plan deals the rows of
each column by priority and sets each panel's height. It runs on a resize (of the
terminal, or of the dashboard area when the status bar wraps) and when a panel's
needs change shape, never on a paint tick."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.events import Click, Resize
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from tui.config import Settings
from tui.partial_render import DashboardScreen
from tui.runtime import Runtime
from tui.themes import THEMES
from widgets.alerts_panel import AlertsPanel
from widgets.ath_panel import AthPanel
from widgets.btc_panel import BtcPanel
from widgets.cells import Cell
from widgets.divergence_panel import DivergencePanel
from widgets.fed_odds_panel import FedOddsPanel
from widgets.fit import ALL, FitPanel, deal
from widgets.quotes_panel import QuotesPanel
from widgets.status_bar import StatusBar
from widgets.tbills_panel import TbillsPanel

W = TypeVar("W", bound=Widget)

MIN_WIDTH = 40
MIN_HEIGHT = 12
GRID_FROM = 160
"""Terminals this wide lay the panels out in two columns."""
FRAME = 2
"""Rows a panel's border takes; 1 (title rule only) when the headlines need the room."""

PANELS: tuple[tuple[int, str, str], ...] = (
    (1, "btc", "BTC-USD"),
    (2, "quotes-panel", "Indices & commodities"),
    (3, "ath", "All-time highs"),
    (4, "fed-odds", "Fed rate odds"),
    (5, "tbills-panel", "Fed T-bill purchases"),
    (6, "divergence", "BTC vs small caps"),
    (7, "alerts-panel", "Alerts"),
)
"""Zoom number, widget id and name of each panel, in reading order."""


class Dashboard(Horizontal):
    """The panels' area: a change of its size (the terminal, or the status bar taking
    another line) re-plans the layout."""

    def __init__(self, on_size: Callable[[], None], **kw: Any) -> None:
        super().__init__(**kw)
        self._on_size = on_size

    def on_resize(self) -> None:
        """Re-plan for the new size (once for a burst of resizes: see
        :meth:`DashboardLayout.on_resize`)."""
        self._on_size()


def _panel(widget: W) -> W:
    """A dashboard panel: focusable, styled as a panel (set before mounting: free)."""
    widget.add_class("panel")
    widget.can_focus = True
    return widget


class DashboardLayout(App[None]):
    """The dashboard's screen and layout (the app's state is set by its ``__init__``)."""

    runtime: Runtime
    settings: Settings
    low_bandwidth: bool
    _zoomed: int
    _theme_key: str
    _plan_pending: bool = False
    _planned: tuple[object, ...] = ()
    _size_pending: bool = False

    def get_default_screen(self) -> Screen[Any]:
        """The dashboard screen, whose partial updates visit only the widgets near each
        change (see :mod:`tui.partial_render`; ``[ui] compositor = "stock"`` opts out)."""
        screen = DashboardScreen(banded=self.settings.ui.compositor == "banded")
        # Classes set before the screen is mounted cost nothing; set after, each one
        # restyles the whole dashboard before the first frame (bench B8).
        screen.set_class(self.runtime.demo, "-demo")
        self._size_classes(screen, self.size.width, self.size.height)
        return screen

    @property
    def _dash(self) -> Screen[Any]:
        """The dashboard's screen, also while help or the palette is on top."""
        return self.screen_stack[0]

    def compose(self) -> ComposeResult:
        """Top bar, the panels in two columns (stacked when narrow), status bar,
        footer, and the too-small notice."""
        with Horizontal(id="top-bar"):
            yield Static("lockstep", id="brand", markup=False)
            if self.runtime.demo:
                yield Static(
                    " DEMO · SIMULATED DATA · not real prices ", id="demo-badge", markup=False
                )
            yield Cell("", id="notice")
            yield Cell("", id="wall-clock")
        with Dashboard(self._plan_later, id="dashboard"):
            with Vertical(id="col-a", classes="column"):
                yield _panel(
                    BtcPanel(flash=not self.low_bandwidth, sparkline=not self.low_bandwidth)
                )
                yield _panel(QuotesPanel())
                yield _panel(AthPanel())
                yield _panel(AlertsPanel())
            with Vertical(id="col-b", classes="column"):
                yield _panel(FedOddsPanel())
                yield _panel(TbillsPanel())
                yield _panel(DivergencePanel())
        yield StatusBar(self.runtime.sources)
        yield Footer()
        yield Static("", id="too-small", markup=False)

    def panels(self) -> list[tuple[int, Widget, str]]:
        """Zoom number, widget and name of every mounted panel."""
        out = []
        for number, wid, name in PANELS:
            found = self._dash.query(f"#{wid}")
            if found:
                out.append((number, found.first(), name))
        return out

    # -- size and zoom --------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        """Reflow; below the minimum show what size is needed.

        Once for a burst: a resize storm (a window dragged, a tmux pane resized) queues a
        Resize per SIGWINCH, and each size class changed restyles every widget (≈ 40 ms
        here). A busy app then drew the sizes of the storm one by one, each frame for a
        terminal no longer that size, and the final layout came seconds late (bench
        B12). The size is applied after the Resize events already queued, from the
        latest (``App.size``); Textual's own screen resize comes later still (its
        1/120 s timer), so the classes are set before the layout they change."""
        if not self._size_pending:
            self._size_pending = True
            self.call_later(self._apply_latest_size)

    def _apply_latest_size(self) -> None:
        self._size_pending = False
        self._apply_size(self.size.width, self.size.height)

    def on_fit_panel_need_changed(self, message: FitPanel.NeedChanged) -> None:
        """A panel's needs changed shape: plan again (once, after this round)."""
        message.stop()
        self._plan_later()

    def _plan_later(self) -> None:
        """Plan once, after the messages already queued (a resize storm, or several
        panels changing shape in one paint, makes one plan for the last state)."""
        if not self._plan_pending:
            self._plan_pending = True
            self.call_later(self._plan)

    def _columns(self) -> list[list[FitPanel]]:
        """The panels of each column, top to bottom (one column when stacked)."""
        columns = [
            [w for w in column.children if isinstance(w, FitPanel)]
            for column in self._dash.query(".column")
        ]
        return columns if self._dash.has_class("-grid") else [sum(columns, [])]

    def _panel_shown(self, panel: Widget) -> None:
        """Called when a hidden panel is shown again (the paint loop ticks it: hidden
        panels are not ticked)."""

    def _plan(self) -> None:
        """Deal each column's rows to its panels and size them (see :mod:`widgets.fit`)."""
        self._plan_pending = False
        if self._zoomed or not self.screen_stack:
            return
        try:
            dash = self._dash.query_one("#dashboard")
        except NoMatches:
            return
        width, height = dash.size
        if width < 1 or height < 1:
            return
        columns = self._columns()
        inner = max(10, width // len(columns) - 4)  # border and padding
        needs = [[p.need(inner) for p in column] for column in columns]
        # The height with the footer shown, so that hiding it cannot undo the decision.
        footer = self._dash.query_one(Footer)
        footer_hidden = footer.has_class("-hidden")
        full = height - (1 if footer_hidden else 0)
        heads = max(sum(n.head + 1 for n in col if n.head) for col in needs)
        frame = FRAME
        if any(sum(n.head + frame for n in col if n.head) > full for col in needs):
            frame = 1
        # Still short (a status bar on three lines at 80×24): the key hints go; ``?``
        # and the palette still list every key. A class on the footer, not the screen:
        # a screen class restyles every widget.
        footer.set_class(heads > full, "-hidden")
        key = (width, height, frame, tuple(tuple(col) for col in needs))
        if key == self._planned:
            return
        self._planned = key
        self._dash.set_class(frame < FRAME, "-tight")
        for column, col_needs in zip(columns, needs, strict=True):
            for panel, rows in zip(column, deal(col_needs, height, frame), strict=True):
                shown = not panel.display and rows is not None
                panel.display = rows is not None
                if rows is not None:
                    panel.styles.height = rows + frame
                    panel.fit(rows)
                if shown:
                    self._panel_shown(panel)

    def _apply_size(self, width: int, height: int) -> None:
        small = self._size_classes(self._dash, width, height)
        if small:
            self._dash.query_one("#too-small", Static).update(
                f"terminal too small: need {MIN_WIDTH}×{MIN_HEIGHT}, have {width}×{height}"
                "\n(q quits)"
            )

    def _size_classes(self, screen: Screen[Any], width: int, height: int) -> bool:
        """Set the layout classes for a ``width``×``height`` terminal; True if too small."""
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        # Only classes a style reads: each change restyles every widget.
        screen.set_class(small, "-too-small")
        screen.set_class(width >= GRID_FROM and not self._zoomed, "-grid")
        return small

    def action_zoom(self, number: int) -> None:
        """Show panel ``number`` alone, full screen; its own number, 0 or Esc returns."""
        if number == self._zoomed:
            number = 0
        target = next((w for n, w, _ in self.panels() if n == number), None)
        if number and target is None:
            return
        self._zoomed = number if target is not None else 0
        screen = self.screen_stack[0]
        screen.set_class(bool(self._zoomed), "-zoomed")
        if target is not None:
            self._dash.remove_class("-tight")  # a zoomed panel has the room
            self._dash.query_one(Footer).remove_class("-hidden")
        for _, panel, _ in self.panels():
            panel.set_class(panel is target, "-zoomed")
            if target is not None:
                # Zoomed: one panel, all of it, as tall as it likes.
                shown = not panel.display and panel is target
                panel.display = panel is target
                if panel is target:
                    panel.styles.height = None
                    if isinstance(panel, FitPanel):
                        panel.fit(ALL)
                if shown:
                    self._panel_shown(panel)
        for column in self._dash.query(".column"):
            column.set_class(target is not None and target.parent is column, "-zoom-host")
        self._apply_size(self.size.width, self.size.height)
        if target is None:
            self._planned = ()
            self._plan()
        if target is not None:
            target.scroll_visible(animate=False)

    def action_zoom_focused(self) -> None:
        """Enter on a focused panel zooms it (and returns)."""
        focused = self.focused
        for number, panel, _ in self.panels():
            if focused is panel:
                self.action_zoom(number)
                return

    def on_click(self, event: Click) -> None:
        """A double-click on a panel zooms it (and returns)."""
        if event.chain != 2:
            return
        node = event.widget
        while node is not None and not (isinstance(node, Widget) and node.has_class("panel")):
            node = node.parent if isinstance(node.parent, Widget) else None
        for number, panel, _ in self.panels():
            if panel is node:
                self.action_zoom(number)
                return

    # -- look -----------------------------------------------------------------------

    def _apply_low_bandwidth(self, on: bool) -> None:
        """No flashes, sparklines or charts anywhere."""
        self.low_bandwidth = on
        self.screen_stack[0].set_class(on, "-low-bandwidth")
        self._dash.query_one(BtcPanel).set_low_bandwidth(on)
        self._dash.query_one(DivergencePanel).set_low_bandwidth(on)
        self._dash.query_one(TbillsPanel).set_low_bandwidth(on)

    def _set_theme(self, key: str) -> None:
        self._theme_key = key
        self.theme = THEMES[key]
