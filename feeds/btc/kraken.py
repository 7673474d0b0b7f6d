"""Kraken WebSocket v2: ``ticker`` for BTC/USD plus ``heartbeat`` (sources.md A3)."""

from __future__ import annotations

from typing import Any

from feeds.btc.parse import Parsed, parse_kraken
from feeds.core.ws import WebSocketFeed

KRAKEN_WS = "wss://ws.kraken.com/v2"


class KrakenTickerFeed(WebSocketFeed):
    """BTC/USD ticks from Kraken v2. Heartbeats come automatically after a subscription;
    Kraken's reconnection guide subscribes to them explicitly anyway, and so do we."""

    source = "kraken"

    def subscriptions(self) -> list[dict[str, Any]]:
        """Ticker (snapshot then updates on every trade) and heartbeat."""
        return [
            {
                "method": "subscribe",
                "params": {"channel": "ticker", "symbol": ["BTC/USD"]},
                "req_id": 1,
            },
            {"method": "subscribe", "params": {"channel": "heartbeat"}, "req_id": 2},
        ]

    def parse(self, msg: object, received: float) -> Parsed:
        """See :func:`feeds.btc.parse.parse_kraken`."""
        return parse_kraken(msg, received)
