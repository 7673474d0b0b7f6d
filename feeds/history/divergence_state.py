"""The divergence slice (topic ``"divergence"``): BTC against an index (default ^RUT).

The heavy part (rebasing, rolling correlations, co-highs) is recomputed only when the
daily history or the chart window changes; a live price only moves the drawdowns, the
flag and the chart's last point, which is cheap arithmetic.

In the app the heavy part runs off the event loop: after applying a batch of drained
events the runtime asks :meth:`DivergenceSlice.needs_analysis`, runs
:meth:`DivergenceSlice.analysis_job` (copied inputs) in a worker thread, and applies the
resulting :class:`DivergenceComputed`, which the slice installs if nothing changed
meanwhile. Without ``background`` (tests, a slice on its own) the analysis is computed
synchronously inside :meth:`DivergenceSlice.view`.

One owner per fact: in the app the slice is given the BTC slice's shown tick
(``btc_shown``) and the ATH slice's view (``ath_view``). Each side's price, all-time high
and drawdown are then the ATH view's (the guarded, Decimal ones): a print the ATH guard
has not confirmed never becomes a high here. The gap and the flag are this slice's alone.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from feeds.core.clock import Clock
from feeds.history import divergence as dv
from feeds.model.btc import Tick
from feeds.model.history import (
    AthRecord,
    CachedAth,
    CoHigh,
    DailySeries,
    DivergenceView,
    HistoryBars,
    Side,
)
from feeds.model.quotes import Quote


@dataclass(frozen=True, slots=True)
class SetChartWindow:
    """User intent: show the chart over ``window`` (``"3m"``, ``"1y"`` or ``"5y"``)."""

    window: str


@dataclass(frozen=True, slots=True)
class DivergenceComputed:
    """A finished analysis for history ``version`` (not a data event: no source)."""

    version: int
    heavy: _Heavy


@dataclass(slots=True)
class _Live:
    price: float | None = None
    reported: float | None = None
    """The price the panel was last told about (a repaint follows a visible move)."""
    source: str = ""
    received: float | None = None
    stored_ath: float | None = None
    stored_ath_day: date | None = None


@dataclass(frozen=True, slots=True)
class _Heavy:
    days: tuple[date, ...]
    a_line: tuple[float, ...]
    b_line: tuple[float, ...]
    a_base: float | None
    b_base: float | None
    corr30: float | None
    corr90: float | None
    co_highs: tuple[CoHigh, ...]
    a_ath: tuple[float, date] | None
    b_ath: tuple[float, date] | None
    a_last: tuple[float, date] | None
    b_last: tuple[float, date] | None
    common: int


_EMPTY = _Heavy((), (), (), None, None, None, None, (), None, None, None, None, 0)


class _Daily:
    """One side's daily highs and closes: the columns read at start-up, kept as machine
    arrays (a date ordinal and two doubles a day: 20 bytes, where a tuple entry per
    column, a ``date`` and two ``float`` objects cost about 100), and the days added since
    (backfill pages: a few), which win over the columns. The arrays are replaced, never
    changed in place, so an analysis may read them from a worker thread."""

    __slots__ = ("close", "days", "extra", "high")

    def __init__(self) -> None:
        self.days: array[int] = array("i")
        """Each day's ``date.toordinal()``, ascending."""
        self.high: array[float] = array("d")
        self.close: array[float] = array("d")
        self.extra: dict[date, tuple[float, float]] = {}

    def put_columns(self, series: DailySeries) -> None:
        """Take a series; its days win over what was there (the latest value wins)."""
        if self.days:
            # A second series (rare): keep the old columns' other days as extra ones.
            old = dict(
                zip(
                    map(date.fromordinal, self.days),
                    zip(self.high, self.close, strict=True),
                    strict=True,
                )
            )
            old.update(self.extra)
            self.extra = old
        self.days = array("i", [d.toordinal() for d in series.days])
        self.high = array("d", series.high)
        self.close = array("d", series.close)
        if self.extra:
            days = set(series.days)
            self.extra = {d: v for d, v in self.extra.items() if d not in days}

    def snapshot(self) -> _Columns:
        """What an analysis reads (the arrays are never changed in place, and the extra
        days are copied: safe in a worker thread)."""
        return _Columns(self.days, self.high, self.close, dict(self.extra))


