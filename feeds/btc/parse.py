"""Pure parsers: one decoded websocket message in, one model event out.

They never raise: anything unusable comes back as :class:`BadMessage`, anything
well-formed but unused as :class:`Ignored` (venues add message types at will and
clients "are expected to ignore messages they do not support").

The ticker parsers run for every message, thousands of times a second at peak, so they
are written for speed (performance.md B1/B2) without giving up any check: numbers go
through the strict fast path of :mod:`feeds.core.decode`, and fields that mostly repeat from
one message to the next (the 24 h figures, often the price itself) are recognised by
their text and not parsed again (:class:`_Field`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from feeds.core.decode import number, price
from feeds.core.text import clean_text
from feeds.model.btc import Heartbeat, Tick, VenueNotice
from feeds.model.core import BadMessage, Ignored

Parsed = Tick | Heartbeat | VenueNotice | Ignored | BadMessage

_EPOCH_MIN = datetime(2009, 1, 3, tzinfo=UTC)  # the first block
_EPOCH_MAX = datetime(2100, 1, 1, tzinfo=UTC)


def parse_iso_time(value: object) -> datetime | None:
    """An ISO-8601 timestamp with a UTC offset (``2023-03-04T03:37:20.799258Z``) as an
    aware UTC datetime between 2009 and 2100, or None. Up to 9 fractional digits
    (nanoseconds, which some venues send) are truncated to microseconds."""
    if not isinstance(value, str) or not 19 <= len(value) <= 40:
        return None
    try:
        # Python 3.11 reads "Z" and a plain 6-digit fraction itself: the common case.
        t = datetime.fromisoformat(value)
    except ValueError:
        slow = _iso_time_trimmed(value)
        if slow is None:
            return None
        t = slow
    tz = t.tzinfo
    if tz is None:
        return None
    if tz is not UTC:
        t = t.astimezone(UTC)
    return t if _EPOCH_MIN <= t < _EPOCH_MAX else None


def _iso_time_trimmed(value: str) -> datetime | None:
    """The fallback when fromisoformat refuses the text: a fraction longer than 6 digits
    (which some Python builds refuse) is trimmed, and "Z" is spelled "+00:00"."""
    text = value.replace("Z", "+00:00")
    dot = text.find(".")
    if dot != -1:
        end = dot + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        text = text[: min(end, dot + 7)] + text[end:]
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


class _Reject(Exception):
    """Internal: the message is unusable for ``reason``; the parser returns a BadMessage."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Field:
    """One optional numeric field of a venue's ticker, with the last text it parsed.

    Consecutive ticker messages mostly repeat the 24 h open, high and low, and often the
    price, bid and ask: comparing the text with the previous message's costs a fifth of
    validating and converting it again. Only strings are remembered, so JSON ``true``
    can never pass for a remembered ``1``. The memo holds one value, so it is bounded.
    """

    __slots__ = ("key", "nonnegative", "empty_absent", "reason", "_last")

    def __init__(
        self,
        key: str,
        *,
        nonnegative: bool = False,
        empty_absent: bool = True,
        reason: str | None = None,
    ) -> None:
        """``nonnegative``: any finite number >= 0 (a volume) rather than a price.
        ``empty_absent``: an empty string means "not sent" rather than bad.
        ``reason``: the BadMessage text when the value is unusable."""
        self.key = key
        self.nonnegative = nonnegative
        self.empty_absent = empty_absent
        if reason is None:
            reason = f"{key} is not a {'number' if nonnegative else 'finite positive number'}"
        self.reason = reason
        # One tuple, replaced whole, so a reader never pairs one text with another's value.
        self._last: tuple[str, Decimal] | None = None

    def read(self, msg: dict[str, Any]) -> Decimal | None:
        """The field's value, None when absent; raises :class:`_Reject` when malformed."""
        raw = msg.get(self.key)
        if raw is None or (raw == "" and self.empty_absent):
            return None
        last = self._last
        if last is not None and raw.__class__ is str and raw == last[0]:
            return last[1]
        if self.nonnegative:
            value = number(raw)
            if value is None or value < 0:
                raise _Reject(self.reason)
        else:
            value = price(raw)
            if value is None:
                raise _Reject(self.reason)
        if raw.__class__ is str:
            self._last = (raw, value)
        return value

    def require(self, msg: dict[str, Any]) -> Decimal:
        """The field's value; raises :class:`_Reject` when absent or malformed."""
        value = self.read(msg)
        if value is None:
            raise _Reject(self.reason)
        return value


_CB_PRICE = _Field("price", reason="price missing or not a finite positive number")
_CB_BID = _Field("best_bid")
_CB_ASK = _Field("best_ask")
_CB_OPEN = _Field("open_24h")
_CB_HIGH = _Field("high_24h")
_CB_LOW = _Field("low_24h")
_CB_VOLUME = _Field("volume_24h", nonnegative=True)


