"""Simulated NY Fed Markets API, Treasury operations (``/api/tsy/...``), replaying the
start of reserve management purchases: Friday Dec 12, 2025, an $8.2 bn bill purchase
(offers 10:10-10:30 ET, results a minute later) opening a Dec 12 - Jan 14 period with a
$40 bn plan. Operations move from announced to results as the injected clock passes
their times, so the demo (which starts at 10:25 ET) shows the transition within
minutes. Amounts are sent as JSON strings, as the real API does (sources.md F2).

The numbers are simulated: plausible, not the historical results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson

from feeds.core.businessdays import NEW_YORK
from feeds.core.clock import Clock
from feeds.sim.http import SimHttpServer, SimRequest, SimResponse, json_response

BILL = "Outright Bill Purchase"
COUPON = "Outright Coupon Purchase"


@dataclass(slots=True)
class SimTsyOp:
    """One simulated operation. Times are New York wall times on ``day``.

    Attributes:
        op_id: ``OR MMDDYY NN``.
        day: Operation date.
        release: Offers open.
        close: Offers close.
        op_type: ``Outright Bill Purchase`` or ``Outright Coupon Purchase``.
        maturity_start: Start of the eligible range.
        maturity_end: End of the eligible range.
        size: Maximum purchase size, dollars.
        accepted: Accepted at results, dollars (None is sent as ``NA``).
        submitted: Submitted at results, dollars.
        results_after: Seconds after ``close`` the results appear.
        note: The NY Fed's note.
    """

    op_id: str
    day: date
    release: time
    close: time
    op_type: str
    maturity_start: date
    maturity_end: date
    size: int
    accepted: int | None
    submitted: int | None
    results_after: float = 60.0
    note: str = ""

    def release_at(self) -> datetime:
        """Offers open, aware."""
        return datetime.combine(self.day, self.release, tzinfo=NEW_YORK)

    def close_at(self) -> datetime:
        """Offers close, aware."""
        return datetime.combine(self.day, self.close, tzinfo=NEW_YORK)

    def results_at(self) -> datetime:
        """Results posted, aware."""
        return self.close_at() + timedelta(seconds=self.results_after)


PROGRAM_PERIOD = (date(2025, 12, 12), date(2026, 1, 14))
"""The first reserve-management period."""
PROGRAM_PLANNED = 40_000_000_000
"""Its planned purchase amount, dollars."""
NEXT_SCHEDULE_RELEASE = date(2026, 1, 14)
"""The ninth business day of January 2026."""

# (day, sector, size in $bn): two bill sectors alternate, as the Desk splits purchases
# across two sectors (sources.md F3). Sums to $40.0 bn.
_PLAN = [
    (date(2025, 12, 12), 0, "8.2"),
    (date(2025, 12, 15), 1, "4.8"),
    (date(2025, 12, 16), 0, "4.2"),
    (date(2025, 12, 17), 1, "3.5"),
    (date(2025, 12, 18), 0, "4.0"),
    (date(2025, 12, 19), 1, "3.1"),
    (date(2025, 12, 22), 0, "3.9"),
    (date(2025, 12, 23), 1, "3.4"),
    (date(2025, 12, 29), 0, "2.9"),
    (date(2026, 1, 6), 1, "1.0"),
    (date(2026, 1, 8), 0, "1.0"),
]
_COVER = [3.30, 2.85, 3.10, 2.60, 3.40, 2.95, 3.05, 2.70, 3.20, 2.50, 2.90]


def _bn(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 1_000_000_000 + int((frac + "000")[:3]) * 1_000_000


def _op_id(day: date, seq: int) -> str:
    return f"OR {day:%m%d%y} {seq:02d}"


def demo_operations() -> list[SimTsyOp]:
    """The simulated operations: two pre-program coupon purchases, one pre-program bill
    purchase (agency reinvestment, outside the tally), then the program's schedule."""
    ops = [
        SimTsyOp(
            _op_id(date(2025, 11, 18), 1),
            date(2025, 11, 18),
            time(10, 10),
            time(10, 30),
            COUPON,
            date(2027, 11, 30),
            date(2028, 11, 15),
            50_000_000,
            50_000_000,
            412_000_000,
            note="Small value exercise",
        ),
        SimTsyOp(
            _op_id(date(2025, 12, 3), 1),
            date(2025, 12, 3),
            time(10, 10),
            time(10, 30),
            COUPON,
            date(2030, 1, 31),
            date(2032, 11, 15),
            75_000_000,
            75_000_000,
            598_000_000,
            note="Small value exercise",
        ),
        SimTsyOp(
            _op_id(date(2025, 12, 4), 1),
            date(2025, 12, 4),
            time(10, 10),
            time(10, 30),
            BILL,
            date(2025, 12, 9),
            date(2026, 5, 28),
            1_500_000_000,
            1_500_000_000,
            5_230_000_000,
        ),
    ]
    for i, (day, sector, size) in enumerate(_PLAN):
        dollars = _bn(size)
        start = day + timedelta(days=4 if sector == 0 else 119)
        end = day + timedelta(days=118 if sector == 0 else 364)
        ops.append(
            SimTsyOp(
                _op_id(day, 1),
                day,
                time(10, 10),
                time(10, 30),
                BILL,
                start,
                end,
                dollars,
                dollars,
                int(dollars * _COVER[i] / 1_000_000) * 1_000_000,
            )
        )
    return ops


