"""Store routing: per-type routes are computed once and survive nothing that changes them."""

from __future__ import annotations

from feeds.core.store import Store
from feeds.model import BadMessage, Heartbeat


class Recorder:
    """A slice that records what it was given and reports a change every ``every``."""

    def __init__(self, topic: str, accepts: tuple[type, ...], every: int = 1) -> None:
        self.topic = topic
        self.accepts = accepts
        self.every = every
        self.seen: list[object] = []

    def apply(self, event: object) -> bool:
        self.seen.append(event)
        return len(self.seen) % self.every == 0

    def refresh(self, now: float) -> bool:
        return False


class Beat(Heartbeat):
    """A subclass reaches the slices of its base type."""


def test_routes_by_type_and_subtype_in_slice_order() -> None:
    first = Recorder("a", (Heartbeat,))
    second = Recorder("b", (object,))
    store = Store([first, second])
    store.drain()
    beat, sub, bad = Heartbeat("x", 1.0), Beat("x", 2.0), BadMessage("x", "no")
    for event in (beat, sub, bad):
        store.apply(event)
    assert first.seen == [beat, sub]
    assert second.seen == [beat, sub, bad]
    assert store.applied == 3
    assert store.drain() == {"a", "b"}


def test_only_changed_topics_are_dirty() -> None:
    quiet = Recorder("quiet", (Heartbeat,), every=1000)
    store = Store([quiet])
    store.drain()
    for i in range(999):
        store.apply(Heartbeat("x", float(i)))
    assert store.drain() == frozenset()
    store.apply(Heartbeat("x", 999.0))
    assert store.drain() == {"quiet"}


def test_adding_a_slice_after_events_reroutes_them() -> None:
    old = Recorder("t", (Heartbeat,))
    store = Store([old])
    store.apply(Heartbeat("x", 1.0))  # the route for Heartbeat is now cached
    new = Recorder("t", (Heartbeat,))
    extra = Recorder("u", (Heartbeat,))
    store.add(new)
    store.add(extra)
    store.apply(Heartbeat("x", 2.0))
    assert len(old.seen) == 1
    assert len(new.seen) == 1 and len(extra.seen) == 1
    assert store.slice("t", Recorder) is new
