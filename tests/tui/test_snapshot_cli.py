"""``lockstep snapshot --json`` end to end against the simulated market, and what the
process leaves behind: no secret anywhere (X6), private files (X7)."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from feeds.core.clock import DEMO_START, ShiftedClock
from feeds.sim.market import MarketThread
from tests.ptyharness import ROOT

CANARY = "SECRET-CANARY-123"
pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def market() -> Iterator[dict[str, str]]:
    thread = MarketThread(ShiftedClock(DEMO_START))
    endpoints = thread.start()
    yield endpoints
    thread.stop()


def run(args: list[str], tmp: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp),
        "PYTHONPATH": str(ROOT),
        "LOCKSTEP_DATA_DIR": str(tmp / "data"),
    }
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def config(tmp: Path, endpoints: dict[str, str]) -> Path:
    path = tmp / "config.toml"
    path.write_text("[endpoints]\n" + "".join(f'{k} = "{v}"\n' for k, v in endpoints.items()))
    return path


def test_snapshot_json_has_every_section_with_source_and_age(
    market: dict[str, str], tmp_path: Path
) -> None:
    done = run(
        ["snapshot", "--json", "--timeout", "20", "--config", str(config(tmp_path, market))],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout, parse_float=Decimal)
    assert doc["schema_version"] == 1
    assert doc["btc"]["source"] in ("coinbase", "kraken")
    # Numbers are JSON numbers: the price arrives as a number with its received digits.
    assert isinstance(doc["btc"]["price"], Decimal | int) and doc["btc"]["price"] > 0
    assert doc["btc"]["age_s"] >= 0
    for name in ("coinbase", "kraken", "yahoo", "kalshi", "nyfed"):
        assert doc["sources"][name]["state"] == "LIVE", (name, doc["sources"][name])
        assert doc["sources"][name]["age_s"] is not None
    rut = next(q for q in doc["quotes"] if q["symbol"] == "^RUT")
    assert rut["source"] == "yahoo" and rut["price"] > 0
    assert "fed_odds" in doc and "tbills" in doc and "history" in doc


def test_snapshot_with_no_source_answering_fails_clearly(tmp_path: Path) -> None:
    dead = {
        k: ("ws://127.0.0.1:9" if k.endswith("_ws") else "http://127.0.0.1:9")
        for k in [
            "coinbase_ws",
            "kraken_ws",
            "coinbase_rest",
            "yahoo",
            "cboe",
            "kalshi",
            "polymarket",
            "nyfed",
            "nyfed_web",
            "fred",
        ]
    }
    done = run(
        ["snapshot", "--json", "--timeout", "2", "--config", str(config(tmp_path, dead))], tmp_path
    )
    assert done.returncode == 1
    assert "no source answered" in done.stderr
    assert json.loads(done.stdout)["btc"] is None


def test_x6_x7_no_secret_leaks_and_files_are_private(
    market: dict[str, str], tmp_path: Path
) -> None:
    endpoints = dict(market)
    endpoints["coinbase_ws"] = market["coinbase_ws"] + "/" + CANARY
    endpoints["kraken_ws"] = "ws://127.0.0.1:9/" + CANARY  # refused: errors get logged
    endpoints["kalshi"] = "http://127.0.0.1:9/" + CANARY
    endpoints["fred"] = market["fred"] + "/" + CANARY + "?token=" + CANARY
    done = run(
        ["snapshot", "--json", "--timeout", "6", "--config", str(config(tmp_path, endpoints))],
        tmp_path,
    )
    assert CANARY not in done.stdout + done.stderr
    data = tmp_path / "data"
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name == "lockstep.log" for p in files)
    for path in files:
        assert CANARY.encode() not in path.read_bytes(), path
        if path.name in ("lockstep.log", "history.sqlite3"):
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
