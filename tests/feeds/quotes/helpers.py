"""Builders shared by the quotes tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from feeds.model.quotes import MarketState, Quote

FRIDAY_1030 = datetime(2025, 12, 12, 15, 30, tzinfo=UTC)


def quote(
    symbol: str = "^GSPC",
    price: str = "6900",
    *,
    source: str = "yahoo",
    received: float = 1000.0,
    prev: str | None = "6886.68",
    year_high: str | None = "6920.34",
    delay_s: int = 0,
    name: str = "S&P 500",
) -> Quote:
    return Quote(
        source=source,
        symbol=symbol,
        name=name,
        price=Decimal(price),
        prev_close=None if prev is None else Decimal(prev),
        day_high=Decimal(price) + 10,
        day_low=Decimal(price) - 10,
        year_high=None if year_high is None else Decimal(year_high),
        currency="USD",
        market_state=MarketState.REGULAR,
        is_future=symbol.endswith("=F"),
        delay_s=delay_s,
        market_time=None,
        first_trade=None,
        received=received,
    )
