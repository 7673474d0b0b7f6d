"""The paint loop: at most ``[ui] fps`` times a second, take the store's changed topics
(through :meth:`tui.runtime.Runtime.drain`, which also starts the analyses they call
for) and repaint those panels only; once a second, tick the ages and clocks. When the
terminal falls behind, frames are shed rather than queued. :class:`PaintLoop` is the
middle layer of :class:`~tui.app.LockstepApp`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widget import Widget

from feeds.core.clock import Clock
from feeds.core.store import Store
from feeds.model.core import FeedState, SourceHealth
from tui.screen import DashboardLayout
from widgets.cells import Cell
from widgets.format import clock_et

MAX_SKIP = 16
"""On a slow link, skip at most this many paint ticks in a row (1.6 s at 10 Hz)."""


class PaintLoop(DashboardLayout):
    """Painters by topic and tickers, run from the store's changes and the clock."""

    store: Store
    market_clock: Clock
    fps: float
    _painters: dict[str, Callable[[], None]]
    _unpainted: set[str]
    """Topics whose panel was not composed yet at the last paint (see ``_paint``)."""
    _tickers: list[tuple[Widget | None, Callable[[float, datetime], None]]]
    """1 Hz tickers, each with the panel it repaints (skipped while that panel is
    hidden) or None (always run: the status bar, the alert rules)."""
    _skip: int
    _skip_left: int
    shed_frames: int
    """Paint ticks skipped because the terminal could not keep up (slow links)."""
    _paint_timer: Timer | None
    _clock_minute: int | None
    """The minute the wall clock shows (None: not drawn yet)."""

    def _hook(self, widget: type[Any], topic: str, kind: type[Any]) -> None:
        """Paint ``widget`` from the ``topic`` slice when it changes; tick it at 1 Hz. The
        slice is looked up at each paint: a reload may replace it."""
        panel = self._dash.query_one(widget)
        store = self.store
        self._painters[topic] = lambda: panel.show(store.slice(topic, kind).view())
        self._tickers.append((panel, panel.tick))

    def _start_paint_timer(self, fps: float) -> None:
        """Paint at most ``fps`` times a second (replacing the running timer)."""
        self.fps = fps
        if self._paint_timer is not None:
            self._paint_timer.stop()
        self._paint_timer = self.set_interval(1.0 / fps, self._paint, name="paint")
        # Armed by the store (its first change after a paint) and by the 1 Hz tick (the
        # time-driven refresh); paused by a paint that found nothing to do.
        self.store.on_change = self._paint_timer.resume

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

    def _paint(self) -> bool:
        """Paint the changed topics; True if that ticked the panels too (a health
        change does: states changed)."""
        if self._terminal_backlog():
            # The link is behind: draw nothing new (the store keeps only the latest
            # values), and paint less often until it keeps up again.
            self.shed_frames += 1
            self._skip = min(self._skip * 2 or 1, MAX_SKIP)
            self._skip_left = self._skip
            return False
        if self._skip_left:
            self._skip_left -= 1
            return False
        if self._skip:
            self._skip //= 2
        topics = self.runtime.drain(self.market_clock.monotonic())
        if self._unpainted:
            topics, self._unpainted = topics | self._unpainted, set()
        if not topics:
            if self._paint_timer is not None:
                self._paint_timer.pause()
            return False
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
                self._tick(look_again=False)  # this paint has just looked
                return True
        return False

    def _each_second(self) -> None:
        """The 1 Hz wake-up: the store's time-driven state (staleness) first, painted at
        once, then the ages and clocks. One wake-up: resuming the paint timer from the
        tick woke the loop a second time each second only to find, most seconds,
        nothing changed (idle CPU, issue 17)."""
        if not self._paint():
            self._tick(look_again=False)

    def _tick(self, look_again: bool = True) -> None:
        """Tick every shown panel's ages and clocks. ``look_again``: resume the paint
        timer too (time-driven state may have moved), for callers that did not just
        drain the store."""
        if look_again and self._paint_timer is not None:
            self._paint_timer.resume()  # time-driven state (staleness) moves: look again
        if self._terminal_backlog():
            return  # ages repaint once the link has caught up
        now_mono = self.market_clock.monotonic()
        now_wall = self.market_clock.now()
        with self.batch_update():
            for panel, tick in self._tickers:
                if panel is not None and not panel.display:
                    continue  # hidden (no room, or another panel zoomed): ticked when shown
                try:
                    tick(now_mono, now_wall)
                except NoMatches:
                    pass  # a panel not composed yet (first second after start): next tick

    def _panel_shown(self, panel: Widget) -> None:
        """A hidden panel is shown again: bring its ages up to now at once."""
        for owner, tick in self._tickers:
            if owner is panel:
                try:
                    tick(self.market_clock.monotonic(), self.market_clock.now())
                except NoMatches:
                    pass

    def _tick_top(self, now_mono: float, now_wall: datetime) -> None:
        """The wall clock (by the minute: most seconds change nothing)."""
        minute = int(now_wall.timestamp()) // 60
        if minute == self._clock_minute:
            return
        self._dash.query_one("#wall-clock", Cell).set(f"{clock_et(now_wall)} ET")
        self._clock_minute = minute

    def _show_notice(self, health: Mapping[str, SourceHealth]) -> None:
        """The top line's notice when no source answers at all. From the health painter:
        it changes only with a source's state or reason, which are health changes (it
        read the health view every second)."""
        offline = [
            h for h in health.values() if h.state is FeedState.DOWN and "no network" in h.reason
        ]
        if offline and not self.runtime.demo and len(offline) == len(health):
            self._dash.query_one("#notice", Cell).set("No network: no source answers. Try --demo")
        else:
            self._dash.query_one("#notice", Cell).set("")
