"""The FOMC meeting calendar: the packaged schedule, config overrides, decision times,
and the day arithmetic the FedWatch method needs.

The schedule ships as ``feeds/data/fomc.toml`` (sources.md section E). The Fed publishes
it a year or more ahead and changes it rarely; a config override covers surprises.
"""

from __future__ import annotations

import calendar as _cal
import tomllib
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from feeds.model.fed import FomcMeeting

ET = ZoneInfo("America/New_York")
DECISION_TIME_ET = time(14, 0)
"""The statement is released at 2:00 p.m. Eastern on the decision day."""

MONTH_CODES = "FGHJKMNQUVXZ"
"""Futures month codes, January to December (sources.md D2.8)."""


class CalendarError(ValueError):
    """A calendar file or override that cannot be used; the message names the entry."""


def load_calendar() -> tuple[FomcMeeting, ...]:
    """The packaged 2025-2027 schedule, sorted by decision date."""
    text = resources.files("feeds").joinpath("data/fomc.toml").read_text(encoding="utf-8")
    return parse_calendar_toml(text)


def parse_calendar_toml(text: str) -> tuple[FomcMeeting, ...]:
    """Parse the ``[[meeting]]`` tables of a calendar file; raises CalendarError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalendarError(f"calendar file is not valid TOML: {exc}") from exc
    rows = data.get("meeting")
    if not isinstance(rows, list) or not rows:
        raise CalendarError("calendar file has no [[meeting]] entries")
    out: list[FomcMeeting] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise CalendarError(f"meeting {i + 1}: not a table")
        decision = row.get("decision")
        sep = row.get("sep", False)
        if not isinstance(decision, date) or isinstance(decision, datetime):
            raise CalendarError(f"meeting {i + 1}: decision must be a date (YYYY-MM-DD)")
        if not isinstance(sep, bool):
            raise CalendarError(f"meeting {i + 1}: sep must be true or false")
        out.append(FomcMeeting(decision, sep))
    return _sorted_unique(out)


def parse_override(entries: Iterable[str]) -> tuple[FomcMeeting, ...]:
    """Meetings from config strings ``"YYYY-MM-DD"`` (decision day), ``*`` suffix = SEP."""
    out: list[FomcMeeting] = []
    for raw in entries:
        text = raw.strip()
        sep = text.endswith("*")
        if sep:
            text = text[:-1].strip()
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise CalendarError(
                f"calendar entry {raw!r}: expected YYYY-MM-DD with an optional '*'"
            ) from exc
        out.append(FomcMeeting(day, sep))
    if not out:
        raise CalendarError("calendar override is empty")
    return _sorted_unique(out)


def _sorted_unique(meetings: Iterable[FomcMeeting]) -> tuple[FomcMeeting, ...]:
    by_day: dict[date, FomcMeeting] = {}
    for m in meetings:
        if m.decision in by_day:
            raise CalendarError(f"calendar lists {m.decision} twice")
        by_day[m.decision] = m
    return tuple(by_day[d] for d in sorted(by_day))


def decision_time(meeting: FomcMeeting | date) -> datetime:
    """2:00 p.m. ET on the decision day, as aware UTC."""
    day = meeting.decision if isinstance(meeting, FomcMeeting) else meeting
    return datetime.combine(day, DECISION_TIME_ET, tzinfo=ET).astimezone(UTC)


def upcoming(meetings: Sequence[FomcMeeting], now: datetime) -> tuple[FomcMeeting, ...]:
    """Meetings whose decision is still to come at ``now`` (the decision instant itself
    counts as past: from 2:00 p.m. ET the outcome is known)."""
    return tuple(m for m in meetings if decision_time(m) > now)


def next_meeting(meetings: Sequence[FomcMeeting], now: datetime) -> FomcMeeting | None:
    """The next meeting with a decision still to come, or None past the calendar's end."""
    ahead = upcoming(meetings, now)
    return ahead[0] if ahead else None


def meeting_in_month(meetings: Sequence[FomcMeeting], year: int, month: int) -> FomcMeeting | None:
    """The meeting whose decision falls in that month, if any."""
    for m in meetings:
        if m.decision.year == year and m.decision.month == month:
            return m
    return None


def month_split(decision: date) -> tuple[int, int]:
    """``(N, M)`` for the FedWatch formula: days in the month, and days before the meeting.

    The decision day itself counts as post-meeting (sources.md D2.4), so ``M = day - 1``.
    """
    n = _cal.monthrange(decision.year, decision.month)[1]
    return n, decision.day - 1


def post_meeting_days(decision: date) -> int:
    """Days of the month from the decision day on (the day itself included)."""
    n, m = month_split(decision)
    return n - m


def zq_symbol(month: date) -> str:
    """The Yahoo symbol of a month's 30-Day Fed Funds contract, e.g. ``ZQF26.CBT``."""
    return f"ZQ{MONTH_CODES[month.month - 1]}{month.year % 100:02d}.CBT"


def month_start(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def add_months(day: date, n: int) -> date:
    """The first day of the month ``n`` months after ``day``'s."""
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def horizon_end(now: datetime, days: int) -> datetime:
    """``now`` plus ``days``: the end of the "next 12 months" window."""
    return now + timedelta(days=days)
