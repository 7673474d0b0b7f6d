"""The quotes panel: one line per index, ETF or commodity, with the index futures added
while the cash session is closed.

Each line: symbol, name, last, change, change %, day range, session badge, record
badge, source and delay, and data age. A price is never blank or zero: a row whose
sources fail keeps its last good value, marked ``STALE since HH:MM``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Resize
from textual.widgets import Static

from feeds.model.core import FeedState, FeedStatus
from feeds.model.history import AthMark
from feeds.model.quotes import MarketState, QuoteRow, QuotesView
from widgets.border import set_subtitle, set_title
from widgets.cells import Cell
from widgets.fit import FitPanel, Need
from widgets.format import ET, clock_et, money, signed, step_age
from widgets.tick_gate import TickGate
from widgets.words import RECORD, STALE, ath_word

COMPACT_BELOW = 110
"""Panel widths below this hide the name and day-range columns (every column needs
about 108 with the border)."""

_CELLS = ("sym", "name", "last", "chg", "pct", "range", "state", "rec", "src", "age")
_FAILING = (FeedState.DOWN, FeedState.DEGRADED, FeedState.RATE_LIMITED, FeedState.RECONNECTING)


def _css_id(symbol: str) -> str:
    """A kebab-case id for a symbol: ``^RUT`` -> ``q-rut``, ``SI=F`` -> ``q-si-f``."""
    out = "".join(c.lower() if c.isalnum() else "-" for c in symbol).strip("-")
    return "q-" + (out or "sym")


def record_badge(row: QuoteRow, marks: Mapping[str, AthMark]) -> str:
    """The ATH view's word for the symbol (``RECORD``, ``PENDING``, ``OUTLIER``: see
    :mod:`widgets.words`), else its distance below the high (``ATH−2.3%``); without a
    mark, ``52W HI`` at or above the 52-week high (the stand-in until the history is
    loaded). The flags and the distance are the ATH slice's (guarded): a print it has
    not confirmed reads PENDING here, as in every panel."""
    q = row.quote
    if q is None:
        return ""
    mark = marks.get(row.symbol)
    if mark is not None and mark.distance_pct is not None:
        word = ath_word(mark)
        if word is not None:
            return word
        pct = mark.distance_pct
        # The distance from the record, in the same column: "ATH−2.3%", "ATH−27%".
        return "ATH" + signed(pct, 1 if pct > -10 else 0, "%")
    if q.year_high is not None and q.price >= q.year_high:
        return "52W HI"
    return ""


def source_text(row: QuoteRow) -> str:
    """``yahoo rt``, ``yahoo 10m``, ``cboe 15m``."""
    q = row.quote
    if q is None:
        return ""
    delay = "rt" if q.delay_s <= 0 else f"{round(q.delay_s / 60)}m"
    return f"{q.source} {delay}"


class QuotesPanel(FitPanel):
    """Renders a :class:`~feeds.model.quotes.QuotesView`.

    ``show(view)`` on change, ``tick(now_mono, now_wall)`` at 1 Hz for ages. ``ath`` maps
    a symbol to the ATH view's mark (distance, RECORD flag); symbols without one fall
    back to the 52-week high.
    """

    DEFAULT_CSS = """
    QuotesPanel { height: auto; padding: 0 1; }
    QuotesPanel > .q-row { height: 1; width: 1fr; }
    QuotesPanel > .q-title { height: 1; width: 1fr; }
    QuotesPanel .q-row > Static { height: 1; margin-right: 1; }
    QuotesPanel .q-sym { width: 7; }
    QuotesPanel .q-name { width: 1fr; min-width: 10; }
    QuotesPanel .q-last { width: 10; text-align: right; }
    QuotesPanel .q-chg { width: 9; text-align: right; }
    QuotesPanel .q-pct { width: 8; text-align: right; }
    QuotesPanel .q-range { width: 19; text-align: right; }
    QuotesPanel .q-state { width: 7; }
    QuotesPanel .q-rec { width: 8; }
    QuotesPanel .q-src { width: 9; }
    QuotesPanel .q-age { width: 17; margin-right: 0; }
    QuotesPanel.-compact .q-name { display: none; }
    QuotesPanel.-compact .q-range { display: none; }
    QuotesPanel.-compact .q-age { width: 11; }
    QuotesPanel.-compact .q-state { width: 6; }
    QuotesPanel.-compact .q-row > .q-spacer { display: block; }
    QuotesPanel .q-spacer { display: none; width: 1fr; }
    """

    def __init__(
        self,
        *,
        ath: Mapping[str, AthMark] | None = None,
        id: str | None = "quotes-panel",
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        set_title(self, "Indices & commodities")
        self._ath: dict[str, AthMark] = dict(ath or {})
        self._view: QuotesView | None = None
        self._rows: dict[str, Horizontal] = {}
        self._cells: dict[str, dict[str, Cell]] = {}
        self._now_mono: float | None = None
        self._now_wall: datetime | None = None
        self._futures_fit = True
        self._gate = TickGate()
        """The view and the clock's words of the last tick that painted."""

    def compose(self) -> ComposeResult:
        yield Static("waiting for the first quotes", id="q-empty", classes="q-title", markup=False)
        yield Cell("", id="q-fut-title", classes="q-title -future")

    # -- inputs -----------------------------------------------------------------------

    def show(self, view: QuotesView) -> None:
        """Take a new view (called by the paint loop only when the topic changed)."""
        self._view = view
        self._paint(full=True)

    def tick(self, now_mono: float, now_wall: datetime) -> None:
        """Advance ages and stale markers (1 Hz): painted again only when one of them
        reads differently (ages go in 5 s steps, so most seconds change nothing; the
        rows were walked every second, a share of an idle terminal's CPU)."""
        self._now_mono, self._now_wall = now_mono, now_wall
        view = self._view
        if view is None:
            return
        words = self._clock_words(view)
        if not self._gate.changed(view, words):
            return
        self._paint(full=False)

    def _clock_words(self, view: QuotesView) -> tuple[str, ...]:
        """Everything on this panel that the clock alone changes: each row's age and
        the feeds' rate-limit deadlines in the subtitle."""
        ages = tuple(self._age_text(r) for r in view.rows + view.futures)
        return (
            *ages,
            self._status_text("yahoo", view.primary),
            self._status_text("cboe", view.fallback),
        )

    def set_ath(self, ath: Mapping[str, AthMark]) -> None:
        """Take the ATH view's marks (symbol -> distance and flags) for the record badge;
        repaints only when a mark of a symbol on this panel changed."""
        view = self._view
        if view is not None:
            mine = [r.symbol for r in view.rows + view.futures]
            if all(ath.get(s) == self._ath.get(s) for s in mine):
                self._ath = dict(ath)
                return
        self._ath = dict(ath)
        if view is not None:
            self._paint(full=True)

    # -- layout (the screen deals the rows) -------------------------------------------

    def need(self, width: int) -> Need:
        """Every watchlist row always; the index futures (title and rows) when there is
        room."""
        view = self._view
        if view is None:
            return Need(1)
        futures = ((2, 1 + len(view.futures)),) if view.futures else ()
        return Need(max(1, len(view.rows)), futures)

    def fit(self, rows: int) -> None:
        """The futures show only when all of them fit."""
        super().fit(rows)
        view = self._view
        fits = view is None or rows >= max(1, len(view.rows)) + 1 + len(view.futures)
        if fits != self._futures_fit:
            self._futures_fit = fits
            if view is not None:
                self._paint(full=True)

    def on_resize(self, event: Resize) -> None:
        """Hide the name and range columns when narrow."""
        self.set_class(event.size.width < COMPACT_BELOW, "-compact")
        if self._view is not None:
            self._paint(full=True)

    # -- rendering --------------------------------------------------------------------

    @property
    def compact(self) -> bool:
        """True below :data:`COMPACT_BELOW` columns."""
        return self.has_class("-compact")

    def _ensure_row(self, symbol: str, before: str | None) -> None:
        if symbol in self._rows:
            return
        cells = {c: Cell("", classes=f"q-{c}") for c in _CELLS}
        row = Horizontal(
            *(cells[c] for c in _CELLS[:-1]),
            Static("", classes="q-spacer", markup=False),
            cells["age"],
            id=_css_id(symbol),
            classes="q-row",
        )
        self._rows[symbol] = row
        self._cells[symbol] = cells
        if before is None:
            self.mount(row)
        else:
            self.mount(row, before=f"#{before}")

    def on_mount(self) -> None:
        """A view that arrived before the children existed is painted now."""
        if self._view is not None:
            self._paint(full=True)

    def _paint(self, *, full: bool) -> None:
        view = self._view
        assert view is not None
        if not self.is_mounted:
            return  # on_mount paints it
        for r in view.rows:
            self._ensure_row(r.symbol, "q-fut-title")
        for r in view.futures:
            self._ensure_row(r.symbol, None)
        self._needs_changed((len(view.rows), len(view.futures)))
        empty = self.query_one("#q-empty", Static)
        empty.display = not view.rows
        futures = view.futures if self._futures_fit else ()
        shown = {r.symbol for r in view.rows + futures}
        fut_title = self.query_one("#q-fut-title", Cell)
        fut_title.display = bool(futures)
        if view.futures:
            fut_title.set(
                f"INDEX FUTURES (not the cash indices) · NYSE {view.cash_state.value}",
            )
        for symbol, row_widget in self._rows.items():
            row_widget.display = symbol in shown
        for r in view.rows + view.futures:
            self._render_row(r, full)
        self._render_subtitle(view)

    def _render_row(self, row: QuoteRow, full: bool) -> None:
        w = self._rows[row.symbol]
        cells = self._cells[row.symbol]
        q = row.quote
        if full:
            compact = self.compact
            cells["sym"].set(row.symbol)
            cells["name"].set(row.name)
            if q is None:
                cells["last"].set("NO DATA" if row.reason else "waiting")
                for c in ("chg", "pct", "range", "rec", "src"):
                    cells[c].set("")
            else:
                cells["last"].set(money(q.price))
                cells["chg"].set(signed(q.change) if q.change is not None else "")
                pct = q.change_pct
                cells["pct"].set(signed(pct, 2, "%") if pct is not None else "")
                rng = ""
                if q.day_low is not None and q.day_high is not None:
                    rng = f"{money(q.day_low)}–{money(q.day_high)}"
                cells["range"].set(rng)
                rec = record_badge(row, self._ath)
                cells["rec"].set(rec)
                cells["rec"].set_class(rec in (RECORD, "52W HI"), "-record")
                cells["src"].set(source_text(row))
            state = row.state.value
            if compact and row.state is MarketState.HOLIDAY:
                state = "HOLIDY"
            cells["state"].set(state)
            change = q.change if q is not None else None
            for c in ("chg", "pct"):
                cells[c].set_class(change is not None and change > 0, "-up")
                cells[c].set_class(change is not None and change < 0, "-downtick")
            cells["state"].set_class(row.state is MarketState.REGULAR, "-open")
            cells["src"].set_class(row.fallback, "-fallback")
            w.set_class(row.stale, "-stale")
            w.set_class(row.is_future, "-future")
            w.set_class(q is None and bool(row.reason), "-down")
        cells["age"].set(self._age_text(row))

    def _age_text(self, row: QuoteRow) -> str:
        q = row.quote
        if row.stale and row.stale_since is not None:
            when = clock_et(row.stale_since)
            return f"{STALE} {when}" if self.compact else f"{STALE} since {when}"
        if q is None:
            return "DOWN" if row.reason else ""
        if self._now_mono is None:
            return ""
        return step_age(self._now_mono - q.received)

    def _render_subtitle(self, view: QuotesView) -> None:
        parts = [f"NYSE {view.cash_state.value}"]
        parts.append(self._status_text("yahoo", view.primary))
        if any(r.fallback for r in view.rows + view.futures):
            parts.append("fallback " + self._status_text("cboe", view.fallback))
        stale = sum(1 for r in view.rows + view.futures if r.stale)
        if stale:
            parts.append(f"{stale} {STALE}")
        text = " · ".join(parts)
        set_subtitle(self, text)
        failing = view.primary is not None and view.primary.state in _FAILING
        self.set_class(failing, "-degraded")
        self.set_class(stale > 0, "-stale")

    def _status_text(self, name: str, st: FeedStatus | None) -> str:
        if st is None:
            return f"{name} CONNECTING"
        text = f"{name} {st.state.value}"
        if st.state is FeedState.RATE_LIMITED and st.retry_at is not None:
            if self._now_mono is not None and self._now_wall is not None:
                until = self._now_wall + timedelta(seconds=max(0.0, st.retry_at - self._now_mono))
                text += f" until {until.astimezone(ET).strftime('%H:%M:%S')}"
        elif st.state in _FAILING and st.reason:
            text += f": {st.reason[:40]}"
        return text
