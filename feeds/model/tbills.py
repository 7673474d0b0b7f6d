"""Fed Treasury-bill purchases (reserve management purchases) and liquidity context.

Amounts are US dollars as :class:`~decimal.Decimal` (the NY Fed sends ``"8200000000"``
for $8.2 bn). Dates are calendar dates in New York; times are aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class OperationKind(StrEnum):
    """What was bought, from ``operationType``. Only BILL purchases count as RMPs."""

    BILL = "BILL"
    COUPON = "COUPON"
    OTHER = "OTHER"


class OperationStatus(StrEnum):
    """Where an operation is in its day, written as a word on screen."""

    SCHEDULED = "SCHEDULED"
    """On the tentative schedule only."""
    ANNOUNCED = "ANNOUNCED"
    """Announced; offers are being taken until the close time."""
    CLOSED = "CLOSED"
    """Past the close time, results not yet posted."""
    RESULTS = "RESULTS"
    """Results posted."""


@dataclass(frozen=True, slots=True)
class TsyDetail:
    """One CUSIP of an operation (``include=details``).

    Attributes:
        cusip: The security's CUSIP, sanitised.
        description: Security description, if given.
        accepted: Par accepted, dollars; None when the NY Fed sends ``NA``.
        submitted: Par submitted, dollars, if given.
        price: Weighted average accepted price; for bills a discount rate in percent.
    """

    cusip: str
    description: str
    accepted: Decimal | None
    submitted: Decimal | None
    price: Decimal | None


@dataclass(frozen=True, slots=True)
class TsyOperation:
    """One NY Fed outright Treasury operation (announcement or results).

    Attributes:
        source: ``"nyfed"``.
        operation_id: For example ``"OR 121225 01"``.
        status: ANNOUNCED or RESULTS as the API says (``auctionStatus``).
        operation_type: The NY Fed's words, e.g. ``"Outright Bill Purchase"``.
        kind: BILL, COUPON or OTHER.
        purchase: True for ``operationDirection == "P"``.
        operation_date: Date of the operation (New York).
        settlement_date: Settlement date, if given.
        maturity_start: Start of the eligible maturity range, if given.
        maturity_end: End of the eligible maturity range, if given.
        release_time: When offers open (UTC), if given.
        close_time: When offers close (UTC), if given.
        submitted: Total par submitted, dollars; None before results or when ``NA``.
        accepted: Total par accepted, dollars; None before results or when ``NA``.
        planned: Maximum/planned size from the announcement, dollars, if given.
        note: The NY Fed's note, sanitised (may be empty).
        details: Per-CUSIP rows, when fetched.
        received: Monotonic receipt time.
    """

    source: str
    operation_id: str
    status: OperationStatus
    operation_type: str
    kind: OperationKind
    purchase: bool
    operation_date: date
    settlement_date: date | None
    maturity_start: date | None
    maturity_end: date | None
    release_time: datetime | None
    close_time: datetime | None
    submitted: Decimal | None
    accepted: Decimal | None
    planned: Decimal | None
    note: str
    details: tuple[TsyDetail, ...]
    received: float


@dataclass(frozen=True, slots=True)
class TsyOperations:
    """One answer from the NY Fed Treasury endpoints.

    Attributes:
        source: ``"nyfed"``.
        channel: ``"recent"`` (last N results), ``"today"`` (``latest``: today only),
            ``"backfill"`` (search since the program start) or ``"details"``.
        day: The New York date the request was made (``latest`` means this day only).
        operations: The operations in the answer (may be empty: no operation today).
        received: Monotonic receipt time.
    """

    source: str
    channel: str
    day: date
    operations: tuple[TsyOperation, ...]
    received: float


@dataclass(frozen=True, slots=True)
class ScheduledOperation:
    """One row of the tentative schedule (UNCONFIRMED layout, see feeds/tbills/schedule.py).

    Attributes:
        operation_date: Date of the operation (New York).
        window_start: Offers open (UTC), if the time parsed.
        window_end: Offers close (UTC), if the time parsed.
        operation_type: Type as written, e.g. ``"Outright Bill Purchase"``.
        kind: BILL, COUPON or OTHER.
        maturity_start: Start of the maturity range, if it parsed as dates.
        maturity_end: End of the maturity range, if it parsed as dates.
        maturity_text: The maturity range as written (sanitised).
        size: Maximum/planned purchase size, dollars, if given.
    """

    operation_date: date
    window_start: datetime | None
    window_end: datetime | None
    operation_type: str
    kind: OperationKind
    maturity_start: date | None
    maturity_end: date | None
    maturity_text: str
    size: Decimal | None


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    """One row of the operational-details table.

    Attributes:
        start: First day of the period.
        end: Last day of the period.
        planned: Planned purchase amount, dollars, if given.
        next_release: When the next schedule is due, if given.
        label: The period as written (sanitised).
    """

    start: date
    end: date
    planned: Decimal | None
    next_release: date | None
    label: str


@dataclass(frozen=True, slots=True)
class SchedulePage:
    """A successfully parsed operational-details page.

    Attributes:
        source: ``"nyfed_web"``.
        periods: The periods table, newest first.
        operations: The tentative schedule, oldest first.
        received: Monotonic receipt time.
    """

    source: str
    periods: tuple[SchedulePeriod, ...]
    operations: tuple[ScheduledOperation, ...]
    received: float


@dataclass(frozen=True, slots=True)
class ScheduleUnavailable:
    """The page arrived but could not be understood; shown with ``reason``, never guessed.

    Attributes:
        source: ``"nyfed_web"``.
        reason: What was missing, in plain words.
        received: Monotonic receipt time.
    """

    source: str
    reason: str
    received: float


@dataclass(frozen=True, slots=True)
class FredSeries:
    """Recent observations of one FRED series from the keyless CSV.

    Attributes:
        source: ``"fred"``.
        series_id: For example ``"WRESBAL"``.
        observations: ``(date, value)`` pairs, oldest first, missing days skipped.
        received: Monotonic receipt time.
    """

    source: str
    series_id: str
    observations: tuple[tuple[date, Decimal], ...]
    received: float


@dataclass(frozen=True, slots=True)
class ProgramTally:
    """Purchases counted since the program start (bill purchases only).

    Attributes:
        start: The configured program start.
        total: Accepted since ``start``, dollars.
        operations: Number of operations counted.
        period: The schedule period containing today, if known.
        period_accepted: Accepted inside ``period``, dollars.
        by_month: ``("YYYY-MM", dollars)`` per calendar month, oldest first.
        daily: ``(date, dollars)`` per operation day, oldest first.
    """

    start: date
    total: Decimal
    operations: int
    period: SchedulePeriod | None
    period_accepted: Decimal
    by_month: tuple[tuple[str, Decimal], ...]
    daily: tuple[tuple[date, Decimal], ...]


@dataclass(frozen=True, slots=True)
class LiquidityRow:
    """One liquidity context line.

    Attributes:
        series_id: FRED id.
        label: Short label, e.g. ``"Reserves"``.
        value: Latest value, dollars.
        previous: The observation before it, dollars, if any.
        as_of: Date of ``value``.
        stale: True when the observation is older than its business-day allowance.
    """

    series_id: str
    label: str
    value: Decimal
    previous: Decimal | None
    as_of: date
    stale: bool


@dataclass(frozen=True, slots=True)
class TodayOperation:
    """Today's operation as the panel follows it.

    Attributes:
        operation: The latest known state of the operation.
        status: Effective status (ANNOUNCED turns CLOSED after the close time; RESULTS
            turns LATE-flagged via ``late``).
        late: True when results are overdue on a business day.
    """

    operation: TsyOperation
    status: OperationStatus
    late: bool


@dataclass(frozen=True, slots=True)
class TbillsView:
    """Everything the T-bill panel shows, immutable.

    Attributes:
        today: The New York date of the view.
        business_day: True when ``today`` is a Fed business day.
        today_ops: Today's bill purchase operations (may be empty).
        next_operation: The next scheduled operation not yet closed, if known.
        recent: The last N operations (results), newest first; coupons included, marked.
        tally: Program tally.
        schedule: The last good schedule page, if any.
        schedule_error: Why the schedule is unavailable, if it is.
        next_schedule_due: About the ninth business day of the month.
        liquidity: Liquidity rows (empty when disabled or not yet fetched).
        ops_received: Monotonic time of the last NY Fed answer, if any.
        schedule_received: Monotonic time of the last schedule answer, if any.
        liquidity_received: Monotonic time of the last FRED answer, if any.
        ops_stale: True when NY Fed data is overdue on a business day.
        stale_reason: Why, in words, when ``ops_stale``.
    """

    today: date
    business_day: bool
    today_ops: tuple[TodayOperation, ...]
    next_operation: ScheduledOperation | None
    recent: tuple[TsyOperation, ...]
    tally: ProgramTally
    schedule: SchedulePage | None
    schedule_error: str | None
    next_schedule_due: date
    liquidity: tuple[LiquidityRow, ...]
    ops_received: float | None
    schedule_received: float | None
    liquidity_received: float | None
    ops_stale: bool
    stale_reason: str
