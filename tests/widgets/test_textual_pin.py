"""One pin for both fast paths that lean on Textual's private parts."""

from __future__ import annotations

from tui.partial_render import banded_compositor_supported
from widgets.cells import FAST_RENDER, fast_render_supported
from widgets.textual_pin import TESTED_TEXTUAL, textual_version


def test_the_installed_textual_is_the_pinned_minor_and_both_fast_paths_are_on() -> None:
    """pyproject pins Textual to :data:`TESTED_TEXTUAL`; an install that drifted would
    silently fall back to the slow paths, so this says so instead."""
    assert textual_version()[:2] == TESTED_TEXTUAL
    assert FAST_RENDER and fast_render_supported() and banded_compositor_supported()


def test_another_minor_turns_both_fast_paths_off() -> None:
    other = (TESTED_TEXTUAL[0], TESTED_TEXTUAL[1] + 1, 0)
    assert not fast_render_supported(other) and not banded_compositor_supported(other)
