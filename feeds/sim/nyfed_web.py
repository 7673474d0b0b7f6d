"""Simulated newyorkfed.org "Treasury Securities Operational Details" page.

The real page's schedule format is UNCONFIRMED (see feeds/tbills/schedule.py); this serves
the layout the parser expects, built from the same operations as the simulated API, and
can switch to a redesigned layout the parser must refuse (``broken``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from feeds.core.clock import Clock
from feeds.sim.http import SimHttpServer, SimRequest, SimResponse
from feeds.sim.nyfed_tsy import (
    BILL,
    NEXT_SCHEDULE_RELEASE,
    PROGRAM_PERIOD,
    PROGRAM_PLANNED,
    SimTsyOp,
    demo_operations,
)
from feeds.tbills.schedule import PAGE_PATH


def _long(d: date) -> str:
    return f"{d:%B} {d.day}, {d.year}"


def _money(dollars: int) -> str:
    return (
        f"${dollars / 1e9:.3f} billion"
        if dollars % 1_000_000_000
        else f"${dollars // 1_000_000_000} billion"
    )


def render_operational_details_page(
    period: tuple[date, date],
    planned: int,
    next_release: date,
    ops: Sequence[SimTsyOp],
    *,
    broken: bool = False,
) -> str:
    """The page as HTML. ``broken`` renames the headers and merges the schedule columns,
    as a site redesign might."""
    schedule_rows = []
    for op in ops:
        if op.op_type != BILL or not period[0] <= op.day <= period[1]:
            continue
        window = f"{op.release:%I:%M %p} - {op.close:%I:%M %p}".replace(" 0", " ").lstrip("0")
        maturity = f"{op.maturity_start:%m/%d/%Y} - {op.maturity_end:%m/%d/%Y}"
        if broken:
            schedule_rows.append(
                f"<tr><td>{op.day:%a %b %d} {window}</td><td>{maturity}</td>"
                f"<td>{_money(op.size)}</td></tr>"
            )
        else:
            schedule_rows.append(
                f"<tr><td>{op.day:%m/%d/%Y}</td><td>{window}</td><td>{html.escape(op.op_type)}</td>"
                f"<td>{maturity}</td><td>{_money(op.size)}</td></tr>"
            )
    label = f"{_long(period[0])} &ndash; {_long(period[1])}"
    if broken:
        periods = (
            "<table><tr><th>Month</th><th>Amount</th><th>Documents</th></tr>"
            f"<tr><td>{label}</td><td>{_money(planned)}</td><td><a href='#'>PDF</a></td></tr>"
            "</table>"
        )
        schedule = (
            "<table><tr><th>When</th><th>Securities</th><th>Size</th></tr>"
            + "".join(schedule_rows)
            + "</table>"
        )
    else:
        periods = (
            '<table class="table table-striped"><thead><tr><th scope="col">Period</th>'
            '<th scope="col">Planned Purchase Amount<sup>1</sup></th>'
            '<th scope="col">Tentative Schedule</th><th scope="col">Results</th>'
            '<th scope="col">Next Schedule Release</th></tr></thead><tbody>'
            f"<tr><td>{label}</td><td>{_money(planned)}</td>"
            '<td><a href="#schedule">Tentative schedule</a></td>'
            '<td><a href="/markets/desk-operations/treasury-securities">Operation results</a></td>'
            f"<td>{_long(next_release)}</td></tr></tbody></table>"
        )
        schedule = (
            '<table class="table"><caption>Tentative Outright Treasury Operation Schedule'
            "</caption><thead><tr><th>Operation Date</th><th>Operation Time (ET)</th>"
            "<th>Operation Type</th><th>Maturity Range</th><th>Maximum Purchase Size</th>"
            "</tr></thead><tbody>" + "".join(schedule_rows) + "</tbody></table>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Treasury Securities Operational Details - FEDERAL RESERVE BANK of NEW YORK</title>
<script>window.dataLayer = window.dataLayer || [];</script></head>
<body><nav class="ts-nav"><ul><li><a href="/markets">Markets</a></li></ul></nav>
<main id="content"><h1>Treasury Securities Operational Details</h1>
<p>The Desk conducts purchases of Treasury bills to maintain an ample level of reserves
(reserve management purchases) and reinvests principal payments from agency securities
into Treasury bills.</p>
<h2>Monthly Purchase Amounts and Tentative Schedules</h2>
{periods}
<p><sup>1</sup> Includes reserve management purchases and reinvestments of principal
payments from agency securities.</p>
<h2 id="schedule">Tentative Schedule</h2>
<p>{label}. All times are Eastern Time. The Desk may adjust the schedule.</p>
{schedule}
</main><footer>Federal Reserve Bank of New York</footer></body></html>
"""


@dataclass(slots=True)
class SimScheduleControls:
    """Knobs for the simulated page.

    Attributes:
        broken: Serve the redesigned layout the parser must refuse.
        ops: The operations listed (shared with the simulated API by default).
    """

    broken: bool = False
    ops: list[SimTsyOp] = field(default_factory=demo_operations)


def register_schedule_routes(
    server: SimHttpServer, clock: Clock, ops: list[SimTsyOp] | None = None
) -> SimScheduleControls:
    """Serve the operational-details page at its real path on ``server``. Pass the
    simulated API's ``SimTsyControls.ops`` as ``ops`` so both agree."""
    ctl = SimScheduleControls()
    if ops is not None:
        ctl.ops = ops
    del clock  # the page lists the whole period; kept for a uniform signature

    async def handle(req: SimRequest) -> SimResponse:
        page = render_operational_details_page(
            PROGRAM_PERIOD, PROGRAM_PLANNED, NEXT_SCHEDULE_RELEASE, ctl.ops, broken=ctl.broken
        )
        return SimResponse(200, page.encode(), "text/html; charset=utf-8")

    server.route(PAGE_PATH, handle)
    return ctl
