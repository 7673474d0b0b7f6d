"""The T-bill store slice: phases, tally, schedule failure, business-day staleness (H13)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import orjson

from feeds.core.clock import ManualClock
from feeds.model.tbills import (
    FredSeries,
    OperationStatus,
    ScheduleUnavailable,
    TsyOperation,
    TsyOperations,
)
from feeds.tbills.nyfed import parse_tsy_payload
from feeds.tbills.schedule import parse_schedule_page
from feeds.tbills.state import TbillsSlice

DATA = Path(__file__).parent.parent.parent / "data" / "tbills"


def batch(name: str, channel: str, day: date, received: float) -> TsyOperations:
    parsed = parse_tsy_payload(orjson.loads((DATA / name).read_bytes()), received)
    assert isinstance(parsed, list)
    ops = tuple(p for p in parsed if isinstance(p, TsyOperation))
    return TsyOperations("nyfed", channel, day, ops, received)


def at(y: int, m: int, d: int, hh: int, mm: int) -> ManualClock:
    """A clock at a New York wall time in December/January (EST, UTC-5)."""
    return ManualClock(datetime(y, m, d, hh + 5, mm, tzinfo=UTC), mono=1000.0)


def schedule(clock: ManualClock) -> object:
    return parse_schedule_page((DATA / "operational_details.html").read_text(), clock.monotonic())


def test_today_moves_from_announced_to_closed_to_results() -> None:
    clock = at(2025, 12, 12, 10, 25)
    s = TbillsSlice(clock)
    s.apply(schedule(clock))
    s.apply(batch("latest_announcement.json", "today", date(2025, 12, 12), clock.monotonic()))
    (t,) = s.view().today_ops
    assert t.status is OperationStatus.ANNOUNCED
    nxt = s.view().next_operation
    assert nxt is not None and nxt.operation_date == date(2025, 12, 12)  # closes in 5 min

    clock.advance(6 * 60)  # 10:31, past the close, no results yet
    assert s.refresh(clock.monotonic())
    assert s.view().today_ops[0].status is OperationStatus.CLOSED
    assert not s.view().today_ops[0].late

    s.apply(batch("results_last.json", "recent", date(2025, 12, 12), clock.monotonic()))
    v = s.view()
    (t,) = v.today_ops
    assert t.status is OperationStatus.RESULTS and t.operation.accepted == Decimal("8.2e9")
    assert v.next_operation is not None and v.next_operation.operation_date == date(2025, 12, 15)
    assert v.tally.total == Decimal("8.2e9") and v.tally.operations == 1
    assert v.tally.period is not None and v.tally.period.planned == Decimal("40e9")
    assert [o.operation_id for o in v.recent][:1] == ["OR 121225 01"]


def test_results_overdue_are_late() -> None:
    clock = at(2025, 12, 12, 10, 25)
    s = TbillsSlice(clock, results_late_after=600)
    s.apply(batch("latest_announcement.json", "today", date(2025, 12, 12), clock.monotonic()))
    clock.advance(16 * 60)  # 10:41: closed 11 minutes ago
    s.refresh(clock.monotonic())
    assert s.view().today_ops[0].late
    assert "results overdue" in s.view().stale_reason


def test_schedule_unavailable_replaces_the_schedule() -> None:
    clock = at(2025, 12, 12, 10, 25)
    s = TbillsSlice(clock)
    s.apply(schedule(clock))
    assert s.view().schedule is not None
    s.apply(ScheduleUnavailable("nyfed_web", "page layout changed: x", clock.monotonic()))
    v = s.view()
    assert v.schedule is None and v.next_operation is None
    assert v.schedule_error == "page layout changed: x"
    assert v.next_schedule_due == date(2026, 1, 14)


def test_h13_tbills_not_stale_over_weekend() -> None:
    clock = at(2025, 12, 12, 15, 0)
    s = TbillsSlice(clock, active_stale_after=300, idle_stale_after=5400)
    s.apply(batch("results_last.json", "recent", date(2025, 12, 12), clock.monotonic()))
    clock.advance(1.5 * 86400)  # Sunday 06:00 ET: a day and a half of silence
    s.refresh(clock.monotonic())
    assert not s.view().ops_stale
    assert not s.view().business_day


def test_h13_tbills_not_stale_on_a_holiday() -> None:
    clock = at(2025, 12, 25, 11, 0)
    s = TbillsSlice(clock)
    s.apply(batch("latest_empty.json", "today", date(2025, 12, 25), clock.monotonic()))
    clock.advance(3 * 3600)
    s.refresh(clock.monotonic())
    assert not s.view().ops_stale


def test_h13_tbills_stale_on_business_day_silence() -> None:
    clock = at(2025, 12, 15, 9, 50)
    s = TbillsSlice(clock, active_stale_after=300)
    s.apply(batch("results_last.json", "recent", date(2025, 12, 15), clock.monotonic()))
    clock.advance(200)
    assert not s.refresh(clock.monotonic()) or not s.view().ops_stale
    clock.advance(200)  # 10:00 ET, 400 s of silence
    assert s.refresh(clock.monotonic())
    v = s.view()
    assert v.ops_stale and "no NY Fed answer" in v.stale_reason
    s.apply(batch("latest_empty.json", "today", date(2025, 12, 15), clock.monotonic()))
    assert not s.view().ops_stale


def test_liquidity_units_dates_and_business_day_staleness() -> None:
    clock = at(2025, 12, 14, 12, 0)  # Sunday
    s = TbillsSlice(clock)
    s.apply(
        FredSeries(
            "fred",
            "WRESBAL",
            ((date(2025, 12, 3), Decimal("2874120")), (date(2025, 12, 10), Decimal("2889455"))),
            1000.0,
        )
    )
    s.apply(FredSeries("fred", "RRPONTSYD", ((date(2025, 12, 11), Decimal("4.251")),), 1000.0))
    s.apply(FredSeries("fred", "WALCL", ((date(2025, 12, 10), Decimal("1")),), 1000.0))
    rows = {r.series_id: r for r in s.view().liquidity}
    assert set(rows) == {"WRESBAL", "RRPONTSYD"}
    assert rows["WRESBAL"].value == Decimal("2889455e6")
    assert rows["WRESBAL"].previous == Decimal("2874120e6")
    assert rows["RRPONTSYD"].value == Decimal("4.251e9")
    assert not rows["RRPONTSYD"].stale  # Thursday's value on Sunday: 1 business day
    clock.advance(3 * 86400)  # Wednesday: 4 business days old
    s.refresh(clock.monotonic())
    rows = {r.series_id: r for r in s.view().liquidity}
    assert rows["RRPONTSYD"].stale and not rows["WRESBAL"].stale


def test_ops_are_bounded() -> None:
    clock = at(2025, 12, 12, 12, 0)
    s = TbillsSlice(clock, last_n=3)
    base = batch("results_last.json", "recent", date(2025, 12, 12), 1.0).operations[0]
    from dataclasses import replace
    from datetime import timedelta

    many = tuple(
        replace(base, operation_id=f"OR {i}", operation_date=date(2023, 1, 1) + timedelta(days=i))
        for i in range(700)
    )
    s.apply(TsyOperations("nyfed", "backfill", date(2025, 12, 12), many, 1.0))
    assert len(s._results) == 600
    assert len(s.view().recent) == 3


def test_the_time_signature_is_taken_at_most_once_a_second() -> None:
    """A terminal drains at 10 Hz: the phases and the next operation are looked at
    again only when the clock's second has moved."""
    clock = at(2025, 12, 12, 10, 25)
    s = TbillsSlice(clock)
    s.apply(schedule(clock))
    s.apply(batch("latest_announcement.json", "today", date(2025, 12, 12), clock.monotonic()))
    taken: list[float | None] = []
    signature = s._time_signature

    def counted(mono: float | None = None) -> tuple[object, ...]:
        taken.append(mono)
        return signature(mono)

    s._time_signature = counted  # type: ignore[method-assign]
    s.refresh(clock.monotonic())
    for _ in range(9):
        clock.advance(0.1)
        assert not s.refresh(clock.monotonic())
    assert len(taken) == 1
    clock.advance(6 * 60)  # past the close: seen at the next second
    assert s.refresh(clock.monotonic())
    assert len(taken) == 2 and s.view().today_ops[0].status is OperationStatus.CLOSED


