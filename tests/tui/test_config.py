"""The strict TOML configuration."""

from __future__ import annotations

import re
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


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The default path comes from platformdirs, which reads the process environment: a
    # developer's own ~/.config/lockstep/config.toml must not leak into the test.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("LOCKSTEP_CONFIG", raising=False)
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


# -- floors and caps: one range check for every section ----------------------------------


def _sections() -> list[tuple[str, type]]:
    import typing
    from dataclasses import fields

    hints = typing.get_type_hints(Settings)
    return [(f.name, hints[f.name]) for f in fields(Settings)]


def _ranged() -> list[tuple[str, str, float, float]]:
    from tui.config import ranges

    return [
        (section, key, low, high)
        for section, cls in _sections()
        for key, (low, high) in ranges(cls).items()
    ]


DURATION = re.compile(r"interval|_s$|_after|poll|hours|delay|every|backoff|_days$")
"""Names that are an interval or a period: each must have a floor and a cap."""


def test_every_interval_and_period_has_a_range() -> None:
    from dataclasses import fields

    from tui.config import ranges

    missing = [
        f"{section}.{f.name}"
        for section, cls in _sections()
        for f in fields(cls)
        if DURATION.search(f.name) and f.name not in ranges(cls)
    ]
    assert missing == []
    assert len(_ranged()) >= 30


def test_defaults_lie_within_their_ranges() -> None:
    defaults = Settings()
    for section, key, low, high in _ranged():
        assert low <= getattr(getattr(defaults, section), key) <= high, (section, key)


def _value(low: float, as_int: bool) -> str:
    return str(int(low)) if as_int else repr(float(low))


@pytest.mark.parametrize(("section", "key", "low", "high"), _ranged())
def test_below_the_floor_is_an_error_naming_file_and_key_once(
    tmp_path: Path, section: str, key: str, low: float, high: float
) -> None:
    as_int = isinstance(getattr(getattr(Settings(), section), key), int)
    step = 1 if as_int else max(low * 0.5, 0.01)
    path = write(tmp_path, f"[{section}]\n{key} = {_value(low - step, as_int)}\n")
    with pytest.raises(ConfigError) as err:
        load_settings(str(path), {})
    text = str(err.value)
    assert text.count(str(path)) == 1
    assert text.count(key) == 1, text
    assert f"[{section}] [{section}]" not in text and f"{section}.{section}." not in text


@pytest.mark.parametrize(("section", "key", "low", "high"), _ranged())
def test_at_the_floor_and_at_the_cap_is_accepted(
    tmp_path: Path, section: str, key: str, low: float, high: float
) -> None:
    as_int = isinstance(getattr(getattr(Settings(), section), key), int)
    for bound in (low, high):
        path = write(tmp_path, f"[{section}]\n{key} = {_value(bound, as_int)}\n")
        try:
            settings, _ = load_settings(str(path), {})
        except ConfigError as exc:
            # A cross-field rule (btc: stale_after < reconnect_after; backoff_base <=
            # backoff_cap) may refuse one bound with the other keys at their defaults;
            # it must then say so, not the range check.
            assert "must be between" not in str(exc), exc
            continue
        assert getattr(getattr(settings, section), key) == bound


def test_above_the_cap_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[quotes]\ninterval_regular = 3601\n")
    with pytest.raises(ConfigError, match=r"quotes\.interval_regular must be between 5 and 3600"):
        load_settings(str(path), {})


def test_zero_quotes_interval_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "[quotes]\ninterval_regular = 0\n")
    with pytest.raises(ConfigError) as err:
        load_settings(str(path), {})
    assert str(err.value) == (f"{path}: quotes.interval_regular must be between 5 and 3600 (got 0)")


def test_section_errors_name_the_table_once(tmp_path: Path) -> None:
    path = write(tmp_path, "[fed]\nprimary = 'cme'\n")
    with pytest.raises(ConfigError) as err:
        load_settings(str(path), {})
    assert str(err.value).startswith(f"{path}: [fed] primary: must be one of")
