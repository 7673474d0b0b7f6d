"""Fixtures for the browser tests: a real headless Chromium and ``lockstep serve`` run as
the user runs it, on 127.0.0.1 (or 0.0.0.0, reached through 127.0.0.1)."""

from __future__ import annotations

import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from tests.web.cdp import INSTALL, Browser, find_chromium, launch

ROOT = Path(__file__).parents[2]

CHROMIUM = find_chromium()

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason=f"chromium is not installed (`python3 dev.py test` installs it; or run: {INSTALL})",
)
"""The browser tests' mark: skipped, with the command to install it, only when Chromium
cannot be found."""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A fresh headless Chromium for one test."""
    assert CHROMIUM is not None
    b = await launch(CHROMIUM)
    try:
        yield b
    finally:
        await b.close()


def env_for(tmp: Path) -> dict[str, str]:
    """A clean environment: no user config, data in ``tmp``."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "PYTHONPATH": str(ROOT),
        "LOCKSTEP_DATA_DIR": str(tmp / "data"),
        "TEXTUAL_ANIMATIONS": "none",
    }


@dataclass
class Served:
    """A running ``lockstep serve``: its process, the URL it printed, its output."""

    proc: subprocess.Popen[str]
    url: str
    out: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        """The port it listens on."""
        found = re.search(r":(\d+)/", self.url)
        assert found is not None, self.url
        return int(found.group(1))

    @property
    def token(self) -> str | None:
        """The access token in the printed URL."""
        found = re.search(r"[?&]token=([A-Za-z0-9_-]+)", self.url)
        return found.group(1) if found else None

    def local(self, path: str = "/") -> str:
        """``path`` on this server through 127.0.0.1 (whatever address it listens on)."""
        return f"http://127.0.0.1:{self.port}{path}"

    def sessions(self) -> list[psutil.Process]:
        """The session processes (the server's children)."""
        try:
            children: list[psutil.Process] = psutil.Process(self.proc.pid).children()
        except psutil.NoSuchProcess:
            return []
        return children

    def wait_sessions(self, count: int, timeout: float = 30.0) -> list[psutil.Process]:
        """Until exactly ``count`` session processes run (returns them)."""
        deadline = time.monotonic() + timeout
        found = self.sessions()
        while time.monotonic() < deadline and len(found) != count:
            time.sleep(0.1)
            found = self.sessions()
        return found

    def signal(self, sig: signal.Signals, timeout: float = 30.0) -> str:
        """Send ``sig``; wait for the exit; the rest of its output."""
        self.proc.send_signal(sig)
        rest, _ = self.proc.communicate(timeout=timeout)
        self.out.extend(rest.splitlines())
        return rest


def _readline(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline() if ready else ""


@contextmanager
def serving(tmp: Path, *args: str, config: str | None = None) -> Iterator[Served]:
    """``lockstep serve --port 0 ARGS`` until the block ends (then killed if still up,
    with every session process)."""
    tmp.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "tui.cli", "serve", "--port", "0", *args]
    if config is not None:
        path = tmp / "serve.toml"
        path.write_text(config)
        argv += ["--config", str(path)]
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env_for(tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("open http" in x for x in lines):
            line = _readline(proc, 1.0)
            if line:
                lines.append(line.rstrip("\n"))
            elif proc.poll() is not None:
                break
        url_line = next((x for x in lines if "open http" in x), None)
        if url_line is None:
            err = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
            pytest.fail(f"lockstep serve did not start: {lines} {err}")
        url = url_line.split("open ", 1)[1].strip()
        yield Served(proc, url, lines)
    finally:
        leftovers = []
        try:
            leftovers = psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            pass
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
        for child in leftovers:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(leftovers, timeout=10)
