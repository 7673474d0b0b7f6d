"""The NY Fed "Treasury Securities Operational Details" page: the monthly planned
purchase amount and the tentative schedule, which the Markets API does not carry.

UNCONFIRMED (sources.md F1, I.2): the page is known to have a table with the columns
Period, Planned Purchase Amount, Tentative Schedule, Results and Next Schedule Release,
but the schedule's own format (HTML, CSV, XLS or PDF) was not seen. This parser expects
the schedule as an HTML table on the same page (operation date, time window ET,
operation type, maturity range, maximum/planned size) and finds both tables by their
header texts, never by position or CSS class. When the headers it needs are missing it
returns :class:`ScheduleUnavailable` with the reason: the panel says "schedule
unavailable", it never guesses. Re-check against the live page before relying on it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from html.parser import HTMLParser

import httpx

from feeds.core.businessdays import (
    NEW_YORK,
    is_business_day,
    next_schedule_due,
    nth_business_day,
    ny_date,
)
from feeds.core.clock import Clock
from feeds.core.decode import number
from feeds.core.poll import FetchError, PolledFeed, PollTiming
from feeds.core.text import clean_text
from feeds.model.core import FeedState, FeedStatus
from feeds.model.tbills import (
    ScheduledOperation,
    SchedulePage,
    SchedulePeriod,
    ScheduleUnavailable,
)
from feeds.tbills.nyfed import operation_kind

SOURCE = "nyfed_web"
PAGE_PATH = (
    "/markets/domestic-market-operations/monetary-policy-implementation/"
    "treasury-securities/treasury-securities-operational-details"
)

_MAX_TABLES = 40
_MAX_ROWS = 400
_MAX_CELL = 400
_NA = frozenset({"", "-", "—", "–", "n/a", "na", "tba", "tbd"})


class _TableCollector(HTMLParser):
    """Collects every table as rows of (cell text, is header) with bounded work."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[tuple[str, bool]]]] = []
        self._stack: list[list[list[tuple[str, bool]]]] = []
        self._row: list[tuple[str, bool]] | None = None
        self._cell: list[str] | None = None
        self._cell_th = False
        self._skip = 0  # inside <sup>/<script>/<style>: footnote markers and code

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("sup", "script", "style"):
            self._skip += 1
        elif tag == "table":
            table: list[list[tuple[str, bool]]] = []
            self._stack.append(table)
            if len(self.tables) < _MAX_TABLES:
                self.tables.append(table)
        elif tag == "tr" and self._stack:
            self._close_row()
            self._row = []
        elif tag in ("td", "th") and self._stack:
            self._close_cell()
            if self._row is None:
                self._row = []
            self._cell, self._cell_th = [], tag == "th"
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("sup", "script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("td", "th"):
            self._close_cell()
        elif tag == "tr":
            self._close_row()
        elif tag == "table" and self._stack:
            self._close_row()
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._skip and sum(map(len, self._cell)) < _MAX_CELL:
            self._cell.append(data)

    def _close_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            text = " ".join("".join(self._cell).replace("\xa0", " ").split())
            self._row.append((text, self._cell_th))
        self._cell = None

    def _close_row(self) -> None:
        self._close_cell()
        if self._row and self._stack and len(self._stack[-1]) < _MAX_ROWS:
            self._stack[-1].append(self._row)
        self._row = None


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split())


def _find(headers: list[str], *options: str) -> int | None:
    """Index of the first header containing any of ``options`` (normalised words)."""
    for opt in options:
        for i, h in enumerate(headers):
            if opt in h:
                return i
    return None


_MONEY = re.compile(
    r"^\$?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*(trillion|billion|million|thousand|tn|bn|mn|t|b|m|k)?$",
    re.IGNORECASE,
)
_SCALE = {
    "trillion": Decimal("1e12"),
    "tn": Decimal("1e12"),
    "t": Decimal("1e12"),
    "billion": Decimal("1e9"),
    "bn": Decimal("1e9"),
    "b": Decimal("1e9"),
    "million": Decimal("1e6"),
    "mn": Decimal("1e6"),
    "m": Decimal("1e6"),
    "thousand": Decimal("1e3"),
    "k": Decimal("1e3"),
}


class _Unreadable(ValueError):
    """A cell the parser does not understand; becomes the unavailable reason."""


def parse_money(text: str) -> Decimal | None:
    """Dollars from ``"$40 billion"``, ``"$8.200 billion"``, ``"$500 million"``,
    ``"40,000,000,000"``; None for ``TBA``/``N/A``/empty. Raises :class:`ValueError`
    (as ``_Unreadable``) for anything else."""
    cleaned = text.strip().rstrip("*").strip()
    if cleaned.lower() in _NA:
        return None
    m = _MONEY.match(cleaned)
    if m is None:
        raise _Unreadable(f"amount {clean_text(text, 40)!r} not understood")
    value = number(m.group(1).replace(",", ""))
    if value is None or value < 0:
        raise _Unreadable(f"amount {clean_text(text, 40)!r} not understood")
    scale = _SCALE.get((m.group(2) or "").lower(), Decimal(1))
    return value * scale