def test_the_next_operation_is_kept_until_its_window_ends() -> None:
    """Idle CPU: the time signature asks for the next operation every second; the
    schedule is walked again only when that operation's window ends, an event arrives,
    or the clock is set back."""
    clock = at(2025, 12, 12, 10, 0)
    s = TbillsSlice(clock)
    scans: list[datetime] = []
    scan = s._scan_next_operation

    def counted(now: datetime) -> object:
        scans.append(now)
        return scan(now)

    s._scan_next_operation = counted  # type: ignore[assignment,method-assign]
    s.apply(schedule(clock))
    nxt = s.view().next_operation
    assert nxt is not None and nxt.operation_date == date(2025, 12, 12)
    assert nxt.window_end is not None
    assert len(scans) == 1
    for _ in range(29):  # to 10:29, inside the window
        clock.advance(60)
        s.refresh(clock.monotonic())
        assert s.view().next_operation is nxt
    assert len(scans) == 1
    clock.advance(120)  # 10:31: the window is over
    s.refresh(clock.monotonic())
    later = s.view().next_operation
    assert len(scans) == 2
    assert later is not None and later.operation_date > date(2025, 12, 12)
    clock.jump_wall(-31 * 60)  # the wall clock set back to 10:00
    clock.advance(1)
    s.refresh(clock.monotonic())
    assert s.view().next_operation is nxt and len(scans) == 3
    s.apply(batch("results_last.json", "recent", date(2025, 12, 12), clock.monotonic()))
    assert len(scans) == 4  # an event: looked up again (the results close today's)
