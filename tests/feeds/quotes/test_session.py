"""Session transitions with a frozen clock: pre, regular, post, closed, holiday, early
close, weekends and the futures break. (The calendar itself: test_nyse.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feeds.model.quotes import MarketState, TradingPeriods
from feeds.quotes.session import (
    SessionIntervals,
    cash_state,
    futures_state,
    market_state,
)

PRE, P, R, C, H = (
    MarketState.PRE,
    MarketState.POST,
    MarketState.REGULAR,
    MarketState.CLOSED,
    MarketState.HOLIDAY,
)


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


@pytest.mark.parametrize(
    ("when", "state"),
    [
        (utc(2025, 12, 12, 8, 59), C),  # Fri 03:59 ET
        (utc(2025, 12, 12, 9, 0), PRE),  # 04:00 ET pre opens
        (utc(2025, 12, 12, 14, 29), PRE),
        (utc(2025, 12, 12, 14, 30), R),  # 09:30 ET
        (utc(2025, 12, 12, 20, 59), R),
        (utc(2025, 12, 12, 21, 0), P),  # 16:00 ET
        (utc(2025, 12, 13, 0, 59), P),
        (utc(2025, 12, 13, 1, 0), C),  # 20:00 ET
        (utc(2025, 12, 13, 15, 0), C),  # Saturday: closed, not a holiday
        (utc(2025, 12, 25, 15, 0), H),  # Christmas, a Thursday
        (utc(2025, 11, 27, 15, 0), H),  # Thanksgiving
        (utc(2025, 11, 28, 17, 59), R),  # Black Friday early close 13:00 ET
        (utc(2025, 11, 28, 18, 0), P),
        (utc(2025, 11, 28, 22, 0), C),  # post ends four hours after an early close
        (utc(2025, 7, 3, 13, 30), R),  # summer time: 09:30 EDT is 13:30 UTC
        (utc(2025, 7, 3, 13, 29), PRE),
        (utc(2025, 7, 3, 16, 59), R),  # Independence Day eve: early close 13:00 EDT
        (utc(2025, 7, 3, 17, 0), P),
        (utc(2025, 12, 24, 18, 0), P),  # Christmas Eve: early close 13:00 EST
        (utc(2025, 4, 18, 15, 0), H),  # Good Friday
        (utc(2025, 1, 9, 15, 0), H),  # President Carter's day of mourning (ad hoc)
        (utc(2025, 1, 20, 15, 0), H),  # Martin Luther King Jr. Day
    ],
)
def test_cash_state_frozen_clock(when: datetime, state: MarketState) -> None:
    assert cash_state(when) is state


@pytest.mark.parametrize(
    ("when", "state"),
    [
        (utc(2025, 12, 12, 15, 0), R),  # Friday daytime
        (utc(2025, 12, 12, 22, 30), C),  # Friday after 17:00 ET: weekend
        (utc(2025, 12, 14, 22, 59), C),  # Sunday 17:59 ET
        (utc(2025, 12, 14, 23, 0), R),  # Sunday 18:00 ET reopens
        (utc(2025, 12, 15, 22, 30), C),  # Monday 17:30 ET daily break
        (utc(2025, 12, 15, 23, 0), R),  # Monday 18:00 ET
        (utc(2025, 12, 25, 15, 0), H),  # Christmas daytime
    ],
)
def test_futures_state_frozen_clock(when: datetime, state: MarketState) -> None:
    assert futures_state(when) is state


def test_reported_periods_win_and_stale_periods_defer_to_calendar() -> None:
    today = TradingPeriods(
        pre=(utc(2025, 12, 12, 9), utc(2025, 12, 12, 14, 30)),
        regular=(utc(2025, 12, 12, 14, 30), utc(2025, 12, 12, 18)),  # say, an unscheduled halt
        post=(utc(2025, 12, 12, 18), utc(2025, 12, 12, 22)),
    )
    assert market_state(utc(2025, 12, 12, 19), today, False) is P
    assert market_state(utc(2025, 12, 12, 23), today, False) is C
    # Friday's periods on Christmas (a Thursday two weeks later): the calendar decides.
    assert market_state(utc(2025, 12, 25, 15), today, False) is H
    assert market_state(utc(2025, 12, 15, 15), today, False) is R


def test_intervals_follow_the_session() -> None:
    iv = SessionIntervals(regular=15, extended=60, futures=45, closed=300)
    assert iv.for_time(utc(2025, 12, 12, 15), has_futures=True) == 15
    assert iv.for_time(utc(2025, 12, 12, 12), has_futures=False) == 60  # pre
    assert iv.for_time(utc(2025, 12, 12, 12), has_futures=True) == 45  # pre, futures open
    assert iv.for_time(utc(2025, 12, 13, 3), has_futures=False) == 300  # Fri night
    assert iv.for_time(utc(2025, 12, 13, 3), has_futures=True) == 300  # weekend: Globex shut
    assert iv.for_time(utc(2025, 12, 16, 3), has_futures=True) == 45  # Mon night futures
    assert iv.for_time(utc(2025, 12, 25, 15), has_futures=True) == 300  # holiday
