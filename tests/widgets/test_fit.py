"""How a column's rows are dealt to its panels (widgets.fit.deal): table tests."""

from __future__ import annotations

import pytest

from widgets.fit import Need, deal

FRAME = 2


@pytest.mark.parametrize(
    ("needs", "rows", "expected"),
    [
        # Headlines first; steps by priority; a grower takes what is left.
        ([Need(1, ((3, 1), (4, 2)), grow=True), Need(2)], 20, [14, 2]),
        # A grower stops at its limit; the rest stretches the last panel shown.
        ([Need(1, ((3, 1), (4, 2)), grow=True, grow_max=6), Need(2)], 20, [10, 6]),
        # Two growers share; when one is full the other takes the rest.
        ([Need(1, grow=True, grow_max=2), Need(1, grow=True)], 14, [3, 7]),
        ([Need(1, grow=True, grow_max=2), Need(1, grow=True, grow_max=3)], 14, [3, 4 + 3]),
        # A left-out panel (head 0, no step fits) is None and takes nothing; a full
        # grower that is the last panel shown still takes the rest.
        ([Need(3), Need(0, ((5, 10),)), Need(1, grow=True, grow_max=1)], 12, [3, None, 5]),
        # A step that does not fit stops that panel's later steps; no grower: the last
        # panel shown takes what is left.
        ([Need(1, ((2, 5), (1, 1))), Need(1, ((3, 2),))], 10, [1, 5]),
        # Overflowing headlines are all dealt (the column scrolls).
        ([Need(6), Need(6)], 10, [6, 6]),
    ],
)
def test_deal(needs: list[Need], rows: int, expected: list[int | None]) -> None:
    assert deal(needs, rows, FRAME) == expected


def test_every_row_is_dealt_when_growers_are_full() -> None:
    needs = [Need(1, ((4, 2),), grow=True, grow_max=3), Need(2, ((5, 1),)), Need(1)]
    got = deal(needs, 40, FRAME)
    assert sum(g for g in got if g is not None) + FRAME * len(needs) == 40
    assert got[0] == 1 + 2 + 3  # the grower stopped at its limit
