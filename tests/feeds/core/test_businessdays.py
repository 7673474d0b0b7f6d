"""Federal Reserve business days and the ninth-business-day schedule rule."""

from __future__ import annotations

from datetime import date, time

import pytest

from feeds.core.businessdays import (
    add_business_days,
    business_days_between,
    fed_holidays,
    is_business_day,
    next_business_day,
    next_schedule_due,
    nth_business_day,
    ny_datetime,
    previous_business_day,
)


def test_2025_2026_holidays() -> None:
    assert date(2025, 12, 25) in fed_holidays(2025)
    assert date(2025, 11, 27) in fed_holidays(2025)  # Thanksgiving
    assert date(2026, 1, 19) in fed_holidays(2026)  # MLK
    assert date(2026, 6, 19) in fed_holidays(2026)
    assert len(fed_holidays(2026)) == 11


def test_sunday_holiday_moves_to_monday_saturday_does_not_move() -> None:
    assert date(2022, 12, 26) in fed_holidays(2022)  # Christmas on Sunday
    assert date(2026, 7, 4) in fed_holidays(2026)  # Saturday: not observed on Friday
    assert is_business_day(date(2026, 7, 3))


def test_weekends_and_holidays_are_not_business_days() -> None:
    assert is_business_day(date(2025, 12, 12))
    assert not is_business_day(date(2025, 12, 13))
    assert not is_business_day(date(2025, 12, 25))
    assert next_business_day(date(2025, 12, 24)) == date(2025, 12, 26)
    assert previous_business_day(date(2026, 1, 2)) == date(2025, 12, 31)
    assert add_business_days(date(2025, 12, 12), 3) == date(2025, 12, 17)
    assert add_business_days(date(2025, 12, 15), -1) == date(2025, 12, 12)


def test_business_days_between() -> None:
    assert business_days_between(date(2025, 12, 12), date(2025, 12, 14)) == 0
    assert business_days_between(date(2025, 12, 12), date(2025, 12, 15)) == 1
    assert business_days_between(date(2025, 12, 24), date(2025, 12, 26)) == 1
    assert business_days_between(date(2025, 12, 15), date(2025, 12, 12)) == -1


def test_ninth_business_day() -> None:
    # The first schedule came out on Dec 11, 2025, the ninth business day.
    assert nth_business_day(2025, 12) == date(2025, 12, 11)
    assert nth_business_day(2026, 1) == date(2026, 1, 14)  # Jan 1 is a holiday
    assert nth_business_day(2026, 2, 1) == date(2026, 2, 2)
    with pytest.raises(ValueError):
        nth_business_day(2026, 2, 0)


def test_next_schedule_due() -> None:
    assert next_schedule_due(date(2025, 12, 1)) == date(2025, 12, 11)
    assert next_schedule_due(date(2025, 12, 12)) == date(2026, 1, 14)
    assert next_schedule_due(date(2026, 1, 14)) == date(2026, 1, 14)
    assert next_schedule_due(date(2026, 1, 15)) == date(2026, 2, 12)


def test_ny_datetime_handles_dst() -> None:
    assert ny_datetime(date(2025, 12, 12), time(10, 10)).utcoffset().total_seconds() == -5 * 3600  # type: ignore[union-attr]
    assert ny_datetime(date(2026, 7, 1), time(10, 10)).utcoffset().total_seconds() == -4 * 3600  # type: ignore[union-attr]
