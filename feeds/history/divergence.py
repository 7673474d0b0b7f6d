"""BTC against an index: rebasing, rolling correlation, drawdowns, co-highs, divergence.

Plain arithmetic on daily closes and highs; no I/O and no clock. A daily series is a
mapping of day to float (:data:`Series`); it need not be ordered, the functions sort
what they read. Values are expected to be finite (bars are checked when parsed).

Alignment: bitcoin trades every day, the index only on sessions. Returns and the chart
use the days both traded (an inner join), so a Monday's bitcoin return spans the weekend
just as the index's does.

This was pandas code. It is plain Python now because importing pandas (with numpy) costs
the app about 50 MB and half a second, and a few thousand days need no vectors: the
analysis takes about 25 ms. ``tests/feeds/history/test_divergence.py`` keeps pandas as the oracle.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from feeds.model.history import Bar, CoHigh, Divergence

WINDOWS: dict[str, int] = {"3m": 91, "1y": 365, "5y": 1826}
"""Chart windows (calendar days)."""

Series = Mapping[date, float]
"""A daily series: one value per day."""


@dataclass(frozen=True, slots=True)
class Paired:
    """Two series on the same days, ascending.

    Attributes:
        days: The days, ascending, without repeats.
        a: The first series' value on each day.
        b: The second series' value on each day.
    """

    days: tuple[date, ...] = ()
    a: tuple[float, ...] = ()
    b: tuple[float, ...] = ()

    def __len__(self) -> int:
        return len(self.days)

    def take(self, indices: Iterable[int]) -> Paired:
        """The rows at ``indices`` (ascending positions)."""
        idx = list(indices)
        return Paired(
            tuple(self.days[i] for i in idx),
            tuple(self.a[i] for i in idx),
            tuple(self.b[i] for i in idx),
        )


def series(bars: Iterable[Bar], field: str = "close") -> dict[date, float]:
    """One field of ``bars`` as a float series, ascending by day (later duplicates win)."""
    data = {b.day: float(getattr(b, field)) for b in bars}
    return dict(sorted(data.items()))


def aligned(a: Series, b: Series) -> Paired:
    """``a`` and ``b`` on the days both have a value (NaN counts as no value)."""
    days = sorted(a.keys() & b.keys())
    rows = [(d, a[d], b[d]) for d in days]
    rows = [r for r in rows if not (math.isnan(r[1]) or math.isnan(r[2]))]
    return Paired(tuple(r[0] for r in rows), tuple(r[1] for r in rows), tuple(r[2] for r in rows))


def last_days(pair: Paired, days: int, end: date | None = None) -> Paired:
    """The rows of ``pair`` in the last ``days`` calendar days up to ``end`` included
    (default: the last day of ``pair``)."""
    if not pair:
        return pair
    stop = end if end is not None else pair.days[-1]
    lo = bisect.bisect_right(pair.days, stop - timedelta(days=days))
    hi = bisect.bisect_right(pair.days, stop)
    return pair.take(range(lo, hi))


def rebased(a: Series, b: Series, days: int, end: date | None = None) -> Paired:
    """Both series over the last ``days`` calendar days up to ``end``, each rebased to 100
    on the first day both traded in the window."""
    part = last_days(aligned(a, b), days, end)
    if not part:
        return part
    a0, b0 = part.a[0], part.b[0]
    return Paired(
        part.days,
        tuple(x / a0 * 100.0 for x in part.a),
        tuple(x / b0 * 100.0 for x in part.b),
    )


def returns(pair: Paired) -> Paired:
    """Daily returns (fractions) of both series, from each common day to the next; the
    first day has none and is left out."""
    return Paired(
        pair.days[1:],
        tuple(x / p - 1.0 for p, x in zip(pair.a, pair.a[1:], strict=False)),
        tuple(x / p - 1.0 for p, x in zip(pair.b, pair.b[1:], strict=False)),
    )


def _pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson's r, NaN when it is undefined (a side that did not move at all: pandas
    says NaN there too, and :func:`last_value` then falls back to an earlier window)."""
    try:
        return statistics.correlation(x, y)
    except (ValueError, ArithmeticError):  # StatisticsError is a ValueError
        return math.nan


def rolling_correlation(a: Series, b: Series, window: int) -> dict[date, float]:
    """Rolling Pearson correlation of daily returns over ``window`` common days, by the
    window's last day; NaN until a full window is available."""
    rets = returns(aligned(a, b))
    out: dict[date, float] = {}
    for i, day in enumerate(rets.days):
        lo = i + 1 - window
        out[day] = _pearson(rets.a[lo : i + 1], rets.b[lo : i + 1]) if lo >= 0 else math.nan
    return out


