"""BTC stream events and the view the BTC panel renders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType

from feeds.model.core import FeedState


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(
        self,
        source: str,
        price: Decimal,
        bid: Decimal | None,
        ask: Decimal | None,
        open_24h: Decimal | None,
        high_24h: Decimal | None,
        low_24h: Decimal | None,
        volume_24h: Decimal | None,
        exchange_time: datetime | None,
        sequence: int | None,
        received: float,
    ) -> None:
        # The generated __init__ of a frozen dataclass assigns each field through
        # object.__setattr__, about 2 µs for these eleven. Parsers build a Tick for every
        # message (performance.md B2: 20,000 a second), and writing through the slot
        # descriptors costs half that. The instance is as frozen as before.
        _set_source(self, source)
        _set_price(self, price)
        _set_bid(self, bid)
        _set_ask(self, ask)
        _set_open_24h(self, open_24h)
        _set_high_24h(self, high_24h)
        _set_low_24h(self, low_24h)
        _set_volume_24h(self, volume_24h)
        _set_exchange_time(self, exchange_time)
        _set_sequence(self, sequence)
        _set_received(self, received)


def _slot_setter(cls: type, name: str) -> Callable[[object, object], None]:
    """The raw setter of slot ``name``, bypassing a frozen class's ``__setattr__``."""
    setter: Callable[[object, object], None] = cls.__dict__[name].__set__
    return setter


(
    _set_source,
    _set_price,
    _set_bid,
    _set_ask,
    _set_open_24h,
    _set_high_24h,
    _set_low_24h,
    _set_volume_24h,
    _set_exchange_time,
    _set_sequence,
    _set_received,
) = (_slot_setter(Tick, f.name) for f in fields(Tick))


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


@dataclass(frozen=True, slots=True)
class VenueView:
    """One venue as the BTC panel sees it."""

    source: str
    state: FeedState
    reason: str
    last: Tick | None
    last_seen: float | None
    notice: str
    """The venue's own status word when it is not ``online`` (Kraken maintenance ...)."""


@dataclass(frozen=True, slots=True)
class BtcView:
    """An immutable picture of BTC for the panel.

    Attributes:
        active: The venue whose price is shown, or None before any data.
        tick: The shown venue's latest tick.
        failover_reason: Why the secondary venue is shown, or "".
        venues: Every venue's state.
        spark: Per-minute closing prices, oldest first (bounded).
        spark_end: Wall time of the last sparkline bucket, if any.
        ticks: Ticks applied so far (all venues).
        stale_after: Silence after which a venue counts as stale, seconds.
        state: The shown venue's effective state (LIVE turns STALE when silent; STALE
            also when no venue is LIVE), as of the last refresh: the one staleness the
            panel, the alert rules and the status bar read.
        fresh: True when ``tick`` is a price the alert rules may use: the shown venue is
            LIVE, heard from within ``stale_after`` and not announcing maintenance.
        lag: The shown tick's feed lag in seconds (wall time at receipt minus the venue's
            ``exchange_time``; negative when the venue's clock is ahead), when known.
        delayed: True when ``lag`` exceeds 2 s (reliability.md W15): shown, marked DELAYED.
        clock_skew: True when the venue's timestamp is more than 60 s after receipt
            (reliability.md D7): such ticks are kept out of the sparkline.
        timing_note: The words the panel shows for the two above (``"DELAYED 3.1s"``,
            ``"clock skew: source time 120 s ahead"``), or "".
    """

    active: str | None
    tick: Tick | None
    failover_reason: str
    venues: MappingProxyType[str, VenueView]
    spark: tuple[float, ...]
    spark_end: datetime | None
    ticks: int
    stale_after: float
    state: FeedState = FeedState.CONNECTING
    fresh: bool = False
    lag: float | None = None
    delayed: bool = False
    clock_skew: bool = False
    timing_note: str = ""
