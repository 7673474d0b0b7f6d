"""The Textual minor version whose private parts lockstep leans on, and the installed one.

Two fast paths use Textual internals: the one-line cell render (:mod:`widgets.cells`) and
the banded compositor (:mod:`tui.partial_render`). Each falls back to Textual's own way
unless the installed Textual is :data:`TESTED_TEXTUAL` (pyproject pins it) and has the
names it uses. One owner for both, so the pin and the check cannot drift apart.
"""

from __future__ import annotations

TESTED_TEXTUAL = (8, 2)
"""The Textual minor version the fast paths are tested against."""


def textual_version() -> tuple[int, ...]:
    """The installed Textual's version as numbers (``(8, 2, 8)``); ``()`` if unknown."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = version("textual")
    except PackageNotFoundError:
        return ()
    numbers: list[int] = []
    for part in text.split(".")[:3]:
        if not part.isdigit():
            break
        numbers.append(int(part))
    return tuple(numbers)
