"""The Fed T-bill purchases panel: next operation with a countdown, today's operation
from announced to results, the last N operations, the program tally against the
period's plan, a small chart of daily purchases, and optional liquidity rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.widgets import Static

from feeds.model.tbills import (
    OperationKind,
    OperationStatus,
    ScheduledOperation,
    TbillsView,
    TodayOperation,
)
from widgets.border import set_subtitle, set_title
from widgets.cells import Cell
from widgets.fit import ALL, FitPanel, Need
from widgets.format import step_age
from widgets.tick_gate import TickGate

NEW_YORK = ZoneInfo("America/New_York")
_BLOCKS = " ▁▂▃▄▅▆▇█"
NARROW = 90
"""Below this content width the next-operation line leaves out the maturity range, so
it stays on one line at 80 columns."""


def fmt_usd(value: Decimal | None) -> str:
    """``$8.20 bn``, ``$2.88 tn``, ``$412 mn``; ``n/a`` for None."""
    if value is None:
        return "n/a"
    v = float(value)
    if abs(v) >= 1e12:
        return f"${v / 1e12:.2f} tn"
    if abs(v) >= 1e9:
        return f"${v / 1e9:.2f} bn" if abs(v) < 1e11 else f"${v / 1e9:.0f} bn"
    if abs(v) >= 1e6:
        return f"${v / 1e6:.0f} mn"
    return f"${v:,.0f}"


def fmt_span(seconds: float) -> str:
    """A countdown: ``45s``, ``4m 12s``, ``12m``, ``1h 05m``, ``2d 23h``.

    Seconds show only in the last five minutes, where they matter: further out, a
    second-by-second countdown would repaint (and, over SSH, send) a line every second
    for nothing. Whole units are rounded down, so it never promises more time than
    is left."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 300:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _et(when: datetime | None) -> str:
    return when.astimezone(NEW_YORK).strftime("%H:%M") if when else "--:--"


def _day(d: date) -> str:
    return f"{d:%a %b} {d.day}"


def _range(start: date | None, end: date | None, text: str = "") -> str:
    if start is None or end is None:
        return text or "range n/a"
    return f"{start:%m/%d/%y}-{end:%m/%d/%y}"


def _short(d: date) -> str:
    return f"{d:%b} {d.day}"


def _kind(kind: OperationKind) -> str:
    return {"BILL": "bills", "COUPON": "COUPONS"}.get(kind.value, "other")


def daily_chart(daily: tuple[tuple[date, Decimal], ...], width: int, height: int = 3) -> list[str]:
    """A bar per operation day (newest on the right), ``height`` rows of eighth blocks,
    scaled to the largest day shown. Empty when there is nothing to draw."""
    if not daily or width < 1:
        return []
    shown = daily[-width:]
    top = max(v for _, v in shown)
    if top <= 0:
        return []
    levels = [round(float(v / top) * height * 8) for _, v in shown]
    rows = []
    for r in range(height - 1, -1, -1):
        rows.append("".join(_BLOCKS[max(0, min(8, lv - r * 8))] for lv in levels).rstrip())
    return rows


