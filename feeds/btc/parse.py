"""Pure parsers: one decoded websocket message in, one model event out.

They never raise: anything unusable comes back as :class:`BadMessage`, anything
well-formed but unused as :class:`Ignored` (venues add message types at will and
clients "are expected to ignore messages they do not support").
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from feeds.decode import number, price
from feeds.model.btc import Heartbeat, Tick, VenueNotice
from feeds.model.core import BadMessage, Ignored
from feeds.text import clean_text

Parsed = Tick | Heartbeat | VenueNotice | Ignored | BadMessage

_EPOCH_MIN = datetime(2009, 1, 3, tzinfo=UTC)  # the first block
_EPOCH_MAX = datetime(2100, 1, 1, tzinfo=UTC)


def parse_iso_time(value: object) -> datetime | None:
    """An ISO-8601 UTC timestamp (``2023-03-04T03:37:20.799258Z``), or None."""
    if not isinstance(value, str) or not 19 <= len(value) <= 40:
        return None
    text = value.replace("Z", "+00:00")
    dot = text.find(".")
    if dot != -1:
        end = dot + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        # Python 3.11 accepts at most 6 fractional digits; venues may send 9.
        text = text[: min(end, dot + 7)] + text[end:]
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    if t.tzinfo is None:
        return None
    t = t.astimezone(UTC)
    return t if _EPOCH_MIN <= t < _EPOCH_MAX else None


def _optional_prices(
    source: str, msg: dict[str, Any], keys: tuple[str, ...]
) -> dict[str, Decimal | None] | BadMessage:
    """Each key's price (None when absent or empty); a BadMessage if any is invalid."""
    out: dict[str, Decimal | None] = {}
    for key in keys:
        raw = msg.get(key)
        if raw is None or raw == "":
            out[key] = None
            continue
        value = price(raw)
        if value is None:
            return BadMessage(source, f"{key} is not a finite positive number")
        out[key] = value
    return out


def _book_ok(bid: Decimal | None, ask: Decimal | None) -> bool:
    return bid is None or ask is None or bid <= ask


def parse_coinbase(msg: object, received: float) -> Parsed:
    """Coinbase Exchange ws-feed: ``ticker``, ``heartbeat``, ``subscriptions``, ``error``."""
    source = "coinbase"
    if not isinstance(msg, dict):
        return BadMessage(source, "not a JSON object")
    kind = msg.get("type")
    if kind == "ticker":
        if msg.get("product_id") != "BTC-USD":
            return BadMessage(source, "ticker for another product")
        last = price(msg.get("price"))
        if last is None:
            return BadMessage(source, "price missing or not a finite positive number")
        fields = _optional_prices(
            source, msg, ("best_bid", "best_ask", "open_24h", "high_24h", "low_24h")
        )
        if isinstance(fields, BadMessage):
            return fields
        vol_raw = msg.get("volume_24h")
        volume = number(vol_raw) if vol_raw not in (None, "") else None
        if vol_raw not in (None, "") and (volume is None or volume < 0):
            return BadMessage(source, "volume_24h is not a number")
        seq = msg.get("sequence")
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool) or seq < 0):
            return BadMessage(source, "sequence is not an integer")
        when = None
        if msg.get("time") is not None:
            when = parse_iso_time(msg.get("time"))
            if when is None:
                return BadMessage(source, "time is not an ISO-8601 UTC timestamp")
        bid, ask = fields["best_bid"], fields["best_ask"]
        if not _book_ok(bid, ask):
            return BadMessage(source, "best bid above best ask")
        return Tick(
            source=source,
            price=last,
            bid=bid,
            ask=ask,
            open_24h=fields["open_24h"],
            high_24h=fields["high_24h"],
            low_24h=fields["low_24h"],
            volume_24h=volume,
            exchange_time=when,
            sequence=seq,
            received=received,
        )
    if kind == "heartbeat":
        return Heartbeat(source, received)
    if kind == "error":
        reason = clean_text(msg.get("reason") or msg.get("message") or "error", 120)
        return VenueNotice(source, reason, True, received)
    if isinstance(kind, str):
        return Ignored(source, clean_text(kind, 40))
    return BadMessage(source, "message without a type")


def parse_kraken(msg: object, received: float) -> Parsed:
    """Kraken WebSocket v2: ``ticker``, ``heartbeat``, ``status``, method acks and pongs."""
    source = "kraken"
    if not isinstance(msg, dict):
        return BadMessage(source, "not a JSON object")
    channel = msg.get("channel")
    if channel == "ticker":
        data = msg.get("data")
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            return BadMessage(source, "ticker without data")
        item = data[-1]  # several updates may be batched; the last is the newest
        if item.get("symbol") != "BTC/USD":
            return BadMessage(source, "ticker for another symbol")
        last = price(item.get("last"))
        if last is None:
            return BadMessage(source, "last missing or not a finite positive number")
        fields = _optional_prices(source, item, ("bid", "ask", "high", "low"))
        if isinstance(fields, BadMessage):
            return fields
        change_raw = item.get("change")
        change = number(change_raw) if change_raw is not None else None
        if change_raw is not None and change is None:
            return BadMessage(source, "change is not a number")
        open_24h = last - change if change is not None else None
        if open_24h is not None and open_24h <= 0:
            open_24h = None
        vol_raw = item.get("volume")
        volume = number(vol_raw) if vol_raw is not None else None
        if vol_raw is not None and (volume is None or volume < 0):
            return BadMessage(source, "volume is not a number")
        bid, ask = fields["bid"], fields["ask"]
        if not _book_ok(bid, ask):
            return BadMessage(source, "bid above ask")
        # UNCONFIRMED: a per-message timestamp in ticker data (sources.md A3); use it if sent.
        when = parse_iso_time(item.get("timestamp")) if "timestamp" in item else None
        return Tick(
            source=source,
            price=last,
            bid=bid,
            ask=ask,
            open_24h=open_24h,
            high_24h=fields["high"],
            low_24h=fields["low"],
            volume_24h=volume,
            exchange_time=when,
            sequence=None,
            received=received,
        )
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
