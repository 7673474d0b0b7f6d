"""The FedWatch method: CME's worked example, splits, a hand-worked multi-meeting tree,
late-month meetings, missing prices (the ``lockstep fedwatch`` command:
tests/tui/test_fedwatch_cli.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from feeds.rates.fedwatch import binary_split, convolve, fedwatch

D = Decimal


def test_cme_worked_example_sept_2015() -> None:
    # sources.md D2.4: ZQQ5 99.8675 -> start 0.1325; ZQU5 99.805 -> R_avg 0.195;
    # N = 30, M = 16 -> end = 30/14 * (0.195 - 16/30 * 0.1325) = 0.26643; P(hike) = 53.6%.
    result = fedwatch(
        lower=D("0"),
        meetings=[date(2015, 9, 17)],
        prices={date(2015, 8, 1): D("99.8675"), date(2015, 9, 1): D("99.805")},
    )
    (m,) = result.meetings
    assert m.effr_start == pytest.approx(0.1325)
    assert m.effr_end == pytest.approx(0.266428571, abs=1e-8)
    assert m.method == "same month"
    assert round(m.p_hike * 100, 1) == 53.6
    assert round(m.p_hold * 100, 1) == 46.4
    assert m.p_cut == 0.0
    assert round(m.cum_p_above * 100, 1) == 53.6
    assert result.range_for(25) == (D("0.25"), D("0.50"))


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (-0.4, ((-25, 0.4), (0, 0.6))),
        (1.3, ((25, 0.7), (50, 0.3))),
        (-1.0, ((-25, 1.0),)),
        (0.0, ((0, 1.0),)),
        (0.25, ((0, 0.75), (25, 0.25))),
    ],
)
def test_binary_split(steps: float, expected: tuple[tuple[int, float], ...]) -> None:
    got = binary_split(steps)
    assert [k for k, _ in got] == [k for k, _ in expected]
    assert [p for _, p in got] == pytest.approx([p for _, p in expected])


def test_convolve_sums_sizes_and_merges() -> None:
    got = dict(convolve(((0, 0.5), (-25, 0.5)), ((0, 0.5), (-25, 0.5))))
    assert got == pytest.approx({0: 0.25, -25: 0.5, -50: 0.25})


def test_hand_worked_tree_with_consecutive_and_late_meetings() -> None:
    """2025 May 7 and Jun 18 sit in consecutive months; Jul 30 is late in its month.

    Apr (no meeting) 95.67 -> 4.33 is May's start.
    May: N=31, M=6, R_avg 4.25: end = (31*4.25 - 6*4.33)/25 = 105.77/25 = 4.2308;
         x = (4.2308 - 4.33)/0.25 = -0.3968 -> hold 0.6032, -25 0.3968.
    Jun: start = May's end 4.2308 (consecutive month); N=30, M=17, R_avg 4.115:
         end = (30*4.115 - 17*4.2308)/13 = 51.5264/13 = 3.9635692;
         x = -1.0689231 -> -25 0.9310769, -50 0.0689231.
    Jul 30: 2 post-meeting days, Aug has no meeting -> end = Aug's 3.90 ("next month");
         start = Jun's end; x = (3.90 - 3.9635692)/0.25 = -0.2542769 -> 0 0.7457231,
         -25 0.2542769.
    Cumulative after Jun: -25 = 0.6032*0.9310769 = 0.5616256;
         -50 = 0.6032*0.0689231 + 0.3968*0.9310769 = 0.0415744 + 0.3694513 = 0.4110257;
         -75 = 0.3968*0.0689231 = 0.0273487.
    After Jul: -25 = 0.5616256*0.7457231 = 0.4188172;
         -50 = 0.5616256*0.2542769 + 0.4110257*0.7457231 = 0.1428084 + 0.3065113 = 0.4493197;
         -75 = 0.4110257*0.2542769 + 0.0273487*0.7457231 = 0.1045144 + 0.0203945 = 0.1249089;
         -100 = 0.0273487*0.2542769 = 0.0069542.
    """
    prices = {
        date(2025, 4, 1): D("95.67"),
        date(2025, 5, 1): D("95.75"),
        date(2025, 6, 1): D("95.885"),
        date(2025, 7, 1): D("95.95"),
        date(2025, 8, 1): D("96.10"),
    }
    result = fedwatch(
        lower=D("4.25"),
        meetings=[date(2025, 5, 7), date(2025, 6, 18), date(2025, 7, 30)],
        prices=prices,
    )
    may, jun, jul = result.meetings
    assert may.effr_start == pytest.approx(4.33)
    assert may.effr_end == pytest.approx(4.2308)
    assert dict(may.move) == pytest.approx({-25: 0.3968, 0: 0.6032})
    assert jun.effr_start == pytest.approx(4.2308)
    assert jun.effr_end == pytest.approx(3.9635692, abs=1e-7)
    assert dict(jun.move) == pytest.approx({-50: 0.0689231, -25: 0.9310769}, abs=1e-7)
    assert dict(jun.cumulative) == pytest.approx(
        {-75: 0.0273487, -50: 0.4110257, -25: 0.5616256}, abs=1e-7
    )
    assert jul.method == "next month"
    assert jul.effr_end == pytest.approx(3.90)
    assert dict(jul.cumulative) == pytest.approx(
        {-100: 0.0069542, -75: 0.1249089, -50: 0.4493197, -25: 0.4188172}, abs=1e-6
    )
    assert sum(p for _, p in jul.cumulative) == pytest.approx(1.0)
    level, p = jul.most_likely()
    assert level == -50 and p == pytest.approx(0.4493197, abs=1e-6)
    assert jul.cum_p_below == pytest.approx(1.0)
    assert result.range_for(-50) == (D("3.75"), D("4.00"))


def test_late_meeting_uses_own_month_when_next_month_also_meets() -> None:
    # Apr 29, 2026 is late, but if May had a meeting the next-month shortcut is not
    # available, so the formula runs on April's own contract.
    result = fedwatch(
        lower=D("3.50"),
        meetings=[date(2026, 4, 29)],
        prices={date(2026, 3, 1): D("96.40"), date(2026, 4, 1): D("96.41")},
        calendar=[date(2026, 4, 29), date(2026, 5, 20)],
    )
    (m,) = result.meetings
    assert m.method == "same month"
    # end = (30*3.59 - 28*3.60)/2 = 3.45 -> x = -0.6
    assert m.effr_end == pytest.approx(3.45)
    assert m.p_cut == pytest.approx(0.6)


def test_missing_price_stops_the_tree_with_a_note() -> None:
    result = fedwatch(
        lower=D("3.50"),
        meetings=[date(2026, 1, 28), date(2026, 3, 18)],
        prices={date(2026, 1, 1): D("96.37")},
        calendar=[date(2025, 12, 10), date(2026, 1, 28), date(2026, 3, 18)],
        effr=D("3.64"),
    )
    assert len(result.meetings) == 1
    # December held a meeting, so January starts from today's EFFR.
    assert result.meetings[0].effr_start == pytest.approx(3.64)
    assert result.notes and "Mar 2026" in result.notes[0]


def test_no_start_rate_is_a_note_not_an_error() -> None:
    result = fedwatch(
        lower=D("3.50"),
        meetings=[date(2026, 1, 28)],
        prices={date(2026, 1, 1): D("96.37")},
        calendar=[date(2025, 12, 10), date(2026, 1, 28)],
    )
    assert result.meetings == ()
    assert "no starting rate" in result.notes[0]
