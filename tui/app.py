"""The lockstep App: mounts the panels once, runs one worker per feed, and repaints
from the store at a bounded rate (latest value wins, never once per message)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widgets import Footer, Static

from feeds.ath_state import AthSlice
from feeds.btc.state import BtcSlice
from feeds.divergence_state import DivergenceSlice, SetChartWindow
from feeds.fed.odds_state import FedOddsSlice
from feeds.fed.tbills_state import TbillsSlice
from feeds.health import HealthSlice
from feeds.model.core import FeedState, FeedStatus
from feeds.quotes.state import QuotesSlice
from tui.runtime import Feed, Runtime
from tui.terminal import arm_hard_exit, install_signal_handlers, terminal_gone
from widgets.ath_panel import AthPanel
from widgets.btc_panel import BtcPanel, Cell
from widgets.divergence_panel import DivergencePanel
from widgets.fed_odds_panel import FedOddsPanel
from widgets.format import clock_et
from widgets.quotes_panel import QuotesPanel
from widgets.status_bar import StatusBar
from widgets.tbills_panel import TbillsPanel

log = logging.getLogger("lockstep.app")

MIN_WIDTH = 40
MIN_HEIGHT = 12
CSS_DIR = Path(__file__).parent


class LockstepApp(App[None]):
    """The dashboard."""

    TITLE = "lockstep"
    CSS_PATH = [
        CSS_DIR / name
        for name in ("app.tcss", "quotes.tcss", "history.tcss", "fed_odds.tcss", "tbills.tcss")
    ]
    ENABLE_COMMAND_PALETTE = False
    AUTO_FOCUS = None  # keep the dashboard at the top; focus moves only on request
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("r", "refresh", "Refresh"),
        Binding("c", "sim_toggle('coinbase_ws')", "Cut/restore sim Coinbase"),
        Binding("k", "sim_toggle('kraken_ws')", "Cut/restore sim Kraken"),
    ]

    def __init__(
        self,
        runtime: Runtime,
        *,
        fps: float = 10.0,
        low_bandwidth: bool = False,
        sim_toggle: Callable[[str], bool] | None = None,
        watch_terminal: bool = True,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.store = runtime.store
        self.market_clock = runtime.clock
        self.fps = fps
        self.low_bandwidth = low_bandwidth
        self._sim_toggle = sim_toggle
        self._watch_terminal = watch_terminal
        self._painters: dict[str, Callable[[], None]] = {}
        self._tickers: list[Callable[[float, datetime], None]] = []
        self._exiting = False

    # -- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """Top bar, dashboard, status bar, footer, and the too-small notice."""
        with Horizontal(id="top-bar"):
            yield Static("lockstep", id="brand", markup=False)
            if self.runtime.demo:
                yield Static(
                    " DEMO · SIMULATED DATA · not real prices ", id="demo-badge", markup=False
                )
            yield Cell("", id="notice")
            yield Cell("", id="wall-clock")
        with Vertical(id="dashboard"):
            yield BtcPanel(flash=not self.low_bandwidth, sparkline=not self.low_bandwidth)
            yield QuotesPanel()
            yield AthPanel()
            yield DivergencePanel()
            yield FedOddsPanel()
            yield TbillsPanel()
        yield StatusBar(self.runtime.sources)
        yield Footer()
        yield Static("", id="too-small", markup=False)

    def on_mount(self) -> None:
        """Start the feeds and the paint timers."""
        if self.runtime.demo:
            self.screen.add_class("-demo")
        btc = self.query_one(BtcPanel)
        status = self.query_one(StatusBar)
        btc_slice = self.store.slice("btc", BtcSlice)
        health = self.store.slice("health", HealthSlice)
        self._painters["btc"] = lambda: btc.show(btc_slice.view())
        self._painters["health"] = lambda: status.show(health.view())
        self._tickers += [btc.tick, self._tick_top]
        self._hook(QuotesPanel, "quotes", QuotesSlice)
        self._hook(FedOddsPanel, "fed_odds", FedOddsSlice)
        self._hook(TbillsPanel, "tbills", TbillsSlice)
        self._hook(DivergencePanel, "divergence", DivergenceSlice)
        ath_panel = self.query_one(AthPanel)
        ath_slice = self.store.slice("ath", AthSlice)
        quotes_panel = self.query_one(QuotesPanel)

        def paint_ath() -> None:
            view = ath_slice.view()
            ath_panel.show(view)
            # The quotes panel's RECORD badge uses the stored all-time highs.
            highs = {r.symbol: r.record.high for r in view.rows if r.record is not None}
            quotes_panel.set_ath(highs)

        self._painters["ath"] = paint_ath
        self._tickers.append(ath_panel.tick)
        for warning in self.runtime.warnings:
            self.notify(warning, severity="warning", timeout=15)

        def status_tick(now_mono: float, now_wall: datetime) -> None:
            # Ages come from the latest data times, which change without a health event.
            status.show(health.view())
            status.tick(now_mono, now_wall)

        self._tickers.append(status_tick)
        for feed in self.runtime.feeds:
            self._pump(feed)
        self.set_interval(1.0 / self.fps, self._paint, name="paint")
        self.set_interval(1.0, self._tick, name="ages")
        try:
            install_signal_handlers(self._signal_exit)
        except RuntimeError:
            pass
        if self._watch_terminal:
            self.set_interval(1.0, self._check_terminal, name="hangup-watch")
        self._apply_size(self.size.width, self.size.height)
        self._paint()
        self._tick()

    def _hook(self, widget: type[Any], topic: str, kind: type[Any]) -> None:
        """Paint ``widget`` from the ``topic`` slice when it changes; tick it at 1 Hz."""
        panel = self.query_one(widget)
        slice_ = self.store.slice(topic, kind)
        self._painters[topic] = lambda: panel.show(slice_.view())
        self._tickers.append(panel.tick)

    def on_divergence_panel_window_selected(self, message: DivergencePanel.WindowSelected) -> None:
        """The user picked a chart window: a user intent goes to the store as an event."""
        self.store.apply(SetChartWindow(message.window))

    # -- feeds ----------------------------------------------------------------------

    @work(exit_on_error=False)
    async def _pump(self, feed: Feed) -> None:
        """One feed into the store. A bug in a feed restarts that feed only, with backoff."""
        delay = 1.0
        while not self._exiting:
            try:
                async for event in feed.events():
                    self.store.apply(event)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("feed %s crashed; restarting in %.0f s", feed.source, delay)
                now = self.market_clock.monotonic()
                self.store.apply(
                    FeedStatus(feed.source, FeedState.DOWN, "internal error (see log)", now)
                )
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, 60.0)

    # -- painting -------------------------------------------------------------------

    def _paint(self) -> None:
        self.store.refresh(self.market_clock.monotonic())
        topics = self.store.drain()
        if not topics:
            return
        with self.batch_update():
            for topic in topics:
                paint = self._painters.get(topic)
                if paint is not None:
                    paint()
            if "health" in topics:
                self._tick()

    def _tick(self) -> None:
        now_mono = self.market_clock.monotonic()
        now_wall = self.market_clock.now()
        with self.batch_update():
            for tick in self._tickers:
                tick(now_mono, now_wall)

    def _tick_top(self, now_mono: float, now_wall: datetime) -> None:
        self.query_one("#wall-clock", Cell).set(f"{clock_et(now_wall)} ET")
        health = self.store.slice("health", HealthSlice).view()
        offline = [
            h for h in health.values() if h.state is FeedState.DOWN and "no network" in h.reason
        ]
        if offline and not self.runtime.demo and len(offline) == len(health):
            self.query_one("#notice", Cell).set("No network: no source answers. Try --demo")
        else:
            self.query_one("#notice", Cell).set("")

    # -- size -----------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        """Reflow; below the minimum show what size is needed."""
        self._apply_size(event.size.width, event.size.height)

    def _apply_size(self, width: int, height: int) -> None:
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        screen = self.screen
        screen.set_class(small, "-too-small")
        screen.set_class(not small and (width < 80 or height < 24), "-compact")
        screen.set_class(width >= 120, "-wide")
        if small:
            self.query_one("#too-small", Static).update(
                f"terminal too small: need {MIN_WIDTH}×{MIN_HEIGHT}, have {width}×{height}"
                "\n(q quits)"
            )

    # -- actions --------------------------------------------------------------------

    def action_refresh(self) -> None:
        """Poll every polled source now."""
        for feed in self.runtime.feeds:
            refresh = getattr(feed, "refresh_now", None)
            if callable(refresh):
                refresh()
        self._tick()

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
        self.notify(f"simulated {name} {'restored' if up else 'cut'}", timeout=3)

    async def action_quit(self) -> None:
        """Quit cleanly."""
        await self._leave()

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
                await self.runtime.aclose()
        except TimeoutError:
            log.warning("feeds did not close within 2.5 s")
        self.exit()