_DATE_FORMATS = ("%m/%d/%Y", "%B %d, %Y", "%b %d, %Y", "%b. %d, %Y", "%Y-%m-%d", "%m/%d/%y")


def parse_day(text: str) -> date:
    """A date in the forms the NY Fed uses (``12/12/2025``, ``December 12, 2025``,
    with an optional weekday prefix). Raises ValueError when not understood."""
    cleaned = text.strip().rstrip("*").strip()
    cleaned = re.sub(r"^(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", "", cleaned, flags=re.I)
    cleaned = re.sub(r"\s+", " ", cleaned)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    raise _Unreadable(f"date {clean_text(text, 40)!r} not understood")


_RANGE_SPLIT = re.compile(r"\s*(?:–|—|\s-\s|\bto\b|\bthrough\b)\s*", re.IGNORECASE)


def parse_range(text: str) -> tuple[date, date]:
    """``"December 12, 2025 – January 14, 2026"`` or ``"12/16/2025 - 06/11/2026"``."""
    parts = [p for p in _RANGE_SPLIT.split(text.strip()) if p]
    if len(parts) != 2:
        raise _Unreadable(f"range {clean_text(text, 60)!r} not understood")
    return parse_day(parts[0]), parse_day(parts[1])


_TIME = re.compile(r"(\d{1,2}):(\d{2})\s*([ap])?\.?\s*m?\.?", re.IGNORECASE)


def parse_window(day: date, text: str) -> tuple[datetime, datetime]:
    """``"10:10 AM - 10:30 AM"`` or ``"10:10 - 10:30 a.m."`` (ET) as UTC datetimes.
    A start without am/pm takes the end's, unless that would put it after the end
    (``"11:40 - 12:00 p.m."`` starts in the morning). No marker means 24-hour time.
    Raises ValueError when not understood or when the window ends before it starts."""
    found = _TIME.findall(text)
    if len(found) != 2:
        raise _Unreadable(f"time {clean_text(text, 40)!r} not understood")
    (h1, m1, p1), (h2, m2, p2) = found
    end = _clock_time(day, h2, m2, p2, text)
    if p1 or not p2:
        start = _clock_time(day, h1, m1, p1, text)
    else:
        start = _clock_time(day, h1, m1, p2, text)
        if start > end:
            start = _clock_time(day, h1, m1, "a" if p2.lower() == "p" else "p", text)
    if end < start:
        raise _Unreadable(f"time {clean_text(text, 40)!r} ends before it starts")
    return start, end


def _clock_time(day: date, h: str, m: str, marker: str, text: str) -> datetime:
    hour, minute = int(h), int(m)
    if marker:
        if not 1 <= hour <= 12:
            raise _Unreadable(f"time {clean_text(text, 40)!r} not understood")
        hour = hour % 12 + (12 if marker.lower() == "p" else 0)
    if hour > 23 or minute > 59:
        raise _Unreadable(f"time {clean_text(text, 40)!r} not understood")
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK).astimezone(UTC)


def _header(rows: list[list[tuple[str, bool]]]) -> tuple[int, list[str]] | None:
    for i, row in enumerate(rows[:3]):
        if row and all(th for _, th in row):
            return i, [_norm(t) for t, _ in row]
    return (0, [_norm(t) for t, _ in rows[0]]) if rows else None


def _parse_periods(
    rows: list[list[tuple[str, bool]]], head: int, headers: list[str]
) -> list[SchedulePeriod]:
    i_period = _find(headers, "period")
    i_amount = _find(headers, "planned purchase amount", "purchase amount", "planned")
    i_next = _find(headers, "next schedule release", "next schedule", "next release")
    assert i_period is not None and i_amount is not None
    out = []
    for n, row in enumerate(rows[head + 1 :], start=1):
        cells = [t for t, _ in row]
        if len(cells) <= max(i_period, i_amount):
            continue  # a spanning note row
        try:
            start, end = parse_range(cells[i_period])
            planned = parse_money(cells[i_amount])
            nxt = None
            if (
                i_next is not None
                and i_next < len(cells)
                and cells[i_next].strip().lower() not in _NA
            ):
                nxt = parse_day(cells[i_next])
        except _Unreadable as exc:
            raise _Unreadable(f"periods row {n}: {exc}") from None
        out.append(SchedulePeriod(start, end, planned, nxt, clean_text(cells[i_period], 80)))
    return out


