"""Border titles that cost nothing when they do not change.

In Textual 8 every assignment to ``border_title``/``border_subtitle`` refreshes the whole
widget region, children included, and the text is parsed as markup. A panel that wrote
an age into its subtitle every second re-sent its whole area every second. These
helpers assign only on change, and as plain :class:`Content`, never markup.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

_SUB = "_lockstep_subtitle"
_TITLE = "_lockstep_title"


def set_subtitle(widget: Widget, text: str) -> None:
    """Show ``text`` in the bottom border, if it differs from what is shown."""
    if getattr(widget, _SUB, None) == text:
        return
    setattr(widget, _SUB, text)
    widget.border_subtitle = Content(text)


def set_title(widget: Widget, text: str) -> None:
    """Show ``text`` in the top border, if it differs from what is shown."""
    if getattr(widget, _TITLE, None) == text:
        return
    setattr(widget, _TITLE, text)
    widget.border_title = Content(text)


def subtitle(widget: Widget) -> str:
    """The subtitle last set through :func:`set_subtitle` (plain text)."""
    return str(getattr(widget, _SUB, "") or "")