def latest_correlation(a: Series, b: Series, window: int) -> float | None:
    """``last_value(rolling_correlation(a, b, window))`` without computing the windows
    that the answer does not need (the app only shows the latest)."""
    rets = returns(aligned(a, b))
    for end in range(len(rets), window - 1, -1):
        r = _pearson(rets.a[end - window : end], rets.b[end - window : end])
        if not math.isnan(r):
            return r if math.isfinite(r) else None
    return None


def last_value(s: Series) -> float | None:
    """The value on the last day of ``s`` that has one (NaN counts as none), if it is
    finite; else None."""
    for day in sorted(s, reverse=True):
        v = s[day]
        if not math.isnan(v):
            return v if math.isfinite(v) else None
    return None


def drawdown_pct(price: float, high: float) -> float:
    """Distance of ``price`` below ``high`` in percent (0 at the high, negative below)."""
    return (price / high - 1.0) * 100.0


def new_high_days(high: Series, warmup_days: int = 365) -> list[date]:
    """Days whose high beat every earlier high in the series.

    The first ``warmup_days`` of a series are skipped: at the start of any data set every
    rise is a "record", which says nothing.
    """
    if not high:
        return []
    # Sorted days, not items: no tuple per day (the analysis runs on thousands of days,
    # and its peak stays in the resident size).
    ordered = sorted(high)
    start = ordered[0] + timedelta(days=warmup_days)
    hits: list[date] = []
    best: float | None = None
    for day in ordered:
        value = high[day]
        if math.isnan(value):
            continue
        if best is not None and value > best and day >= start:
            hits.append(day)
        best = value if best is None else max(best, value)
    return hits


def top(s: Series) -> tuple[float, date] | None:
    """The highest value of ``s`` and its earliest day, or None when ``s`` is empty."""
    best: tuple[float, date] | None = None
    for day in sorted(s):
        value = s[day]
        if not math.isnan(value) and (best is None or value > best[0]):
            best = (value, day)
    return best


def last(s: Series) -> tuple[float, date] | None:
    """The value on the last day of ``s`` and that day, or None when ``s`` is empty."""
    if not s:
        return None
    day = max(s)
    return s[day], day


def co_highs(
    a_days: Sequence[date],
    b_days: Sequence[date],
    within: int,
    a_high: Series | None = None,
    b_high: Series | None = None,
) -> list[CoHigh]:
    """Episodes of new highs in both series within ``within`` days of each other.

    Every pair of record days (one from each side) at most ``within`` days apart is a
    co-high; pairs closer than ``within`` days to the previous pair belong to the same
    episode, which is reported once, by its latest record on each side. Newest first.
    The highs are read from ``a_high`` and ``b_high`` (NaN when not given).
    """
    b_sorted = sorted(b_days)
    pairs: list[tuple[date, date]] = []
    for a in sorted(a_days):
        lo = bisect.bisect_left(b_sorted, a - timedelta(days=within))
        hi = bisect.bisect_right(b_sorted, a + timedelta(days=within))
        pairs.extend((a, b) for b in b_sorted[lo:hi])
    pairs.sort(key=lambda p: min(p))
    episodes: list[list[tuple[date, date]]] = []
    last_end: date | None = None
    for a, b in pairs:
        start, end = min(a, b), max(a, b)
        if episodes and last_end is not None and start <= last_end + timedelta(days=within):
            episodes[-1].append((a, b))
            last_end = max(last_end, end)
        else:
            episodes.append([(a, b)])
            last_end = end
    out = []
    for ep in episodes:
        a_day = max(p[0] for p in ep)
        b_day = max(p[1] for p in ep)
        out.append(CoHigh(a_day, b_day, _value(a_high, a_day), _value(b_high, b_day)))
    out.reverse()
    return out


def _value(s: Series | None, day: date) -> float:
    return math.nan if s is None else float(s.get(day, math.nan))


def divergence(
    a_symbol: str,
    a_dd: float,
    b_symbol: str,
    b_dd: float,
    *,
    threshold_pct: float,
    near_pct: float,
) -> Divergence:
    """Raise the flag when one drawdown is within ``near_pct`` of 0 and the other is below
    ``-threshold_pct`` (drawdowns in percent, <= 0; a new high counts as 0)."""
    gap = a_dd - b_dd
    for lead, lead_dd, lag, lag_dd in (
        (a_symbol, a_dd, b_symbol, b_dd),
        (b_symbol, b_dd, a_symbol, a_dd),
    ):
        if lead_dd >= -near_pct and lag_dd < -threshold_pct:
            return Divergence(True, lead, lag, gap, threshold_pct, near_pct)
    return Divergence(False, None, None, gap, threshold_pct, near_pct)


def downsample(pair: Paired, max_points: int) -> Paired:
    """At most ``max_points`` rows, evenly spaced, always keeping the first and the last."""
    n = len(pair)
    if n <= max_points or max_points < 2:
        return pair
    step = (n - 1) / (max_points - 1)
    return pair.take(sorted({round(i * step) for i in range(max_points)} | {n - 1}))
