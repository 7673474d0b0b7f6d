"""The strict TOML configuration."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tui.config import (
    ConfigError,
    Settings,
    check_url,
    data_dir,
    example_toml,
    load_settings,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    settings, used = load_settings(None, env)
    assert used is None or not used.exists()
    assert settings == Settings()


def test_cli_path_beats_env(tmp_path: Path) -> None:
    a = write(tmp_path, "[ui]\nfps = 5\n")
    b = tmp_path / "other.toml"
    b.write_text("[ui]\nfps = 7\n")
    s, used = load_settings(str(a), {"LOCKSTEP_CONFIG": str(b)})
    assert s.ui.fps == 5.0 and used == a
    s, used = load_settings(None, {"LOCKSTEP_CONFIG": str(b)})
    assert s.ui.fps == 7.0 and used == b


def test_full_example_parses_to_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, example_toml())
    tomllib.loads(example_toml())
    settings, _ = load_settings(str(path), {})
    assert settings == Settings()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[ui]\nfsp = 5\n", "[ui] unknown key 'fsp'"),
        ("[nope]\n", "unknown key 'nope'"),
        ("[ui]\nfps = 'fast'\n", "ui.fps: expected a number"),
        ("[ui]\nfps = 100\n", "ui.fps must be between 1 and 30"),
        ("[ui]\nlow_bandwidth = 1\n", "ui.low_bandwidth: expected true or false"),
        ("[btc]\nprimary = 'binance'\n", "btc.primary"),
        ("[btc]\nstale_after = 20.0\n", "stale_after must be above 0 and below reconnect_after"),
        ("[btc]\nmax_attempts_per_minute = 1.5\n", "expected a whole number"),
        ("ui = 3\n", "[ui] must be a table"),
        ("[ui\n", "not valid TOML"),
        ("[endpoints]\ncoinbase_ws = 'ws://example.com/feed'\n", "only allowed to a loopback"),
        ("[endpoints]\nyahoo = 'http://10.0.0.5:8080'\n", "endpoints.yahoo"),
        ("[endpoints]\nkalshi = 'ftp://x'\n", "must start with https://"),
        ("[endpoints]\nfred = 'https://user:pw@fred.example'\n", "must not carry credentials"),
        ("[network]\nca_file = '/nonexistent/ca.pem'\n", "network.ca_file"),
    ],
)
def test_x5_x8_bad_files_name_the_file_the_key_and_the_problem(
    tmp_path: Path, text: str, needle: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(str(path), {})
    assert str(path) in str(err.value)
    assert needle in str(err.value)


def test_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(str(tmp_path / "missing.toml"), {})


def test_loopback_plain_schemes_are_allowed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[endpoints]\ncoinbase_ws = 'ws://127.0.0.1:9000'\nyahoo = 'http://localhost:8000'\n"
        "kraken_ws = 'ws://[::1]:9001'\n",
    )
    s, _ = load_settings(str(path), {})
    assert s.endpoints.coinbase_ws == "ws://127.0.0.1:9000"


def test_check_url() -> None:
    assert check_url("wss://ws.kraken.com/v2", "wss", "ws") is None
    assert check_url("ws://127.3.4.5:1", "wss", "ws") is None
    assert check_url("ws://192.168.1.2:1", "wss", "ws") is not None


def test_data_dir_precedence(tmp_path: Path) -> None:
    path = write(tmp_path, f"[storage]\ndir = '{tmp_path / 'a'}'\n")
    s, _ = load_settings(str(path), {})
    assert data_dir(s, {"LOCKSTEP_DATA_DIR": "/elsewhere"}) == tmp_path / "a"
    assert data_dir(Settings(), {"LOCKSTEP_DATA_DIR": str(tmp_path / "b")}) == tmp_path / "b"
