"""The operational-details page parser (layout UNCONFIRMED) and its feed on loopback."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.core.clock import ManualClock
from feeds.core.poll import PollTiming, make_client
from feeds.model.core import FeedState, FeedStatus
from feeds.model.tbills import OperationKind, SchedulePage, ScheduleUnavailable
from feeds.sim.http import SimHttpServer
from feeds.sim.nyfed_web import register_schedule_routes
from feeds.tbills.schedule import (
    NyFedScheduleFeed,
    parse_money,
    parse_schedule_page,
    parse_window,
)

DATA = Path(__file__).parent.parent.parent / "data" / "tbills"
PAGE = (DATA / "operational_details.html").read_text()


def parsed() -> SchedulePage:
    page = parse_schedule_page(PAGE, 5.0)
    assert isinstance(page, SchedulePage), page
    return page


def test_periods_table() -> None:
    (period,) = parsed().periods
    assert (period.start, period.end) == (date(2025, 12, 12), date(2026, 1, 14))
    assert period.planned == Decimal("40e9")
    assert period.next_release == date(2026, 1, 14)
    assert period.label == "December 12, 2025 – January 14, 2026"


def test_schedule_table() -> None:
    ops = parsed().operations
    assert len(ops) == 11  # the spanning note row is skipped
    first = ops[0]
    assert first.operation_date == date(2025, 12, 12)
    assert first.window_start == datetime(2025, 12, 12, 15, 10, tzinfo=UTC)
    assert first.window_end == datetime(2025, 12, 12, 15, 30, tzinfo=UTC)
    assert first.size == Decimal("8.2e9")
    assert first.kind is OperationKind.BILL
    assert (first.maturity_start, first.maturity_end) == (date(2025, 12, 16), date(2026, 4, 9))
    assert ops[3].operation_type == "Outright Bill Purchase"  # <br> inside a cell
    jan6 = next(o for o in ops if o.operation_date == date(2026, 1, 6))
    assert jan6.window_start == datetime(2026, 1, 6, 18, 30, tzinfo=UTC)  # 1:30 p.m. ET
    assert sum((o.size or Decimal(0)) for o in ops) == Decimal("40e9")


def test_changed_layout_fails_visibly() -> None:
    got = parse_schedule_page((DATA / "operational_details_changed.html").read_text(), 5.0)
    assert isinstance(got, ScheduleUnavailable)
    assert "Planned Purchase Amount" in got.reason


def test_missing_schedule_header_fails_visibly() -> None:
    got = parse_schedule_page(PAGE.replace("Maximum Purchase Size", "Notes"), 5.0)
    assert isinstance(got, ScheduleUnavailable)
    assert "schedule table" in got.reason


def test_unreadable_cell_fails_visibly_instead_of_guessing() -> None:
    page = PAGE.replace("1:30 p.m. &ndash; 1:50 p.m.", "afternoon")
    got = parse_schedule_page(page, 5.0)
    assert isinstance(got, ScheduleUnavailable)
    assert "schedule row" in got.reason and "afternoon" in got.reason
    got = parse_schedule_page(PAGE.replace("$40.0 billion", "forty"), 5.0)
    assert isinstance(got, ScheduleUnavailable) and "forty" in got.reason


def test_no_tables_or_not_text() -> None:
    for page in ("", "<html><body>Will be right back</body></html>"):
        got = parse_schedule_page(page, 1.0)
        assert isinstance(got, ScheduleUnavailable) and "no tables" in got.reason


def test_money_and_window_forms() -> None:
    assert parse_money("$40 billion") == Decimal("40e9")
    assert parse_money("$500 million") == Decimal("500e6")
    assert parse_money("40,000,000,000") == Decimal("40e9")
    assert parse_money("TBA") is None
    day = date(2025, 12, 12)
    start, end = parse_window(day, "11:40 - 12:00 p.m.")
    assert (start.hour, start.minute, end.hour) == (16, 40, 17)  # 11:40 a.m. - 12:00 p.m.
    start, end = parse_window(day, "13:30-13:50")
    assert start == datetime(2025, 12, 12, 18, 30, tzinfo=UTC)


@settings(max_examples=60)
@given(st.text(alphabet='<>/tabledhr "=$0123456789,.-:ap', max_size=400))
def test_parser_never_raises(html: str) -> None:
    assert isinstance(parse_schedule_page(html, 1.0), SchedulePage | ScheduleUnavailable)


async def test_feed_reads_sim_page_then_degrades_on_layout_change() -> None:
    clock = ManualClock(datetime(2025, 12, 12, 15, 25, tzinfo=UTC))
    server = SimHttpServer("nyfed_web")
    ctl = register_schedule_routes(server, clock)
    await server.start(0)
    client = make_client(timing=PollTiming(deadline=2.0, attempts=1))
    feed = NyFedScheduleFeed(server.url, client=client, clock=clock, every=0.02, due_day_every=0.02)
    got: list[object] = []
    try:
        async with asyncio.timeout(5):
            async for event in feed.events():
                got.append(event)
                if isinstance(event, SchedulePage):
                    ctl.broken = True
                if isinstance(event, FeedStatus) and event.state is FeedState.DEGRADED:
                    break
    finally:
        await feed.aclose()
        await client.aclose()
        await server.stop()
    pages = [e for e in got if isinstance(e, SchedulePage)]
    assert pages and pages[0].periods[0].planned == Decimal("40e9")
    assert len(pages[0].operations) == 11
    bad = [e for e in got if isinstance(e, ScheduleUnavailable)]
    assert bad and "layout changed" in bad[0].reason
    assert isinstance(got[-1], FeedStatus) and got[-1].reason == bad[0].reason
