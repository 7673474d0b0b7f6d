"""All-time-high arithmetic and the guard that keeps one bad print from setting one.

Everything here is pure: time comes in as arguments. The guard follows reliability.md
§3.3: flash-crash and fat-finger prints are real trades, so they are shown, but a print
only moves the stored all-time high once it is *confirmed*: a second venue trades within
``confirm_pct`` of it, or prices stay above the old high for ``persist_s`` seconds. A print
more than ``outlier_pct`` away from the recent median (or, with too few recent prints, from
another live venue) is an outlier and never counts.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from feeds.model.history import AthRecord, Bar

KNOWN_INCEPTION: dict[str, int] = {"^DJI": 1896, "^IXIC": 1971, "SI=F": 1933, "GC=F": 1974}
"""Years the real series begin, for series whose record may predate the source's data.
When a source's history starts later, its "all-time" high is only the high since then
(sources.md §C8): ^DJI on Yahoo starts in 1992. Indices whose Yahoo history covers their
whole record era (^RUT, ^GSPC, ^NDX) are left out to keep the panel quiet."""


def ath_from_bars(
    symbol: str, bars: Iterable[Bar], first_trade: date | None = None
) -> AthRecord | None:
    """The intraday and closing highs of ``bars`` (the earliest day wins a tie)."""
    return merge_bars(None, symbol, bars, first_trade)


def merge_bars(
    record: AthRecord | None,
    symbol: str,
    bars: Iterable[Bar],
    first_trade: date | None = None,
) -> AthRecord | None:
    """``record`` raised by any higher high or close in ``bars``.

    ``first_trade`` (or the oldest bar seen, whichever is older) becomes the record's
    history start. Values are compared with ``>``, so NaN could never win; the model
    guarantees finite prices anyway.
    """
    rec = record
    oldest = first_trade
    for b in bars:
        if b.symbol != symbol:
            continue
        if oldest is None or b.day < oldest:
            oldest = b.day
        if rec is None:
            rec = AthRecord(symbol, b.high, b.day, b.source, b.close, b.day, b.source, None)
            continue
        if b.high > rec.high or (b.high == rec.high and b.day < rec.high_day):
            rec = replace(rec, high=b.high, high_day=b.day, high_source=b.source)
        if b.close > rec.close or (b.close == rec.close and b.day < rec.close_day):
            rec = replace(rec, close=b.close, close_day=b.day, close_source=b.source)
    if rec is None:
        return None
    start = rec.first_trade
    # A known record without a start stays without one: a tail of recent bars says
    # nothing about where the history begins.
    if oldest is not None and (start is None and record is None or start and oldest < start):
        start = oldest
    if first_trade is not None:
        start = first_trade if start is None else min(start, first_trade)
    return rec if start == rec.first_trade else replace(rec, first_trade=start)


def raise_high(record: AthRecord, price: Decimal, day: date, source: str) -> AthRecord:
    """``record`` with its intraday high raised to a confirmed live ``price``."""
    if price <= record.high:
        return record
    return replace(record, high=price, high_day=day, high_source=source)


def distance_pct(price: Decimal, high: Decimal) -> Decimal:
    """How far ``price`` is from ``high``, in percent (negative below, e.g. ``-27.0``)."""
    return (price / high - 1) * 100


def days_since(day: date, today: date) -> int:
    """Whole days from ``day`` to ``today`` (0 on the day itself, never negative)."""
    return max(0, (today - day).days)


def parse_bands(text: str) -> tuple[float, ...]:
    """Drawdown band edges from ``"5,10,20,30"``: positive, increasing percentages.

    Raises ValueError naming the problem.
    """
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError("at least one band edge is needed")
    edges = tuple(float(p) for p in parts)
    if any(not 0 < e < 100 for e in edges) or list(edges) != sorted(set(edges)):
        raise ValueError("band edges must be increasing percentages between 0 and 100")
    return edges


def band(distance: Decimal, edges: Sequence[float], near_pct: float) -> tuple[int, str]:
    """The drawdown band of a ``distance`` (percent, <= 0 below the high).

    Returns ``(level, label)``: level 0 is at or near the high, then one level per band;
    the label is words and numbers (``"AT HIGH"``, ``"NEAR"``, ``"5-10%"``, ``">30%"``).
    """
    down = -float(distance)
    if down <= 0:
        return 0, "AT HIGH"
    if down <= near_pct:
        return 0, "NEAR"
    lower = 0.0
    for i, edge in enumerate(edges):
        if down < edge:
            return i + 1, f"{lower:g}-{edge:g}%" if lower else f"<{edge:g}%"
        lower = edge
    return len(edges) + 1, f">{edges[-1]:g}%"


def history_note(symbol: str, first_trade: date | None) -> str | None:
    """``"high since 1992"`` when the source's history starts after the real series did
    (or for continuous futures, whose rolls and late history make "all-time" unreliable)."""
    if first_trade is None:
        return None
    known = KNOWN_INCEPTION.get(symbol)
    if (known is not None and first_trade.year > known) or symbol.endswith("=F"):
        return f"high since {first_trade.year}"
    return None


# -- confirmation --------------------------------------------------------------------


class Verdict(StrEnum):
    """What a live print means for the all-time high."""

    UNKNOWN = "UNKNOWN"
    """No stored high to compare with yet."""
    BELOW = "BELOW"
    """At or below the stored high."""
    OUTLIER = "OUTLIER"
    """Too far from the recent median or the other venue: shown, never counted."""
    PENDING = "PENDING"
    """Above the high, waiting for a second venue or the persistence window."""
    CONFIRMED = "CONFIRMED"
    """Above the high and confirmed: the high moves to :attr:`Decision.value`."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The guard's answer for one print."""

    verdict: Verdict
    value: Decimal | None = None
    """The new high, when confirmed."""
    outlier: bool = False
    """True when the print itself is an outlier (whatever the high)."""


