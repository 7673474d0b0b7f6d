"""BTC stream events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Tick:
    """One BTC-USD ticker update from a venue. Prices are finite and positive.

    Attributes:
        source: Venue name (``"coinbase"``, ``"kraken"``).
        price: Last trade price.
        bid: Best bid, if the venue sent one.
        ask: Best ask, if the venue sent one.
        open_24h: Price 24 hours ago (Coinbase sends it; Kraken's is last minus change).
        high_24h: 24-hour high.
        low_24h: 24-hour low.
        volume_24h: 24-hour volume in BTC.
        exchange_time: The venue's own timestamp (UTC), when it sends one.
        sequence: The venue's sequence number, when it sends one.
        received: Monotonic receipt time, for ages and staleness.
    """

    source: str
    price: Decimal
    bid: Decimal | None
    ask: Decimal | None
    open_24h: Decimal | None
    high_24h: Decimal | None
    low_24h: Decimal | None
    volume_24h: Decimal | None
    exchange_time: datetime | None
    sequence: int | None
    received: float


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A keep-alive from a venue: proof the connection carries messages."""

    source: str
    received: float


@dataclass(frozen=True, slots=True)
class VenueNotice:
    """Something a venue says about itself: Kraken's ``status`` (``online``,
    ``maintenance``, ``cancel_only`` ...) or a subscription error.

    Attributes:
        source: Venue name.
        status: The venue's own word, sanitised.
        is_error: True when the venue rejected our request.
        received: Monotonic receipt time.
    """

    source: str
    status: str
    is_error: bool
    received: float
