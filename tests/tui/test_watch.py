"""``lockstep watch`` end to end: a real process on the simulated market sees alerts
fire, prints them as plain lines or JSON, logs them, and stops cleanly on SIGTERM.

The processes run ``python -m tui.cli watch`` (the ``lockstep`` entry point); the
configuration errors also go through ``python -m tui.watch``, the standalone form."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).parents[2]
RULES = '["btc below 999999", "divergence above 20", "btc above 999999"]'


def config(tmp_path: Path, rules: str = RULES) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"[alerts]\nrules = {rules}\nbell = false\n")
    return path


def watch(tmp_path: Path, *args: str, entry: str = "cli") -> subprocess.Popen[str]:
    env = {**os.environ, "LOCKSTEP_DATA_DIR": str(tmp_path / "data"), "LOCKSTEP_CONFIG": ""}
    command = ["-m", "tui.cli", "watch"] if entry == "cli" else ["-m", "tui.watch"]
    return subprocess.Popen(
        [sys.executable, *command, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_watch_demo_fires_the_configured_alerts(tmp_path: Path) -> None:
    proc = watch(
        tmp_path,
        *("--demo", "--config", str(config(tmp_path)), "--json", "--count", "2"),
        *("--duration", "40"),
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    docs = [orjson.loads(line) for line in out.splitlines()]
    assert sorted(d["rule"] for d in docs) == ["btc below 999999", "divergence above 20"]
    btc = next(d for d in docs if d["rule"] == "btc below 999999")
    assert btc["at_start"] is True and btc["demo"] is True and btc["kind"] == "BELOW"
    assert btc["subject"] == "BTC-USD" and btc["source"] in ("coinbase", "kraken")
    assert btc["time"].startswith("2025-12-12T15:2")  # the demo's replayed morning
    assert "watching 3 rules on the DEMO simulated market" in err
    log = (tmp_path / "data" / "lockstep.log").read_text()
    assert "ALERT (DEMO, simulated) [btc below 999999] BTC-USD" in log


def test_watch_prints_plain_lines_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = watch(tmp_path, "--demo", "--config", str(config(tmp_path)), "--duration", "60")
    assert proc.stdout is not None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, "no alert within 30 s"
        line = proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert line.startswith("2025-12-12T15:2") and " ALERT (DEMO, simulated) [" in line
    assert "\x1b" not in line + rest and "\a" not in line + rest


def test_watch_once_prints_what_is_true_and_exits(tmp_path: Path) -> None:
    proc = watch(tmp_path, "--demo", "--config", str(config(tmp_path)), "--once", "--timeout", "4")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    # Only what is already true can fire in one evaluation; the divergence rule may or
    # may not have its history yet, the "above" rule is false.
    assert lines and all(line.endswith("(at start)") for line in lines)
    assert any("[btc below 999999] BTC-USD " in line for line in lines)
    assert not any("[btc above 999999]" in line for line in lines)


@pytest.mark.parametrize("entry", ["cli", "module"])
def test_watch_rejects_a_bad_rule_naming_it(tmp_path: Path, entry: str) -> None:
    proc = watch(tmp_path, "--config", str(config(tmp_path, '["btc abov 1"]')), entry=entry)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert 'rules[0] rule "btc abov 1": unknown condition "abov"' in err
    assert str(tmp_path / "config.toml") in err


def test_watch_without_rules_or_with_bad_options_says_so(tmp_path: Path) -> None:
    proc = watch(tmp_path, "--config", str(config(tmp_path, "[]")), "--duration", "1")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "no alert rules" in err
    proc = watch(tmp_path, "--config", str(config(tmp_path)), "--count", "0", entry="module")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "--count must be at least 1" in err
