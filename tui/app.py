"""The lockstep App: mounts the panels once, runs the feeds through the runtime (one
worker per feed), and repaints from the store at a bounded rate (latest value wins,
never once per message).

The App is built in layers, one responsibility each: :mod:`tui.screen` (the dashboard
screen and its layout), :mod:`tui.paint` (the paint loop), :mod:`tui.live_config`
(config reloads and watchlist edits); this module is the shell that wires them to the
runtime and holds the keys and the way out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.filter import Monochrome, NoColor
from textual.screen import Screen
from textual.worker import Worker

from feeds.btc.state import BtcSlice
from feeds.core.health import HealthSlice
from feeds.history.ath_state import AthSlice
from feeds.history.divergence_state import DivergenceSlice, SetChartWindow
from feeds.quotes.state import QuotesSlice
from feeds.rates.state import FedOddsSlice
from feeds.tbills.state import TbillsSlice
from tui.config import Settings, UiSettings
from tui.live_config import CONFIG_POLL_S, LiveConfig
from tui.palette import WatchlistCommands
from tui.reload import ConfigWatcher
from tui.runtime import Job, Runtime
from tui.terminal import arm_hard_exit, install_signal_handlers, terminal_gone
from tui.themes import DARK, LIGHT, THEMES, next_theme, theme_variables
from widgets.alerts_panel import AlertsPanel
from widgets.ath_panel import AthPanel
from widgets.border import set_title
from widgets.btc_panel import BtcPanel
from widgets.divergence_panel import DivergencePanel
from widgets.fed_odds_panel import FedOddsPanel
from widgets.quotes_panel import QuotesPanel
from widgets.status_bar import StatusBar
from widgets.tbills_panel import TbillsPanel

log = logging.getLogger("lockstep.app")
CSS_DIR = Path(__file__).parent
CONFIG_EVERY = round(CONFIG_POLL_S)
"""The config file is polled every this many 1 Hz wake-ups (``CONFIG_POLL_S``, on the
app's one wake-up a second rather than a timer of its own)."""


class WorkerJob:
    """A runtime :class:`~tui.runtime.Job` on a Textual worker."""

    def __init__(
        self,
        worker: Worker[None],
        done: asyncio.Event,
        started: list[bool],
        coros: tuple[Coroutine[Any, Any, None], ...] = (),
    ) -> None:
        self.worker = worker
        self._done = done
        self._started = started
        self._coros = coros

    def cancel(self) -> object:
        """Cancel the worker. Work that never started is closed too (a feed replaced at
        once, e.g. a symbol added and removed in one breath), so Python does not warn of
        a coroutine never awaited."""
        self.worker.cancel()
        if not self._started[0]:
            for coro in self._coros:  # the worker's task is cancelled before its first step
                coro.close()
        return None

    async def join(self) -> None:
        """Wait until the work has finished (at once if it was cancelled unstarted)."""
        if self._started[0] or not self.worker.is_cancelled:
            await self._done.wait()


class LockstepApp(LiveConfig):
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
        read_only: bool = False,
    ) -> None:
        """``config_path``: the file to watch and to save watchlist changes to (None:
        neither). ``ui_overrides``: ``[ui]`` values from the command line, which win
        over the file on every reload. ``fps``/``low_bandwidth`` are shorthands for them.
        ``read_only``: a view (``lockstep serve``'s sessions): no watchlist edits, no
        config writes, no alert command, no screenshot file."""
        self.read_only = read_only
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
        self._painters = {}
        self._unpainted = set()
        self._toasted: set[str] = set()
        """History warnings already shown as a toast (each once)."""
        self._added_history = {}
        self._tickers = []
        self._exiting = False
        self._torn_down = False
        self._skip = 0
        self._skip_left = 0
        self.shed_frames = 0
        self._paint_timer = None
        self._clock_minute = None
        self._seconds = 0
        """1 Hz wake-ups so far (the config file is looked at every few of them)."""
        self._zoomed = 0
        self._config_path = config_path
        self._config_watcher = ConfigWatcher(config_path) if config_path is not None else None
        for theme in (DARK, LIGHT):
            self.register_theme(theme)
        self._theme_key = ui.theme
        self.theme = THEMES[ui.theme]
        self._alerts = self._make_alerts(self.settings.alerts)
        self._alerts_note = ""

    def get_css_variables(self) -> dict[str, str]:
        """The theme's variables plus ``$up``/``$down`` (``[ui] up_color``/``down_color``)."""
        ui = self.settings.ui if hasattr(self, "settings") else UiSettings()
        return theme_variables(super().get_css_variables(), ui.up_color, ui.down_color)

    # -- start-up ---------------------------------------------------------------

    def on_mount(self) -> None:
        """Start the feeds and the paint timers."""
        for number, panel, _ in self.panels():
            set_title(panel, f"{number} {getattr(panel, '_lockstep_title', '')}".rstrip())
        btc = self._dash.query_one(BtcPanel)
        status = self._dash.query_one(StatusBar)
        btc_slice = self.store.slice("btc", BtcSlice)
        health = self.store.slice("health", HealthSlice)
        self._painters["btc"] = lambda: btc.show(btc_slice.view())

        def paint_health() -> None:
            view = health.view()
            status.show(view)
            self._show_notice(view)

        self._painters["health"] = paint_health
        self._tickers += [(btc, btc.tick), (None, self._tick_top)]
        self._hook(QuotesPanel, "quotes", QuotesSlice)
        self._hook(FedOddsPanel, "fed_odds", FedOddsSlice)
        self._hook(TbillsPanel, "tbills", TbillsSlice)
        self._hook(DivergencePanel, "divergence", DivergenceSlice)
        ath_panel = self._dash.query_one(AthPanel)
        ath_slice = self.store.slice("ath", AthSlice)
        quotes_panel = self._dash.query_one(QuotesPanel)
        divergence_panel = self._dash.query_one(DivergencePanel)

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
            divergence_panel.set_ath(view.marks)
            # BTC's distance from its high shows on the BTC line (a short terminal hides
            # the ATH panel).
            for r in view.rows:
                if r.symbol == "BTC-USD":
                    btc.set_ath(r)

        self._painters["ath"] = paint_ath
        self._tickers.append((ath_panel, ath_panel.tick))
        for warning in self.runtime.warnings:
            self.notify(warning, severity="warning", timeout=15, markup=False)

        def status_tick(now_mono: float, now_wall: datetime) -> None:
            # Ages come from the latest data times, which change without a health event.
            status.show(health.view())
            status.tick(now_mono, now_wall)

        self._tickers.append((None, status_tick))
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

        self._tickers.append((None, alerts_tick))
        self.runtime.start(self._spawn)
        self._start_paint_timer(self.fps)
        # One 1 Hz wake-up for the time-driven state, the ages, the terminal hang-up
        # check and the config file's poll: four timers woke the loop about four times a
        # second at idle (issue 17).
        self.set_interval(1.0, self._second, name="ages")
        try:
            install_signal_handlers(self._signal_exit)
        except RuntimeError:
            pass
        if self.low_bandwidth:
            self._apply_low_bandwidth(True)
        self._apply_size(self.size.width, self.size.height)
        self._paint()
        self._tick()

    def on_divergence_panel_window_selected(self, message: DivergencePanel.WindowSelected) -> None:
        """The user picked a chart window: a user intent goes to the store as an event."""
        self.store.apply(SetChartWindow(message.window))

    # -- feeds ----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str, group: str) -> Job:
        """The runtime's jobs as Textual workers: each feed's pump in group
        ``feed:<source>`` named after its source, a failure never ending the app."""
        done = asyncio.Event()
        started = [False]

        async def run() -> None:
            started[0] = True
            try:
                await coro
            finally:
                done.set()

        wrapped = run()
        worker = self.run_worker(wrapped, name=name, group=group, exit_on_error=False)
        return WorkerJob(worker, done, started, (wrapped, coro))

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
        # Imported here: the help screen is a rare path, and a module once imported
        # stays in the monitor's memory all day (issue 17).
        from tui.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        panels = [(n, name) for n, _, name in self.panels()]
        self.push_screen(HelpScreen(panels, demo=self.runtime.demo))

    def action_cycle_theme(self) -> None:
        """Next theme: dark, light, ansi."""
        self._set_theme(next_theme(self._theme_key))
        self.notify(f"theme: {self._theme_key}", timeout=2, markup=False)

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
        for command in super().get_system_commands(screen):
            if self.read_only and command.title == "Screenshot":
                continue  # a view writes no file (nor delivers one through the browser)
            yield command

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

    # -- leaving --------------------------------------------------------------------

    def _signal_exit(self, name: str) -> None:
        log.info("received %s, exiting", name)
        arm_hard_exit()
        self.call_later(self._leave)

    def _second(self) -> None:
        """Once a second: the hang-up check, the config file (every
        :data:`CONFIG_EVERY` seconds), then the paint loop's second."""
        self._seconds += 1
        if self._watch_terminal:
            self._check_terminal()
        if self._config_watcher is not None and self._seconds % CONFIG_EVERY == 0:
            self._poll_config()
        self._each_second()

    def _check_terminal(self) -> None:
        if terminal_gone():
            log.warning("terminal hung up; exiting")
            arm_hard_exit()
            self.exit()

    async def _leave(self) -> None:
        if self._exiting:
            return
        self._exiting = True
        await self._teardown()
        self.exit()

    async def on_unmount(self) -> None:
        """Every other way out (a hang-up, ``exit()`` from elsewhere): the same teardown."""
        await self._teardown()

    async def _teardown(self) -> None:
        """Stop the alert hooks and the runtime (every feed closed once), at most 2.5 s."""
        if self._torn_down:
            return
        self._torn_down = True
        try:
            async with asyncio.timeout(2.5):
                await self._alerts.delivery.aclose(timeout=1.0)
                await self.runtime.aclose()
        except TimeoutError:
            log.warning("feeds did not close within 2.5 s")