def parse_coinbase(msg: object, received: float) -> Parsed:
    """Coinbase Exchange ws-feed: ``ticker``, ``heartbeat``, ``subscriptions``, ``error``."""
    source = "coinbase"
    if not isinstance(msg, dict):
        return BadMessage(source, "not a JSON object")
    kind = msg.get("type")
    if kind == "ticker":
        try:
            return _coinbase_ticker(msg, received)
        except _Reject as bad:
            return BadMessage(source, bad.reason)
    if kind == "heartbeat":
        return Heartbeat(source, received)
    if kind == "error":
        reason = clean_text(msg.get("reason") or msg.get("message") or "error", 120)
        return VenueNotice(source, reason, True, received)
    if isinstance(kind, str):
        return Ignored(source, clean_text(kind, 40))
    return BadMessage(source, "message without a type")


def _coinbase_ticker(msg: dict[str, Any], received: float) -> Tick:
    if msg.get("product_id") != "BTC-USD":
        raise _Reject("ticker for another product")
    last = _CB_PRICE.require(msg)
    bid = _CB_BID.read(msg)
    ask = _CB_ASK.read(msg)
    open_24h = _CB_OPEN.read(msg)
    high_24h = _CB_HIGH.read(msg)
    low_24h = _CB_LOW.read(msg)
    volume = _CB_VOLUME.read(msg)
    seq = msg.get("sequence")
    # bool is an int subclass: the exact type check keeps JSON true out.
    if seq is not None and (seq.__class__ is not int or seq < 0):
        raise _Reject("sequence is not an integer")
    raw_time = msg.get("time")
    when = None
    if raw_time is not None:
        when = parse_iso_time(raw_time)
        if when is None:
            raise _Reject("time is not an ISO-8601 UTC timestamp")
    if bid is not None and ask is not None and bid > ask:
        raise _Reject("best bid above best ask")
    # Positional: keyword arguments cost 40 % more on this per-message call.
    return Tick(
        "coinbase", last, bid, ask, open_24h, high_24h, low_24h, volume, when, seq, received
    )


_KR_BID = _Field("bid")
_KR_ASK = _Field("ask")
_KR_HIGH = _Field("high")
_KR_LOW = _Field("low")
_KR_VOLUME = _Field("volume", nonnegative=True, empty_absent=False)


def parse_kraken(msg: object, received: float) -> Parsed:
    """Kraken WebSocket v2: ``ticker``, ``heartbeat``, ``status``, method acks and pongs."""
    source = "kraken"
    if not isinstance(msg, dict):
        return BadMessage(source, "not a JSON object")
    channel = msg.get("channel")
    if channel == "ticker":
        try:
            return _kraken_ticker(msg, received)
        except _Reject as bad:
            return BadMessage(source, bad.reason)
    if channel == "heartbeat":
        return Heartbeat(source, received)
    if channel == "status":
        data = msg.get("data")
        if isinstance(data, list) and data and isinstance(data[0], dict):
            system = clean_text(data[0].get("system", "unknown"), 40)
            return VenueNotice(source, system, False, received)
        return BadMessage(source, "status without data")
    method = msg.get("method")
    if method == "pong":
        return Heartbeat(source, received)
    if method in ("subscribe", "unsubscribe"):
        if msg.get("success") is False:
            reason = clean_text(msg.get("error") or "subscription rejected", 120)
            return VenueNotice(source, reason, True, received)
        return Ignored(source, str(method))
    if isinstance(channel, str):
        return Ignored(source, clean_text(channel, 40))
    if "Error" in msg or "error" in msg:
        reason = clean_text(msg.get("Error") or msg.get("error"), 120)
        return VenueNotice(source, reason, True, received)
    return BadMessage(source, "message without channel or method")


def _kraken_ticker(msg: dict[str, Any], received: float) -> Tick:
    data = msg.get("data")
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        raise _Reject("ticker without data")
    item = data[-1]  # several updates may be batched; the last is the newest
    if not isinstance(item, dict) or item.get("symbol") != "BTC/USD":
        raise _Reject("ticker for another symbol")
    last = price(item.get("last"))
    if last is None:
        raise _Reject("last missing or not a finite positive number")
    bid = _KR_BID.read(item)
    ask = _KR_ASK.read(item)
    high = _KR_HIGH.read(item)
    low = _KR_LOW.read(item)
    change_raw = item.get("change")
    change = number(change_raw) if change_raw is not None else None
    if change_raw is not None and change is None:
        raise _Reject("change is not a number")
    open_24h = last - change if change is not None else None
    if open_24h is not None and open_24h <= 0:
        open_24h = None
    volume = _KR_VOLUME.read(item)
    if bid is not None and ask is not None and bid > ask:
        raise _Reject("bid above ask")
    # UNCONFIRMED: a per-message timestamp in ticker data (sources.md A3); use it if sent.
    when = parse_iso_time(item.get("timestamp")) if "timestamp" in item else None
    return Tick(
        source="kraken",
        price=last,
        bid=bid,
        ask=ask,
        open_24h=open_24h,
        high_24h=high,
        low_24h=low,
        volume_24h=volume,
        exchange_time=when,
        sequence=None,
        received=received,
    )
