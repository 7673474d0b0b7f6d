"""The help screen (``?``): every key, the panels' zoom numbers, themes, reload."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.events import Click
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, str], ...] = (
    ("q", "quit"),
    ("r", "poll every source now"),
    ("1-7", "zoom a panel to the full screen; the same number, 0 or Esc returns"),
    ("t", "next theme: dark, light, ansi (the terminal's own colours)"),
    ("R", "reload the config file now (it is also watched: edits apply within ~2 s)"),
    ("ctrl+p", "command palette: add or remove a symbol (saved to the config), themes, zoom"),
    ("w", "divergence chart window 3M / 1Y / 5Y (when the chart has focus: Tab)"),
    ("Tab", "move focus between panels; Enter zooms the focused panel"),
    ("?", "this help; Esc, ? or q closes it"),
)

DEMO_KEYS: tuple[tuple[str, str], ...] = (
    ("c", "cut / restore the simulated Coinbase feed"),
    ("k", "cut / restore the simulated Kraken feed"),
)

NOTES = (
    "Every number carries its source and age; states are words (LIVE, STALE, DOWN ...),",
    "never colour alone. NO_COLOR is honoured. The mouse works too: click a footer key,",
    "double-click a panel to zoom it.",
    "Live from the config file: [ui] (fps, low_bandwidth, theme, up_color, down_color),",
    "[quotes] and [alerts]. Other tables need a restart; lockstep says so when they change.",
)


def help_text(panels: Sequence[tuple[int, str]], demo: bool) -> Content:
    """The help as styled plain text (never markup)."""
    parts: list[Content | str | tuple[str, str]] = [("lockstep keys\n\n", "bold")]
    for key, what in (*KEYS, *(DEMO_KEYS if demo else ())):
        parts += [(f"{key:>7}  ", "bold"), what + "\n"]
    parts += ["\n", ("Zoom\n", "bold")]
    parts += [f"{n:>7}  {name}\n" for n, name in panels]
    parts += ["\n", *(line + "\n" for line in NOTES)]
    return Content.assemble(*parts)


class HelpScreen(ModalScreen[None]):
    """Keys and panel numbers; Esc, ``?``, ``q`` or a click closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: auto; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #help-text { width: auto; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, panels: Sequence[tuple[int, str]], *, demo: bool = False) -> None:
        super().__init__()
        self._text = help_text(panels, demo)

    def compose(self) -> ComposeResult:
        """The help text in a scrollable box (it fits 80×24 with a scroll)."""
        with VerticalScroll():
            yield Static(self._text, id="help-text", markup=False)

    def action_close(self) -> None:
        """Back to the dashboard."""
        self.dismiss()

    def on_click(self, event: Click) -> None:
        """A click anywhere closes the help."""
        self.dismiss()
