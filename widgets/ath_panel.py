"""The all-time-high panel: for BTC and every watchlist symbol, the intraday and closing
highs with their date and the days since, the distance below in percent, a drawdown band,
RECORD / PENDING (:mod:`widgets.words`), and the backfill's progress. Renders an
:class:`~feeds.model.history.AthView`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from textual.app import ComposeResult
from textual.events import Resize

from feeds.model.history import AthRow, AthView, BackfillProgress
from widgets.border import set_subtitle, set_title
from widgets.cells import Cell
from widgets.fit import FitPanel, Need
from widgets.format import coarse_age, signed
from widgets.words import RECORD, ath_word

WIDE = 110
"""From this many columns on, the panel shows every column in full."""

_SHORT_SOURCE = {
    "coinbase": "cb",
    "kraken": "kr",
    "yahoo": "yh",
    "cache": "cache",
    "close yahoo": "cls",
    "close coinbase": "cls",
    "close sim": "cls",
}


def px(value: Decimal | float | None) -> str:
    """A price: no decimals from 1,000 up, two below."""
    if value is None:
        return "—"
    places = 0 if abs(float(value)) >= 1000 else 2
    return f"{value:,.{places}f}"


def _id(symbol: str) -> str:
    return "ath-row-" + "".join(ch if ch.isalnum() else "-" for ch in symbol.lower())


class AthPanel(FitPanel):
    """All-time highs. Mount once; :meth:`show` on the ``ath`` topic, :meth:`tick` at 1 Hz."""

    DEFAULT_CSS = """
    AthPanel { height: auto; }
    AthPanel > Cell { height: 1; width: 1fr; }
    """

    def __init__(self, *, id: str | None = "ath") -> None:
        super().__init__(id=id)
        set_title(self, "All-time highs")
        self._view: AthView | None = None
        self._rows: dict[str, Cell] = {}
        self._order: list[str] = []
        """The symbols of the last view, in order (rows are placed when they change)."""
        self._now_mono = 0.0
        self._now_wall: datetime | None = None
        self._progress_text = ""
        self._notes_text = ""

    def compose(self) -> ComposeResult:
        """Header, rows (mounted as symbols appear), progress and notes lines."""
        yield Cell("", id="ath-header", classes="ath-header")
        yield Cell("", id="ath-progress", classes="ath-progress")
        yield Cell("", id="ath-notes", classes="ath-notes")

    @property
    def wide(self) -> bool:
        """True when the panel has room for every column."""
        return self.size.width >= WIDE

    def need(self, width: int) -> Need:
        """Nothing always (BTC and the quotes carry each distance); the whole table
        when it fits, then the backfill progress and the notes."""
        view = self._view
        if view is None:
            return Need(0, ((5, 1),))
        extra = ((8, 1),) * (bool(self._progress_text) + bool(self._notes_text))
        return Need(0, ((5, 1 + len(view.rows)), *extra))

    def fit(self, rows: int) -> None:
        """Progress and notes lines only when dealt rows for them."""
        super().fit(rows)
        table = 1 + (len(self._view.rows) if self._view else 0)
        progress = bool(self._progress_text) and rows > table
        self.query_one("#ath-progress", Cell).display = progress
        self.query_one("#ath-notes", Cell).display = (
            bool(self._notes_text) and rows > table + progress
        )

    def show(self, view: AthView) -> None:
        """Render a new view (called when the ``ath`` topic changed)."""
        self._view = view
        order = [r.symbol for r in view.rows]
        if order != self._order:
            self._place_rows(order)
            self._order = order  # after: a paint before compose ends (NoMatches) retries
        if self.display:
            self._repaint()
        # Hidden (no room at this size, e.g. 120×40): every quote poll would otherwise
        # re-render the whole table unseen. The paint loop ticks a panel as it is shown,
        # and the tick repaints it from this view.

    def _place_rows(self, order: list[str]) -> None:
        """One row per symbol of ``order``, shown in that order; the others hidden. Runs
        only when the symbols change (the first view, a watchlist edit), not per paint."""
        shown = set(order)
        for symbol, line in self._rows.items():
            if symbol not in shown and line.display:
                # Off the watchlist (the palette, a config reload): hidden, not removed,
                # so the symbol can come back at once (a removal finishes later, and a new
                # row under the same id before then would clash). At most the watchlist's
                # cap of rows is ever kept.
                line.display = False
        if not self._rows:  # the first view: every row at once, in order
            lines = [Cell("", id=_id(s), classes="ath-row") for s in order]
            self.mount_all(lines, before="#ath-progress")  # raises before compose: retried
            self._rows.update(zip(order, lines, strict=True))
        for i, symbol in enumerate(order):
            known = self._rows.get(symbol)
            if known is not None and known.display:
                continue
            # In the view's order: before the next row it has, else before the progress.
            after = next(
                (self._rows[s] for s in order[i + 1 :] if s in self._rows),
                self.query_one("#ath-progress"),
            )
            if known is None:
                line = Cell("", id=_id(symbol), classes="ath-row")
                self.mount(line, before=after)
                self._rows[symbol] = line
            else:
                known.display = True
                self.move_child(known, before=after)

    def tick(self, now_mono: float, now_wall: datetime) -> None:
        """Keep ages and days-since counting."""
        self._now_mono, self._now_wall = now_mono, now_wall
        self._repaint()

    def on_resize(self, event: Resize) -> None:
        """Switch between the compact and the wide layout."""
        self._repaint()

    def _repaint(self) -> None:
        view = self._view
        header = self.query_one("#ath-header", Cell)
        if view is None:
            header.set("waiting for history…")
            set_subtitle(self, "LOADING")
            return
        wide = self.wide
        today = self._now_wall.date() if self._now_wall else view.today
        if wide:
            header.set(
                f"{'SYMBOL':<8} {'LAST':>11} {'ATH':>11} {'ATH DATE':<10} {'CLOSE ATH':>11} "
                f"{'CLOSE DATE':<10} {'DAYS':>6} {'FROM ATH':>8} {'FROM CLS':>8} "
                f"{'BAND':<8} SOURCE / AGE"
            )
        else:
            header.set(
                f"{'SYMBOL':<7} {'LAST':>9} {'ATH':>8} {'CLS ATH':>8} {'DATE':<8} "
                f"{'DAYS':>5} {'FROM':>7} {'BAND':<7} SRC"
            )
        notes: list[str] = []
        for row in view.rows:
            line = self._rows.get(row.symbol)
            if line is None:
                continue
            line.set(self._row_text(row, wide, today))
            if row.note and not wide:
                notes.append(f"† {row.symbol}: {row.note}")
            word = ath_word(row)
            line.set_class(word == RECORD, "-new-ath")
            line.set_class(word not in (None, RECORD), "-pending")
            line.set_class(row.band_level == 0 and word is None, "-near")
            line.set_class(row.band_level >= 3, "-deep")
            line.set_class(row.price_received is None, "-cached")
        self._show_progress(view.progress)
        notes.extend(view.notices)
        notes_line = self.query_one("#ath-notes", Cell)
        self._notes_text = "  ".join(notes)
        notes_line.set(self._notes_text)
        self._needs_changed((len(view.rows), bool(self._progress_text), bool(self._notes_text)))
        notes_line.set_class(bool(view.notices), "-warning")
        set_subtitle(self, self._subtitle(view))

    def _row_text(self, row: AthRow, wide: bool, today: date) -> str:
        rec = row.record
        days = f"{row.days_since_high}d" if row.days_since_high is not None else "—"
        dist = signed(row.distance_pct, 1, "%") if row.distance_pct is not None else "—"
        # One vocabulary (widgets.words): a price above the stored high never shows as a
        # positive distance; it reads RECORD, PENDING or OUTLIER, as in every panel.
        word = ath_word(row) or row.band
        if row.distance_pct is not None and row.distance_pct > 0:
            dist = word
        src = self._source(row, wide)
        if wide:
            cdist = (
                signed(row.close_distance_pct, 1, "%")
                if row.close_distance_pct is not None
                else "—"
            )
            text = (
                f"{row.symbol:<8} {px(row.price):>11} {px(rec.high if rec else None):>11} "
                f"{rec.high_day.isoformat() if rec else '—':<10} "
                f"{px(rec.close if rec else None):>11} "
                f"{rec.close_day.isoformat() if rec else '—':<10} {days:>6} {dist:>8} "
                f"{cdist:>8} {word:<8} {src}"
            )
            if row.note:
                text += f"  ({row.note})"
            return text
        ath = px(rec.high if rec else None) + ("†" if row.note else "")
        return (
            f"{row.symbol[:7]:<7} {px(row.price):>9} {ath:>8} "
            f"{px(rec.close if rec else None):>8} "
            f"{rec.high_day.strftime('%y-%m-%d') if rec else '—':<8} {days:>5} {dist:>7} "
            f"{word[:7]:<7} {src}"
        )

    def _source(self, row: AthRow, wide: bool) -> str:
        name = row.price_source if wide else _SHORT_SOURCE.get(row.price_source, row.price_source)
        if row.price is None:
            return "—"
        # Minutes only: the live price's precise age is in the quotes and BTC panels.
        if row.price_received is not None:
            return f"{name} {coarse_age(self._now_mono - row.price_received)}"
        if row.price_at is not None and self._now_wall is not None:
            return f"{name} {coarse_age((self._now_wall - row.price_at).total_seconds())}"
        return name

    def _show_progress(self, progress: tuple[BackfillProgress, ...]) -> None:
        line = self.query_one("#ath-progress", Cell)
        active = [p for p in progress if not p.finished]
        if not active:
            failed = [p for p in progress if "fail" in p.note or "not being saved" in p.note]
            self._progress_text = "  ".join(f"{p.source}: {p.note}" for p in failed)
            line.set(self._progress_text)
            return
        parts = []
        for p in active:
            pct = int(100 * p.done / p.total) if p.total else 0
            filled = pct // 10
            bar = "█" * filled + "░" * (10 - filled)
            reached = f" · at {p.reached.isoformat()}" if p.reached else ""
            parts.append(
                f"backfill {p.symbol} ({p.source}) {bar} {pct}% · {p.done}/{p.total}{reached}"
                f" · {p.note}"
            )
        self._progress_text = "  ".join(parts)
        line.set(self._progress_text)

    def _subtitle(self, view: AthView) -> str:
        active = [p for p in view.progress if not p.finished]
        if active:
            # A word only: the percentage lives in the progress line, because a border
            # title change repaints the whole panel.
            return "BACKFILL"
        if view.rows and all(r.price_received is None for r in view.rows):
            return "CACHED"
        if any(ath_word(r) == RECORD for r in view.rows):
            return f"{RECORD} · LIVE"
        return "LIVE"
