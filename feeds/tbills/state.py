"""The T-bill purchases store slice (topic ``"tbills"``): NY Fed operations, the
tentative schedule, the program tally and FRED liquidity context, with business-day
aware staleness (reliability.md H13): nothing is STALE over weekends and holidays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from feeds.core.businessdays import (
    NEW_YORK,
    business_days_between,
    is_business_day,
    next_schedule_due,
)
from feeds.core.clock import Clock
from feeds.model.tbills import (
    FredSeries,
    LiquidityRow,
    OperationKind,
    OperationStatus,
    ScheduledOperation,
    SchedulePage,
    ScheduleUnavailable,
    TbillsView,
    TodayOperation,
    TsyDetail,
    TsyOperation,
    TsyOperations,
)
from feeds.tbills.tally import program_tally

_MAX_OPS = 600  # ~3 years of daily operations; the oldest are dropped first
_MAX_DETAILS = 64


@dataclass(frozen=True, slots=True)
class LiquiditySeries:
    """How to show one FRED series.

    Attributes:
        label: Short label.
        scale: Multiplier from FRED's unit to dollars.
        allowance: Business days an observation may age before it is STALE.
    """

    label: str
    scale: Decimal
    allowance: int


LIQUIDITY_SERIES: Mapping[str, LiquiditySeries] = {
    # Units per sources.md G: WRESBAL and WTREGEN in millions, RRPONTSYD in billions.
    # Weekly series (Wednesday, published Thursday afternoon) are due every 5 business
    # days plus the publication lag; the daily ON RRP series lags about a day.
    "WRESBAL": LiquiditySeries("Reserves", Decimal("1e6"), 7),
    "RRPONTSYD": LiquiditySeries("ON RRP", Decimal("1e9"), 2),
    "WTREGEN": LiquiditySeries("TGA", Decimal("1e6"), 7),
}

ACTIVE_START = time(8, 0)
ACTIVE_END = time(16, 0)


class TbillsSlice:
    """Owns the T-bill state; :meth:`view` builds an immutable :class:`TbillsView`."""

    topic = "tbills"
    accepts: tuple[type, ...] = (TsyOperations, SchedulePage, ScheduleUnavailable, FredSeries)

    def __init__(
        self,
        clock: Clock,
        *,
        program_start: date = date(2025, 12, 12),
        last_n: int = 8,
        active_stale_after: float = 300.0,
        idle_stale_after: float = 5400.0,
        results_late_after: float = 900.0,
        liquidity: tuple[str, ...] = tuple(LIQUIDITY_SERIES),
    ) -> None:
        """``active_stale_after`` is the silence allowed from the NY Fed on a business day
        between 08:00 and 16:00 ET, ``idle_stale_after`` on business-day nights;
        weekends and holidays are never stale. ``results_late_after`` is how long after
        an operation's close missing results are called LATE."""
        self.clock = clock
        self.program_start = program_start
        self.last_n = last_n
        self._active_stale = active_stale_after
        self._idle_stale = idle_stale_after
        self._late_after = timedelta(seconds=results_late_after)
        self._liquidity_ids = tuple(s for s in liquidity if s in LIQUIDITY_SERIES)
        self._results: dict[tuple[str, date], TsyOperation] = {}
        self._announced: dict[tuple[str, date], TsyOperation] = {}
        self._details: dict[tuple[str, date], tuple[TsyDetail, ...]] = {}
        self._schedule: SchedulePage | None = None
        self._schedule_error: str | None = None
        self._schedule_received: float | None = None
        self._fred: dict[str, FredSeries] = {}
        self._ops_received: float | None = None
        self._fred_received: float | None = None
        self._view: TbillsView | None = None
        self._signature: tuple[object, ...] = ()
        self._refreshed: int | None = None
        """The whole second of the clock the time signature was last taken at."""
        self._next_memo: tuple[ScheduledOperation | None, datetime, datetime | None] | None = None
        """The next operation, the time it was found at, and the time until which it
        stays the answer (its window's end; None: for good). Cleared by every event."""

    # -- events ---------------------------------------------------------------------

    def apply(self, event: object) -> bool:
        """Take one event; True when the view changed."""
        if isinstance(event, TsyOperations):
            self._ops_received = event.received
            for op in event.operations:
                self._take(op, event.channel)
            self._trim()
        elif isinstance(event, SchedulePage):
            self._schedule = event
            self._schedule_error = None
            self._schedule_received = event.received
        elif isinstance(event, ScheduleUnavailable):
            # The last good schedule is not shown: a page we can no longer read may list
            # a different plan, and the panel never shows guesses.
            self._schedule = None
            self._schedule_error = event.reason
            self._schedule_received = event.received
        elif isinstance(event, FredSeries):
            if event.series_id not in self._liquidity_ids or not event.observations:
                return False
            self._fred[event.series_id] = event
            self._fred_received = event.received
        else:
            return False
        self._view = None
        self._next_memo = None
        self._signature = self._time_signature()
        return True

    def _take(self, op: TsyOperation, channel: str) -> None:
        key = (op.operation_id, op.operation_date)
        if op.details:
            self._details[key] = op.details
            while len(self._details) > _MAX_DETAILS:
                self._details.pop(next(iter(self._details)))
        if op.status is OperationStatus.RESULTS:
            self._results[key] = op
            self._announced.pop(key, None)
        elif key not in self._results and channel == "today":
            self._announced[key] = op

    def _trim(self) -> None:
        today = self._today()
        for key in [k for k in self._announced if k[1] < today]:
            del self._announced[key]
        if len(self._results) > _MAX_OPS:
            for key in sorted(self._results, key=lambda k: k[1])[: len(self._results) - _MAX_OPS]:
                del self._results[key]

    # -- time -----------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock.now().astimezone(NEW_YORK)

    def _today(self) -> date:
        return self._now().date()

    def _stale(self, now_mono: float) -> tuple[bool, str]:
        now = self._now()
        if not is_business_day(now.date()):
            return False, ""
        allowed = (
            self._active_stale if ACTIVE_START <= now.time() < ACTIVE_END else self._idle_stale
        )
        if self._ops_received is None:
            return False, ""
        age = now_mono - self._ops_received
        if age > allowed:
            span = f"{int(age // 60)} min" if age < 7200 else f"{int(age // 3600)} h"
            return True, f"no NY Fed answer for {span}"
        return False, ""

    def _time_signature(self, mono: float | None = None) -> tuple[object, ...]:
        now = self._now()
        stale = self._stale(self.clock.monotonic() if mono is None else mono)[0]
        phases = tuple((t.status, t.late) for t in self._today_ops(now))
        nxt = self._next_operation(now)
        liq = tuple(r.stale for r in self._liquidity_rows(now.date()))
        return (now.date(), stale, phases, nxt, liq)

    def refresh(self, now: float) -> bool:
        """Re-evaluate what depends on time alone (day change, phases, staleness), at
        most once per second of the clock: operation times are minutes, the staleness
        limits minutes too, and a terminal drains at 10 Hz (bench B13)."""
        second = int(now)
        if second == self._refreshed:
            return False
        self._refreshed = second
        sig = self._time_signature(now)
        if sig == self._signature:
            return False
        self._signature = sig
        self._view = None
        return True

    # -- derived --------------------------------------------------------------------

    def _today_ops(self, now: datetime) -> list[TodayOperation]:
        today = now.date()
        out: list[TodayOperation] = []
        for key, op in self._results.items():
            if key[1] == today:
                details = self._details.get(key)
                if details and not op.details:
                    op = _with_details(op, details)
                out.append(TodayOperation(op, OperationStatus.RESULTS, False))
        for key, op in self._announced.items():
            if key[1] != today or key in self._results:
                continue
            status, late = OperationStatus.ANNOUNCED, False
            if op.close_time is not None and now >= op.close_time:
                status = OperationStatus.CLOSED
                late = now >= op.close_time + self._late_after
            out.append(TodayOperation(op, status, late))
        out.sort(key=lambda t: (t.operation.release_time is None, t.operation.release_time))
        return out

    def _next_operation(self, now: datetime) -> ScheduledOperation | None:
        """The next scheduled operation not yet over nor done. Looked up once and kept
        until its window ends or an event arrives: the time signature asks every second,
        and walking the whole schedule each time was a share of idle CPU (issue 17).
        Time only ever removes operations from the running (their windows end), so the
        answer holds until then; a clock set back looks again."""
        if self._schedule is None:
            return None
        memo = self._next_memo
        if memo is not None:
            op, found_at, until = memo
            if found_at <= now and (until is None or now < until):
                return op
        op = self._scan_next_operation(now)
        self._next_memo = (op, now, op.window_end if op is not None else None)
        return op

    def _scan_next_operation(self, now: datetime) -> ScheduledOperation | None:
        assert self._schedule is not None
        done = {
            (op.operation_date, op.kind)
            for op in self._results.values()
            if op.operation_date >= now.date()
        }
        for sched in self._schedule.operations:
            end = sched.window_end
            if end is None or end <= now:
                continue
            if (sched.operation_date, sched.kind) in done:
                continue
            return sched
        return None

    def _liquidity_rows(self, today: date) -> list[LiquidityRow]:
        rows = []
        for sid in self._liquidity_ids:
            series = self._fred.get(sid)
            if series is None or not series.observations:
                continue
            info = LIQUIDITY_SERIES[sid]
            day, value = series.observations[-1]
            prev = series.observations[-2][1] * info.scale if len(series.observations) > 1 else None
            stale = business_days_between(day, today) > info.allowance
            rows.append(LiquidityRow(sid, info.label, value * info.scale, prev, day, stale))
        return rows

    def recent(self) -> tuple[TsyOperation, ...]:
        """The last N operations with results, newest first."""
        ordered = sorted(
            self._results.items(),
            key=lambda kv: (kv[0][1], kv[1].release_time or datetime.min.replace(tzinfo=NEW_YORK)),
            reverse=True,
        )
        out = []
        for key, op in ordered[: self.last_n]:
            details = self._details.get(key)
            out.append(_with_details(op, details) if details and not op.details else op)
        return tuple(out)

    def view(self) -> TbillsView:
        """The immutable view for the panel (cached until the state or time changes)."""
        if self._view is not None:
            return self._view
        now = self._now()
        today = now.date()
        stale, reason = self._stale(self.clock.monotonic())
        if any(t.late for t in self._today_ops(now)):
            reason = (reason + "; " if reason else "") + "results overdue"
        periods = self._schedule.periods if self._schedule else ()
        self._view = TbillsView(
            today=today,
            business_day=is_business_day(today),
            today_ops=tuple(self._today_ops(now)),
            next_operation=self._next_operation(now),
            recent=self.recent(),
            tally=program_tally(self._results.values(), self.program_start, periods, today),
            schedule=self._schedule,
            schedule_error=self._schedule_error,
            next_schedule_due=next_schedule_due(today),
            liquidity=tuple(self._liquidity_rows(today)),
            ops_received=self._ops_received,
            schedule_received=self._schedule_received,
            liquidity_received=self._fred_received,
            ops_stale=stale,
            stale_reason=reason,
        )
        return self._view

    def bill_operations(self) -> tuple[TsyOperation, ...]:
        """Every bill purchase with results held, oldest first (for the snapshot)."""
        return tuple(
            sorted(
                (op for op in self._results.values() if op.kind is OperationKind.BILL),
                key=lambda op: op.operation_date,
            )
        )


def _with_details(op: TsyOperation, details: tuple[TsyDetail, ...]) -> TsyOperation:
    from dataclasses import replace

    return replace(op, details=details)
