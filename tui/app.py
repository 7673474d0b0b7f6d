"""The lockstep App: mounts the panels once, runs one worker per feed, and repaints
from the store at a bounded rate (latest value wins, never once per message)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.events import Click, Resize
from textual.filter import Monochrome, NoColor
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Static
from textual.worker import Worker

from feeds.alerts.delivery import Delivery
from feeds.alerts.factory import make_engine
from feeds.alerts.format import alert_line, alert_title
from feeds.alerts.runner import AlertsRunner
from feeds.alerts.settings import AlertsSettings
from feeds.btc.state import BtcSlice
from feeds.core.health import HealthSlice
from feeds.history.ath_state import AthSlice
from feeds.history.divergence_state import DivergenceSlice, SetChartWindow
from feeds.model.core import FeedState
from feeds.quotes.cboe import CboeQuotesFeed
from feeds.quotes.factory import build_quote_feeds, make_quotes_slice
from feeds.quotes.state import QuotesSlice
from feeds.quotes.yahoo import YahooChartFeed
from feeds.rates.state import FedOddsSlice
from feeds.tbills.state import TbillsSlice
from tui.config import ConfigError, Settings, UiSettings
from tui.help import HelpScreen
from tui.palette import WatchlistCommands
from tui.partial_render import DashboardScreen
from tui.reload import MAX_WATCHLIST, ConfigWatcher, classify, save_watchlist
from tui.runtime import Feed, Runtime, supervise
from tui.terminal import arm_hard_exit, install_signal_handlers, terminal_gone
from tui.themes import DARK, LIGHT, THEMES, next_theme, theme_variables
from widgets.alerts_panel import AlertsPanel
from widgets.ath_panel import AthPanel
from widgets.border import set_title
from widgets.btc_panel import BtcPanel
from widgets.cells import Cell
from widgets.divergence_panel import DivergencePanel
from widgets.fed_odds_panel import FedOddsPanel
from widgets.format import clock_et
from widgets.quotes_panel import QuotesPanel
from widgets.status_bar import StatusBar
from widgets.tbills_panel import TbillsPanel

log = logging.getLogger("lockstep.app")
W = TypeVar("W", bound=Widget)

MAX_SKIP = 16
"""On a slow link, skip at most this many paint ticks in a row (1.6 s at 10 Hz)."""
MIN_WIDTH = 40
MIN_HEIGHT = 12
BRIEF_BELOW = 32
"""Terminals shorter than this show each panel's essentials only (80×24 fits them all)."""
GRID_FROM = 160
"""Terminals this wide lay the panels out in two columns."""
CONFIG_POLL_S = 2.0
"""How often the config file's modification time is checked."""
CSS_DIR = Path(__file__).parent

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


def _panel(widget: W) -> W:
    """A dashboard panel: focusable, styled as a panel (set before mounting: free)."""
    widget.add_class("panel")
    widget.can_focus = True
    return widget


