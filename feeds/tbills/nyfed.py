"""NY Fed Markets API, Treasury securities operations (sources.md F1, F2).

Endpoints used (``{base}/api/tsy/...``):

* ``purchases/results/summary/last/{n}.json``: the last N operations with results. Works
  on weekends and holidays.
* ``all/announcements/summary/latest.json``: today's announcements. ``latest`` means
  *today only*: on a weekend or holiday it is empty, which is not an error.
* ``purchases/results/summary/search.json?startDate=&endDate=``: a backfill from the
  program start, for the tally (date format ``YYYY-MM-DD`` as documented; the real
  API's tolerance of other formats is UNCONFIRMED). Falls back to a longer ``last/{n}``.
* ``purchases/results/details/search.json``: per-CUSIP details of one day, on demand.

Amounts arrive as JSON strings (``"8200000000"``), sometimes as numbers in other NY Fed
datasets, and ``"NA"`` when nothing was accepted: all are parsed defensively. The API
has no published rate limit (UNCONFIRMED); calls are spaced at least ``spacing`` seconds
apart, as other clients do to avoid HTTP 400 throttling.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import httpx

from feeds.core.businessdays import NEW_YORK, is_business_day, ny_date
from feeds.core.clock import Clock
from feeds.core.decode import number
from feeds.core.poll import FetchError, PolledFeed, PollTiming
from feeds.core.text import clean_text
from feeds.model.core import BadMessage
from feeds.model.tbills import (
    OperationKind,
    OperationStatus,
    TsyDetail,
    TsyOperation,
    TsyOperations,
)

SOURCE = "nyfed"
TSY = "/api/tsy"
_MAX_AMOUNT = Decimal("1e13")  # $10 tn: far above any single operation
_NA = frozenset({"", "na", "n/a", "-", "null", "none"})
_MAX_ROWS = 2000
_MAX_DETAILS = 200

# Announcement keys for the operation's maximum size are not in the material read
# (UNCONFIRMED): try the likely names, in order.
_PLANNED_KEYS = ("maximumOperationSize", "maxOperationSize", "operationSize", "totalAmtOffered")


def amount(value: object) -> Decimal | None | BadMessage:
    """Dollars from a string or number. ``NA``/empty/None is None; negative, non-finite,
    absurd or non-numeric values are a BadMessage. ``"8,200,000,000"`` is accepted."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in _NA:
            return None
        text = text.replace(",", "").removeprefix("$")
        d = number(text)
    else:
        d = number(value)
    if d is None:
        return BadMessage(SOURCE, f"bad amount {clean_text(value, 24)!r}")
    if d < 0 or d >= _MAX_AMOUNT:
        return BadMessage(SOURCE, f"amount out of range {clean_text(value, 24)!r}")
    return d


def operation_kind(operation_type: str) -> OperationKind:
    """BILL for bill purchases/sales, COUPON for coupon ones, OTHER otherwise."""
    low = operation_type.lower()
    if "bill" in low:
        return OperationKind.BILL
    if "coupon" in low:
        return OperationKind.COUPON
    return OperationKind.OTHER


def _date(value: object) -> date | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()[:10]
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:  # MM/DD/YYYY, seen in third-party guides
        return datetime.strptime(text, "%m/%d/%Y").date()  # noqa: DTZ007 - a date only
    except ValueError:
        return None


