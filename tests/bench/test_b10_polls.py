"""B10 measures its slow links with polls landing in the window (issue 17): the config
takes every polled source at its shortest interval, and the simulated market's request
log counts the polls answered in a window."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from bench.simhost import SHORTEST_POLLS, SimHost
from tui.config import load_settings


def test_the_shortest_polls_are_the_configs_floors(tmp_path: Path) -> None:
    # Below a floor the config refuses to load, so these are the shortest intervals.
    with SimHost() as sim:
        path = sim.write_config(tmp_path / "c.toml", tables=SHORTEST_POLLS)
    settings, _ = load_settings(str(path), env={})
    assert settings.quotes.interval_regular == 5.0
    assert settings.fed.kalshi_interval == 5.0
    assert settings.tbills.active_poll_s == 15.0


def test_requests_between_counts_the_polls_in_a_window() -> None:
    with SimHost() as sim:
        t0 = time.monotonic()
        url = sim.endpoints["kalshi"]
        for _ in range(3):
            httpx.get(f"{url}/trade-api/v2/events?series_ticker=KXFED", timeout=5)
        t1 = time.monotonic()
        counted = sim.requests_between(t0, t1)
        assert counted["kalshi"] == 3
        assert sum(counted.values()) == 3
        assert sum(sim.requests_between(t1 + 1, t1 + 2).values()) == 0
