"""The health slice's per-message path: data and heartbeats are counted per source in O(1),
and what the status bar shows changes only on status, bad messages and staleness flips."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from feeds.core.health import HealthSlice
from feeds.model import BadMessage, FeedState, FeedStatus, Heartbeat, Tick


def tick(source: str, received: float) -> Tick:
    return Tick(source, Decimal(1), None, None, None, None, None, None, None, None, received)


@dataclass(frozen=True)
class Odd:
    """A data-like event whose fields are not what health expects."""

    source: object
    received: object


class LoudHeartbeat(Heartbeat):
    """A subclass of a heartbeat kind is a heartbeat too."""


def test_data_counts_and_times_per_source() -> None:
    h = HealthSlice({"coinbase": 5.0}, heartbeat_kinds=(Heartbeat,))
    assert h.apply(FeedStatus("coinbase", FeedState.LIVE, "", 1.0)) is True
    for i in range(5):
        assert h.apply(tick("coinbase", 2.0 + i)) is False  # ages repaint on the clock
    assert h.apply(Heartbeat("coinbase", 9.0)) is False
    assert h.apply(LoudHeartbeat("coinbase", 9.5)) is False
    got = h.view()["coinbase"]
    assert (got.messages, got.last_data, got.last_seen) == (5, 6.0, 9.5)


def test_heartbeat_before_any_status_is_kept_for_later() -> None:
    h = HealthSlice({"kraken": 5.0}, heartbeat_kinds=(Heartbeat,))
    h.apply(Heartbeat("kraken", 3.0))
    assert h.view() == {}  # nothing to show until the feed reports a state
    h.apply(FeedStatus("kraken", FeedState.CONNECTING, "opening", 2.0))
    assert h.view()["kraken"].last_seen == 3.0


def test_events_without_a_usable_source_or_time_are_ignored() -> None:
    h = HealthSlice({})
    for event in (Odd(None, 1.0), Odd("x", None), Odd("x", "soon"), Odd(3, 1.0), object()):
        assert h.apply(event) is False
    assert h.view() == {}
    assert h.apply(Odd("x", 2)) is False  # an int time is a time
    h.apply(FeedStatus("x", FeedState.LIVE, "", 1.0))
    assert h.view()["x"].last_data == 2


def test_stale_source_heard_from_again_is_a_visible_change() -> None:
    h = HealthSlice({"coinbase": 5.0}, heartbeat_kinds=(Heartbeat,))
    h.apply(FeedStatus("coinbase", FeedState.LIVE, "", 0.0))
    assert h.refresh(6.0) is True
    assert h.view()["coinbase"].state is FeedState.STALE
    assert h.apply(Heartbeat("coinbase", 6.5)) is True  # STALE goes back to LIVE at once
    assert h.view()["coinbase"].state is FeedState.LIVE
    assert h.apply(Heartbeat("coinbase", 7.0)) is False
    assert h.refresh(7.5) is False


def test_bad_messages_and_status_always_repaint() -> None:
    h = HealthSlice({})
    assert h.apply(BadMessage("kraken", "x")) is True
    assert h.apply(FeedStatus("kraken", FeedState.DOWN, "refused", 1.0)) is True
    assert h.view()["kraken"].bad == 1