def _ny_time(day: date, value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    for fmt in ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p"):
        try:
            t = datetime.strptime(text.upper(), fmt).time()  # noqa: DTZ007 - wall time
        except ValueError:
            continue
        return datetime.combine(day, t, tzinfo=NEW_YORK).astimezone(UTC)
    return None


def parse_detail(row: object) -> TsyDetail | BadMessage:
    """One ``details[]`` entry. Only ``cusip`` is required; amounts may be ``NA``."""
    if not isinstance(row, Mapping):
        return BadMessage(SOURCE, "detail is not an object")
    cusip = row.get("cusip")
    if not isinstance(cusip, str) or not cusip.strip():
        return BadMessage(SOURCE, "detail without cusip")
    accepted = amount(row.get("parAmountAccepted"))
    submitted = amount(row.get("parAmountSubmitted"))
    if isinstance(accepted, BadMessage):
        return accepted
    if isinstance(submitted, BadMessage):
        submitted = None  # key UNCONFIRMED: never reject a row for it
    raw_price = row.get("weightedAvgAccptPrice")
    price = None
    if not (isinstance(raw_price, str) and raw_price.strip().lower() in _NA):
        price = number(raw_price)
    return TsyDetail(
        cusip=clean_text(cusip, 12),
        description=clean_text(row.get("securityDescription") or "", 60),
        accepted=accepted,
        submitted=submitted,
        price=price,
    )


def parse_operation(row: object, received: float) -> TsyOperation | BadMessage:
    """One ``treasury.auctions[]`` row into a :class:`TsyOperation`; never raises."""
    if not isinstance(row, Mapping):
        return BadMessage(SOURCE, "operation is not an object")
    op_id = row.get("operationId")
    op_type = row.get("operationType")
    op_date = _date(row.get("operationDate"))
    if not isinstance(op_id, str) or not op_id.strip():
        return BadMessage(SOURCE, "operation without operationId")
    if not isinstance(op_type, str) or not op_type.strip():
        return BadMessage(SOURCE, "operation without operationType")
    if op_date is None:
        return BadMessage(SOURCE, "operation without a valid operationDate")
    submitted = amount(row.get("totalParAmtSubmitted"))
    accepted = amount(row.get("totalParAmtAccepted"))
    for value in (submitted, accepted):
        if isinstance(value, BadMessage):
            return value
    assert not isinstance(submitted, BadMessage) and not isinstance(accepted, BadMessage)
    planned: Decimal | None = None
    for key in _PLANNED_KEYS:
        got = amount(row.get(key))
        if isinstance(got, Decimal) and got > 0:
            planned = got
            break
    status_text = str(row.get("auctionStatus") or "").strip().lower()
    if status_text.startswith("result") or (
        not status_text.startswith("announce") and accepted is not None
    ):
        status = OperationStatus.RESULTS
    else:
        status = OperationStatus.ANNOUNCED
    direction = str(row.get("operationDirection") or "").strip().upper()
    purchase = direction == "P" or (direction == "" and "purchase" in op_type.lower())
    details: list[TsyDetail] = []
    raw_details = row.get("details")
    if isinstance(raw_details, list):
        for item in raw_details[:_MAX_DETAILS]:
            parsed = parse_detail(item)
            if isinstance(parsed, TsyDetail):
                details.append(parsed)
    clean_type = clean_text(op_type, 60)
    return TsyOperation(
        source=SOURCE,
        operation_id=clean_text(op_id, 24),
        status=status,
        operation_type=clean_type,
        kind=operation_kind(clean_type),
        purchase=purchase,
        operation_date=op_date,
        settlement_date=_date(row.get("settlementDate")),
        maturity_start=_date(row.get("maturityRangeStart")),
        maturity_end=_date(row.get("maturityRangeEnd")),
        release_time=_ny_time(op_date, row.get("releaseTime")),
        close_time=_ny_time(op_date, row.get("closeTime")),
        submitted=submitted,
        accepted=accepted,
        planned=planned,
        note=clean_text(row.get("note") or "", 160),
        details=tuple(details),
        received=received,
    )


def parse_tsy_payload(
    payload: Any, received: float
) -> list[TsyOperation | BadMessage] | BadMessage:
    """``{"treasury":{"auctions":[...]}}`` into operations (bad rows as BadMessage).
    An empty ``auctions`` list is a valid empty answer (``latest`` on a weekend)."""
    if not isinstance(payload, Mapping):
        return BadMessage(SOURCE, "answer is not an object")
    tsy = payload.get("treasury")
    if not isinstance(tsy, Mapping):
        return BadMessage(SOURCE, "answer has no 'treasury' object")
    rows = tsy.get("auctions", [])
    if rows is None:
        rows = []
    if not isinstance(rows, list):
        return BadMessage(SOURCE, "'treasury.auctions' is not a list")
    return [parse_operation(r, received) for r in rows[:_MAX_ROWS]]


class NyFedTsyFeed(PolledFeed):
    """Polls recent purchase results and today's announcements, gently.

    Each cycle: ``last/{n}`` results, then (on business days only) today's ``latest``
    announcements, each call ``spacing`` seconds after the previous. The first cycle and
    every ``backfill_every`` seconds also fetch results since ``program_start``. Per-CUSIP
    details are fetched on request (:meth:`request_details`) and, once, for today's
    operations after their results appear.
    """

    source = SOURCE

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient,
        clock: Clock,
        last_n: int = 10,
        program_start: date = date(2025, 12, 12),
        active_interval: float = 60.0,
        idle_interval: float = 1800.0,
        backfill_every: float = 6 * 3600.0,
        spacing: float = 1.0,
        timing: PollTiming | None = None,
    ) -> None:
        """``active_interval`` applies on business days 08:00-16:00 ET; ``idle_interval``
        otherwise (nights, weekends, holidays)."""
        super().__init__(client=client, clock=clock, timing=timing)
        self.base_url = base_url.rstrip("/")
        self.last_n = max(1, min(last_n, 100))
        self.program_start = program_start
        self._active = active_interval
        self._idle = idle_interval
        self._backfill_every = backfill_every
        self._spacing = spacing
        self._last_backfill: float | None = None
        self._last_call: float | None = None
        self._detail_queue: deque[date] = deque(maxlen=8)
        self._details_done: set[str] = set()

    def interval(self) -> float:
        """Faster during the operating day, slow at night and on non-business days."""
        now = self.clock.now().astimezone(NEW_YORK)
        if is_business_day(now.date()) and time(8, 0) <= now.time() < time(16, 0):
            return self._active
        return self._idle

    def request_details(self, operation_date: date) -> None:
        """Fetch the per-CUSIP details of the operations on ``operation_date`` next cycle."""
        if operation_date not in self._detail_queue:
            self._detail_queue.append(operation_date)
        self.refresh_now()

    async def _call(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        now = self.clock.monotonic()
        if self._last_call is not None and self._spacing > 0:
            gap = self._spacing - (now - self._last_call)
            if gap > 0:
                await asyncio.sleep(gap)
        try:
            resp = await self.get(self.base_url + TSY + path, params=params)
        finally:
            self._last_call = self.clock.monotonic()
        if resp.status >= 400:
            # PolledFeed.get returns 4xx other than 429; the NY Fed answers throttling
            # and bad queries with 400 (sources.md F2), so treat them as errors here.
            raise FetchError(f"HTTP {resp.status}", transient=False, status=resp.status)
        return resp.json()

    def _batch(self, channel: str, day: date, payload: Any) -> list[object]:
        received = self.clock.monotonic()
        parsed = parse_tsy_payload(payload, received)
        if isinstance(parsed, BadMessage):
            return [parsed]
        good = tuple(p for p in parsed if isinstance(p, TsyOperation))
        bad: list[object] = [p for p in parsed if isinstance(p, BadMessage)]
        return [*bad, TsyOperations(SOURCE, channel, day, good, received)]

    async def poll(self) -> Sequence[object]:
        """One cycle; see the class docstring for the calls made."""
        today = ny_date(self.clock.now())
        out: list[object] = []
        mono = self.clock.monotonic()
        if self._last_backfill is None or mono - self._last_backfill >= self._backfill_every:
            out += await self._backfill(today)
            self._last_backfill = mono
        recent = await self._call(f"/purchases/results/summary/last/{self.last_n}.json")
        out += self._batch("recent", today, recent)
        # Only today's keys matter: keeps the set bounded over weeks of running.
        self._details_done = {k for k in self._details_done if k.startswith(f"{today}:")}
        if is_business_day(today):
            latest = await self._call("/all/announcements/summary/latest.json")
            out += self._batch("today", today, latest)
            for event in out:
                if isinstance(event, TsyOperations) and event.channel == "recent":
                    for op in event.operations:
                        key = f"{op.operation_date}:{op.operation_id}"
                        if op.operation_date == today and key not in self._details_done:
                            self._details_done.add(key)
                            if today not in self._detail_queue:
                                self._detail_queue.append(today)
        while self._detail_queue:
            day = self._detail_queue.popleft()
            payload = await self._call(
                "/purchases/results/details/search.json",
                {"startDate": day.isoformat(), "endDate": day.isoformat()},
            )
            out += self._batch("details", today, payload)
        return out

    async def _backfill(self, today: date) -> list[object]:
        params = {"startDate": self.program_start.isoformat(), "endDate": today.isoformat()}
        try:
            payload = await self._call("/purchases/results/summary/search.json", params)
        except FetchError as exc:
            if exc.status is None or exc.status >= 500:
                raise
            # The search's accepted date formats are UNCONFIRMED: fall back to last/{n}.
            days = max(1, (today - self.program_start).days)
            payload = await self._call(
                f"/purchases/results/summary/last/{min(100, days * 2 + 10)}.json"
            )
        return self._batch("backfill", today, payload)


def window_text(op: TsyOperation) -> str:
    """``"10:10-10:30 ET"`` from the release and close times, or ``""``."""
    if op.release_time is None or op.close_time is None:
        return ""
    a = op.release_time.astimezone(NEW_YORK).strftime("%H:%M")
    b = op.close_time.astimezone(NEW_YORK).strftime("%H:%M")
    return f"{a}-{b} ET"
