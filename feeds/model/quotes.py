"""Polled index, ETF and commodity quotes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from feeds.model.core import FeedStatus


class MarketState(StrEnum):
    """The session a quote belongs to, written as a word on screen."""

    PRE = "PRE"
    REGULAR = "OPEN"
    POST = "POST"
    CLOSED = "CLOSED"
    HOLIDAY = "HOLIDAY"


@dataclass(frozen=True, slots=True)
class Quote:
    """One symbol's latest quote from a polled source. ``price`` is finite and positive.

    Attributes:
        source: ``"yahoo"`` or ``"cboe"``.
        symbol: The watchlist symbol (Yahoo form), e.g. ``"^RUT"``.
        name: Display name, sanitised.
        price: Last price.
        prev_close: Previous session close, if known.
        day_high: Session high, if known.
        day_low: Session low, if known.
        year_high: 52-week high, if known.
        currency: ISO currency as the source gives it (``"USD"``; ``"GBp"`` means pence).
        market_state: Session state at ``market_time``.
        is_future: True for futures (``RTY=F`` ...), shown labelled as futures.
        delay_s: The source's stated delay in seconds (0 = real time; Cboe ~900).
        market_time: When the price was set (exchange time, UTC), if known.
        first_trade: Where the source's history starts, if known.
        received: Monotonic receipt time.
        periods: The trading periods the source reported for the current day, if any
            (Yahoo's ``currentTradingPeriod``), so the state can be re-derived as time
            passes without a new poll.
    """

    source: str
    symbol: str
    name: str
    price: Decimal
    prev_close: Decimal | None
    day_high: Decimal | None
    day_low: Decimal | None
    year_high: Decimal | None
    currency: str
    market_state: MarketState
    is_future: bool
    delay_s: int
    market_time: datetime | None
    first_trade: date | None
    received: float
    periods: TradingPeriods | None = None

    @property
    def change(self) -> Decimal | None:
        """Price minus the previous close, if the previous close is known."""
        return None if self.prev_close is None else self.price - self.prev_close

    @property
    def change_pct(self) -> Decimal | None:
        """Change in percent of the previous close, if known."""
        if self.prev_close is None:
            return None
        return (self.price - self.prev_close) * 100 / self.prev_close


@dataclass(frozen=True, slots=True)
class TradingPeriods:
    """One day's sessions as a source reports them (aware UTC, ``start <= end``).

    Attributes:
        pre: Pre-market window, if any.
        regular: Regular session window.
        post: After-hours window, if any.
    """

    pre: tuple[datetime, datetime] | None
    regular: tuple[datetime, datetime]
    post: tuple[datetime, datetime] | None


@dataclass(frozen=True, slots=True)
class QuoteMiss:
    """A symbol a source could not deliver on one poll (HTTP 404, a chart error, a bad
    payload). Not a data event: it has no ``received``, so health does not count it as data.

    Attributes:
        source: ``"yahoo"`` or ``"cboe"``.
        symbol: The watchlist symbol.
        reason: Why, sanitised.
        at: Monotonic time of the failed attempt.
    """

    source: str
    symbol: str
    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class QuoteRow:
    """What the panel shows for one symbol.

    Attributes:
        symbol: Watchlist symbol (Yahoo form).
        name: Display name (from the last quote, else the symbol).
        quote: The value shown: the chosen quote, or the last good one when stale; None
            only before any source has delivered this symbol.
        state: Market state now (re-derived as time passes, not frozen at receipt).
        fallback: True when the value comes from the fallback source.
        stale: True when no source has a fresh value; ``quote`` is the last good one.
        stale_since: Wall time (UTC) the shown value arrived, when stale.
        reason: Why the primary source is not used, or why the row is stale ("" if fine).
        is_future: True for futures rows.
    """

    symbol: str
    name: str
    quote: Quote | None
    state: MarketState
    fallback: bool
    stale: bool
    stale_since: datetime | None
    reason: str
    is_future: bool


@dataclass(frozen=True, slots=True)
class QuotesView:
    """An immutable snapshot of the quotes slice.

    Attributes:
        rows: Watchlist rows, in watchlist order.
        futures: Index-futures rows, shown only while the cash session is not open
            (empty otherwise, or when the switch is off).
        cash_state: The NYSE session now.
        primary: The primary source's last status, if any.
        fallback: The fallback source's last status, if any.
        stale_after: Seconds after which a value counts as stale now.
    """

    rows: tuple[QuoteRow, ...]
    futures: tuple[QuoteRow, ...]
    cash_state: MarketState
    primary: FeedStatus | None
    fallback: FeedStatus | None
    stale_after: float
