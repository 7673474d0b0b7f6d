"""The NYSE calendar by rule: which days the exchange opens, and its regular hours.

Date arithmetic stands in for ``exchange_calendars``, whose XNYS calendar drags pandas
into the process (about 55 MB and most of a second before the first paint). The rules
are the NYSE's published holiday and early-close rules:

* closed on New Year's Day, Martin Luther King Jr. Day (from 1998), Washington's
  Birthday, Good Friday, Memorial Day, Juneteenth (from 2022), Independence Day, Labor
  Day, Thanksgiving and Christmas. A holiday on a Sunday is observed on the Monday after;
  on a Saturday, on the Friday before, except New Year's Day, whose Friday would fall in
  the previous year (the NYSE then stays open on December 31);
* early close (13:00) on the last trading day before Independence Day when it is July 3
  (before 2013, when July 3 was a Wednesday, the early close fell on Friday July 5
  instead), the day after Thanksgiving, and Christmas Eve on a weekday;
* the unscheduled closures of the period (September 11th, state funerals, Hurricane
  Sandy) are listed by hand in :data:`AD_HOC_CLOSURES`, and the unscheduled half days in
  :data:`AD_HOC_EARLY_CLOSES`.

``tests/feeds/quotes/test_nyse.py`` checks every day from 1993 to 2060 against XNYS.
Before 1993 half days closed at 14:00 and older ad-hoc closures are missing; in the
future, unscheduled closures cannot be known, as for any calendar.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
REGULAR_OPEN = time(9, 30)
"""The regular session opens at 09:30 New York time."""
REGULAR_CLOSE = time(16, 0)
"""The regular session closes at 16:00 New York time."""
EARLY_CLOSE = time(13, 0)
"""The close on a half day (the eves of Independence Day and Christmas, Black Friday)."""

AD_HOC_CLOSURES: frozenset[date] = frozenset(
    {
        date(1994, 4, 27),  # National Day of Mourning, President Nixon
        # September 11th attacks: closed until the following Monday.
        date(2001, 9, 11),
        date(2001, 9, 12),
        date(2001, 9, 13),
        date(2001, 9, 14),
        date(2004, 6, 11),  # National Day of Mourning, President Reagan
        date(2007, 1, 2),  # National Day of Mourning, President Ford
        date(2012, 10, 29),  # Hurricane Sandy
        date(2012, 10, 30),
        date(2018, 12, 5),  # National Day of Mourning, President George H. W. Bush
        date(2025, 1, 9),  # National Day of Mourning, President Carter
    }
)
"""Weekdays the NYSE closed outside its holiday rules (1993 onwards)."""

AD_HOC_EARLY_CLOSES: frozenset[date] = frozenset(
    {
        date(1997, 12, 26),  # the Friday after Christmas 1997
        date(1999, 12, 31),  # the eve of 2000 (the Y2K changeover)
        date(2003, 12, 26),  # the Friday after Christmas 2003
    }
)
"""Trading days the NYSE closed at 13:00 outside its early-close rules (1993 onwards)."""

_MON, _WED, _THU, _SAT, _SUN = 0, 2, 3, 5, 6
# A Thursday Independence Day gave a half day on Friday July 5 until 2012 (1996, 2002),
# and gives one on Wednesday July 3 since 2013 (2013, 2019, 2024).
_JULY3_WEDNESDAY_FROM = 2013


def easter_sunday(year: int) -> date:
    """Easter Sunday of ``year`` in the Gregorian calendar (the anonymous Gregorian
    algorithm, also known as Meeus/Jones/Butcher)."""
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    lunar_correction = (century + 8) // 25
    solar_correction = (century - lunar_correction + 1) // 3
    epact = (19 * golden + century - leap_centuries - solar_correction + 15) % 30
    leap_years, year_rest = divmod(year_of_century, 4)
    weekday_offset = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest) % 7
    march_correction = (golden + 11 * epact + 22 * weekday_offset) // 451
    month, day = divmod(epact + weekday_offset - 7 * march_correction + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    after = date(year + month // 12, month % 12 + 1, 1)
    last = after - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """A fixed-date holiday moved off the weekend: Saturday to Friday, Sunday to Monday."""
    if day.weekday() == _SAT:
        return day - timedelta(days=1)
    if day.weekday() == _SUN:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=128)
def holidays(year: int) -> frozenset[date]:
    """The weekdays of ``year`` on which the NYSE does not open (rules and ad-hoc
    closures)."""
    days = {
        _nth_weekday(year, 2, _MON, 3),  # Washington's Birthday
        easter_sunday(year) - timedelta(days=2),  # Good Friday
        _last_weekday(year, 5, _MON),  # Memorial Day
        _observed(date(year, 7, 4)),  # Independence Day
        _nth_weekday(year, 9, _MON, 1),  # Labor Day
        _nth_weekday(year, 11, _THU, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),  # Christmas
    }
    new_year = date(year, 1, 1)
    if new_year.weekday() != _SAT:  # Saturday: no make-up day in the old year
        days.add(_observed(new_year))
    if year >= 1998:
        days.add(_nth_weekday(year, 1, _MON, 3))  # Martin Luther King Jr. Day
    if year >= 2022:
        days.add(_observed(date(year, 6, 19)))  # Juneteenth
    days.update(d for d in AD_HOC_CLOSURES if d.year == year)
    return frozenset(days)


def _is_open(day: date) -> bool:
    return day.weekday() < _SAT and day not in holidays(day.year)


@lru_cache(maxsize=128)
def early_closes(year: int) -> frozenset[date]:
    """The trading days of ``year`` on which the NYSE closes at 13:00."""
    candidates = [
        _nth_weekday(year, 11, _THU, 4) + timedelta(days=1),  # the day after Thanksgiving
        date(year, 12, 24),  # Christmas Eve
    ]
    july3 = date(year, 7, 3)
    if july3.weekday() != _WED or year >= _JULY3_WEDNESDAY_FROM:
        candidates.append(july3)
    else:
        candidates.append(date(year, 7, 5))  # Friday after a Thursday Independence Day
    candidates.extend(d for d in AD_HOC_EARLY_CLOSES if d.year == year)
    return frozenset(d for d in candidates if _is_open(d))


def is_trading_day(day: date) -> bool:
    """True when the NYSE holds a regular session on ``day``."""
    return _is_open(day)


def is_holiday(day: date) -> bool:
    """True for a weekday on which the NYSE does not open."""
    return day.weekday() < _SAT and not _is_open(day)


def regular_hours(day: date) -> tuple[datetime, datetime] | None:
    """The regular session's open and close on ``day`` (aware, New York time), or None
    when the NYSE does not open that day."""
    if not _is_open(day):
        return None
    close = EARLY_CLOSE if day in early_closes(day.year) else REGULAR_CLOSE
    return datetime.combine(day, REGULAR_OPEN, NEW_YORK), datetime.combine(day, close, NEW_YORK)
