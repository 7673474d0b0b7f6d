"""The reserve-management program's running tally: pure functions over operations.

What counts (sources.md F2): the results feed has no purpose flag and mixes reserve
management purchases with agency-reinvestment bill purchases, both bills since Dec 2025.
The practical filter others use, and this module's: outright *bill* purchases with
results, on or after the program start. Coupon purchases never count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from feeds.model.tbills import (
    OperationKind,
    OperationStatus,
    ProgramTally,
    SchedulePeriod,
    TsyOperation,
)


def counts_toward_program(op: TsyOperation, start: date) -> bool:
    """True for a bill purchase with an accepted amount on or after ``start``."""
    return (
        op.kind is OperationKind.BILL
        and op.purchase
        and op.status is OperationStatus.RESULTS
        and op.accepted is not None
        and op.operation_date >= start
    )


def current_period(periods: Sequence[SchedulePeriod], today: date) -> SchedulePeriod | None:
    """The schedule period containing ``today``, or None (between periods, or unknown)."""
    for p in periods:
        if p.start <= today <= p.end:
            return p
    return None


def program_tally(
    ops: Iterable[TsyOperation],
    start: date,
    periods: Sequence[SchedulePeriod],
    today: date,
) -> ProgramTally:
    """Totals since ``start``: overall, inside today's period (which may span a month
    boundary), per calendar month and per day. Each operation counts once (by id and
    date) even if it arrived from several endpoints."""
    seen: dict[tuple[str, date], Decimal] = {}
    for op in ops:
        if counts_toward_program(op, start) and op.accepted is not None:
            seen[(op.operation_id, op.operation_date)] = op.accepted
    period = current_period(periods, today)
    total = Decimal(0)
    in_period = Decimal(0)
    months: dict[str, Decimal] = {}
    days: dict[date, Decimal] = {}
    for (_, day), accepted in seen.items():
        total += accepted
        if period is not None and period.start <= day <= period.end:
            in_period += accepted
        key = f"{day:%Y-%m}"
        months[key] = months.get(key, Decimal(0)) + accepted
        days[day] = days.get(day, Decimal(0)) + accepted
    return ProgramTally(
        start=start,
        total=total,
        operations=len(seen),
        period=period,
        period_accepted=in_period,
        by_month=tuple(sorted(months.items())),
        daily=tuple(sorted(days.items())),
    )
