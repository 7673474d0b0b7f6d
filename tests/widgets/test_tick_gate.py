"""widgets/tick_gate.py: a 1 Hz tick draws again only when what the clock moves reads
differently, or the view is a new one."""

from __future__ import annotations

from widgets.tick_gate import TickGate


def test_the_first_tick_draws_even_with_no_words() -> None:
    assert TickGate().changed(None, ())


def test_a_tick_draws_only_when_the_words_or_the_view_change() -> None:
    gate = TickGate()
    view, other = object(), object()
    steps = [
        (view, ("5s",), True),
        (view, ("5s",), False),  # the same second's words: nothing to draw
        (view, ("10s",), True),
        (other, ("10s",), True),  # a new view (the paint loop's), same words
        (other, ("10s",), False),
    ]
    assert [gate.changed(v, w) for v, w, _ in steps] == [want for _, _, want in steps]


def test_an_equal_but_new_view_draws() -> None:
    # Views are replaced, never mutated: identity says "new data", equality would
    # hide a view rebuilt with the same fields after a staleness change elsewhere.
    gate = TickGate()
    first, rebuilt = tuple(["a"]), tuple(["a"])
    assert first == rebuilt and first is not rebuilt
    assert gate.changed(first, ())
    assert gate.changed(rebuilt, ())
