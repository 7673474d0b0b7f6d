"""Panels sized from their content and priority (as btop does): each panel says how many
rows its headline takes and which detail rows it could add, in order and with a
priority; the dashboard screen deals out the rows a terminal has and tells each panel
how many it got (:meth:`FitPanel.fit`). Headlines always show; detail goes first when
space is short; charts take what is left over.

The plan is recomputed on a resize or when a panel's needs change shape (another
number of rows, meetings or operations), never on a tick."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from textual.containers import Vertical
from textual.message import Message

ALL = 10_000
"""``fit(ALL)``: show everything (a zoomed panel)."""


@dataclass(frozen=True, slots=True)
class Need:
    """The rows a panel wants, inside its border.

    Attributes:
        head: Rows always shown (the headline); 0 when the panel may be left out.
        steps: Detail it can add, in the order it adds them: ``(priority, rows)``; a
            lower priority number is dealt rows first. A step is taken only after the
            panel's earlier steps.
        grow: True when the panel can use any rows left over (a chart).
        grow_max: At most this many rows left over for a panel that grows (None: no
            limit). A chart taller than this tells nothing more (the BTC sparkline was
            36 rows at 250×70).
    """

    head: int
    steps: tuple[tuple[int, int], ...] = ()
    grow: bool = False
    grow_max: int | None = None

    @property
    def full(self) -> int:
        """Every row it has to show (without growing)."""
        return self.head + sum(rows for _, rows in self.steps)


def deal(needs: Sequence[Need], rows: int, border: int) -> list[int | None]:
    """Content rows for each panel of one column of ``rows`` rows, each panel costing
    ``border`` rows of frame; None for a panel left out. Every headline is dealt first
    (even when they overflow: the column then scrolls), then the steps by priority
    (lowest first, panels in order on a tie); the rows left over go to the panels that
    grow, each up to its ``grow_max``, and what they cannot take to the last panel shown
    (its frame stretches: never a band of blank rows outside a panel).
    """
    got: list[int | None] = [n.head if n.head > 0 else None for n in needs]
    left = rows - sum(n.head + border for n in needs if n.head > 0)
    order = sorted(
        ((prio, i, k, size) for i, n in enumerate(needs) for k, (prio, size) in enumerate(n.steps)),
        key=lambda s: (s[0], s[1], s[2]),
    )
    taken = [0] * len(needs)
    for _, i, k, size in order:
        if taken[i] != k:
            continue  # an earlier step of this panel did not fit: nothing after it does
        cost = size + (border if got[i] is None else 0)
        if cost > left:
            continue
        left -= cost
        got[i] = (got[i] or 0) + size
        taken[i] += 1
    room = {i: n.grow_max for i, n in enumerate(needs) if n.grow and got[i] is not None}
    while left > 0 and room:
        # Even shares; a grower that reaches its limit leaves the rest to the others.
        share, extra = divmod(left, len(room))
        for j, i in enumerate(list(room)):
            cap = room[i]
            take = share + (1 if j < extra else 0)
            if cap is not None:
                take = min(take, cap)
                room[i] = cap - take
                if room[i] == 0:
                    del room[i]
            got[i] = (got[i] or 0) + take
            left -= take
        if share == 0 and extra == 0:
            break
    if left > 0:
        shown = [i for i, g in enumerate(got) if g is not None]
        if shown:
            got[shown[-1]] = (got[shown[-1]] or 0) + left
    return got


def wrapped(text: str, width: int) -> int:
    """How many lines ``text`` takes when wrapped at word boundaries to ``width``."""
    if not text:
        return 0
    if width < 1:
        return 1
    return max(1, len(textwrap.wrap(text, width)) or math.ceil(len(text) / width))


class FitPanel(Vertical):
    """A dashboard panel the screen sizes: :meth:`need` says what it wants at a content
    width, :meth:`fit` shows what it was dealt. A panel posts :class:`NeedChanged`
    when its needs change shape (from :meth:`_needs_changed`), so the screen re-plans."""

    class NeedChanged(Message):
        """The panel's needs changed shape: the layout should be planned again."""

    _need_key: object = None
    _dealt: int = ALL

    def need(self, width: int) -> Need:
        """The rows wanted at content ``width`` (override)."""
        return Need(1)

    def fit(self, rows: int) -> None:
        """Show what fits in ``rows`` content rows (override; :data:`ALL` for all)."""
        self._dealt = rows

    def _needs_changed(self, key: object) -> None:
        """Tell the screen when ``key`` (the shape of what the panel shows) changed."""
        if key != self._need_key:
            self._need_key = key
            self.post_message(self.NeedChanged())
