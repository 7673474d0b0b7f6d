"""The BTC panel: last price, 24 h change, range, bid/ask, the live venue, a flash on
change and an intraday sparkline. It renders a :class:`~feeds.model.btc.BtcView`."""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Sparkline

from feeds.model.btc import BtcView
from feeds.model.core import FeedState
from widgets.border import set_subtitle, set_title
from widgets.cells import Cell
from widgets.fit import FitPanel, Need
from widgets.format import money, signed, step_age
from widgets.tick_gate import TickGate
from widgets.words import AthFacts, ath_word

VENUE_NAMES = {"coinbase": "Coinbase", "kraken": "Kraken"}
SPARK_MAX_ROWS = 40
"""The sparkline's tallest. It takes the rows its column has left (a taller chart, not a
band of blank rows inside the panels below it: at 200×60 an 8-row cap left 18 blank rows
in the All-time-highs frame); the cap only keeps a very tall pane sensible."""


class BtcPanel(FitPanel):
    """BTC-USD. Mount once; the app calls :meth:`show` when the BTC topic changed and
    :meth:`tick` once a second so the age keeps counting while data is frozen."""

    DEFAULT_CSS = """
    BtcPanel { height: auto; }
    BtcPanel > Horizontal { height: 1; }
    BtcPanel > #btc-detail { height: auto; }
    BtcPanel #btc-price { width: auto; min-width: 14; }
    BtcPanel #btc-change { width: auto; margin-left: 2; }
    BtcPanel #btc-ath { width: auto; margin-left: 2; }
    BtcPanel #btc-venue { width: 1fr; text-align: right; margin-left: 1; }
    BtcPanel #btc-age { width: 6; margin-left: 1; }
    BtcPanel Sparkline { height: 2; }
    """

    FLASH_SECONDS = 0.6

    def __init__(
        self, *, flash: bool = True, sparkline: bool = True, id: str | None = "btc"
    ) -> None:
        super().__init__(id=id)
        self.flash_enabled = flash
        self.sparkline_enabled = sparkline
        set_title(self, "BTC-USD")
        self._view: BtcView | None = None
        self._gate = TickGate()
        """The view and the age of the last tick that drew them."""
        self._shown: Decimal | None = None
        self._flash_timer: Timer | None = None
        self._spark_len = -1
        self._cells: dict[str, Cell] = {}
        self._spark_last = 0.0
        self._spark_fits = True
        self._spark_ready = False

    def compose(self) -> ComposeResult:
        """Price line (price, change, ATH distance, venue), then the details a short
        terminal hides (#btc-detail): range, book, sparkline."""
        with Horizontal():
            yield Cell("—", id="btc-price")
            yield Cell("", id="btc-change")
            yield Cell("", id="btc-ath")
            yield Cell("connecting…", id="btc-venue")
            yield Cell("", id="btc-age")
        with Vertical(id="btc-detail"):
            yield Cell("", id="btc-range")
            yield Cell("", id="btc-book")
            spark = Sparkline([], id="btc-spark")
            spark.display = False  # shown once it has a few minutes of data
            yield spark

    def _cell(self, wid: str) -> Cell:
        """A child cell by id, looked up once (``show`` runs at up to 10 Hz)."""
        cell = self._cells.get(wid)
        if cell is None:
            cell = self._cells[wid] = self.query_one(f"#{wid}", Cell)
        return cell

    def set_low_bandwidth(self, on: bool) -> None:
        """No flashes and no sparkline (fewer bytes over slow links); applies at once."""
        self.flash_enabled = self.sparkline_enabled = not on
        self._show_spark_display()
        self._needs_changed(on)
        if on:
            self._unflash()
        else:
            self._spark_len = -1
            if self._view is not None:
                self._show_spark(self._view)

    def set_ath(self, facts: AthFacts | None) -> None:
        """BTC against its all-time high, from the ATH view: RECORD, PENDING, OUTLIER or
        the distance below it (``ATH −27.1%``)."""
        cell = self._cell("btc-ath")
        word = ath_word(facts)
        if facts is None or facts.distance_pct is None:
            cell.set("")
        elif word is not None:
            cell.set(word)
        else:
            cell.set(f"ATH {signed(facts.distance_pct, 1, '%')}")

    # -- layout (the screen deals the rows) -------------------------------------------

    def need(self, width: int) -> Need:
        """The price line always; then the range, the book, and a sparkline that grows
        up to :data:`SPARK_MAX_ROWS` (the rows it cannot take go to the other panels)."""
        spark = self.sparkline_enabled
        steps = ((3, 1), (4, 2), (6, 1)) if spark else ((3, 1), (6, 1))
        return Need(1, steps, grow=spark, grow_max=SPARK_MAX_ROWS - 2)

    def fit(self, rows: int) -> None:
        """The range, a sparkline of two rows, the book; the sparkline takes the rows
        left, up to :data:`SPARK_MAX_ROWS` (the order of :meth:`need`)."""
        super().fit(rows)
        spark = self.sparkline_enabled
        self._cell("btc-range").display = rows >= 2
        self._cell("btc-book").display = rows >= (5 if spark else 3)
        self._spark_fits = spark and rows >= 4
        spark_rows = max(2, rows - (3 if rows >= 5 else 2))
        self.query_one(Sparkline).styles.height = min(spark_rows, SPARK_MAX_ROWS)
        self._show_spark_display()

    def _show_spark_display(self) -> None:
        spark = self.query_one(Sparkline)
        spark.display = self.sparkline_enabled and self._spark_fits and self._spark_ready

    def show(self, view: BtcView) -> None:
        """Render a new view (called only when BTC data changed)."""
        self._view = view
        tick = view.tick
        price_cell = self._cell("btc-price")
        if tick is None:
            price_cell.set("—")
            self._cell("btc-venue").set("waiting for the first tick…")
            return
        price_cell.set("$" + money(tick.price))
        if self._shown is not None and tick.price != self._shown and self.flash_enabled:
            self._flash("-up" if tick.price > self._shown else "-downtick")
        self._shown = tick.price
        if tick.open_24h is not None:
            diff = tick.price - tick.open_24h
            pct = diff / tick.open_24h * 100
            arrow = "▲" if diff > 0 else "▼" if diff < 0 else "■"
            change = Content.assemble(
                (f"{arrow} {signed(pct, 2, '%')}", "bold"), f"  {signed(diff, 0)} 24h"
            )
            self._cell("btc-change").set(change)
            self._cell("btc-change").set_class(diff > 0, "-up")
            self._cell("btc-change").set_class(diff < 0, "-downtick")
        hi, lo = tick.high_24h, tick.low_24h
        self._cell("btc-range").set(
            f"24h high {money(hi, 0)}  low {money(lo, 0)}"
            + (f"  vol {tick.volume_24h:,.0f} BTC" if tick.volume_24h is not None else "")
        )
        self._cell("btc-book").set(f"bid {money(tick.bid)}  ask {money(tick.ask)}")
        venue = VENUE_NAMES.get(view.active or "", view.active or "?")
        label = f"via {venue}"
        if view.failover_reason:
            # The reason fits only on a wide panel; the status bar always carries it.
            wide = self.size.width >= 110
            label += f" (failover: {view.failover_reason})" if wide else " · FAILOVER"
        self._cell("btc-venue").set(label)
        self.set_class(bool(view.failover_reason), "-failover")
        self._show_spark(view)

    def _show_spark(self, view: BtcView) -> None:
        if not self.sparkline_enabled or not view.spark:
            return
        # A new minute bucket, or the current bucket moved: repaint at most every 2 s.
        now = time.monotonic()
        if len(view.spark) == self._spark_len and now - self._spark_last < 2.0:
            return
        self._spark_len = len(view.spark)
        self._spark_last = now
        width = max(10, self.size.width - 2)
        spark = self.query_one(Sparkline)
        # One or two minutes make a meaningless solid bar: wait for a shape to show.
        self._spark_ready = len(view.spark) >= 3
        self._show_spark_display()
        spark.data = list(view.spark[-width:])

    def tick(self, now_mono: float, now_wall: datetime) -> None:
        """Keep the age and state in the border counting (1 Hz)."""
        view = self._view
        if view is None:
            set_subtitle(self, "CONNECTING")
            return
        active = view.venues.get(view.active or "")
        tick = view.tick
        # In 5-s steps like every other age (`<5s`, `5s` … then minutes): an age that
        # counts by the second repaints the line every second when the stream pauses,
        # most of an idle terminal's bytes (issue 17); never younger than the truth.
        shown_age = f"· {step_age(now_mono - tick.received)}" if tick is not None else ""
        if not self._gate.changed(view, shown_age):
            return  # the same view and age (most seconds)
        # The state word is the BTC view's (one staleness rule, in the BTC slice, which
        # the status bar and the alert rules read too): only the age counts here.
        state = view.state
        if active is None or tick is None:
            set_subtitle(self, state.value)
            self.set_class(state is FeedState.DOWN, "-down")
            return
        # The age lives in a small cell: a border title change repaints the whole panel.
        self._cell("btc-age").set(shown_age)
        subtitle = state.value
        if active.notice:
            subtitle = f"{active.notice.upper()} · " + subtitle
        if view.timing_note:
            subtitle = f"{view.timing_note} · " + subtitle
        set_subtitle(self, subtitle)
        self.set_class(state is FeedState.STALE, "-stale")
        self.set_class(state in (FeedState.DOWN, FeedState.RECONNECTING), "-down")

    def _flash(self, cls: str) -> None:
        """Colour the price by the direction of its last change, until it has been still
        for :data:`FLASH_SECONDS` to twice that.

        One timer serves a whole run of changes: a busy stream changes the price every
        frame, and a new timer each frame was a new task (and a cancelled one) ten times
        a second. ``Timer.reset`` restarts the count when the timer next wakes, so the
        colour goes 0.6-1.2 s after the last change rather than exactly 0.6 s."""
        price = self._cell("btc-price")
        price.set_class(cls == "-up", "-up")
        price.set_class(cls == "-downtick", "-downtick")
        if self._flash_timer is not None:
            self._flash_timer.reset()
        else:
            self._flash_timer = self.set_timer(self.FLASH_SECONDS, self._unflash)

    def _unflash(self) -> None:
        price = self._cell("btc-price")
        price.remove_class("-up", "-downtick")
        self._flash_timer = None
