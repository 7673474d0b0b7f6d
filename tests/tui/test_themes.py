"""The themes: state colours readable on their own background, $up/$down configurable,
bad colours rejected with the key named."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.color import Color

from tui.config import ConfigError, Settings, UiSettings, load_settings, validate
from tui.themes import DARK, LIGHT, THEMES, next_theme, theme_variables


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio."""

    def lum(c: Color) -> float:
        def ch(v: int) -> float:
            x = v / 255
            return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

        return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b)

    hi, lo = sorted((lum(Color.parse(a)), lum(Color.parse(b))), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("theme", [DARK, LIGHT], ids=["dark", "light"])
def test_state_colours_read_on_the_theme_background(theme: object) -> None:
    t = theme
    assert t.background is not None  # type: ignore[attr-defined]
    bg = t.background  # type: ignore[attr-defined]
    for name in ("success", "error", "warning", "foreground", "primary"):
        colour = getattr(t, name)
        assert contrast(colour, bg) >= 4.5, (name, colour, bg)
    for var in ("up", "down"):
        assert contrast(t.variables[var], bg) >= 4.5  # type: ignore[attr-defined]


def test_up_and_down_colours_are_configurable() -> None:
    base = {"success": "#00ff00", "error": "#ff0000"}
    assert theme_variables(base) == {**base, "up": "#00ff00", "down": "#ff0000"}
    out = theme_variables({**base, "up": "#111111"}, up_color="", down_color="blue")
    assert out["up"] == "#111111" and out["down"] == "blue"
    assert theme_variables(base, up_color="#0000ff")["up"] == "#0000ff"


def test_theme_names_cycle() -> None:
    assert list(THEMES) == ["dark", "light", "ansi"]
    assert next_theme("dark") == "light" and next_theme("ansi") == "dark"
    assert next_theme("nonsense") == "dark"


@pytest.mark.parametrize(
    ("ui", "words"),
    [
        ('theme = "solarized"', "ui.theme must be one of dark, light, ansi"),
        ('up_color = "bright-ish"', "ui.up_color is not a colour"),
        ('down_color = "#12345"', "ui.down_color is not a colour"),
    ],
)
def test_bad_theme_settings_name_the_key(tmp_path: Path, ui: str, words: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[ui]\n{ui}\n")
    with pytest.raises(ConfigError, match=words):
        load_settings(str(path), env={})


def test_good_theme_settings(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[ui]\ntheme = "light"\nup_color = "ansi_bright_blue"\ndown_color = "#b00"\n')
    settings, _ = load_settings(str(path), env={})
    assert settings.ui == UiSettings(theme="light", up_color="ansi_bright_blue", down_color="#b00")
    validate(replace(Settings(), ui=UiSettings(theme="ansi")), "x")
