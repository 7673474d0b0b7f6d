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
