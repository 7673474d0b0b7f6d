"""The Fed rate-odds panel: the target range and a countdown to the next decision, one
line per upcoming FOMC meeting (P(cut/hold/hike), most likely range, expected change,
source and age, flags), the cumulative cut priced over the next 12 months, and each
source's state in words.

Every line is a small ``Static`` (``markup=False``) updated only when its text changes;
ages and the countdown move at the 1 Hz ``tick``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from textual.app import ComposeResult
from textual.events import Resize
from textual.widgets import Static

from feeds.model.fed import FedOddsView, MeetingRow, SourceLine
from widgets.border import set_subtitle, set_title
from widgets.cells import Cell
from widgets.fit import ALL, FitPanel, Need, wrapped
from widgets.format import step_age
from widgets.tick_gate import TickGate

MAX_ROWS = 8
WIDE_AT = 100
"""From this many columns the panel adds the vs-yesterday, cross-check and FedWatch columns."""
MINUS = "\u2212"
DASH = "\u2014"
SHORT_NAMES = {
    "kalshi": "Kalshi",
    "polymarket": "Poly",
    "fed_target": "Target",
    "yahoo_zq": "ZQ",
    "nyfed": "NY Fed",
    "fred": "FRED",
}
BAD_STATES = {"DOWN", "DEGRADED", "RATE-LIMITED", "RECONNECTING"}


def age_of(received: float | None, now_mono: float | None) -> float | None:
    """Seconds since ``received`` (monotonic), or None when either is unknown."""
    return None if received is None or now_mono is None else now_mono - received


def countdown_text(delta: timedelta) -> str:
    """``47d 03h35m`` / ``2h 05m`` to the decision, by the minute; seconds only in the last
    hour (``59m 05s``), so a wide header is not repainted every second for weeks.
    ``decision due`` once it has passed."""
    total = int(delta.total_seconds())
    if total <= 0:
        return "decision due"
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h{minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def pct(p: float | None) -> str:
    """``21%``; an em dash when unknown."""
    return DASH if p is None else f"{p * 100:.0f}%"


def bp_text(bp: float | None, unit: str = "bp") -> str:
    """``−50bp`` with a real minus sign; an em dash when unknown."""
    if bp is None:
        return DASH
    value = round(bp)
    if value == 0:
        return f"0{unit}"
    sign = MINUS if value < 0 else "+"
    return f"{sign}{abs(value)}{unit}"


def pts_text(delta: float | None) -> str:
    """A change in probability as percentage points: ``+3pt``."""
    return bp_text(None if delta is None else delta * 100, "pt")


def range_text(lower: Decimal | None, upper: Decimal | None) -> str:
    """``3.50–3.75``."""
    if lower is None or upper is None:
        return DASH
    return f"{lower:.2f}\u2013{upper:.2f}"


def spread_text(spread: Decimal | None) -> str:
    """The widest bid/ask spread that matters, in cents: ``2¢``."""
    return DASH if spread is None else f"{spread * 100:.0f}\u00a2"


def short_flags(flags: tuple[str, ...]) -> str:
    """The row's flags as short words (full reasons go to the notes line)."""
    words: list[str] = []
    for f in flags:
        word = "EXCLUDED" if "EXCLUDED" in f else f
        if word not in words:
            words.append(word)
    return " ".join(words)


def header_line(view: FedOddsView, now_wall: datetime, wide: bool = True) -> str:
    """Target range and the countdown to the next decision (shorter when compact)."""
    t = view.target
    if t is None:
        target = "Target range: waiting"
    else:
        effr = f", EFFR {t.effr:.2f}" if t.effr is not None and wide else ""
        name = SHORT_NAMES.get(t.origin, t.origin)
        target = f"Target {range_text(t.lower, t.upper)}% ({name}{effr})"
    if view.next_meeting is None or view.next_decision is None:
        return f"{target} · no FOMC meeting on the calendar"
    m = view.next_meeting
    sep = "*" if m.sep else ""
    left = countdown_text(view.next_decision - now_wall)
    if not wide:
        return f"{target} · FOMC {m.decision:%a %b} {m.decision.day}{sep} 2:00 p.m. ET in {left}"
    when = f"{m.decision:%a %b} {m.decision.day}{sep}, 2:00 p.m. ET"
    return f"{target} · Next FOMC {when} · in {left}"


