"""[alerts] settings, delivery (bell, notify, log, command hook) and the runner."""

from __future__ import annotations

import logging
import shlex
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from feeds.alerts.delivery import Delivery
from feeds.alerts.factory import make_engine, unknown_symbols
from feeds.alerts.format import alert_json, alert_line
from feeds.alerts.runner import AlertsRunner
from feeds.alerts.settings import AlertsSettings
from feeds.btc.state import BtcSlice
from feeds.core.store import Store
from feeds.model.alerts import AlertKind, FiredAlert
from feeds.model.btc import Tick
from feeds.model.core import FeedState, FeedStatus
from tui.config import ConfigError, build

WALL = datetime(2025, 12, 12, 15, 25, 3, tzinfo=UTC)


def alert(message: str = "BTC-USD 84,990.00 crossed below 85,000 (coinbase)") -> FiredAlert:
    return FiredAlert(
        "btc below 85000", AlertKind.BELOW, "BTC-USD", message, "84,990.00", "coinbase",
        False, WALL, 100.0,
    )  # fmt: skip


# -- settings --------------------------------------------------------------------------


def test_defaults_have_no_rules() -> None:
    s = AlertsSettings()
    assert s.rules == () and s.bell and s.notify and s.command == "" and s.cooldown_s == 300
    assert make_engine(s).rules == ()


def test_a_bad_rule_is_a_config_error_naming_file_key_and_rule() -> None:
    path = Path("/etc/lockstep.toml")
    with pytest.raises(ConfigError) as err:
        build(AlertsSettings, {"rules": ["btc above 1", "btc abov 2"]}, path, ("alerts",))
    assert str(err.value) == (
        '/etc/lockstep.toml: [alerts] rules[1] rule "btc abov 2": unknown condition "abov" '
        "(expected: above, below, move, up, down, new_ath, reclaim_ath)"
    )
    with pytest.raises(ConfigError, match=r"\[alerts\] command: cannot be split"):
        build(AlertsSettings, {"command": "notify-send 'oops"}, path, ("alerts",))
    with pytest.raises(ConfigError, match=r"\[alerts\] cooldown_s: must be between"):
        build(AlertsSettings, {"cooldown_s": 100000.0}, path, ("alerts",))
    ok = build(AlertsSettings, {"rules": ["^RUT move 2% in 30m"], "bell": False}, path, ("a",))
    assert ok.rules == ("^RUT move 2% in 30m",) and not ok.bell


def test_unknown_symbols_are_reported() -> None:
    s = AlertsSettings(rules=("btc above 1", "^RUT new_ath", "TSLA below 5", "any new_ath"))
    assert unknown_symbols(s, ["^RUT", "IWM"]) == ("TSLA",)


def test_formats_are_plain_and_labelled() -> None:
    a = alert("BTC-USD \x1b[31m84,990.00\x1b[0m crossed below 85,000")
    line = alert_line(a, demo=True)
    assert line == (
        "2025-12-12T15:25:03Z ALERT (DEMO, simulated) [btc below 85000] "
        "BTC-USD 84,990.00 crossed below 85,000"
    )
    doc = alert_json(alert(), demo=False)
    assert doc["time"] == "2025-12-12T15:25:03Z" and doc["kind"] == "BELOW"
    assert doc["at_start"] is False and doc["value"] == "84,990.00" and doc["demo"] is False


# -- delivery --------------------------------------------------------------------------


def test_bell_once_per_batch_notify_and_log_per_alert(caplog: pytest.LogCaptureFixture) -> None:
    bells: list[int] = []
    shown: list[FiredAlert] = []
    d = Delivery(AlertsSettings(), bell=lambda: bells.append(1), notify=shown.append)
    with caplog.at_level(logging.WARNING, logger="lockstep.alerts"):
        d.deliver([alert("one"), alert("two")])
        d.deliver([])
    assert bells == [1] and [a.message for a in shown] == ["one", "two"]
    assert [r.getMessage()[-3:] for r in caplog.records] == ["one", "two"]
    quiet = Delivery(
        AlertsSettings(bell=False, notify=False), bell=lambda: bells.append(1), notify=shown.append
    )
    quiet.deliver([alert()])
    assert bells == [1] and len(shown) == 2


