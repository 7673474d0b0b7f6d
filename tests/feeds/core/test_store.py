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


class Flipper(Recorder):
    """A slice whose time-driven refresh reports a change."""

    def refresh(self, now: float) -> bool:
        return True


def test_the_first_change_after_a_drain_arms_the_paint_once() -> None:
    a = Recorder("a", (Heartbeat,))
    b = Recorder("b", (Heartbeat,), every=2)
    quiet = Recorder("q", (BadMessage,), every=1000)
    store = Store([a, b, quiet])
    calls: list[int] = []
    store.on_change = lambda: calls.append(store.applied)
    assert store.drain() == {"a", "b", "q"}  # new slices start dirty
    store.apply(BadMessage("x", "no"))  # no change: no alarm
    assert calls == []
    for i in range(5):
        store.apply(Heartbeat("x", float(i)))
    assert calls == [2]  # the first change only, however many follow
    assert store.drain() == {"a", "b"}
    store.apply(Heartbeat("x", 9.0))
    assert calls == [2, 7]  # armed again after the drain
    store.add(Recorder("c", (Heartbeat,)))
    assert calls == [2, 7]  # already dirty: no second alarm
    store.drain()
    store.add(Recorder("d", (Heartbeat,)))
    assert calls == [2, 7, 7]  # a new slice is a change too


def test_refresh_changes_do_not_sound_the_alarm() -> None:
    store = Store([Flipper("f", (Heartbeat,))])
    calls: list[str] = []
    store.on_change = lambda: calls.append("x")
    store.drain()
    store.refresh(1.0)
    assert calls == []  # the caller drains right after refreshing
    assert store.drain() == {"f"}
