"""The domain model: frozen, slotted dataclasses that cross from feeds to widgets.

Core and BTC types are re-exported here; panel-specific types live in their own
modules (``feeds.model.quotes``, ``feeds.model.fed`` ...).
"""

from feeds.model.btc import Heartbeat, Tick, VenueNotice
from feeds.model.core import BadMessage, DataEvent, FeedState, FeedStatus, Ignored

__all__ = [
    "BadMessage",
    "DataEvent",
    "FeedState",
    "FeedStatus",
    "Heartbeat",
    "Ignored",
    "Tick",
    "VenueNotice",
]