def columns_line(view: FedOddsView, wide: bool) -> str:
    """The column headings."""
    line = (
        f"{'Meeting':<8}{'Cut':>5}{'Hold':>5}{'Hike':>5}  {'Likely':<9}{'P':>5}{'E[Δ]':>7}"
        f"{'Sprd':>5}"
    )
    if wide:
        cross = "Kalshi" if view.primary == "polymarket" else "Poly"
        line += f"{'Δyday':>7}{cross:>7}{'FedW':>6}"
    return line + f"  {'Source':<6}{'Age':>4}  Flags"


def row_line(row: MeetingRow, now_mono: float | None, wide: bool) -> str:
    """One meeting's line."""
    m = row.meeting
    day = f"{m.decision:%b} {m.decision.day:>2}{'*' if m.sep else ' '}"
    age = age_of(row.received, now_mono)
    line = (
        f"{day:<8}{pct(row.p_cut):>5}{pct(row.p_hold):>5}{pct(row.p_hike):>5}  "
        f"{range_text(row.likely_lower, row.likely_upper):<9}{pct(row.likely_p):>5}"
        f"{bp_text(row.expected_bp):>7}{spread_text(row.spread):>5}"
    )
    if wide:
        line += (
            f"{pts_text(row.delta_p_cut):>7}{pct(row.cross_p_cut):>7}{pct(row.fedwatch_p_cut):>6}"
        )
    src = SHORT_NAMES.get(row.source, row.source) if row.source else DASH
    return line + f"  {src:<6}{step_age(age):>4}  {short_flags(row.flags)}".rstrip()


def brief_line(view: FedOddsView, now_mono: float | None) -> str:
    """The next meeting's odds in words, for a short terminal (``Jan 28: cut 21% ...``)."""
    if not view.rows:
        return "next meeting: no odds yet"
    row = view.rows[0]
    m = row.meeting
    if row.p_cut is None:
        return f"{m.decision:%b} {m.decision.day}: NO ODDS"
    age = age_of(row.received, now_mono)
    src = SHORT_NAMES.get(row.source, row.source) if row.source else DASH
    flags = short_flags(row.flags)
    return (
        f"{m.decision:%b} {m.decision.day}: cut {pct(row.p_cut)} · hold {pct(row.p_hold)} · "
        f"hike {pct(row.p_hike)} · likely {range_text(row.likely_lower, row.likely_upper)} · "
        f"{src} {step_age(age)}" + (f" {flags}" if flags else "")
    )


def summary_line(view: FedOddsView, wide: bool = True) -> str:
    """The cumulative change priced over the horizon, and against yesterday."""
    method = view.cum_method if wide else view.cum_method.split(" decision")[0]
    if view.cum_bp is None or view.cum_by is None:
        priced = f"Priced over 12 months: {DASH} ({view.cum_method})"
    else:
        prefix = "at least " if view.cum_partial else ""
        priced = (
            f"Priced: {prefix}{bp_text(view.cum_bp).replace('bp', ' bp')} "
            f"by {view.cum_by:%b %Y} ({method})"
        )
    parts = [priced]
    if wide and view.ladder_cum_bp is not None and "ladder" not in view.cum_method:
        parts.append(f"ladder {bp_text(view.ladder_cum_bp).replace('bp', ' bp')}")
    elif wide and view.ladder_cum_note:
        parts.append(view.ladder_cum_note)
    if view.delta_cum_bp is None:
        parts.append("vs yday: n/a")
    else:
        parts.append(f"vs yday: {bp_text(view.delta_cum_bp).replace('bp', ' bp')}")
    return " · ".join(parts)


