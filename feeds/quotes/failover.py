"""Which symbols Yahoo failed on, shared by the Yahoo feed (writer) and the Cboe feed
(reader), so the fallback source is asked only while it is needed (sources.md §H: use
undocumented endpoints sparingly)."""

from __future__ import annotations

from collections.abc import Callable, Iterable


class FailoverGate:
    """The set of symbols the primary source could not deliver on its last attempt."""

    def __init__(self) -> None:
        self._failing: set[str] = set()
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever a symbol starts failing (the fallback wakes up)."""
        self._listeners.append(listener)

    def report(self, ok: Iterable[str], failed: Iterable[str]) -> None:
        """Record one attempt's outcome per symbol."""
        before = set(self._failing)
        self._failing.difference_update(ok)
        self._failing.update(failed)
        if self._failing - before:
            for listener in self._listeners:
                listener()

    def failing(self) -> frozenset[str]:
        """Symbols that need the fallback now."""
        return frozenset(self._failing)
