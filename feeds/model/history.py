"""Daily history and all-time highs, and the views the ATH and divergence panels render."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Bar:
    """One daily OHLC bar. Every price is finite and positive.

    Attributes:
        symbol: Yahoo-style symbol (``"BTC-USD"``, ``"^RUT"``).
        day: The session date (UTC date for BTC, exchange date for the rest).
        open: Opening price.
        high: Session high.
        low: Session low.
        close: Closing price.
        source: Where the bar came from (``"coinbase"``, ``"yahoo"``).
    """

    symbol: str
    day: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class AthRecord:
    """One symbol's all-time highs, intraday and closing, as far as the data reaches.

    Attributes:
        symbol: Yahoo-style symbol.
        high: Intraday all-time high (the highest daily ``high`` or confirmed live print).
        high_day: Date of ``high``.
        high_source: Where ``high`` came from (``"coinbase"``, ``"yahoo"``, ``"live:kraken"``).
        close: Closing all-time high (the highest daily ``close``).
        close_day: Date of ``close``.
        close_source: Where ``close`` came from.
        first_trade: Where the source's history starts (``meta.firstTradeDate`` or the
            oldest stored bar), when known: the high is the high *since* then.
    """

    symbol: str
    high: Decimal
    high_day: date
    high_source: str
    close: Decimal
    close_day: date
    close_source: str
    first_trade: date | None = None


@dataclass(frozen=True, slots=True)
class HistoryBars:
    """Daily bars that reached the history store (a backfill page, or the cache at start-up).

    Attributes:
        source: The feed that produced them (``"coinbase"``, ``"yahoo"``, ``"cache"``).
        symbol: Yahoo-style symbol.
        bars: The bars, oldest first (may be empty when only ``first_trade`` is news).
        first_trade: Where the source's history starts, when it said so.
        received: Monotonic receipt time.
    """

    source: str
    symbol: str
    bars: tuple[Bar, ...]
    first_trade: date | None
    received: float


@dataclass(frozen=True, slots=True)
class DailySeries:
    """One symbol's stored daily highs and closes, as columns: how the divergence pair's
    history reaches the store at start-up. A :class:`Bar` per day (four Decimals, a date)
    costs about five times the memory, and those few thousand days are read at once, so
    their peak would stay in the process's resident size for the rest of the day.

    Attributes:
        source: The feed that read them (``"cache"``).
        symbol: Yahoo-style symbol.
        days: The days, ascending, without repeats.
        high: Each day's high (finite, positive).
        close: Each day's close (finite, positive).
        received: Monotonic receipt time.

    Raises:
        ValueError: Columns of different lengths, days out of order, or a price that is
            not finite and positive (the model's rule for every price).
    """

    source: str
    symbol: str
    days: tuple[date, ...]
    high: tuple[float, ...]
    close: tuple[float, ...]
    received: float

    def __post_init__(self) -> None:
        n = len(self.days)
        if len(self.high) != n or len(self.close) != n:
            raise ValueError("daily series: columns of different lengths")
        if any(b <= a for a, b in zip(self.days, self.days[1:], strict=False)):
            raise ValueError("daily series: days not ascending")
        for column in (self.high, self.close):
            if not all(x > 0 and math.isfinite(x) for x in column):
                raise ValueError("daily series: a price is not finite and positive")


@dataclass(frozen=True, slots=True)
class CachedAth:
    """An all-time high and the last known price, read from the store at start-up.

    Attributes:
        source: Always ``"cache"``.
        symbol: Yahoo-style symbol.
        record: The stored all-time high, if any.
        last_price: The last price persisted, if any.
        last_source: Where ``last_price`` came from.
        last_at: Wall time ``last_price`` was seen (UTC), for its age.
        received: Monotonic time the cache was read.
    """

    source: str
    symbol: str
    record: AthRecord | None
    last_price: Decimal | None
    last_source: str
    last_at: datetime | None
    received: float


@dataclass(frozen=True, slots=True)
class WatchSymbols:
    """The symbols the all-time-high rows follow now, in order: the watchlist changed
    while the app runs (the command palette, a config reload). BTC's row always stays.

    Attributes:
        source: Who changed it (``"watchlist"``).
        symbols: The symbols to follow, in order.
        received: Monotonic time of the change.
    """

    source: str
    symbols: tuple[str, ...]
    received: float


@dataclass(frozen=True, slots=True)
class BackfillProgress:
    """How far a history backfill has got; the panels show it so they never look frozen.

    Attributes:
        source: The backfill feed's source name (``"coinbase"``, ``"yahoo"``).
        symbol: The symbol being filled.
        done: Units whose data was received (pages for paged sources, symbols for
            per-symbol ones); a failed request counts nothing.
        total: Estimated units in all (0 when unknown).
        reached: The oldest (or newest, when catching up) day stored so far.
        finished: True once the backfill is complete for now.
        note: A short plain-words status (``"paging back"``, ``"fallback: yahoo"``,
            ``"waiting for the network (connection refused)"``).
        received: Monotonic time of the event.
        waiting: True while the source gives no answer: nothing is being received, and
            the backfill retries when the network is back.
    """

    source: str
    symbol: str
    done: int
    total: int
    reached: date | None
    finished: bool
    note: str
    received: float
    waiting: bool = False


@dataclass(frozen=True, slots=True)
class AthMark:
    """One symbol's place against its all-time high, as the ATH slice decided it (the
    one owner: other panels show these flags and never work them out themselves).

    Attributes:
        symbol: Yahoo-style symbol.
        distance_pct: The ATH row's price against the confirmed intraday high, percent
            (negative below; positive only for an unconfirmed or outlier print above it).
        at_high: True when the price is at or above the confirmed high and is neither
            waiting for confirmation nor an outlier: the RECORD flag.
        new_ath: True when the confirmed high was set today.
        pending: True for a print above the stored high that the guard has not
            confirmed yet.
        outlier: True for a print the guard judged an outlier.
    """

    symbol: str
    distance_pct: Decimal | None
    at_high: bool
    new_ath: bool
    pending: bool = False
    outlier: bool = False


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


@dataclass(frozen=True, slots=True)
class AthRow:
    """One symbol's line in the ATH panel.

    Attributes:
        symbol: Yahoo-style symbol.
        price: Latest price (live, else cached, else the last stored close).
        price_source: Where ``price`` came from (``"kraken"``, ``"yahoo"``, ``"cache"``).
        price_received: Monotonic receipt time of a live price, for its age.
        price_at: Wall time (UTC) of a cached price or stored close, for its age.
        record: The all-time highs, if known.
        distance_pct: ``price`` against the intraday high, percent (negative below): the
            one distance from the high every panel and rule shows.
        close_distance_pct: ``price`` against the closing high, percent.
        band_level: 0 at or near the high, then one per drawdown band.
        band: The band in words and numbers (``"AT HIGH"``, ``"20-30%"``).
        new_ath: True when the intraday high was set today (a confirmed new high).
        pending: True while a print above the high waits for confirmation.
        outlier: True when the latest print was judged an outlier.
        note: ``"high since 1992"`` when the source's history starts late.
        at_high: True when ``price`` is at or above the confirmed high and neither
            pending nor an outlier (the RECORD flag).
        days_since_high: Whole days from the intraday high's date to ``today`` (0 on the
            day itself, never negative), or None without a record.
    """

    symbol: str
    price: Decimal | None
    price_source: str
    price_received: float | None
    price_at: datetime | None
    record: AthRecord | None
    distance_pct: Decimal | None
    close_distance_pct: Decimal | None
    band_level: int
    band: str
    new_ath: bool
    pending: bool
    outlier: bool
    note: str | None
    at_high: bool = False
    days_since_high: int | None = None

    @property
    def mark(self) -> AthMark:
        """This row's distance and flags, for the panels that show them."""
        return AthMark(
            self.symbol, self.distance_pct, self.at_high, self.new_ath, self.pending, self.outlier
        )


