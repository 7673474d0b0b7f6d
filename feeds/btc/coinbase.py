"""Coinbase Exchange ws-feed: ``ticker`` + ``heartbeat`` for BTC-USD (sources.md A1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from feeds.btc.parse import Parsed, parse_coinbase
from feeds.core.ws import WebSocketFeed
from feeds.model.btc import Tick

COINBASE_WS = "wss://ws-feed.exchange.coinbase.com"


class CoinbaseTickerFeed(WebSocketFeed):
    """BTC-USD ticks from Coinbase Exchange. The venue drops a connection that does not
    subscribe within 5 s, so the subscription goes out right after the handshake."""

    source = "coinbase"
    _last_seq: int | None = None
    _last_time: datetime | None = None

    def subscriptions(self) -> list[dict[str, Any]]:
        """One subscribe for ticker and heartbeat (the heartbeat keeps quiet books alive)."""
        return [
            {"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["ticker", "heartbeat"]}
        ]

    def parse(self, msg: object, received: float) -> Parsed:
        """See :func:`feeds.btc.parse.parse_coinbase`."""
        return parse_coinbase(msg, received)

    def accept_tick(self, tick: Tick) -> bool:
        """Drop duplicates and out-of-order ticks by sequence. A lower sequence with a
        newer timestamp is taken as a venue-side reset rather than dropped for ever."""
        seq, when = tick.sequence, tick.exchange_time
        older = seq is not None and self._last_seq is not None and seq <= self._last_seq
        if older and (when is None or self._last_time is None or when <= self._last_time):
            return False
        if seq is not None:
            self._last_seq = seq
        if when is not None:
            self._last_time = when
        return True
