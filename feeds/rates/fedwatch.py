"""The CME FedWatch method: meeting-by-meeting rate probabilities from 30-Day Fed Funds
futures (ZQ) prices, chained into the full multi-meeting probability tree.

Pure and synchronous: no I/O, no clock. The method and its assumptions are CME's
(sources.md D2):

* a month's contract settles to that month's average EFFR, so ``R_avg = 100 - price``;
* moves come in whole 25 bp steps and EFFR moves one-for-one with the target;
* a month without a meeting has ``EFFR_start = EFFR_end = R_avg``;
* a month with a meeting on day ``d`` of ``N`` days has ``M = d - 1`` days at the old
  rate (the decision day counts as post-meeting) and
  ``EFFR_end = N/(N-M) * (R_avg - M/N * EFFR_start)``;
* each meeting splits between the two whole steps either side of
  ``x = (EFFR_end - EFFR_start) / 0.25``, and the cumulative distribution after meeting
  ``k`` is meeting ``k-1``'s convolved with meeting ``k``'s split.

A meeting with few post-meeting days left in its month (``late_days``) makes the
formula amplify noise, so when the next month has no meeting its average is used as the
meeting's ``EFFR_end`` instead (sources.md D2.7).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from feeds.rates.calendar import add_months, month_split, month_start, post_meeting_days

STEP = 0.25
"""One move of the target, in percentage points."""


@dataclass(frozen=True, slots=True)
class MeetingStep:
    """The FedWatch result for one meeting.

    Attributes:
        meeting: Decision date.
        effr_start: Implied EFFR before the meeting, percent.
        effr_end: Implied EFFR after the meeting, percent.
        steps: ``(effr_end - effr_start) / 0.25``; negative means cuts.
        method: ``"same month"`` (formula on the meeting month's contract) or
            ``"next month"`` (late meeting: the next month's average taken as the end).
        move: This meeting's split: ``(change in bp, probability)`` pairs.
        cumulative: ``(change in bp from today's target, probability)``, ascending.
    """

    meeting: date
    effr_start: float
    effr_end: float
    steps: float
    method: str
    move: tuple[tuple[int, float], ...]
    cumulative: tuple[tuple[int, float], ...]

    @property
    def p_cut(self) -> float:
        """P(a cut at this meeting)."""
        return sum(p for bp, p in self.move if bp < 0)

    @property
    def p_hold(self) -> float:
        """P(no change at this meeting)."""
        return sum(p for bp, p in self.move if bp == 0)

    @property
    def p_hike(self) -> float:
        """P(a hike at this meeting)."""
        return sum(p for bp, p in self.move if bp > 0)

    @property
    def expected_bp(self) -> float:
        """Expected change at this meeting, basis points."""
        return sum(bp * p for bp, p in self.move)

    @property
    def cum_p_below(self) -> float:
        """P(target below today's after this meeting) — CME's "probability of a cut"."""
        return sum(p for bp, p in self.cumulative if bp < 0)

    @property
    def cum_p_above(self) -> float:
        """P(target above today's after this meeting) — CME's "probability of a hike"."""
        return sum(p for bp, p in self.cumulative if bp > 0)

    @property
    def cum_expected_bp(self) -> float:
        """Expected change from today's target by this meeting, basis points."""
        return sum(bp * p for bp, p in self.cumulative)

    def most_likely(self) -> tuple[int, float]:
        """The most likely cumulative change and its probability."""
        return max(self.cumulative, key=lambda kv: (kv[1], -abs(kv[0])))


@dataclass(frozen=True, slots=True)
class FedWatchResult:
    """The whole tree.

    Attributes:
        lower: Today's target lower bound, percent.
        meetings: One entry per meeting that could be worked out, in date order.
        notes: Why later meetings are missing, in words (a missing price, no start rate).
    """

    lower: Decimal
    meetings: tuple[MeetingStep, ...]
    notes: tuple[str, ...]

    def range_for(self, change_bp: int) -> tuple[Decimal, Decimal]:
        """The target range after a cumulative change."""
        lo = self.lower + Decimal(change_bp) / 100
        return lo, lo + Decimal("0.25")

    def levels(self) -> tuple[int, ...]:
        """Every cumulative change that has probability at some meeting, ascending."""
        seen = {bp for m in self.meetings for bp, _ in m.cumulative}
        return tuple(sorted(seen))


def binary_split(steps: float) -> tuple[tuple[int, float], ...]:
    """Split ``steps`` (in 25 bp units) between the two whole steps either side.

    ``-0.4`` gives 60% no change and 40% a 25 bp cut; ``1.3`` gives 70% +25 and 30% +50.
    """
    t = math.trunc(steps)
    frac = abs(steps - t)
    sign = 1 if steps >= 0 else -1
    out: dict[int, float] = {}
    if 1.0 - frac > 0:
        out[t * 25] = 1.0 - frac
    if frac > 0:
        out[(t + sign) * 25] = out.get((t + sign) * 25, 0.0) + frac
    return tuple(sorted(out.items()))


def convolve(
    prior: Sequence[tuple[int, float]], move: Sequence[tuple[int, float]]
) -> tuple[tuple[int, float], ...]:
    """The cumulative distribution after one more meeting: sum sizes, multiply odds."""
    out: dict[int, float] = {}
    for a, pa in prior:
        for b, pb in move:
            out[a + b] = out.get(a + b, 0.0) + pa * pb
    return tuple(sorted((k, v) for k, v in out.items() if v > 1e-12))


def fedwatch(
    *,
    lower: Decimal,
    meetings: Sequence[date],
    prices: Mapping[date, Decimal],
    calendar: Sequence[date] = (),
    effr: Decimal | None = None,
    late_days: int = 3,
) -> FedWatchResult:
    """Work out the probability tree for ``meetings`` (decision dates, ascending).

    Args:
        lower: Today's target lower bound, percent.
        meetings: The meetings to price, in order.
        prices: ZQ prices keyed by the first day of the contract month.
        calendar: Every known decision date, so a month holding a past meeting is never
            mistaken for a flat month; defaults to ``meetings``.
        effr: Today's EFFR, used as the first meeting's start when the month before it
            has a meeting or no price.
        late_days: A meeting with this many post-meeting days or fewer takes its end
            rate from the next month's contract when that month has no meeting.
    """
    meeting_months = {month_start(d) for d in (*calendar, *meetings)}
    avg = {month_start(k): 100.0 - float(v) for k, v in prices.items()}
    steps_out: list[MeetingStep] = []
    notes: list[str] = []
    cumulative: tuple[tuple[int, float], ...] = ((0, 1.0),)
    prev_end: float | None = None
    prev_month: date | None = None
    for day in sorted(meetings):
        month = month_start(day)
        before = add_months(month, -1)
        after = add_months(month, 1)
        start: float | None
        if prev_month == before and prev_end is not None:
            start = prev_end
        elif before not in meeting_months and before in avg:
            start = avg[before]
        elif prev_end is not None:
            start = prev_end  # no price for the flat month between: assume no drift
        elif effr is not None:
            start = float(effr)
        else:
            notes.append(f"no starting rate for {day:%b %Y}: give the prior month's price or EFFR")
            break
        flat_after = after not in meeting_months and after in avg
        end: float
        if post_meeting_days(day) <= late_days and flat_after:
            end, method = avg[after], "next month"
        elif month in avg:
            n, m = month_split(day)
            end, method = (n * avg[month] - m * start) / (n - m), "same month"
        elif flat_after:
            end, method = avg[after], "next month"
        else:
            notes.append(f"no price for {month:%b %Y}: meetings from {day:%b %d, %Y} left out")
            break
        x = round((end - start) / STEP, 9)  # float noise must not flip a whole step
        move = binary_split(x)
        cumulative = convolve(cumulative, move)
        steps_out.append(MeetingStep(day, start, end, x, method, move, cumulative))
        prev_end, prev_month = end, month
    return FedWatchResult(lower, tuple(steps_out), tuple(notes))