@dataclass(frozen=True, slots=True)
class AthView:
    """Everything the ATH panel shows.

    Attributes:
        rows: One row per symbol, BTC first.
        progress: Backfill progress per source.
        notices: History warnings.
        today: The day ``new_ath`` is judged against.
        marks: Each row's distance and RECORD/NEW ATH flags by symbol, for the quotes
            panel and the BTC line (they show these, never work them out).
    """

    rows: tuple[AthRow, ...]
    progress: tuple[BackfillProgress, ...]
    notices: tuple[str, ...]
    today: date
    marks: MappingProxyType[str, AthMark] = field(default_factory=lambda: MappingProxyType({}))

    def row(self, symbol: str) -> AthRow | None:
        """The row of ``symbol``, if it has one."""
        return next((r for r in self.rows if r.symbol == symbol), None)


@dataclass(frozen=True, slots=True)
class Side:
    """One side of the comparison.

    Attributes:
        symbol: Yahoo-style symbol.
        price: Latest price (live, else the last daily close), if any.
        source: Where ``price`` came from.
        received: Monotonic receipt time of a live price.
        as_of: Day of the last daily close when ``price`` is not live.
        ath: All-time intraday high (the ATH slice's confirmed one), if any.
        ath_day: Date of ``ath``.
        drawdown_pct: Distance below ``ath``, percent (0 at or above it), if known: the
            ATH view's distance, capped at 0.
    """

    symbol: str
    price: float | None
    source: str
    received: float | None
    as_of: date | None
    ath: float | None
    ath_day: date | None
    drawdown_pct: float | None


@dataclass(frozen=True, slots=True)
class DivergenceView:
    """Everything the divergence panel shows.

    Attributes:
        a: The first side (BTC).
        b: The second side (the index).
        window: The chart window (``"3m"``, ``"1y"``, ``"5y"``).
        days: Chart x values (days both traded, downsampled; today last when live).
        a_line: ``a`` rebased to 100 at the window's first day.
        b_line: ``b`` rebased likewise.
        corr30: Latest 30-day correlation of daily returns, if enough history.
        corr90: Latest 90-day correlation, if enough history.
        gap_pp: ``a.drawdown_pct - b.drawdown_pct``, in percentage points.
        flag: The divergence flag (with its thresholds), when both drawdowns are known.
        co_highs: Co-high episodes, newest first.
        within_days: N, the co-high window.
        history_days: Common daily closes available (0 until history arrives).
    """

    a: Side
    b: Side
    window: str
    days: tuple[date, ...]
    a_line: tuple[float, ...]
    b_line: tuple[float, ...]
    corr30: float | None
    corr90: float | None
    gap_pp: float | None
    flag: Divergence | None
    co_highs: tuple[CoHigh, ...]
    within_days: int
    history_days: int