@dataclass(slots=True)
class SimTsyControls:
    """Knobs tests and the demo turn on the simulated Treasury endpoints.

    Attributes:
        ops: The operations served (mutable; append to add one).
        amounts_as_numbers: Send amounts as JSON numbers instead of strings.
        hold_results: Withhold all results (announcements only): results run late.
        details_calls: Details requests seen (for tests).
    """

    ops: list[SimTsyOp] = field(default_factory=demo_operations)
    amounts_as_numbers: bool = False
    hold_results: bool = False
    details_calls: int = 0


def _amt(value: int | None, as_number: bool) -> Any:
    if value is None:
        return "NA"
    return value if as_number else str(value)


def _details(op: SimTsyOp, as_number: bool) -> list[dict[str, Any]]:
    """A few CUSIPs sharing the accepted amount; the last accepts nothing (``NA``)."""
    accepted = op.accepted or 0
    parts = [accepted * 5 // 10, accepted * 3 // 10]
    parts.append(accepted - sum(parts))
    rows = []
    for k, part in enumerate([*parts, None]):
        cusip = f"912797{(op.day.toordinal() * 7 + k * 13) % 1000:03d}{k}"[:9]
        rate = "NA" if part is None else f"{3.612 + 0.037 * k:.3f}"
        rows.append(
            {
                "cusip": cusip,
                "securityDescription": f"B {op.maturity_start + timedelta(days=28 * k):%m/%d/%y}",
                "parAmountAccepted": _amt(part, as_number),
                "weightedAvgAccptPrice": rate,
            }
        )
    return rows


def _row(op: SimTsyOp, results: bool, include_details: bool, as_number: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "operationId": op.op_id,
        "auctionStatus": "Results" if results else "Announcement",
        "operationType": op.op_type,
        "operationDate": op.day.isoformat(),
        "settlementDate": (op.day + timedelta(days=3 if op.day.weekday() == 4 else 1)).isoformat(),
        "maturityRangeStart": op.maturity_start.isoformat(),
        "maturityRangeEnd": op.maturity_end.isoformat(),
        "operationDirection": "P",
        "auctionMethod": "Multiple Price",
        "releaseTime": f"{op.release:%H:%M}",
        "closeTime": f"{op.close:%H:%M}",
        "maximumOperationSize": _amt(op.size, as_number),
        "note": op.note,
    }
    if results:
        row["totalParAmtSubmitted"] = _amt(op.submitted, as_number)
        row["totalParAmtAccepted"] = _amt(op.accepted, as_number)
        row["lastUpdated"] = f"{op.results_at():%Y-%m-%d %H:%M:%S}"
    else:
        row["lastUpdated"] = f"{op.release_at():%Y-%m-%d %H:%M:%S}"
    if include_details:
        row["details"] = _details(op, as_number) if results else []
    return row


_PATH = re.compile(
    r"/api/tsy/(?P<op>all|purchases|sales)/(?P<status>announcements|results|operations)/"
    r"(?P<inc>summary|details)/(?P<what>latest|lastTwoWeeks|search|last/(?P<n>\d+))\.json"
)


def register_tsy_routes(server: SimHttpServer, clock: Clock) -> SimTsyControls:
    """Serve the NY Fed ``tsy`` endpoints on ``server`` (shared with the EFFR routes),
    driven by ``clock``. Returns the controls."""
    ctl = SimTsyControls()

    async def handle(req: SimRequest) -> SimResponse:
        m = _PATH.fullmatch(req.path)
        if m is None:
            return json_response(b'{"error":"not found"}', 404)
        now = clock.now()
        today = now.astimezone(NEW_YORK).date()
        detail = m["inc"] == "details"
        if detail:
            ctl.details_calls += 1
        if m["op"] == "sales":
            ops: list[SimTsyOp] = []
        else:
            ops = sorted(ctl.ops, key=lambda o: (o.day, o.release), reverse=True)
        done = [o for o in ops if not ctl.hold_results and o.results_at() <= now]
        rows: list[dict[str, Any]]
        what = m["what"]
        if m["status"] == "announcements":
            if what != "latest":
                return json_response(b'{"error":"not found"}', 404)
            rows = [
                _row(o, False, detail, ctl.amounts_as_numbers)
                for o in ops
                if o.day == today and o.release_at() <= now
            ]
        elif what == "latest":
            rows = [_row(o, True, detail, ctl.amounts_as_numbers) for o in done if o.day == today]
        elif what == "lastTwoWeeks":
            rows = [
                _row(o, True, detail, ctl.amounts_as_numbers)
                for o in done
                if o.day > today - timedelta(days=14)
            ]
        elif what == "search":
            try:
                first = date.fromisoformat(req.query.get("startDate", "2000-01-01"))
                last = date.fromisoformat(req.query.get("endDate", "2100-01-01"))
            except ValueError:
                return json_response(b'{"error":"bad date"}', 400)
            rows = [
                _row(o, True, detail, ctl.amounts_as_numbers)
                for o in done
                if first <= o.day <= last
            ]
        else:
            n = int(m["n"] or "1")
            if not 1 <= n <= 1000:
                return json_response(b'{"error":"bad number"}', 400)
            rows = [_row(o, True, detail, ctl.amounts_as_numbers) for o in done[:n]]
        return json_response(orjson.dumps({"treasury": {"auctions": rows}}))

    server.route(r"/api/tsy/.*", handle)
    return ctl
