"""The NYSE calendar by rule: Easter, each holiday rule's edge cases by hand, and every
day from 1993 to 2060 against ``exchange_calendars``' XNYS (the test oracle; the app does
not import it)."""

from __future__ import annotations

import warnings
from datetime import date, datetime, time, timedelta

import pytest

from feeds.quotes import nyse

OPEN, CLOSE, EARLY = time(9, 30), time(16, 0), time(13, 0)
# The cross-check range: before 1993 half days closed at 14:00, which the rules leave out
# on purpose (the app never needs sessions that old).
FIRST, LAST = date(1993, 1, 1), date(2060, 12, 31)


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2000, date(2000, 4, 23)),
        (2008, date(2008, 3, 23)),
        (2011, date(2011, 4, 24)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2038, date(2038, 4, 25)),  # the latest possible date
        (2285, date(2285, 3, 22)),  # the earliest possible date
    ],
)
def test_easter_sunday(year: int, easter: date) -> None:
    assert nyse.easter_sunday(year) == easter


@pytest.mark.parametrize(
    ("day", "close"),
    [
        (date(2021, 12, 31), CLOSE),  # New Year's Day 2022 on a Saturday: no make-up day
        (date(2023, 1, 2), None),  # New Year's Day on a Sunday: observed Monday
        (date(1997, 1, 20), CLOSE),  # MLK Day before 1998: open
        (date(1998, 1, 19), None),
        (date(2025, 2, 17), None),  # Washington's Birthday
        (date(2025, 4, 18), None),  # Good Friday
        (date(2025, 5, 26), None),  # Memorial Day
        (date(2021, 6, 18), CLOSE),  # Juneteenth 2021 (a Saturday): not yet a holiday
        (date(2022, 6, 20), None),  # Juneteenth 2022 on a Sunday: observed Monday
        (date(2027, 6, 18), None),  # Juneteenth 2027 on a Saturday: observed Friday
        (date(2025, 7, 3), EARLY),  # Thursday before Independence Day
        (date(2024, 7, 3), EARLY),  # Wednesday July 3, since 2013
        (date(2024, 7, 5), CLOSE),
        (date(2002, 7, 3), CLOSE),  # Wednesday July 3, before 2013: full day ...
        (date(2002, 7, 5), EARLY),  # ... and the half day on Friday after
        (date(2026, 7, 3), None),  # Independence Day on a Saturday: observed Friday
        (date(2027, 7, 5), None),  # on a Sunday: observed Monday, and no half day before
        (date(2027, 7, 2), CLOSE),
        (date(2022, 7, 1), CLOSE),  # Monday Independence Day: the Friday before is full
        (date(2025, 9, 1), None),  # Labor Day
        (date(2025, 11, 27), None),  # Thanksgiving
        (date(2025, 11, 28), EARLY),  # the day after
        (date(2025, 12, 24), EARLY),  # Christmas Eve on a weekday
        (date(2021, 12, 24), None),  # Christmas 2021 on a Saturday: observed Friday
        (date(2022, 12, 26), None),  # Christmas 2022 on a Sunday: observed Monday
        (date(2003, 12, 26), EARLY),  # an ad-hoc half day
        (date(2012, 10, 29), None),  # Hurricane Sandy
        (date(2025, 1, 9), None),  # President Carter's National Day of Mourning
        (date(2025, 12, 12), CLOSE),  # an ordinary Friday
        (date(2025, 12, 13), None),  # Saturday
    ],
)
def test_rules_by_hand(day: date, close: time | None) -> None:
    hours = nyse.regular_hours(day)
    if close is None:
        assert hours is None and not nyse.is_trading_day(day)
        assert nyse.is_holiday(day) == (day.weekday() < 5)
        return
    assert hours is not None and nyse.is_trading_day(day) and not nyse.is_holiday(day)
    assert hours == (
        datetime.combine(day, OPEN, nyse.NEW_YORK),
        datetime.combine(day, close, nyse.NEW_YORK),
    )


def test_weekends_are_not_holidays() -> None:
    assert not nyse.is_holiday(date(2025, 12, 14))
    assert date(2025, 12, 14) not in nyse.holidays(2025)


def test_every_day_matches_xnys() -> None:
    """Sessions, opens and closes agree with XNYS on every calendar day in the range."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecation noise from the oracle
        xc = pytest.importorskip(
            "exchange_calendars", reason="exchange_calendars (the XNYS oracle) not installed"
        )
        cal = xc.get_calendar("XNYS", start=FIRST.isoformat(), end=LAST.isoformat())
        expected = {
            ts.date(): (o.to_pydatetime(), c.to_pydatetime())
            for ts, o, c in zip(cal.sessions, cal.opens, cal.closes, strict=True)
        }
    assert min(expected) >= FIRST and max(expected) <= LAST
    mismatches = []
    day = FIRST
    while day <= LAST:
        got = nyse.regular_hours(day)
        if got != expected.get(day):
            mismatches.append((day, got, expected.get(day)))
        day += timedelta(days=1)
    assert not mismatches, mismatches[:10]
    assert len(expected) > 17_000  # the oracle really covered the range
