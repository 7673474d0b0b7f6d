"""The real app in a real pseudo-terminal: signals, hang-ups, TERM and locale
variants, NO_COLOR, and hostile text (reliability.md rows T3-T9, T12 and X1).
Assertions are on the raw bytes the terminal received."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from feeds.core.clock import DEMO_START, ShiftedClock
from feeds.sim.market import MarketThread
from tests.ptyharness import ROOT, PtyApp

pytestmark = pytest.mark.timeout(90)

ALT_SCREEN_OFF = "\x1b[?1049l"
MOUSE_OFF = "\x1b[?1000l"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"LOCKSTEP_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)}


@pytest.fixture
def demo(env: dict[str, str]) -> Iterator[PtyApp]:
    app = PtyApp(["--demo"], env)
    try:
        app.wait_for("via Coinbase")
        yield app
    finally:
        app.kill()


def test_t3_ssh_drop_exits_promptly(demo: PtyApp) -> None:
    demo.hang_up()
    assert demo.wait(4) is not None


def test_t4_hangup_with_sighup_ignored_does_not_spin(env: dict[str, str]) -> None:
    app = PtyApp(["--demo"], env, preexec_ignore_hup=True)
    try:
        app.wait_for("via Coinbase")
        app.hang_up()
        code = app.wait(4)
        if code is None:  # still alive: it must at least be idle, never spinning
            before = app.cpu_seconds()
            time.sleep(3)
            assert app.cpu_seconds() - before < 0.15 * 3
    finally:
        app.kill()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_t5_signals_exit_and_restore_the_terminal(demo: PtyApp, sig: signal.Signals) -> None:
    demo.proc.send_signal(sig)
    assert demo.wait(5) == 0
    time.sleep(0.2)
    tail = demo.text()[-600:]
    assert ALT_SCREEN_OFF in tail
    assert MOUSE_OFF in tail


def test_t12_mouse_input_during_shutdown_leaves_no_reporting_on(demo: PtyApp) -> None:
    demo.send(b"\x1b[<35;10;5M\x1b[<0;10;5M\x1b[<0;10;5m")
    demo.send(b"q")
    demo.send(b"\x1b[<35;11;6M" * 20)
    assert demo.wait(5) == 0
    tail = demo.text()[-600:]
    assert MOUSE_OFF in tail and "Traceback" not in demo.text()


@pytest.mark.parametrize("term", ["dumb", "unknown"])
def test_t6_dumb_terminal_gets_one_plain_line(env: dict[str, str], term: str) -> None:
    app = PtyApp(["--demo"], {**env, "TERM": term})
    try:
        assert app.wait(10) == 2
        time.sleep(0.2)
        out = app.text()
        assert "\x1b" not in out
        assert "snapshot --json" in out
    finally:
        app.kill()


def test_t6_stdout_not_a_tty(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--demo"],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "TERM": "xterm"},
        capture_output=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert b"\x1b" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "extra",
    [
        {"TERM": "linux"},
        {"LANG": "C", "LC_ALL": "C"},
        {"LANG": "en_US.ISO-8859-1", "LC_ALL": "en_US.ISO-8859-1"},
        {"TERM": "screen-256color"},
    ],
    ids=["t7-linux", "t9-C", "t9-latin1", "t10-screen"],
)
def test_t7_t9_t10_terminal_variants_start_and_quit(
    env: dict[str, str], extra: dict[str, str]
) -> None:
    app = PtyApp(["--demo"], {**env, **extra})
    try:
        app.wait_for("DEMO")
        app.wait_for("LIVE")
        app.send(b"q")
        assert app.wait(6) == 0
        assert "Traceback" not in app.text()
    finally:
        app.kill()


_COLOUR_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def colour_params(out: str) -> list[str]:
    bad = []
    for params in _COLOUR_SGR.findall(out):
        parts = params.split(";")
        i = 0
        while i < len(parts):
            p = parts[i]
            if p in ("38", "48"):
                bad.append(params)
                break
            if p.isdigit() and (30 <= int(p) <= 37 or 40 <= int(p) <= 47 or 90 <= int(p) <= 107):
                bad.append(params)
                break
            i += 1
    return bad


def test_t8_no_color_means_no_colour_codes(env: dict[str, str]) -> None:
    app = PtyApp(["--demo"], {**env, "NO_COLOR": "1"})
    try:
        app.wait_for("via Coinbase")
        time.sleep(1.5)
        out = app.text()
        assert colour_params(out) == []
        assert "LIVE" in out  # states still read as words
        app.send(b"q")
        assert app.wait(6) == 0
    finally:
        app.kill()


HOSTILE = [
    "\x1b]0;PWNED\x07",
    "\x1b]52;c;ZXZpbA==\x07",
    "\x1b[2J",
    "\x9b2J",
    "\x1b]8;;http://evil.example\x1b\\",
]


def test_x1_x2_escape_and_markup_injection_never_reach_the_terminal(
    env: dict[str, str], tmp_path: Path
) -> None:
    market = MarketThread(ShiftedClock(DEMO_START))
    endpoints = market.start()
    assert market.market is not None
    yahoo = market.market.extras["yahoo"]
    yahoo.names["^RUT"] = "[@click=app.quit]Russ" + "".join(HOSTILE) + "2000[/ [b]"
    market.market.btc.coinbase.reject_reason = "bad" + "".join(HOSTILE) + "[/ weird"
    market.market.btc.coinbase.set_script(mode="reject_subscribe")
    config = tmp_path / "config.toml"
    config.write_text("[endpoints]\n" + "".join(f'{k} = "{v}"\n' for k, v in endpoints.items()))
    app = PtyApp(["--config", str(config)], env)
    try:
        app.wait_for("[@cl")
        app.wait_for("venue error")
        time.sleep(1.0)
        raw = bytes(app.output)
        for needle in (b"PWNED", b"\x1b]0;", b"\x1b]52;", b"\x1b]8;;http://evil", b"\x9b2J"):
            assert needle not in raw, needle
        # The name column shows the text literally (truncated), never parsed as markup.
        assert app.proc.poll() is None  # no MarkupError crash
        app.send(b"q")
        assert app.wait(6) == 0
    finally:
        app.kill()
        market.stop()