def _parse_operations(
    rows: list[list[tuple[str, bool]]], head: int, cols: dict[str, int]
) -> list[ScheduledOperation]:
    out = []
    width = max(cols.values())
    for n, row in enumerate(rows[head + 1 :], start=1):
        cells = [t for t, _ in row]
        if len(cells) <= width:
            continue  # a spanning note row ("No operations scheduled ...")
        try:
            day = parse_day(cells[cols["date"]])
            start, end = parse_window(day, cells[cols["time"]])
            size = parse_money(cells[cols["size"]])
        except _Unreadable as exc:
            raise _Unreadable(f"schedule row {n}: {exc}") from None
        maturity = clean_text(cells[cols["maturity"]], 80)
        m_start: date | None
        m_end: date | None
        try:
            m_start, m_end = parse_range(maturity)
        except _Unreadable:
            m_start = m_end = None  # e.g. "0 - 6 months": shown as written
        op_type = clean_text(cells[cols["type"]], 60)
        out.append(
            ScheduledOperation(
                operation_date=day,
                window_start=start,
                window_end=end,
                operation_type=op_type,
                kind=operation_kind(op_type),
                maturity_start=m_start,
                maturity_end=m_end,
                maturity_text=maturity,
                size=size,
            )
        )
    return out


def parse_schedule_page(html: str, received: float) -> SchedulePage | ScheduleUnavailable:
    """Parse the operational-details page. Never raises and never guesses: a page whose
    tables lack the expected headers, or whose cells do not parse, is unavailable with
    the reason."""
    if not isinstance(html, str) or "<table" not in html.lower():
        return ScheduleUnavailable(SOURCE, "page layout changed: no tables on the page", received)
    collector = _TableCollector()
    try:
        collector.feed(html[:3_000_000])
        collector.close()
    except Exception as exc:  # html.parser is lenient; this is belt and braces
        return ScheduleUnavailable(SOURCE, f"page unreadable: {clean_text(exc, 60)}", received)
    periods: list[SchedulePeriod] = []
    ops: list[ScheduledOperation] = []
    found_periods = found_ops = False
    try:
        for table in collector.tables:
            hdr = _header(table)
            if hdr is None:
                continue
            head, headers = hdr
            if (
                _find(headers, "period") is not None
                and _find(headers, "planned purchase amount", "purchase amount") is not None
            ):
                found_periods = True
                periods += _parse_periods(table, head, headers)
                continue
            cols = {
                "date": _find(headers, "operation date", "date"),
                "time": _find(headers, "time"),
                "type": _find(headers, "operation type", "type"),
                "maturity": _find(headers, "maturity"),
                "size": _find(headers, "maximum", "planned", "size", "amount"),
            }
            if all(v is not None for v in cols.values()):
                found_ops = True
                ops += _parse_operations(
                    table, head, {k: v for k, v in cols.items() if v is not None}
                )
    except _Unreadable as exc:
        return ScheduleUnavailable(SOURCE, f"page layout changed: {exc}", received)
    if not found_periods:
        return ScheduleUnavailable(
            SOURCE,
            "page layout changed: no table with 'Period' and 'Planned Purchase Amount'",
            received,
        )
    if not found_ops:
        return ScheduleUnavailable(
            SOURCE,
            "page layout changed: no schedule table with date, time, type, maturity and size",
            received,
        )
    if not periods:
        return ScheduleUnavailable(SOURCE, "page layout changed: periods table is empty", received)
    periods.sort(key=lambda p: p.start, reverse=True)
    ops.sort(key=lambda o: (o.operation_date, o.window_start or datetime.min.replace(tzinfo=UTC)))
    return SchedulePage(SOURCE, tuple(periods), tuple(ops), received)


class NyFedScheduleFeed(PolledFeed):
    """Polls the operational-details page. Yields :class:`SchedulePage`, or
    :class:`ScheduleUnavailable` followed by a DEGRADED status with the same reason."""

    source = SOURCE

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient,
        clock: Clock,
        every: float = 3600.0,
        due_day_every: float = 900.0,
        timing: PollTiming | None = None,
    ) -> None:
        """``every`` is the normal interval; ``due_day_every`` applies on the business
        day the next schedule is due, when the page changes."""
        super().__init__(client=client, clock=clock, timing=timing)
        self.base_url = base_url.rstrip("/")
        self._every = every
        self._due_every = due_day_every

    def interval(self) -> float:
        """Hourly, or every ``due_day_every`` on the day a new schedule is due."""
        today = ny_date(self.clock.now())
        due = next_schedule_due(today)
        if is_business_day(today) and today in (due, nth_business_day(today.year, today.month)):
            return self._due_every
        return self._every

    async def poll(self) -> Sequence[object]:
        """Fetch and parse the page once."""
        resp = await self.get(self.base_url + PAGE_PATH, headers={"Accept": "text/html"})
        if resp.status >= 400:
            raise FetchError(f"HTTP {resp.status}", transient=False, status=resp.status)
        return [parse_schedule_page(resp.text(), self.clock.monotonic())]

    async def events(self) -> AsyncIterator[object]:
        """As :meth:`PolledFeed.events`, plus a DEGRADED status after an unreadable page
        (the base class would call an answer that parsed to "unavailable" LIVE)."""
        async for event in super().events():
            yield event
            if isinstance(event, ScheduleUnavailable):
                yield FeedStatus(SOURCE, FeedState.DEGRADED, event.reason, self.clock.monotonic())
