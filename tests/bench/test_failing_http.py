"""``failing_http``: the bench's config points every polled endpoint at a closed loopback
port and leaves the websockets on the simulated market (bench/simhost.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.simhost import CLOSED_URL, SimHost, is_ws
from tui.config import Endpoints, load_settings

WS = {"coinbase_ws", "kraken_ws"}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHost]:
    with SimHost() as host:
        yield host


def _endpoints(path: Path) -> Endpoints:
    settings, used = load_settings(str(path), env={})
    assert used == path
    return settings.endpoints


@pytest.mark.parametrize(
    ("url", "expected"),
    [("ws://127.0.0.1:1", True), ("WSS://x", True), ("http://127.0.0.1:1", False), ("", False)],
)
def test_is_ws(url: str, expected: bool) -> None:
    assert is_ws(url) is expected


def test_every_http_endpoint_points_at_the_closed_port(sim: SimHost, tmp_path: Path) -> None:
    got = _endpoints(sim.write_config(tmp_path / "c.toml", failing_http=True))
    for f in dataclasses.fields(Endpoints):
        url = getattr(got, f.name)
        if f.name in WS:
            assert url == sim.endpoints[f.name], f.name
        else:
            assert url == CLOSED_URL, f.name
    assert urlsplit(CLOSED_URL).hostname == "127.0.0.1"


def test_without_the_option_every_endpoint_is_the_market(sim: SimHost, tmp_path: Path) -> None:
    got = _endpoints(sim.write_config(tmp_path / "c.toml"))
    for f in dataclasses.fields(Endpoints):
        url = getattr(got, f.name)
        assert url == sim.endpoints[f.name], f.name
        assert url != CLOSED_URL
        assert urlsplit(url).hostname == "127.0.0.1", f.name


def test_the_option_applies_after_extra_and_spares_websockets(sim: SimHost, tmp_path: Path) -> None:
    extra = {"yahoo": "http://127.0.0.1:1", "kraken_ws": "ws://127.0.0.1:2"}
    got = _endpoints(sim.write_config(tmp_path / "c.toml", extra=extra, failing_http=True))
    assert got.yahoo == CLOSED_URL
    assert got.kraken_ws == "ws://127.0.0.1:2"
    assert got.coinbase_ws == sim.endpoints["coinbase_ws"]