@dataclass(frozen=True, slots=True)
class _Columns:
    days: array[int]
    high: array[float]
    close: array[float]
    extra: dict[date, tuple[float, float]]

    def series(self, which: int) -> dict[date, float]:
        """The highs (0) or closes (1) by day, the extra days winning (built in the
        analysis, which drops it when done)."""
        values = self.close if which else self.high
        out = dict(zip(map(date.fromordinal, self.days), values, strict=True))
        out.update((d, v[which]) for d, v in self.extra.items())
        return out


@dataclass(frozen=True, slots=True)
class _Inputs:
    a_bars: _Columns
    b_bars: _Columns
    window: str
    within_days: int
    warmup_days: int
    max_points: int


class AthRowLike(Protocol):
    """What the divergence slice reads of an ATH row (``feeds.model.history.AthRow``)."""

    @property
    def price(self) -> Decimal | None: ...
    @property
    def price_source(self) -> str: ...
    @property
    def price_received(self) -> float | None: ...
    @property
    def price_at(self) -> datetime | None: ...
    @property
    def record(self) -> AthRecord | None: ...
    @property
    def distance_pct(self) -> Decimal | None: ...
    @property
    def outlier(self) -> bool: ...


class AthViewLike(Protocol):
    """What the divergence slice reads of the ATH view (``AthView``)."""

    def row(self, symbol: str) -> AthRowLike | None:
        """The row of ``symbol``."""
        ...


