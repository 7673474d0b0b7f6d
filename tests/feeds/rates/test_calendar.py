"""The FOMC calendar: packaged data, overrides, decision times and day arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from feeds.model.fed import FomcMeeting
from feeds.rates.calendar import (
    CalendarError,
    decision_time,
    load_calendar,
    meeting_in_month,
    month_split,
    next_meeting,
    parse_calendar_toml,
    parse_override,
    post_meeting_days,
    upcoming,
    zq_symbol,
)


def test_packaged_calendar_matches_sources_e() -> None:
    cal = load_calendar()
    assert len(cal) == 24
    by_year = {y: [m for m in cal if m.decision.year == y] for y in (2025, 2026, 2027)}
    assert [m.decision for m in by_year[2026]] == [
        date(2026, 1, 28),
        date(2026, 3, 18),
        date(2026, 4, 29),
        date(2026, 6, 17),
        date(2026, 7, 29),
        date(2026, 9, 16),
        date(2026, 10, 28),
        date(2026, 12, 9),
    ]
    assert [m.decision.day for m in by_year[2025] if m.sep] == [19, 18, 17, 10]
    assert [m.sep for m in by_year[2027]] == [False, True, False, True, False, True, False, True]
    assert date(2025, 12, 10) in {m.decision for m in cal}


def test_decision_is_2pm_eastern_in_utc_across_dst() -> None:
    assert decision_time(date(2026, 1, 28)) == datetime(2026, 1, 28, 19, 0, tzinfo=UTC)
    assert decision_time(date(2026, 6, 17)) == datetime(2026, 6, 17, 18, 0, tzinfo=UTC)


def test_next_meeting_rolls_over_at_the_decision_instant() -> None:
    cal = load_calendar()
    before = datetime(2026, 1, 28, 18, 59, 59, tzinfo=UTC)
    at = datetime(2026, 1, 28, 19, 0, tzinfo=UTC)
    assert next_meeting(cal, before) == FomcMeeting(date(2026, 1, 28), False)
    assert next_meeting(cal, at) == FomcMeeting(date(2026, 3, 18), True)
    # The demo morning: Dec 10 has passed, Jan 28 is next.
    demo = datetime(2025, 12, 12, 15, 25, tzinfo=UTC)
    assert upcoming(cal, demo)[0].decision == date(2026, 1, 28)
    assert next_meeting(cal, datetime(2028, 1, 1, tzinfo=UTC)) is None


def test_meeting_day_counts_as_post_meeting() -> None:
    # CME's Sept 2015 example: meeting on the 17th of a 30-day month -> M = 16.
    assert month_split(date(2015, 9, 17)) == (30, 16)
    assert post_meeting_days(date(2015, 9, 17)) == 14
    # A meeting on the 1st leaves the whole month post-meeting.
    assert month_split(date(2026, 4, 1)) == (30, 0)
    assert post_meeting_days(date(2026, 4, 1)) == 30


def test_late_month_meetings_have_few_post_meeting_days() -> None:
    assert post_meeting_days(date(2026, 4, 29)) == 2  # Apr 29 of 30
    assert post_meeting_days(date(2026, 7, 29)) == 3  # Jul 29 of 31
    assert post_meeting_days(date(2026, 1, 28)) == 4  # Jan 28 of 31
    assert month_split(date(2024, 2, 29)) == (29, 28)  # leap February


def test_zq_symbols_use_futures_month_codes() -> None:
    assert zq_symbol(date(2026, 1, 1)) == "ZQF26.CBT"
    assert zq_symbol(date(2025, 12, 1)) == "ZQZ25.CBT"
    assert zq_symbol(date(2026, 8, 1)) == "ZQQ26.CBT"


def test_override_parses_sep_suffix_and_sorts() -> None:
    cal = parse_override(["2026-03-18*", " 2026-01-28 "])
    assert cal == (FomcMeeting(date(2026, 1, 28), False), FomcMeeting(date(2026, 3, 18), True))
    assert meeting_in_month(cal, 2026, 3) == cal[1]
    assert meeting_in_month(cal, 2026, 2) is None


@pytest.mark.parametrize("entries", [["2026-13-01"], ["Jan 28"], [], ["2026-01-28", "2026-01-28*"]])
def test_bad_overrides_are_refused_with_the_entry_named(entries: list[str]) -> None:
    with pytest.raises(CalendarError):
        parse_override(entries)


def test_calendar_file_errors() -> None:
    with pytest.raises(CalendarError, match="no \\[\\[meeting\\]\\]"):
        parse_calendar_toml("x = 1")
    with pytest.raises(CalendarError, match="decision"):
        parse_calendar_toml('[[meeting]]\ndecision = "2026-01-28"\n')
