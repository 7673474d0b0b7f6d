"""Federal Reserve business days: holidays, business-day arithmetic, the ninth business
day of a month (when the NY Fed publishes the next purchase schedule), New York time.

The holiday table follows the Federal Reserve's published rules: the eleven federal
holidays; a holiday on Sunday is observed on Monday, while a holiday on Saturday is
*not* moved to Friday (Reserve Banks stay open that Friday). Computed by rule rather
than with pandas, so the feed layer stays cheap to import.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
SCHEDULE_BUSINESS_DAY = 9
"""The NY Fed announces the monthly amount and schedule "on or around the ninth business
day of each month" (sources.md F3)."""


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


@lru_cache(maxsize=64)
def fed_holidays(year: int) -> frozenset[date]:
    """Observed Federal Reserve holidays in ``year``."""
    fixed = [date(year, 1, 1), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)]
    if year >= 2022:
        fixed.append(date(year, 6, 19))
    floating = [
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _last_weekday(year, 5, 0),  # Memorial Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 10, 0, 2),  # Columbus Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
    ]
    observed = {d + timedelta(days=1) if d.weekday() == 6 else d for d in fixed}
    return frozenset(observed | set(floating))


def is_fed_holiday(day: date) -> bool:
    """True if ``day`` is an observed Federal Reserve holiday."""
    return day in fed_holidays(day.year)


def is_business_day(day: date) -> bool:
    """True on weekdays that are not Federal Reserve holidays."""
    return day.weekday() < 5 and not is_fed_holiday(day)


def next_business_day(day: date) -> date:
    """The first business day strictly after ``day``."""
    day += timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def previous_business_day(day: date) -> date:
    """The last business day strictly before ``day``."""
    day -= timedelta(days=1)
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


def add_business_days(day: date, n: int) -> date:
    """``day`` moved by ``n`` business days (negative moves back); 0 returns ``day``."""
    step = next_business_day if n > 0 else previous_business_day
    for _ in range(abs(n)):
        day = step(day)
    return day


def business_days_between(start: date, end: date) -> int:
    """Business days in ``(start, end]``: 0 from Friday to the following Sunday, 1 to
    Monday. Negative when ``end`` is before ``start``."""
    if end < start:
        return -business_days_between(end, start)
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_business_day(day):
            count += 1
    return count


def nth_business_day(year: int, month: int, n: int = SCHEDULE_BUSINESS_DAY) -> date:
    """The ``n``-th business day of the month (``n`` >= 1)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day = date(year, month, 1)
    if not is_business_day(day):
        day = next_business_day(day)
    return add_business_days(day, n - 1)


def next_schedule_due(today: date) -> date:
    """When the next monthly purchase schedule is due: the ninth business day of this
    month if it has not passed (today included), else of next month (an estimate: "on or
    around")."""
    this = nth_business_day(today.year, today.month)
    if today <= this:
        return this
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return nth_business_day(year, month)


def ny_date(when: datetime) -> date:
    """The New York calendar date of an aware datetime."""
    return when.astimezone(NEW_YORK).date()


def ny_datetime(day: date, at: time) -> datetime:
    """An aware datetime for a New York wall time (DST handled by the zone)."""
    return datetime.combine(day, at, tzinfo=NEW_YORK)