class TbillsPanel(FitPanel):
    """Renders a :class:`TbillsView`. ``show`` on change, ``tick`` at 1 Hz."""

    DEFAULT_CSS = """
    TbillsPanel { height: auto; border: round $panel; padding: 0 1; }
    TbillsPanel Static { height: auto; width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    _DETAIL = ("today", "recent", "chart", "schedule", "liquidity", "ages")
    _PRIORITY = {"today": 3, "recent": 5, "chart": 6, "schedule": 7, "liquidity": 7, "ages": 8}

    def __init__(self, *, id: str | None = "tbills-panel", classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._view: TbillsView | None = None
        self._texts: dict[str, str] = {}
        self._now_mono = 0.0
        self._now_wall: datetime | None = None
        set_title(self, "Fed T-bill purchases")
        self._ages_text = ""
        self.charts = True
        """False in low-bandwidth mode: no daily-purchases chart."""
        self._recent_shown = ALL
        self._fitted: set[str] = set(self._DETAIL)
        self._gate = TickGate()
        """The view and the clock's words of the last tick that rendered."""

    def compose(self) -> ComposeResult:
        """The headline (next operation, latest result, program tally) and the detail
        lines the screen deals rows to."""
        # The countdown lines are Cells: a second that passes repaints its digits only.
        yield Cell("", id="tb-next")
        for name in ("today", "latest", "tally", "chart", "recent", "schedule"):
            yield Static("", id=f"tb-{name}", markup=False)
        for name in ("liquidity", "ages"):
            yield Static("", id=f"tb-{name}", markup=False)

    # -- layout (the screen deals the rows) -------------------------------------------

    def _detail_rows(self) -> list[tuple[str, int]]:
        """Each detail line's rows, in the order they are added."""
        out: list[tuple[str, int]] = []
        for name in self._DETAIL:
            text = self._ages_text if name == "ages" else self._texts.get(name, "")
            if name == "recent" and self._view is not None:
                text = self._recent_text(self._view, self._width(), ALL)
            if text:
                out.append((name, text.count("\n") + 1))
        return out

    def need(self, width: int) -> Need:
        """Next operation, latest result and tally always; then today's operation,
        the last operations (one more per row), the chart, schedule, liquidity, ages."""
        steps: list[tuple[int, int]] = []
        for name, rows in self._detail_rows():
            if name == "recent":
                steps += [(5, 2)] + [(6, 1)] * (rows - 2)
            else:
                steps.append((self._PRIORITY[name], rows))
        return Need(3, tuple(steps))

    def fit(self, rows: int) -> None:
        """Show the detail lines dealt, in the order :meth:`need` listed them."""
        super().fit(rows)
        left = rows - 3
        fitted: set[str] = set()
        self._recent_shown = 0
        for name, size in self._detail_rows():
            if name == "recent" and left >= 2:
                self._recent_shown = min(size - 1, left - 1)
                left -= self._recent_shown + 1
                fitted.add(name)
                if self._recent_shown < size - 1:
                    break
                continue
            if size > left:
                break
            left -= size
            fitted.add(name)
        self._fitted = fitted
        if self._view is not None:
            self._render_all()

    def _width(self) -> int:
        return max(20, self.size.width) if self.size.width else 76

    # -- inputs ---------------------------------------------------------------------

    def set_low_bandwidth(self, on: bool) -> None:
        """Drop the chart (fewer bytes over slow links); applies at once."""
        self.charts = not on
        if self._view is not None:
            self._render_all()

    def show(self, view: TbillsView) -> None:
        """Take a new view (called by the paint loop when the topic changed)."""
        self._view = view
        self._render_all()

    def tick(self, now_mono: float, now_wall: datetime) -> None:
        """Advance countdowns, phases and ages (1 Hz): rendered again only when one of
        them reads differently. The countdown shows seconds only in its last five
        minutes and the ages go in 5 s steps, so most seconds change nothing; rendering
        every line each second was the largest of an idle terminal's ticks (issue 17)."""
        self._now_mono, self._now_wall = now_mono, now_wall
        view = self._view
        if view is None:
            return
        words = self._clock_words(view)
        if not self._gate.changed(view, words):
            return
        self._render_all(reshape=False)

    def _clock_words(self, v: TbillsView) -> tuple[str, ...]:
        """Everything on this panel that the clock alone changes: the next operation's
        countdown, today's phases and closing countdowns, the sources' ages (while their
        line is shown: on a short panel it is not, and its ages moving in 5 s steps
        rendered the whole panel for nothing)."""
        wall = self._now_wall
        today, today_cls = self._today_text(v, wall, self._width())
        ages = self._ages_line(v) if "ages" in self._fitted else ""
        return (self._next_text(v, wall), today, str(today_cls), ages)

    # -- rendering ------------------------------------------------------------------

    def _set(self, name: str, text: str, classes: dict[str, bool] | None = None) -> None:
        widget = self.query_one(f"#tb-{name}", Static)
        if self._texts.get(name) != text:
            old_lines = self._texts.get(name, "").count("\n")
            self._texts[name] = text
            widget.update(text, layout=old_lines != text.count("\n") or not text)
            widget.display = bool(text) and (name not in self._DETAIL or name in self._fitted)
        for cls, on in (classes or {}).items():
            widget.set_class(on, cls)

    def _render_all(self, reshape: bool = True) -> None:
        v = self._view
        assert v is not None
        wall = self._now_wall
        width = self._width()  # content width
        self._set("next", self._next_text(v, wall))
        today_text, today_cls = self._today_text(v, wall, width)
        self._set("today", today_text, today_cls)
        self._set("latest", self._latest_text(v, width))
        self._set("tally", self._tally_text(v, width))
        chart = daily_chart(v.tally.daily, max(1, min(width - 12, 60))) if self.charts else []
        if chart:
            last_day, last_amt = v.tally.daily[-1]
            chart[-1] = (
                chart[-1].ljust(min(width - 12, 60)) + f" {last_day:%m/%d} {fmt_usd(last_amt)}"
            )
            chart[0] = chart[0].ljust(min(width - 12, 60)) + " per day"
        self._set("chart", "\n".join(chart))
        self._set("recent", self._recent_text(v, width, self._recent_shown))
        sched_text, sched_bad = self._schedule_text(v)
        self._set("schedule", sched_text, {"-down": sched_bad})
        liq_text, liq_stale = self._liquidity_text(v, width)
        self._set("liquidity", liq_text, {"-stale": liq_stale})
        self._subtitle(v)
        if not reshape:
            return  # a tick moves countdowns and ages, never the lines shown
        shape = tuple((name, rows) for name, rows in self._detail_rows())
        for name in self._DETAIL:
            line = self.query_one(f"#tb-{name}", Static)
            text = self._ages_text if name == "ages" else self._texts.get(name)
            line.display = bool(text) and name in self._fitted
        self._needs_changed(shape)

    def _next_text(self, v: TbillsView, wall: datetime | None) -> str:
        op: ScheduledOperation | None = v.next_operation
        if op is None:
            if v.schedule is None:
                return "NEXT  unknown (schedule unavailable)"
            return "NEXT  none left in this schedule"
        when = "today" if op.operation_date == v.today else _day(op.operation_date)
        window = f"{_et(op.window_start)}-{_et(op.window_end)} ET"
        size = f"up to {fmt_usd(op.size)}" if op.size is not None else "size n/a"
        rng = _range(op.maturity_start, op.maturity_end, op.maturity_text)
        if 0 < self.size.width < NARROW:
            rng = ""  # the maturity range shows in the zoomed or wider panel
        text = f"NEXT  {when} {window} · {_kind(op.kind)}{' ' + rng if rng else ''} · {size}"
        if wall is not None and op.window_start is not None and op.window_end is not None:
            if wall < op.window_start:
                text += f" · opens in {fmt_span((op.window_start - wall).total_seconds())}"
            elif wall < op.window_end:
                text += f" · closes in {fmt_span((op.window_end - wall).total_seconds())}"
        return text

    def _latest_text(self, v: TbillsView, width: int) -> str:
        """The latest result: today's once it is out, else the newest of the last ops."""
        done = [t.operation for t in v.today_ops if t.status is OperationStatus.RESULTS]
        op = done[0] if done else (v.recent[0] if v.recent else None)
        if op is None:
            return "LATEST no results yet"
        ratio = f" ({op.submitted / op.accepted:.2f}x)" if op.accepted and op.submitted else ""
        text = (
            f"LATEST {op.operation_date:%a %b} {op.operation_date.day} {_kind(op.kind)} "
            f"accepted {fmt_usd(op.accepted)} of {fmt_usd(op.submitted)}"
        )
        return text + (f" submitted{ratio}" if len(text) + 10 + len(ratio) <= width else "")

    def _today_text(
        self, v: TbillsView, wall: datetime | None, width: int = 120
    ) -> tuple[str, dict[str, bool]]:
        if not v.today_ops:
            if not v.business_day:
                return "TODAY no operation (not a business day)", {"-stale": False}
            return "TODAY no operation announced", {"-stale": False}
        lines = []
        late = False
        for t in v.today_ops:
            status, is_late = self._phase(t, wall)
            late |= is_late
            op = t.operation
            rng = _range(op.maturity_start, op.maturity_end)
            # The id and the maturities only where the line has room for them.
            head = f"TODAY {op.operation_id} {_kind(op.kind)} {rng}"
            if width < 110:
                head = f"TODAY {_kind(op.kind)}"
            if status is OperationStatus.RESULTS:
                ratio = ""
                if op.accepted and op.submitted:
                    ratio = f" ({op.submitted / op.accepted:.2f}x)"
                rates = [d.price for d in op.details if d.price is not None and d.accepted]
                cusips = ""
                if rates:
                    n = sum(1 for d in op.details if d.accepted)
                    cusips = f" · {n} CUSIPs at {min(rates)}-{max(rates)}%"
                lines.append(
                    f"{head} · RESULTS accepted {fmt_usd(op.accepted)}"
                    f" of {fmt_usd(op.submitted)} submitted{ratio}{cusips}"
                )
            elif status is OperationStatus.ANNOUNCED:
                closes = ""
                if wall is not None and op.close_time is not None:
                    closes = f" (in {fmt_span((op.close_time - wall).total_seconds())})"
                size = f" · up to {fmt_usd(op.planned)}" if op.planned else ""
                lines.append(
                    f"{head} · ANNOUNCED {_et(op.release_time)}-{_et(op.close_time)} ET"
                    f"{size} · closes{closes}"
                )
            else:
                word = "RESULTS LATE" if is_late else "CLOSED, awaiting results"
                lines.append(f"{head} · {word} (closed {_et(op.close_time)} ET)")
        return "\n".join(lines), {"-stale": late}

    @staticmethod
    def _phase(t: TodayOperation, wall: datetime | None) -> tuple[OperationStatus, bool]:
        if t.status is OperationStatus.ANNOUNCED and wall is not None:
            close = t.operation.close_time
            if close is not None and wall >= close:
                return OperationStatus.CLOSED, t.late
        return t.status, t.late

    def _tally_text(self, v: TbillsView, width: int) -> str:
        t = v.tally
        ops = "op" if t.operations == 1 else "ops"
        total = f"since {t.start:%b} {t.start.day} {fmt_usd(t.total)} ({t.operations} {ops})"
        p = t.period
        if p is None:
            return f"PROGRAM {total} · period plan unknown"
        planned = p.planned
        label = f"{_short(p.start)}-{_short(p.end)}"
        if planned is None or planned <= 0:
            return f"PERIOD {label} {fmt_usd(t.period_accepted)} (plan n/a) · {total}"
        share = float(t.period_accepted / planned)
        bar_w = 10 if width < 100 else 20
        filled = min(bar_w, round(share * bar_w))
        bar = "█" * filled + "░" * (bar_w - filled)
        return (
            f"PERIOD {label} {fmt_usd(t.period_accepted)} of {fmt_usd(planned)} "
            f"{bar} {share:.0%} · {total}"
        )

    def _recent_text(self, v: TbillsView, width: int, shown: int = ALL) -> str:
        if not v.recent or shown < 1:
            return ""
        wide = width >= 100
        ops = v.recent[:shown]
        rows = [f"LAST {len(ops)}"]
        for op in ops:
            kind = (
                "BILL  "
                if op.kind is OperationKind.BILL
                else "COUPON"
                if op.kind is OperationKind.COUPON
                else "OTHER "
            )
            row = (
                f" {op.operation_date:%m/%d} {kind} {fmt_usd(op.accepted):>10} of"
                f" {fmt_usd(op.submitted):>10}"
            )
            if wide:
                row += f"  {_range(op.maturity_start, op.maturity_end)}  {op.operation_id}"
            rows.append(row)
        return "\n".join(rows)

    def _schedule_text(self, v: TbillsView) -> tuple[str, bool]:
        due = f"next schedule due ~{_day(v.next_schedule_due)}"
        if v.schedule_error is not None:
            return f"SCHEDULE UNAVAILABLE: {v.schedule_error} · {due}", True
        if v.schedule is None:
            return f"SCHEDULE not loaded yet · {due}", False
        p = v.tally.period or (v.schedule.periods[0] if v.schedule.periods else None)
        plan = f"{_short(p.start)}-{_short(p.end)} plan {fmt_usd(p.planned)}" if p else "no period"
        nxt = v.next_operation
        ops = v.schedule.operations
        left = len(ops) - ops.index(nxt) if nxt is not None and nxt in ops else 0
        return f"SCHEDULE {plan} · {left} ops left · {due}", False

    def _liquidity_text(self, v: TbillsView, width: int) -> tuple[str, bool]:
        if not v.liquidity:
            return "", False
        parts = []
        stale = False
        wide = width >= 100
        for r in v.liquidity:
            word = " STALE" if r.stale else ""
            stale |= r.stale
            when = f"{r.as_of:%b} {r.as_of.day}" if wide else f"{r.as_of:%m/%d}"
            parts.append(f"{r.label} {fmt_usd(r.value)} ({when}){word}")
        line = ("LIQUIDITY " if wide else "") + " · ".join(parts)
        if len(line) <= width:
            return line, stale
        return "\n".join(parts), stale

    def _ages_line(self, v: TbillsView) -> str:
        """``sources: NY Fed 5s · schedule 2m · FRED 1h05m`` (5 s steps), or ""."""
        now = self._now_mono
        ages = [
            f"{name} {step_age(now - t)}"
            for name, t in (
                ("NY Fed", v.ops_received),
                ("schedule", v.schedule_received),
                ("FRED", v.liquidity_received if v.liquidity else None),
            )
            if t is not None
        ]
        return "sources: " + " · ".join(ages) if ages else ""

    def _subtitle(self, v: TbillsView) -> None:
        # Ages go in a line of their own: a border title change repaints the whole panel.
        line = self.query_one("#tb-ages", Static)
        text = self._ages_line(v)
        if self._ages_text != text:
            self._ages_text = text
            line.update(text, layout=False)
        if v.ops_stale:
            state = f"STALE: {v.stale_reason}"
        elif v.stale_reason:
            state = v.stale_reason.upper()
        elif v.ops_received is None:
            state = "WAITING"
        else:
            state = "LIVE"
        set_subtitle(self, state)
        self.set_class(v.ops_stale, "-stale")
