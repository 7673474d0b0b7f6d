"""What the relay tests share: fast hub settings, the wall clock, a Coinbase tick."""

from __future__ import annotations

from decimal import Decimal

from feeds.core.clock import SystemClock
from feeds.hub.settings import HubSettings
from feeds.model.btc import Tick

SETTINGS = HubSettings(heartbeat_s=0.2, fallback_after=1.0)
"""A heartbeat five times a second: the tests see LIVE, STALE and DOWN quickly."""
CLOCK = SystemClock()


def tick(price: str) -> Tick:
    """A Coinbase tick at ``price`` (no book, no 24 h figures), received now."""
    return Tick(
        "coinbase", Decimal(price), None, None, None, None, None, None, None, None,
        CLOCK.monotonic(),
    )  # fmt: skip