def source_text(s: SourceLine, now_mono: float | None) -> str:
    """``Kalshi LIVE 12s`` / ``ZQ DEGRADED``."""
    name = SHORT_NAMES.get(s.source, s.source)
    if s.state == "OFF":
        return f"{name} OFF"
    age = age_of(s.received, now_mono)
    return f"{name} {s.state}" + (f" {step_age(age)}" if age is not None else "")


def sources_line(view: FedOddsView, now_mono: float | None) -> str:
    """Every source's state and data age, in words."""
    return "Sources: " + " · ".join(source_text(s, now_mono) for s in view.sources)


def notes_line(view: FedOddsView) -> str:
    """Exclusion reasons, ladders not used (and why), and degraded inputs."""
    notes: list[str] = []
    for row in view.rows:
        for f in row.flags:
            if "EXCLUDED" in f:
                notes.append(f"{row.meeting.decision:%b %d}: {f}")
        if row.ladder_note:
            notes.append(f"{row.meeting.decision:%b %d}: {row.ladder_note}")
    notes.extend(view.notes)
    return " | ".join(dict.fromkeys(notes))


class FedOddsPanel(FitPanel):
    """Market-implied Fed rate odds for the next 4-8 meetings."""

    DEFAULT_CSS = """
    FedOddsPanel { height: auto; }
    FedOddsPanel Static { height: 1; width: 1fr; }
    FedOddsPanel #fed-notes { height: auto; }
    FedOddsPanel Static.-clip { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *, id: str | None = "fed-odds", classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        set_title(self, "Fed rate odds")
        self._view: FedOddsView | None = None
        self._now_mono: float | None = None
        self._now_wall: datetime | None = None
        self._gate = TickGate()
        """The view and the clock's words of the last tick that rendered."""
        self._wide = False
        self._texts: dict[str, str] = {}
        self._width = 76

    def compose(self) -> ComposeResult:
        """Mount every line once; rows beyond the view are hidden, never removed. The
        headline is the header, the next meeting's odds (#fed-brief, or the table's
        first row when there is room for the table) and the cuts priced (#fed-sum)."""
        yield Static(
            "Fed rate odds: waiting for data", id="fed-head", markup=False, classes="-clip"
        )
        yield Static("", id="fed-brief", markup=False, classes="-clip")
        yield Static("", id="fed-cols", markup=False, classes="-clip")
        for i in range(MAX_ROWS):
            # Cells: an age that moves repaints its own characters, not the whole row.
            yield Cell("", id=f"fed-row-{i}", classes="fed-row -clip")
        yield Static("", id="fed-sum", markup=False, classes="-clip")
        yield Cell("", id="fed-sources", classes="-clip")
        yield Static("", id="fed-notes", markup=False)

    # -- inputs --------------------------------------------------------------------------

    def show(self, view: FedOddsView) -> None:
        """Take a new view (called when the ``fed_odds`` topic changed)."""
        self._view = view
        self._needs_changed((len(view.rows), wrapped(notes_line(view), self._width)))
        self._render_all()

    def tick(self, now_mono: float, now_wall: datetime) -> None:
        """Advance ages and the countdown (1 Hz): rendered again only when one of them
        reads differently (the countdown is by the minute and the ages in 5 s steps, so
        most seconds change nothing; rendering every line each second was a tenth of an
        idle terminal's CPU)."""
        self._now_mono, self._now_wall = now_mono, now_wall
        view = self._view
        if view is not None:
            words = self._clock_words(view)
            if not self._gate.changed(view, words):
                return
        self._render_all()

    def _clock_words(self, view: FedOddsView) -> tuple[str, ...]:
        """Everything on this panel that the clock alone changes: the countdown and
        every age shown."""
        now, wall = self._now_mono, self._now_wall
        words = [
            countdown_text(view.next_decision - wall)
            if view.next_decision is not None and wall is not None
            else ""
        ]
        for received in [r.received for r in view.rows] + [s.received for s in view.sources]:
            words.append(step_age(age_of(received, now)))
        return tuple(words)

    # -- layout (the screen deals the rows) -------------------------------------------

    def need(self, width: int) -> Need:
        """Header, next meeting, cuts priced always; then the table (heading and the
        next meeting), the sources, one more meeting per row, the notes."""
        self._width = width
        view = self._view
        if view is None:
            return Need(3)
        meetings = ((4, 1),) * max(0, min(MAX_ROWS, len(view.rows)) - 1)
        notes = wrapped(notes_line(view), width)
        steps = ((2, 1), (3, 1), *meetings) + (((7, notes),) if notes else ())
        return Need(3, steps)

    def fit(self, rows: int) -> None:
        """Show the lines dealt, in the order :meth:`need` listed them."""
        super().fit(rows)
        self._render_all()

    def _shown_rows(self, view: FedOddsView) -> tuple[bool, bool, int, bool]:
        """(table, sources, meeting rows, notes) that fit in the rows dealt."""
        left = self._dealt - 3
        n = min(MAX_ROWS, len(view.rows))
        table = left >= 1 and n > 0
        left -= 1 if table else 0
        sources = left >= 1
        left -= 1 if sources else 0
        more = max(0, min(n - 1, left)) if table else 0
        left -= more
        notes = self._dealt >= ALL or left >= wrapped(notes_line(view), self._width)
        return table, sources, (1 + more if table else 0), notes

    def on_resize(self, event: Resize) -> None:
        """Switch between the compact and the wide layout."""
        wide = event.size.width >= WIDE_AT
        if wide != self._wide:
            self._wide = wide
            self._render_all()

    # -- rendering -----------------------------------------------------------------------

    def _set(self, widget_id: str, text: str) -> None:
        if self._texts.get(widget_id) == text:
            return
        self._texts[widget_id] = text
        self.query_one(f"#{widget_id}", Static).update(text, layout=False)

    def _render_all(self) -> None:
        view = self._view
        if view is None or not self.is_mounted:
            return
        wall = self._now_wall
        if wall is not None:
            self._set("fed-head", header_line(view, wall, self._wide))
        table, sources, shown, notes_fit = self._shown_rows(view)
        self._set("fed-brief", brief_line(view, self._now_mono))
        self.query_one("#fed-brief", Static).display = not table
        self._set("fed-cols", columns_line(view, self._wide))
        self.query_one("#fed-cols", Static).display = table
        self.query_one("#fed-sources", Static).display = sources
        for i in range(MAX_ROWS):
            widget = self.query_one(f"#fed-row-{i}", Static)
            if i >= min(len(view.rows), shown):
                widget.display = False
                continue
            widget.display = True
            row = view.rows[i]
            self._set(f"fed-row-{i}", row_line(row, self._now_mono, self._wide))
            nodata = row.p_cut is None
            widget.set_class(nodata, "-down")
            widget.set_class("STALE" in row.flags, "-stale")
            widget.set_class(
                not nodata and any(f in ("WIDE", "THIN") for f in row.flags), "-flagged"
            )
        self._set("fed-sum", summary_line(view, self._wide))
        self._set("fed-sources", sources_line(view, self._now_mono))
        notes = notes_line(view)
        notes_widget = self.query_one("#fed-notes", Static)
        notes_widget.display = bool(notes) and notes_fit
        self._set("fed-notes", notes)
        self._update_state(view)

    def _update_state(self, view: FedOddsView) -> None:
        by_name = {s.source: s for s in view.sources}
        primary = by_name.get(view.primary)
        state = primary.state if primary else "CONNECTING"
        name = SHORT_NAMES.get(view.primary, view.primary)
        any_data = any(r.p_cut is not None for r in view.rows)
        fallback = {r.source for r in view.rows if r.source and r.source != view.primary}
        subtitle = f"{name} {state}"
        if fallback:
            subtitle += " · fallback " + ", ".join(SHORT_NAMES.get(f, f) for f in sorted(fallback))
        if not any_data:
            subtitle += " · NO ODDS"
        set_subtitle(self, subtitle)
        self.set_class(state == "STALE" or any("STALE" in r.flags for r in view.rows), "-stale")
        self.set_class(state in BAD_STATES or not any_data, "-down")