class DivergenceSlice:
    """State for the divergence panel.

    ``btc_shown``: the BTC slice's shown tick (only that tick moves side ``a``).
    ``ath_view``: the ATH slice's view function; when given, prices, highs and drawdowns
    are read there and never worked out here."""

    topic = "divergence"
    accepts: tuple[type, ...] = (
        Tick,
        Quote,
        HistoryBars,
        DailySeries,
        CachedAth,
        SetChartWindow,
        DivergenceComputed,
    )

    def __init__(
        self,
        *,
        clock: Clock,
        a_symbol: str = "BTC-USD",
        b_symbol: str = "^RUT",
        within_days: int = 10,
        threshold_pct: float = 20.0,
        near_pct: float = 2.0,
        window: str = "1y",
        warmup_days: int = 365,
        max_points: int = 400,
        background: bool = False,
        btc_shown: Callable[[], Tick | None] | None = None,
        ath_view: Callable[[], AthViewLike] | None = None,
    ) -> None:
        if window not in dv.WINDOWS:
            raise ValueError(f"chart window must be one of {', '.join(dv.WINDOWS)}")
        self.clock = clock
        self.a_symbol, self.b_symbol = a_symbol, b_symbol
        self.within_days = within_days
        self.threshold_pct = threshold_pct
        self.near_pct = near_pct
        self.window = window
        self.warmup_days = warmup_days
        self.max_points = max_points
        self._bars: dict[str, _Daily] = {a_symbol: _Daily(), b_symbol: _Daily()}
        self._live: dict[str, _Live] = {a_symbol: _Live(), b_symbol: _Live()}
        self.background = background
        self.btc_shown = btc_shown
        self.ath_view = ath_view
        self._ath_seen: AthViewLike | None = None
        """The ATH view the cached view was built from (a new one rebuilds it)."""
        self._btc_tick: Tick | None = None
        self._version = 0
        self._heavy: _Heavy | None = None
        self._heavy_version = -1
        self._view: DivergenceView | None = None
        self.recomputes = 0
        """How many times the heavy part ran (for tests and benchmarks)."""

    def apply(self, event: object) -> bool:
        """Take one event; True if the panel changes."""
        if isinstance(event, Tick):
            if self.btc_shown is not None and event is not self.btc_shown():
                return False  # the other venue: not the price on screen
            self._btc_tick = event
            return self._price(self.a_symbol, float(event.price), event.source, event.received)
        if isinstance(event, Quote):
            if event.symbol not in self._live:
                return False
            return self._price(event.symbol, float(event.price), event.source, event.received)
        if isinstance(event, HistoryBars):
            daily = self._bars.get(event.symbol)
            if daily is None or not event.bars:
                return False
            for b in event.bars:
                daily.extra[b.day] = (float(b.high), float(b.close))
            self._stale()
            return True
        if isinstance(event, DailySeries):
            daily = self._bars.get(event.symbol)
            if daily is None or not event.days:
                return False
            daily.put_columns(event)
            self._stale()
            return True
        if isinstance(event, CachedAth):
            live = self._live.get(event.symbol)
            if live is None or event.record is None:
                return False
            hi = float(event.record.high)
            if live.stored_ath is None or hi > live.stored_ath:
                live.stored_ath, live.stored_ath_day = hi, event.record.high_day
                self._view = None
                return True
            return False
        if isinstance(event, SetChartWindow):
            if event.window not in dv.WINDOWS or event.window == self.window:
                return False
            self.window = event.window
            self._stale()
            return True
        if isinstance(event, DivergenceComputed):
            if event.version != self._version:
                return False  # the history moved on; a newer analysis is coming
            self._heavy, self._heavy_version, self._view = event.heavy, event.version, None
            return True
        return False

    def _stale(self) -> None:
        self._version += 1
        self._view = None

    def needs_analysis(self) -> bool:
        """True when the history or the window changed since the last analysis."""
        return self._heavy_version != self._version

    def analysis_job(self) -> tuple[int, Callable[[], _Heavy]]:
        """The current version and a function computing its analysis from copied inputs
        (safe to run in a worker thread while events keep arriving)."""
        inputs = _Inputs(
            self._bars[self.a_symbol].snapshot(),
            self._bars[self.b_symbol].snapshot(),
            self.window,
            self.within_days,
            self.warmup_days,
            self.max_points,
        )
        return self._version, lambda: _analyse(inputs)

    def _price(self, symbol: str, price: float, source: str, received: float) -> bool:
        live = self._live[symbol]
        live.price, live.source, live.received = price, source, received
        self._view = None
        # Repaint only for a visible move since the last repaint, or the first price: a
        # change of the whole units the panel shows (a BTC price of 92,048 must not stay
        # on screen beside the BTC panel's 92,053), or 0.01% of a price under 100.
        # Measured from the last reported price, not the previous tick, so a slow drift
        # of many small ticks still reaches the screen.
        shown = live.reported
        if shown is None or (
            round(price) != round(shown) if shown >= 100 else abs(price - shown) >= shown * 1e-4
        ):
            live.reported = price
            return True
        return False

    def refresh(self, now: float) -> bool:
        """Pick up a change of the shown BTC venue (failover); ages are painted by the
        widget's tick."""
        if self.btc_shown is None:
            return False
        tick = self.btc_shown()
        if tick is self._btc_tick or tick is None:
            return False
        self._btc_tick = tick
        return self._price(self.a_symbol, float(tick.price), tick.source, tick.received)

    def _side(
        self, symbol: str, ath: tuple[float, date] | None, last: tuple[float, date] | None
    ) -> Side:
        if self._ath_seen is not None:
            return _side_from_ath(symbol, self._ath_seen.row(symbol))
        live = self._live[symbol]
        hi, hi_day = ath if ath else (None, None)
        if live.stored_ath is not None and (hi is None or live.stored_ath > hi):
            hi, hi_day = live.stored_ath, live.stored_ath_day
        price: float | None
        if live.price is not None:
            price, source, received, as_of = live.price, live.source, live.received, None
        elif last is not None:
            price, source, received, as_of = last[0], "close", None, last[1]
        else:
            price, source, received, as_of = None, "", None, None
        dd = None
        if price is not None and hi is not None:
            # Without the ATH slice (a slice on its own): a price above the high is at
            # it, and never a new high (only the ATH guard may confirm one).
            dd = min(0.0, dv.drawdown_pct(price, hi))
        return Side(symbol, price, source, received, as_of, hi, hi_day, dd)

    def view(self) -> DivergenceView:
        """An immutable view (the heavy part is reused until the history changes)."""
        if self.btc_shown is not None and self.btc_shown() is not self._btc_tick:
            self.refresh(0.0)  # a failover since the last refresh: show the new venue
        if self.ath_view is not None:
            ath = self.ath_view()  # cached by the ATH slice until it changes
            if ath is not self._ath_seen:
                self._ath_seen, self._view = ath, None
        if self._view is not None:
            return self._view
        if self.needs_analysis() and not self.background:
            _, job = self.analysis_job()
            self._heavy, self._heavy_version = job(), self._version
            self.recomputes += 1
        h = self._heavy or _EMPTY
        a = self._side(self.a_symbol, h.a_ath, h.a_last)
        b = self._side(self.b_symbol, h.b_ath, h.b_last)
        days, a_line, b_line = h.days, h.a_line, h.b_line
        today = self.clock.now().date()
        la = a.price if a.received is not None else None
        lb = b.price if b.received is not None else None
        if days and h.a_base and h.b_base and (la is not None or lb is not None):
            pa = la if la is not None else (h.a_last[0] if h.a_last else math.nan)
            pb = lb if lb is not None else (h.b_last[0] if h.b_last else math.nan)
            point = (pa / h.a_base * 100.0, pb / h.b_base * 100.0)
            if days[-1] >= today:
                days, a_line, b_line = days[:-1], a_line[:-1], b_line[:-1]
            days, a_line, b_line = days + (today,), a_line + (point[0],), b_line + (point[1],)
        gap = flag = None
        if a.drawdown_pct is not None and b.drawdown_pct is not None:
            flag = dv.divergence(
                a.symbol,
                a.drawdown_pct,
                b.symbol,
                b.drawdown_pct,
                threshold_pct=self.threshold_pct,
                near_pct=self.near_pct,
            )
            gap = flag.gap_pp
        self._view = DivergenceView(
            a=a,
            b=b,
            window=self.window,
            days=days,
            a_line=a_line,
            b_line=b_line,
            corr30=h.corr30,
            corr90=h.corr90,
            gap_pp=gap,
            flag=flag,
            co_highs=h.co_highs,
            within_days=self.within_days,
            history_days=h.common,
        )
        return self._view


