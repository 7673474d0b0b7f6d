"""The program tally: bills only, since the start, across a month boundary."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from feeds.model.tbills import OperationKind, OperationStatus, SchedulePeriod, TsyOperation
from feeds.tbills.tally import counts_toward_program, current_period, program_tally

START = date(2025, 12, 12)
PERIOD = SchedulePeriod(date(2025, 12, 12), date(2026, 1, 14), Decimal("40e9"), None, "Dec-Jan")


def op(day: date, bn: str, kind: OperationKind = OperationKind.BILL, **kw: object) -> TsyOperation:
    base = TsyOperation(
        source="nyfed",
        operation_id=f"OR {day:%m%d%y} 01",
        status=OperationStatus.RESULTS,
        operation_type="Outright Bill Purchase"
        if kind is OperationKind.BILL
        else "Outright Coupon Purchase",
        kind=kind,
        purchase=True,
        operation_date=day,
        settlement_date=None,
        maturity_start=None,
        maturity_end=None,
        release_time=None,
        close_time=None,
        submitted=None,
        accepted=Decimal(bn) * Decimal("1e9"),
        planned=None,
        note="",
        details=(),
        received=1.0,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


OPS = [
    op(date(2025, 12, 4), "1.5"),  # before the start: agency reinvestment only
    op(date(2025, 12, 3), "0.075", OperationKind.COUPON),
    op(date(2025, 12, 12), "8.2"),
    op(date(2025, 12, 15), "0.5", OperationKind.COUPON),
    op(date(2025, 12, 29), "2.9"),
    op(date(2026, 1, 6), "1.0"),
    op(date(2026, 1, 6), "1.0"),  # the same operation from another endpoint
    op(date(2026, 1, 7), "0", status=OperationStatus.ANNOUNCED, accepted=None),
]


def test_tally_across_a_month_boundary() -> None:
    t = program_tally(OPS, START, [PERIOD], date(2026, 1, 7))
    assert t.total == Decimal("12.1e9")
    assert t.operations == 3
    assert t.period == PERIOD
    assert t.period_accepted == Decimal("12.1e9")
    assert t.by_month == (("2025-12", Decimal("11.1e9")), ("2026-01", Decimal("1.0e9")))
    assert [d for d, _ in t.daily] == [date(2025, 12, 12), date(2025, 12, 29), date(2026, 1, 6)]


def test_next_period_counts_only_its_own_days() -> None:
    nxt = SchedulePeriod(date(2026, 1, 15), date(2026, 2, 11), Decimal("40e9"), None, "Jan-Feb")
    ops = [*OPS, op(date(2026, 1, 16), "5.0")]
    t = program_tally(ops, START, [nxt, PERIOD], date(2026, 1, 20))
    assert t.period == nxt
    assert t.period_accepted == Decimal("5.0e9")
    assert t.total == Decimal("17.1e9")


def test_between_periods_and_filters() -> None:
    assert current_period([PERIOD], date(2026, 1, 15)) is None
    t = program_tally(OPS, START, [PERIOD], date(2026, 1, 15))
    assert t.period is None and t.period_accepted == 0
    assert not counts_toward_program(op(date(2025, 12, 12), "1", purchase=False), START)
    assert not counts_toward_program(op(date(2025, 12, 12), "1", accepted=None), START)
    assert counts_toward_program(op(START, "1"), START)
