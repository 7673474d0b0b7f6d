"""lockstep's colour themes.

"dark" and "light" paint their own background, so each reads the same whatever the
terminal's background is; "ansi" uses the terminal's own 16 colours and background (the
choice for 16-colour terminals and TERM=linux). Rising and falling prices use the ``$up``
and ``$down`` CSS variables, which ``[ui] up_color`` / ``down_color`` override in every
theme. Colour is never the only carrier of a state: every state is also a word.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.theme import Theme

DARK = Theme(
    name="lockstep-dark",
    primary="#58a6ff",
    secondary="#79c0ff",
    accent="#d2a8ff",
    warning="#e3b341",
    error="#ff7b72",
    success="#3fb950",
    foreground="#e6edf3",
    background="#0d1117",
    surface="#161b22",
    panel="#21262d",
    dark=True,
    variables={"up": "#3fb950", "down": "#ff7b72"},
)
"""High contrast on near-black (every text colour is above 4.5:1 against it)."""

LIGHT = Theme(
    name="lockstep-light",
    primary="#0550ae",
    secondary="#0a3069",
    accent="#8250df",
    # Amber and green are the colours that wash out on white: these are the dark shades.
    warning="#9a6700",
    error="#cf222e",
    success="#1a7f37",
    foreground="#1f2328",
    background="#ffffff",
    surface="#f6f8fa",
    panel="#eaeef2",
    dark=False,
    variables={"up": "#1a7f37", "down": "#cf222e"},
)
"""Dark text and saturated, dark state colours on white."""

THEMES: Mapping[str, str] = {"dark": DARK.name, "light": LIGHT.name, "ansi": "ansi-dark"}
"""``[ui] theme`` value -> registered Textual theme name, in the order ``t`` cycles."""

ANSI_DEFAULTS = {"up": "ansi_green", "down": "ansi_red"}
"""Fallbacks when a theme defines neither the variable nor success/error."""


def theme_variables(
    variables: Mapping[str, str], up_color: str = "", down_color: str = ""
) -> dict[str, str]:
    """The CSS variables with ``$up``/``$down`` filled in: the configured colours win,
    then the theme's own, then its success/error colours."""
    out = dict(variables)
    out.setdefault("up", out.get("success", ANSI_DEFAULTS["up"]))
    out.setdefault("down", out.get("error", ANSI_DEFAULTS["down"]))
    if up_color:
        out["up"] = up_color
    if down_color:
        out["down"] = down_color
    return out


def next_theme(current: str) -> str:
    """The ``[ui] theme`` value after ``current`` (``t``)."""
    names = list(THEMES)
    return names[(names.index(current) + 1) % len(names)] if current in names else names[0]