class LockstepApp(App[None]):
    """The dashboard."""

    TITLE = "lockstep"
    CSS_PATH = [
        CSS_DIR / name
        for name in (
            "app.tcss",
            "quotes.tcss",
            "history.tcss",
            "fed_odds.tcss",
            "tbills.tcss",
            "alerts.tcss",
        )
    ]
    COMMANDS = App.COMMANDS | {WatchlistCommands}
    COMMAND_PALETTE_DISPLAY = "^p"
    AUTO_FOCUS = None  # keep the dashboard at the top; focus moves only on request
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("r", "refresh", "Refresh"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("t", "cycle_theme", "Theme"),
        Binding("1", "zoom(1)", "Zoom", key_display="1-7"),
        *(Binding(str(n), f"zoom({n})", f"Zoom panel {n}", show=False) for n in range(2, 10)),
        Binding("0", "zoom(0)", "Unzoom", show=False),
        Binding("escape", "zoom(0)", "Unzoom", show=False),
        Binding("enter", "zoom_focused", "Zoom the focused panel", show=False),
        Binding("R", "reload_config", "Reload config", show=False),
        Binding("c", "sim_toggle('coinbase_ws')", "Cut/restore sim Coinbase"),
        Binding("k", "sim_toggle('kraken_ws')", "Cut/restore sim Kraken"),
    ]

    def __init__(
        self,
        runtime: Runtime,
        *,
        fps: float | None = None,
        low_bandwidth: bool | None = None,
        sim_toggle: Callable[[str], bool] | None = None,
        watch_terminal: bool = True,
        config_path: Path | None = None,
        ui_overrides: Mapping[str, object] | None = None,
    ) -> None:
        """``config_path``: the file to watch and to save watchlist changes to (None:
        neither). ``ui_overrides``: ``[ui]`` values from the command line, which win
        over the file on every reload. ``fps``/``low_bandwidth`` are shorthands for them."""
        overrides = dict(ui_overrides or {})
        if fps is not None:
            overrides["fps"] = fps
        if low_bandwidth is not None:
            overrides["low_bandwidth"] = low_bandwidth
        self._ui_overrides = overrides
        self.settings: Settings = self._with_overrides(runtime.settings)
        ui = self.settings.ui
        super().__init__()
        if self.no_color:
            # NO_COLOR means no colour codes at all: Textual's Monochrome filter still
            # sends 256-colour greys, NoColor sends the terminal's defaults.
            self._filters = [f for f in self._filters if not isinstance(f, Monochrome)]
            self._filters.append(NoColor())
        self.runtime = runtime
        self.store = runtime.store
        self.market_clock = runtime.clock
        self.fps = ui.fps
        self.low_bandwidth = ui.low_bandwidth
        self._sim_toggle = sim_toggle
        self._watch_terminal = watch_terminal
        self._painters: dict[str, Callable[[], None]] = {}
        self._unpainted: set[str] = set()
        self._toasted: set[str] = set()
        """History warnings already shown as a toast (each once)."""
        """Topics whose panel was not composed yet at the last paint (see ``_paint``)."""
        self._tickers: list[Callable[[float, datetime], None]] = []
        self._exiting = False
        self._skip = 0
        self._skip_left = 0
        self.shed_frames = 0
        """Paint ticks skipped because the terminal could not keep up (slow links)."""
        self._feed_workers: dict[int, Worker[None]] = {}
        self._paint_timer: Timer | None = None
        self._zoomed = 0
        self._config_path = config_path
        self._config_watcher = ConfigWatcher(config_path) if config_path is not None else None
        for theme in (DARK, LIGHT):
            self.register_theme(theme)
        self._theme_key = ui.theme
        self.theme = THEMES[ui.theme]
        self._alerts = self._make_alerts(self.settings.alerts)
        self._alerts_note = ""

    def get_default_screen(self) -> Screen[Any]:
        """The dashboard screen, whose partial updates visit only the widgets near each
        change (see :mod:`tui.partial_render`)."""
        screen = DashboardScreen()
        # Classes set before the screen is mounted cost nothing; set after, each one
        # restyles the whole dashboard before the first frame (bench B8).
        screen.set_class(self.runtime.demo, "-demo")
        self._size_classes(screen, self.size.width, self.size.height)
        return screen

    @property
    def _dash(self) -> Screen[Any]:
        """The dashboard's screen, also while help or the palette is on top."""
        return self.screen_stack[0]

    def _with_overrides(self, settings: Settings) -> Settings:
        ui: UiSettings = replace(settings.ui, **self._ui_overrides)  # type: ignore[arg-type]
        return replace(settings, ui=ui)

    def get_css_variables(self) -> dict[str, str]:
        """The theme's variables plus ``$up``/``$down`` (``[ui] up_color``/``down_color``)."""
        ui = self.settings.ui if hasattr(self, "settings") else UiSettings()
        return theme_variables(super().get_css_variables(), ui.up_color, ui.down_color)

    # -- layout ---------------------------------------------------------------------

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
        with Horizontal(id="dashboard"):
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

    def on_mount(self) -> None:
        """Start the feeds and the paint timers."""
        for number, panel, _ in self.panels():
            set_title(panel, f"{number} {getattr(panel, '_lockstep_title', '')}".rstrip())
        btc = self._dash.query_one(BtcPanel)
        status = self._dash.query_one(StatusBar)
        btc_slice = self.store.slice("btc", BtcSlice)
        health = self.store.slice("health", HealthSlice)
        self._painters["btc"] = lambda: btc.show(btc_slice.view())
        self._painters["health"] = lambda: status.show(health.view())
        self._tickers += [btc.tick, self._tick_top]
        self._hook(QuotesPanel, "quotes", QuotesSlice)
        self._hook(FedOddsPanel, "fed_odds", FedOddsSlice)
        self._hook(TbillsPanel, "tbills", TbillsSlice)
        self._hook(DivergencePanel, "divergence", DivergenceSlice)
        ath_panel = self._dash.query_one(AthPanel)
        ath_slice = self.store.slice("ath", AthSlice)
        quotes_panel = self._dash.query_one(QuotesPanel)

        def paint_ath() -> None:
            view = ath_slice.view()
            ath_panel.show(view)
            for note in view.notices:  # the history's start-up warnings, once each
                if note not in self._toasted:
                    self._toasted.add(note)
                    self.notify(note, severity="warning", timeout=15, markup=False)
            # The quotes panel shows the ATH view's distances and RECORD flags (it
            # repaints only when one of its own symbols' marks changed).
            quotes_panel.set_ath(view.marks)
            # BTC's distance from its high shows on the BTC line (a short terminal hides
            # the ATH panel).
            for r in view.rows:
                if r.symbol == "BTC-USD":
                    btc.set_ath_distance(r.distance_pct, r.new_ath)

        self._painters["ath"] = paint_ath
        self._tickers.append(ath_panel.tick)
        for warning in self.runtime.warnings:
            self.notify(warning, severity="warning", timeout=15, markup=False)

        def status_tick(now_mono: float, now_wall: datetime) -> None:
            # Ages come from the latest data times, which change without a health event.
            status.show(health.view())
            status.tick(now_mono, now_wall)

        self._tickers.append(status_tick)
        alerts_panel = self.query_one(AlertsPanel)
        alerts_panel.show(self._alerts.view())

        def alerts_tick(now_mono: float, now_wall: datetime) -> None:
            # The rules run once a second against the store's views; the panel repaints
            # only when something fired (or a delivery problem changed).
            fired = self._alerts.step(now_mono, now_wall)
            view = self._alerts.view()
            if fired or view.note != self._alerts_note:
                self._alerts_note = view.note
                alerts_panel.show(view)
            alerts_panel.tick(now_mono, now_wall)

        self._tickers.append(alerts_tick)
        for feed in self.runtime.feeds:
            self._start_feed(feed)
        self._paint_timer = self.set_interval(1.0 / self.fps, self._paint, name="paint")
        self.set_interval(1.0, self._tick, name="ages")
        if self._config_watcher is not None:
            self.set_interval(CONFIG_POLL_S, self._poll_config, name="config-watch")
        try:
            install_signal_handlers(self._signal_exit)
        except RuntimeError:
            pass
        if self._watch_terminal:
            self.set_interval(1.0, self._check_terminal, name="hangup-watch")
        if self.low_bandwidth:
            self._apply_low_bandwidth(True)
        self._apply_size(self.size.width, self.size.height)
        self._paint()
        self._tick()

    def _make_alerts(self, settings: AlertsSettings) -> AlertsRunner:
        """The ``[alerts]`` rules against the store, delivered as bell, toast and hook."""
        demo = self.runtime.demo

        def toast(alert: Any) -> None:
            self.notify(
                alert_line(alert, demo=demo),
                title=alert_title(alert, demo=demo),
                severity="warning",
                timeout=10,
                markup=False,
            )

        delivery = Delivery(settings, bell=self.bell, notify=toast, demo=demo)
        return AlertsRunner(self.store, make_engine(settings), delivery)

    def _hook(self, widget: type[Any], topic: str, kind: type[Any]) -> None:
        """Paint ``widget`` from the ``topic`` slice when it changes; tick it at 1 Hz. The
        slice is looked up at each paint: a reload may replace it."""
        panel = self._dash.query_one(widget)
        store = self.store
        self._painters[topic] = lambda: panel.show(store.slice(topic, kind).view())
        self._tickers.append(panel.tick)

    def on_divergence_panel_window_selected(self, message: DivergencePanel.WindowSelected) -> None:
        """The user picked a chart window: a user intent goes to the store as an event."""
        self.store.apply(SetChartWindow(message.window))

    # -- feeds ----------------------------------------------------------------------

    def _start_feed(self, feed: Feed) -> None:
        self._feed_workers[id(feed)] = self._pump(feed)

    @work(exit_on_error=False)
    async def _pump(self, feed: Feed) -> None:
        """One feed into the store, supervised (see :func:`tui.runtime.supervise`)."""
        await supervise(feed, self.store, self.market_clock, lambda: not self._exiting)

    async def _close_feeds(self, feeds: list[Feed]) -> None:
        for feed in feeds:
            try:
                await feed.aclose()
            except Exception:  # noqa: BLE001 - closing must not stop closing the rest
                log.exception("closing %s", feed.source)

    # -- painting -------------------------------------------------------------------

    def _terminal_backlog(self) -> int:
        """Frames Textual has queued but not yet written to the terminal (0 if unknown).

        Textual queues up to 30 frames when the terminal (or the SSH link) cannot keep
        up; that queue turns straight into seconds of lag. Textual has no public API for
        it, so this reads its writer thread defensively."""
        writer = getattr(getattr(self, "_driver", None), "_writer_thread", None)
        qsize = getattr(getattr(writer, "_queue", None), "qsize", None)
        try:
            return int(qsize()) if callable(qsize) else 0
        except Exception:  # noqa: BLE001 - a private detail must never break painting
            return 0

    def _paint(self) -> None:
        if self._terminal_backlog():
            # The link is behind: draw nothing new (the store keeps only the latest
            # values), and paint less often until it keeps up again.
            self.shed_frames += 1
            self._skip = min(self._skip * 2 or 1, MAX_SKIP)
            self._skip_left = self._skip
            return
        if self._skip_left:
            self._skip_left -= 1
            return
        if self._skip:
            self._skip //= 2
        self.store.refresh(self.market_clock.monotonic())
        topics = self.store.drain()
        if self._unpainted:
            topics, self._unpainted = topics | self._unpainted, set()
        if not topics:
            return
        with self.batch_update():
            for topic in topics:
                paint = self._painters.get(topic)
                if paint is None:
                    continue
                try:
                    paint()
                except NoMatches:
                    # On a loaded machine the first frames can come before a panel has
                    # composed its children: paint that topic again next frame.
                    self._unpainted.add(topic)
            if "health" in topics:
                self._tick()

    def _tick(self) -> None:
        if self._terminal_backlog():
            return  # ages repaint once the link has caught up
        now_mono = self.market_clock.monotonic()
        now_wall = self.market_clock.now()
        with self.batch_update():
            for tick in self._tickers:
                try:
                    tick(now_mono, now_wall)
                except NoMatches:
                    pass  # a panel not composed yet (first second after start): next tick

    def _tick_top(self, now_mono: float, now_wall: datetime) -> None:
        self._dash.query_one("#wall-clock", Cell).set(f"{clock_et(now_wall)} ET")
        health = self.store.slice("health", HealthSlice).view()
        offline = [
            h for h in health.values() if h.state is FeedState.DOWN and "no network" in h.reason
        ]
        if offline and not self.runtime.demo and len(offline) == len(health):
            self._dash.query_one("#notice", Cell).set("No network: no source answers. Try --demo")
        else:
            self._dash.query_one("#notice", Cell).set("")

    # -- size and zoom --------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        """Reflow; below the minimum show what size is needed."""
        self._apply_size(event.size.width, event.size.height)

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
        screen.set_class(small, "-too-small")
        screen.set_class(not small and (width < 80 or height < 24), "-compact")
        screen.set_class(width >= 120, "-wide")
        screen.set_class(width >= GRID_FROM and not self._zoomed, "-grid")
        screen.set_class(height < BRIEF_BELOW and not self._zoomed, "-brief")
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
        for _, panel, _ in self.panels():
            panel.set_class(panel is target, "-zoomed")
        for column in self._dash.query(".column"):
            column.set_class(target is not None and target.parent is column, "-zoom-host")
        self._apply_size(self.size.width, self.size.height)
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

    # -- actions --------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Poll every polled source now."""
        for feed in self.runtime.feeds:
            refresh = getattr(feed, "refresh_now", None)
            if callable(refresh):
                refresh()
        self._tick()

    def action_help(self) -> None:
        """The help screen."""
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        panels = [(n, name) for n, _, name in self.panels()]
        self.push_screen(HelpScreen(panels, demo=self.runtime.demo))

    def action_cycle_theme(self) -> None:
        """Next theme: dark, light, ansi."""
        self._set_theme(next_theme(self._theme_key))
        self.notify(f"theme: {self._theme_key}", timeout=2, markup=False)

    def _set_theme(self, key: str) -> None:
        self._theme_key = key
        self.theme = THEMES[key]

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette's own commands: lockstep's first."""
        yield SystemCommand("Help", "Every key and panel number", self.action_help)
        yield SystemCommand("Next theme", "dark, light, ansi", self.action_cycle_theme)
        yield SystemCommand("Refresh", "Poll every source now", self.action_refresh)
        yield SystemCommand(
            "Reload config", "Re-read the config file now", self.action_reload_config
        )
        for number, _, name in self.panels():
            yield SystemCommand(
                f"Zoom {number}: {name}", "full screen; again to return", self._zoomer(number)
            )
        yield from super().get_system_commands(screen)

    def _zoomer(self, number: int) -> Callable[[], None]:
        return lambda: self.action_zoom(number)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The simulated-market keys exist only in the demo."""
        if action == "sim_toggle":
            return self._sim_toggle is not None
        return True

    def action_sim_toggle(self, source: str) -> None:
        """Demo only: cut or restore a simulated source."""
        if self._sim_toggle is None:
            return
        up = self._sim_toggle(source)
        name = source.removesuffix("_ws")
        self.notify(f"simulated {name} {'restored' if up else 'cut'}", timeout=3, markup=False)

    async def action_quit(self) -> None:
        """Quit cleanly."""
        await self._leave()

    # -- watchlist (the command palette) --------------------------------------------

    def watchlist(self) -> tuple[str, ...]:
        """The symbols in the quotes panel, in order."""
        return self.settings.quotes.watchlist

    def add_symbol(self, symbol: str) -> None:
        """Add ``symbol`` to the watchlist, save it to the config file, poll it."""
        current = self.watchlist()
        if symbol in current:
            self.notify(f"{symbol} is already on the watchlist", timeout=3, markup=False)
            return
        if len(current) >= MAX_WATCHLIST:
            self.notify(
                f"the watchlist holds at most {MAX_WATCHLIST} symbols",
                severity="error",
                markup=False,
            )
            return
        if self._save_watchlist((*current, symbol)):
            self.notify(
                f"added {symbol}{self._saved_where()}; its all-time high appears after a restart",
                timeout=6,
                markup=False,
            )

    def remove_symbol(self, symbol: str) -> None:
        """Remove ``symbol`` from the watchlist and save it to the config file."""
        current = self.watchlist()
        if symbol not in current:
            return
        if self._save_watchlist(tuple(s for s in current if s != symbol)):
            self.notify(f"removed {symbol}{self._saved_where()}", timeout=4, markup=False)

    def _saved_where(self) -> str:
        return f" (saved to {self._config_path})" if self._config_path else " (not saved)"

    def _save_watchlist(self, symbols: tuple[str, ...]) -> bool:
        if self._config_path is not None:
            try:
                save_watchlist(self._config_path, symbols)
            except ConfigError as exc:
                self.notify(str(exc), severity="error", timeout=10, markup=False)
                return False
            if self._config_watcher is not None:
                self._config_watcher.mark_seen()
        quotes = replace(self.settings.quotes, watchlist=symbols)
        self._apply_settings(replace(self.settings, quotes=quotes))
        return True

    # -- config reload --------------------------------------------------------------

    def _poll_config(self) -> None:
        watcher = self._config_watcher
        if watcher is not None and watcher.changed():
            self._reload_settings()

    def action_reload_config(self) -> None:
        """Re-read the config file now (it is also polled every couple of seconds)."""
        if self._config_watcher is None:
            self.notify("no config file to reload", timeout=3, markup=False)
            return
        self._config_watcher.mark_seen()
        self._reload_settings(always_say=True)

    def _reload_settings(self, *, always_say: bool = False) -> None:
        assert self._config_watcher is not None
        try:
            new = self._config_watcher.load()
        except ConfigError as exc:
            self.notify(f"config not applied: {exc}", severity="error", timeout=15, markup=False)
            return
        if self.runtime.demo:
            # The demo points every endpoint at the simulated market.
            new = replace(new, endpoints=self.settings.endpoints)
        new = self._with_overrides(new)
        change = self._apply_settings(new)
        if not change and always_say:
            self.notify("config reloaded: no change", timeout=3, markup=False)

    def _apply_settings(self, new: Settings) -> bool:
        """Apply what can change live; say what needs a restart. True if anything changed."""
        old = self.settings
        change = classify(old, new)
        if not change.live and not change.restart:
            return False
        self.settings = new
        self.runtime.settings = replace(self.runtime.settings, ui=new.ui, quotes=new.quotes)
        if "ui" in change.live:
            self._apply_ui(old.ui, new.ui)
        if "quotes" in change.live:
            self._rebuild_quotes()
        if "alerts" in change.live:
            # New rules start from a clean history (the old runner's hooks may finish).
            old_runner = self._alerts
            self._alerts = self._make_alerts(new.alerts)
            self.run_worker(old_runner.delivery.aclose(), exit_on_error=False)
            self._dash.query_one(AlertsPanel).show(self._alerts.view())
        if change.live:
            self.notify(
                "config applied: [" + "], [".join(change.live) + "]", timeout=4, markup=False
            )
        if change.restart:
            tables = "[" + "], [".join(change.restart) + "]"
            self.notify(
                f"restart lockstep to apply the changes to {tables}",
                severity="warning",
                timeout=20,
                markup=False,
            )
        return True

    def _apply_ui(self, old: UiSettings, new: UiSettings) -> None:
        if new.fps != old.fps:
            self.fps = new.fps
            if self._paint_timer is not None:
                self._paint_timer.stop()
            self._paint_timer = self.set_interval(1.0 / new.fps, self._paint, name="paint")
        if new.low_bandwidth != old.low_bandwidth:
            self._apply_low_bandwidth(new.low_bandwidth)
        if new.theme != old.theme:
            self._set_theme(new.theme)
        if (new.up_color, new.down_color) != (old.up_color, old.down_color):
            self.refresh_css(animate=False)

    def _apply_low_bandwidth(self, on: bool) -> None:
        """No flashes, sparklines or charts anywhere."""
        self.low_bandwidth = on
        self.screen_stack[0].set_class(on, "-low-bandwidth")
        self._dash.query_one(BtcPanel).set_low_bandwidth(on)
        self._dash.query_one(DivergencePanel).set_low_bandwidth(on)
        self._dash.query_one(TbillsPanel).set_low_bandwidth(on)

    def _rebuild_quotes(self) -> None:
        """New quote feeds and slice for the new ``[quotes]``; the last values carry over."""
        q = self.settings.quotes
        ep = self.runtime.settings.endpoints
        old_feeds: list[Feed] = [
            f for f in self.runtime.feeds if isinstance(f, YahooChartFeed | CboeQuotesFeed)
        ]
        for feed in old_feeds:
            worker = self._feed_workers.pop(id(feed), None)
            if worker is not None:
                worker.cancel()
        self.run_worker(self._close_feeds(old_feeds), exit_on_error=False)
        new_slice = make_quotes_slice(q, self.market_clock)
        if self.store.has("quotes"):
            old_view = self.store.slice("quotes", QuotesSlice).view()
            for row in old_view.rows + old_view.futures:
                if row.quote is not None:
                    new_slice.apply(row.quote)
            for status in (old_view.primary, old_view.fallback):
                if status is not None:
                    new_slice.apply(status)
        # Store.add replaces the slice under its topic (the old one stays routed but is
        # no longer read: see the report on a Store.replace).
        self.store.add(new_slice)
        new_feeds: list[Feed] = list(
            build_quote_feeds(
                q,
                ep.yahoo,
                ep.cboe,
                self.runtime.client,
                self.market_clock,
                wanted=new_slice.fallback_symbols,
            )
        )
        kept = [f for f in self.runtime.feeds if not any(f is o for o in old_feeds)]
        self.runtime.feeds[:] = kept + new_feeds
        for feed in new_feeds:
            self._start_feed(feed)
        self._paint()

    # -- leaving --------------------------------------------------------------------

    def _signal_exit(self, name: str) -> None:
        log.info("received %s, exiting", name)
        arm_hard_exit()
        self.call_later(self._leave)

    def _check_terminal(self) -> None:
        if terminal_gone():
            log.warning("terminal hung up; exiting")
            arm_hard_exit()
            self.exit()

    async def _leave(self) -> None:
        if self._exiting:
            return
        self._exiting = True
        try:
            async with asyncio.timeout(2.5):
                await self._alerts.delivery.aclose(timeout=1.0)
                await self.runtime.aclose()
        except TimeoutError:
            log.warning("feeds did not close within 2.5 s")
        self.exit()
