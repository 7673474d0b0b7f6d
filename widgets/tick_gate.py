"""The rule every panel's 1 Hz tick follows: draw again only when what the clock moves
reads differently.

Ages go in 5-s steps and countdowns by the minute, so most seconds change nothing that
is shown; a tick that drew anyway cost an idle terminal most of its CPU (issue 17).
"""

from __future__ import annotations

from collections.abc import Hashable


class TickGate:
    """Remembers the view and the clock's words of the last tick that drew."""

    __slots__ = ("_view", "_words")

    def __init__(self) -> None:
        self._view: object = None
        self._words: Hashable = _NEVER

    def changed(self, view: object, words: Hashable) -> bool:
        """True (and remembered) when ``view`` is another object than last time or
        ``words`` read differently: the tick should draw."""
        if view is self._view and words == self._words:
            return False
        self._view, self._words = view, words
        return True


_NEVER = object()
"""No tick has drawn yet: equal to no words."""