@dataclass(slots=True)
class _Pending:
    since: float
    high: Decimal
    venue: str


@dataclass(slots=True)
class _Symbol:
    recent: deque[tuple[float, Decimal]]
    last: dict[str, tuple[Decimal, float]]
    pending: _Pending | None = None
    ordered: list[Decimal] = field(default_factory=list)
    """The prices in ``recent``, kept sorted so the median is an index, not a sort of up
    to 256 Decimals per print (a burst above the high looks at every print)."""


class AthGuard:
    """Decides which live prints may move an all-time high (reliability.md §3.3, D4)."""

    def __init__(
        self,
        *,
        outlier_pct: float = 10.0,
        confirm_pct: float = 1.0,
        persist_s: float = 60.0,
        fresh_s: float = 30.0,
        median_s: float = 120.0,
        median_min: int = 3,
    ) -> None:
        self.outlier = Decimal(repr(outlier_pct)) / 100
        self.confirm = Decimal(repr(confirm_pct)) / 100
        self.persist_s = persist_s
        self.fresh_s = fresh_s
        self.median_s = median_s
        self.median_min = median_min
        self._symbols: dict[str, _Symbol] = {}

    def observe(
        self, symbol: str, venue: str, price: Decimal, now: float, high: Decimal | None
    ) -> Decision:
        """Judge one print of ``symbol`` from ``venue`` at monotonic ``now`` against the
        stored intraday ``high``."""
        st = self._symbols.get(symbol)
        if st is None:
            st = _Symbol(deque(maxlen=_WINDOW), {})
            self._symbols[symbol] = st
        recent, ordered = st.recent, st.ordered
        while recent and now - recent[0][0] > self.median_s:
            _remove(ordered, recent.popleft()[1])
        others = [p for v, (p, t) in st.last.items() if v != venue and now - t <= self.fresh_s]
        outlier = self._is_outlier(price, ordered, others)
        if len(recent) == recent.maxlen:
            _remove(ordered, recent[0][1])  # the append below pushes it out
        recent.append((now, price))
        insort(ordered, price)
        st.last[venue] = (price, now)
        if high is None:
            return Decision(Verdict.UNKNOWN, outlier=outlier)
        if price <= high:
            st.pending = None
            return Decision(Verdict.OUTLIER if outlier else Verdict.BELOW, outlier=outlier)
        if outlier:
            return Decision(Verdict.OUTLIER, outlier=True)
        if any(abs(price / o - 1) <= self.confirm for o in others):
            st.pending = None
            return Decision(Verdict.CONFIRMED, price)
        if st.pending is None:
            st.pending = _Pending(now, price, venue)
        elif price > st.pending.high:
            st.pending.high = price
        if now - st.pending.since >= self.persist_s:
            value = st.pending.high
            st.pending = None
            return Decision(Verdict.CONFIRMED, value)
        return Decision(Verdict.PENDING)

    def pending_since(self, symbol: str) -> float | None:
        """When the current unconfirmed run above the high began, if there is one."""
        st = self._symbols.get(symbol)
        return None if st is None or st.pending is None else st.pending.since

    def _is_outlier(
        self, price: Decimal, ordered: Sequence[Decimal], others: Sequence[Decimal]
    ) -> bool:
        """``ordered``: the recent window, sorted."""
        n = len(ordered)
        if n >= self.median_min:
            # The median as statistics.median defines it, on data already sorted.
            mid = n // 2
            ref = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
            return abs(price / ref - 1) > self.outlier
        return any(abs(price / o - 1) > self.outlier for o in others)


_WINDOW = 256
"""Recent prints per symbol the outlier median looks at (also bounded by ``median_s``)."""


def _remove(ordered: list[Decimal], value: Decimal) -> None:
    """Take one ``value`` out of the sorted list ``ordered``."""
    del ordered[bisect_left(ordered, value)]
