"""The ``[hub]`` table as the config file gives it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.config import ConfigError, load_settings


def test_a_config_file_with_a_missing_ca_file_is_a_configuration_error(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[hub]\nca_file = "/nonexistent/lockstep-ca.pem"\n')
    with pytest.raises(ConfigError, match="ca_file"):
        load_settings(str(cfg))


def test_tick_every_ms_defaults_to_25_and_is_range_checked(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[hub]\ntick_every_ms = 0\n")
    settings, _ = load_settings(str(cfg))
    assert settings.hub.tick_every_ms == 0  # 0: every tick relayed
    cfg.write_text("[hub]\ntick_every_ms = 1001\n")
    with pytest.raises(ConfigError, match="tick_every_ms must be between 0 and 1000"):
        load_settings(str(cfg))
    cfg.write_text("")
    assert load_settings(str(cfg))[0].hub.tick_every_ms == 25


@pytest.mark.parametrize(
    ("given", "env", "configured", "want"),
    [
        ("redis://cli", {"LOCKSTEP_HUB": "redis://env"}, "redis://file", "redis://cli"),
        (None, {"LOCKSTEP_HUB": "redis://env"}, "redis://file", "redis://env"),
        (None, {}, "redis://file", "redis://file"),
        (None, {"LOCKSTEP_HUB": ""}, "", None),
        (None, {}, "", None),
    ],
    ids=["--hub first", "then $LOCKSTEP_HUB", "then [hub] url", "empty is none", "none"],
)
def test_which_hub_a_terminal_uses(
    given: str | None, env: dict[str, str], configured: str, want: str | None
) -> None:
    from tui.config import hub_url

    assert hub_url(given, env, configured) == want