def test_a_failing_callback_does_not_stop_the_rest() -> None:
    shown: list[FiredAlert] = []

    def broken() -> None:
        raise RuntimeError("no terminal")

    Delivery(AlertsSettings(), bell=broken, notify=shown.append).deliver([alert()])
    assert len(shown) == 1


def hook_script(tmp_path: Path, body: str) -> str:
    script = tmp_path / "hook.py"
    script.write_text(body)
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} --extra"


async def test_hook_gets_arguments_and_json_without_a_shell(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    body = (
        "import json, sys\n"
        f"open({str(out)!r}, 'w').write(json.dumps({{'argv': sys.argv[1:], "
        "'stdin': json.loads(sys.stdin.read())}))\n"
    )
    d = Delivery(AlertsSettings(command=hook_script(tmp_path, body)), demo=True)
    d.deliver([alert("BTC-USD crossed; touch pwned $(id)")])
    await d.aclose(timeout=10)
    got = orjson.loads(out.read_bytes())
    assert got["argv"] == [
        "--extra",
        "lockstep DEMO (simulated): btc below 85000",
        "BTC-USD crossed; touch pwned $(id)",
    ]
    assert got["stdin"]["rule"] == "btc below 85000" and got["stdin"]["demo"] is True
    assert not (tmp_path / "pwned").exists()
    assert d.hooks_run == 1 and d.hook_failures == 0 and d.note == ""


async def test_hook_failures_are_noted(tmp_path: Path) -> None:
    d = Delivery(AlertsSettings(command=hook_script(tmp_path, "import sys; sys.exit(3)")))
    d.deliver([alert()])
    await d.aclose(timeout=10)
    assert d.hook_failures == 1 and "failed with exit status 3" in d.note
    missing = Delivery(AlertsSettings(command=str(tmp_path / "no-such-program")))
    missing.deliver([alert()])
    await missing.aclose(timeout=10)
    assert "could not start" in missing.note and missing.hook_failures == 1


async def test_hook_is_killed_after_its_timeout(tmp_path: Path) -> None:
    body = "import time; time.sleep(30)"
    d = Delivery(AlertsSettings(command=hook_script(tmp_path, body), command_timeout_s=1.0))
    d.deliver([alert()])
    await d.aclose(timeout=10)
    assert d.note.endswith("timed out after 1 s") and d.running == 0


async def test_hooks_are_bounded(tmp_path: Path) -> None:
    body = "import time; time.sleep(30)"
    d = Delivery(AlertsSettings(command=hook_script(tmp_path, body)))
    d.deliver([alert(str(i)) for i in range(6)])
    assert d.running == 4 and d.hooks_skipped == 2 and "busy" in d.note
    await d.aclose(timeout=0.1)
    assert d.running == 0


# -- the runner ------------------------------------------------------------------------


def test_runner_reads_the_store_at_most_once_a_second() -> None:
    s = BtcSlice(stale_after=5.0)
    store = Store([s])
    store.apply(FeedStatus("coinbase", FeedState.LIVE, "", 10.0))
    store.apply(tick(92_100, 10.0))
    settings = AlertsSettings(rules=("btc below 999999", "btc above 92200"))
    runner = AlertsRunner(store, make_engine(settings), Delivery(settings))
    fired = runner.step(10.5, WALL)
    assert [a.rule for a in fired] == ["btc below 999999"] and fired[0].at_start
    store.apply(tick(92_300, 10.6))
    assert runner.step(10.7, WALL) == []  # within the second: not evaluated
    assert [a.rule for a in runner.step(11.5, WALL)] == ["btc above 92200"]
    view = runner.view()
    assert view.fired == 2 and view.alerts[0].rule == "btc above 92200"


def tick(price: int, received: float) -> Tick:
    return Tick(
        "coinbase", Decimal(price), None, None, None, None, None, None, None, None, received
    )