def _side_from_ath(symbol: str, row: AthRowLike | None) -> Side:
    """A side as the ATH view has it: its price, confirmed high and distance."""
    if row is None:
        return Side(symbol, None, "", None, None, None, None, None)
    rec = row.record
    received = row.price_received
    as_of = row.price_at.date() if received is None and row.price_at is not None else None
    # An outlier print (shown, as the BTC panel shows it) has no drawdown here: a bad
    # print must not put a side "at its high" and raise the flag.
    dist = None if row.outlier else row.distance_pct
    return Side(
        symbol,
        None if row.price is None else float(row.price),
        row.price_source,
        received,
        as_of,
        None if rec is None else float(rec.high),
        None if rec is None else rec.high_day,
        None if dist is None else float(min(dist, Decimal(0))),
    )


def _analyse(inp: _Inputs) -> _Heavy:
    """The heavy part, from copied inputs (runs in a worker thread in the app)."""
    a_hi, a_cl = inp.a_bars.series(0), inp.a_bars.series(1)
    b_hi, b_cl = inp.b_bars.series(0), inp.b_bars.series(1)
    reb = dv.Paired()
    a_base: float | None = None
    b_base: float | None = None
    if a_cl and b_cl:
        end = max(max(a_cl), max(b_cl))
        reb = dv.downsample(dv.rebased(a_cl, b_cl, dv.WINDOWS[inp.window], end), inp.max_points)
    if reb:
        # The chart's live point is rebased on the same closes as the lines.
        a_base, b_base = a_cl[reb.days[0]], b_cl[reb.days[0]]
    co: tuple[CoHigh, ...] = ()
    c30: float | None = None
    c90: float | None = None
    common = len(dv.aligned(a_cl, b_cl))
    if common:
        c30 = dv.latest_correlation(a_cl, b_cl, 30)
        c90 = dv.latest_correlation(a_cl, b_cl, 90)
        co = tuple(
            dv.co_highs(
                dv.new_high_days(a_hi, inp.warmup_days),
                dv.new_high_days(b_hi, inp.warmup_days),
                inp.within_days,
                a_hi,
                b_hi,
            )
        )
    return _Heavy(
        days=reb.days,
        a_line=reb.a,
        b_line=reb.b,
        a_base=a_base,
        b_base=b_base,
        corr30=c30,
        corr90=c90,
        co_highs=co,
        a_ath=dv.top(a_hi),
        b_ath=dv.top(b_hi),
        a_last=dv.last(a_cl),
        b_last=dv.last(b_cl),
        common=common,
    )
