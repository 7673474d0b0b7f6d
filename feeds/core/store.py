"""The in-memory latest state. Feeds' events go in through :meth:`Store.apply`; the
paint timer takes the changed topics out through :meth:`Store.drain`.

The store arms the paint: :attr:`Store.on_change` is called when the first topic turns
dirty after a drain, so a paint loop can sleep while nothing changes instead of polling
an empty store ten times a second (an idle monitor then wakes only for its clocks).

The store is a pure, synchronous reducer. It is split into *slices*, one per domain
(health, BTC, quotes ...); each slice owns its state, declares which event types it
accepts, and builds an immutable view on demand. Latest value wins: applying a
thousand ticks between two paints costs a thousand cheap updates and one view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar


class Slice(Protocol):
    """One domain's state inside the store."""

    topic: str
    """The name the paint loop uses to find the panel(s) to update."""
    accepts: tuple[type, ...]
    """Event types this slice wants."""

    def apply(self, event: object) -> bool:
        """Take one event; return True if the view changed."""
        ...

    def refresh(self, now: float) -> bool:
        """Re-evaluate time-driven state (staleness, failover); True if it changed."""
        ...


S = TypeVar("S")


class Store:
    """Routes events to slices and remembers which topics changed since the last drain."""

    def __init__(self, slices: Iterable[Slice]) -> None:
        self._slices: dict[str, Slice] = {}
        self._routes: dict[type, list[Slice]] = {}
        self._dirty: set[str] = set()
        self.applied = 0
        """Events applied since start (for the msgs/s readout and benchmarks)."""
        self.on_change: Callable[[], None] | None = None
        """Called when a topic turns dirty while none was (the first change after a
        drain): the paint loop's alarm. Not called again until the next drain."""
        for s in slices:
            self.add(s)

    def add(self, slice_: Slice) -> None:
        """Register a slice (replacing one with the same topic); its topic starts dirty so
        the first paint shows it."""
        old = self._slices.get(slice_.topic)
        if old is not None:
            for kind in old.accepts:
                routed = self._routes.get(kind, [])
                if old in routed:
                    routed.remove(old)
        self._slices[slice_.topic] = slice_
        for kind in slice_.accepts:
            self._routes.setdefault(kind, []).append(slice_)
        self._routes_cache_clear()
        self._mark(slice_.topic)

    def _mark(self, topic: str) -> None:
        """``topic`` changed: remember it, and sound the alarm if it is the first."""
        dirty = self._dirty
        if not dirty:
            dirty.add(topic)
            if self.on_change is not None:
                self.on_change()
        else:
            dirty.add(topic)

    def _routes_cache_clear(self) -> None:
        # Per concrete event type: the (apply, topic) pairs of the slices that take it,
        # bound once so a tick costs no route search and no attribute lookups.
        self._by_type: dict[type, tuple[tuple[Callable[[object], bool], str], ...]] = {}

    def apply(self, event: object) -> None:
        """Apply one event to every slice that accepts its type."""
        self.applied += 1
        kind = type(event)
        targets = self._by_type.get(kind)
        if targets is None:
            targets = self._by_type[kind] = tuple(
                (s.apply, s.topic)
                for k, slices in self._routes.items()
                if issubclass(kind, k)
                for s in slices
            )
        dirty = self._dirty
        for apply, topic in targets:
            if apply(event):
                if dirty:
                    dirty.add(topic)
                else:
                    self._mark(topic)

    def refresh(self, now: float) -> None:
        """Let every slice re-evaluate what depends on time alone. Its changes do not call
        :attr:`on_change`: the caller drains right after (``Runtime.drain``)."""
        for s in self._slices.values():
            if s.refresh(now):
                self._dirty.add(s.topic)

    def drain(self) -> frozenset[str]:
        """The topics changed since the last drain; clears the set."""
        if not self._dirty:
            return frozenset()
        out = frozenset(self._dirty)
        self._dirty.clear()
        return out

    def slice(self, topic: str, kind: type[S]) -> S:
        """The slice registered under ``topic``, checked to be a ``kind``."""
        s = self._slices[topic]
        if not isinstance(s, kind):
            raise TypeError(f"slice {topic!r} is {type(s).__name__}, not {kind.__name__}")
        return s

    def has(self, topic: str) -> bool:
        """True if a slice is registered under ``topic``."""
        return topic in self._slices
