"""Harness side of :mod:`bench.headless_app`: launch it pinned, read its probes."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import psutil

from bench.common import APP_CORE, ROOT, child_env, percentile, pin


@dataclass(slots=True)
class Headless:
    """A running headless app."""

    config: Path
    data_dir: Path
    poll_url: str = ""
    poll_interval: float = 5.0
    poll_timeout: float = 10.0
    proc: subprocess.Popen[str] | None = None
    ready: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    stderr: str = ""
    _ps: psutil.Process | None = None
    _err_thread: threading.Thread | None = None

    def argv(self) -> list[str]:
        """The child's command line (a subclass runs another child the same way)."""
        argv = [sys.executable, "-m", "bench.headless_app", "--config", str(self.config)]
        if self.poll_url:
            argv += [
                "--poll-url",
                self.poll_url,
                "--poll-interval",
                str(self.poll_interval),
                "--poll-timeout",
                str(self.poll_timeout),
            ]
        return argv

    def start(self, timeout: float = 20.0) -> Self:
        """Launch (pinned to the app core) and wait for the ready line."""
        self.proc = subprocess.Popen(
            self.argv(),
            cwd=ROOT,
            env=child_env(self.data_dir),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        pin(self.proc.pid, APP_CORE)
        self._ps = psutil.Process(self.proc.pid)
        chunks: list[str] = []

        def drain() -> None:
            assert self.proc is not None and self.proc.stderr is not None
            for line in self.proc.stderr:
                if len(chunks) < 2000:
                    chunks.append(line)
            self.stderr = "".join(chunks)

        self._err_thread = threading.Thread(target=drain, daemon=True)
        self._err_thread.start()
        doc = self._read_until("ready", timeout)
        if doc is not None:
            self.ready = doc
            return self
        self.kill()
        raise RuntimeError(f"{self.argv()[2]} did not start: {self.stderr[-2000:]}")

    def _read_until(self, key: str, timeout: float) -> dict[str, Any] | None:
        """The first JSON line from the child's stdout holding ``key`` (other lines are
        skipped), or None at end of output or after ``timeout`` seconds."""
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                return None
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if isinstance(doc, dict) and key in doc:
                return doc
        return None

    def cpu_seconds(self) -> float:
        """User + system CPU so far."""
        if self._ps is None:
            return math.nan
        try:
            t = self._ps.cpu_times()
        except psutil.Error:
            return math.nan
        return float(t.user + t.system)

    def rss(self) -> float:
        """RSS in MB."""
        if self._ps is None:
            return math.nan
        try:
            return float(self._ps.memory_info().rss) / 1e6
        except psutil.Error:
            return math.nan

    def stop(self, timeout: float = 30.0) -> dict[str, Any]:
        """Ask for the results and wait for the exit."""
        assert self.proc is not None and self.proc.stdin is not None
        assert self.proc.stdout is not None
        try:
            self.proc.stdin.write("stop\n")
            self.proc.stdin.flush()
        except OSError:
            pass
        doc = self._read_until("result", timeout)
        if doc is not None:
            self.result = doc["result"]
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        if self._err_thread is not None:
            self._err_thread.join(timeout=5)
        if not self.result:
            raise RuntimeError(f"headless app gave no result: {self.stderr[-2000:]}")
        return self.result

    def kill(self) -> None:
        """Kill it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def drift_stats(result: dict[str, Any], t0: float, t1: float) -> tuple[float, float, float]:
    """Loop-lag probe p50/p99/max (ms) within [t0, t1]."""
    d = [x for t, x in result["drifts"] if t0 <= t <= t1]
    if not d:
        return math.nan, math.nan, math.nan
    return percentile(d, 50), percentile(d, 99), max(d)


def frames_in(result: dict[str, Any], t0: float, t1: float) -> int:
    """Frames painted within [t0, t1]."""
    return sum(1 for t in result["frames"] if t0 <= t <= t1)


def applied_between(result: dict[str, Any], t0: float, t1: float) -> float:
    """Events applied to the store within [t0, t1] (from the probe samples)."""
    s = [row for row in result["samples"] if t0 <= row[0] <= t1]
    if len(s) < 2:
        return math.nan
    return float(s[-1][1] - s[0][1])


def paused_fraction(result: dict[str, Any], t0: float, t1: float) -> float:
    """Share of probe samples that found the websocket reader paused (queue full)."""
    s = [row[4] for row in result["samples"] if t0 <= row[0] <= t1]
    return sum(s) / len(s) if s else math.nan


def counted_between(result: dict[str, Any], t0: float, t1: float, column: int) -> float:
    """Growth of a cumulative probe column (6 = BtcPanel.show, 7 = Static.update)."""
    s = [row for row in result["samples"] if t0 <= row[0] <= t1]
    if len(s) < 2:
        return math.nan
    return float(s[-1][column] - s[0][column])
