"""Daily history and all-time highs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


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
        new_ath: True when the confirmed high was set today (NEW ATH).
    """

    symbol: str
    distance_pct: Decimal | None
    at_high: bool
    new_ath: bool
