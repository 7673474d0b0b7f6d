"""BTC against an index: rebasing, rolling correlation, drawdowns, co-highs, divergence.

Pure pandas arithmetic on daily closes and highs; no I/O and no clock. Series are
``pandas.Series`` of floats indexed by normalised ``Timestamp`` days, ascending.

Alignment: bitcoin trades every day, the index only on sessions. Returns and the chart
use the days both traded (an inner join), so a Monday's bitcoin return spans the weekend
just as the index's does.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from feeds.model.history import Bar

if TYPE_CHECKING:
    import pandas as pd

# pandas is imported inside the functions: importing it costs ~0.4 s, and the first paint
# from cache must not wait for it (the analysis runs in a worker thread).

WINDOWS: dict[str, int] = {"3m": 91, "1y": 365, "5y": 1826}
"""Chart windows (calendar days)."""


def series(bars: Iterable[Bar], field: str = "close") -> pd.Series:
    """One field of ``bars`` as a float series indexed by day (later duplicates win)."""
    import pandas as pd

    data = {pd.Timestamp(b.day): float(getattr(b, field)) for b in bars}
    s = pd.Series(data, dtype="float64")
    return s.sort_index()


def aligned(a: pd.Series, b: pd.Series) -> pd.DataFrame:
    """``a`` and ``b`` on the days both have a value (columns ``a`` and ``b``)."""
    import pandas as pd

    df = pd.concat({"a": a, "b": b}, axis=1, join="inner").dropna()
    return df.sort_index()


def rebased(a: pd.Series, b: pd.Series, days: int, end: date | None = None) -> pd.DataFrame:
    """Both series over the last ``days`` calendar days up to ``end``, each rebased to 100
    on the first day both traded in the window."""
    import pandas as pd

    df = aligned(a, b)
    if df.empty:
        return df
    stop = pd.Timestamp(end) if end is not None else df.index[-1]
    df = df[(df.index > stop - pd.Timedelta(days=days)) & (df.index <= stop)]
    if df.empty:
        return df
    return df / df.iloc[0] * 100.0


def rolling_correlation(a: pd.Series, b: pd.Series, window: int) -> pd.Series:
    """Rolling Pearson correlation of daily returns over ``window`` common days."""
    df = aligned(a, b)
    rets = df.pct_change().dropna()
    return rets["a"].rolling(window, min_periods=window).corr(rets["b"])


def last_value(s: pd.Series) -> float | None:
    """The last finite value of ``s``, or None."""
    s = s.dropna()
    if s.empty:
        return None
    v = float(s.iloc[-1])
    return v if math.isfinite(v) else None


def drawdown_pct(price: float, high: float) -> float:
    """Distance of ``price`` below ``high`` in percent (0 at the high, negative below)."""
    return (price / high - 1.0) * 100.0


def new_high_days(high: pd.Series, warmup_days: int = 365) -> list[date]:
    """Days whose high beat every earlier high in the series.

    The first ``warmup_days`` of a series are skipped: at the start of any data set every
    rise is a "record", which says nothing.
    """
    import pandas as pd

    if high.empty:
        return []
    prior = high.cummax().shift(1)
    hits = high[high > prior]
    start = high.index[0] + pd.Timedelta(days=warmup_days)
    return [ts.date() for ts in hits.index if ts >= start]


@dataclass(frozen=True, slots=True)
class CoHigh:
    """One episode in which both series printed a new all-time high within N days.

    Attributes:
        a_day: The last new high of the first series in the episode.
        b_day: The last new high of the second series in the episode.
        a_high: The first series' high on ``a_day``.
        b_high: The second series' high on ``b_day``.
    """

    a_day: date
    b_day: date
    a_high: float
    b_high: float


def co_highs(
    a_days: Sequence[date],
    b_days: Sequence[date],
    within: int,
    a_high: pd.Series | None = None,
    b_high: pd.Series | None = None,
) -> list[CoHigh]:
    """Episodes of new highs in both series within ``within`` days of each other.

    Every pair of record days (one from each side) at most ``within`` days apart is a
    co-high; pairs closer than ``within`` days to the previous pair belong to the same
    episode, which is reported once, by its latest record on each side. Newest first.
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
        out.append(CoHigh(a_day, b_day, _at(a_high, a_day), _at(b_high, b_day)))
    out.reverse()
    return out


def _at(s: pd.Series | None, day: date) -> float:
    import pandas as pd

    if s is None:
        return math.nan
    v = s.get(pd.Timestamp(day))
    return float(v) if v is not None else math.nan


@dataclass(frozen=True, slots=True)
class Divergence:
    """The divergence flag.

    Attributes:
        raised: True when one side is at or near its high and the other is more than
            ``threshold_pct`` below its own.
        leader: The side at its high (symbol), when raised.
        laggard: The side far below its high (symbol), when raised.
        gap_pp: Difference of the two drawdowns in percentage points (a minus b).
        threshold_pct: X: how far below the laggard must be.
        near_pct: How close to its high the leader must be.
    """

    raised: bool
    leader: str | None
    laggard: str | None
    gap_pp: float
    threshold_pct: float
    near_pct: float


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


def downsample(df: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """At most ``max_points`` rows, evenly spaced, always keeping the last row."""
    n = len(df)
    if n <= max_points or max_points < 2:
        return df
    step = (n - 1) / (max_points - 1)
    idx = sorted({round(i * step) for i in range(max_points)} | {n - 1})
    return df.iloc[idx]
