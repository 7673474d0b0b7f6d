"""Run lockstep in a real pseudo-terminal: raw bytes captured, signals sent, CPU read
from /proc. For the terminal rows of the reliability matrix (T3-T12) and X1."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]


class PtyApp:
    """``python -m tui.cli ARGS`` on a pty of the given size."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        *,
        size: tuple[int, int] = (120, 40),
        preexec_ignore_hup: bool = False,
    ) -> None:
        self.master, slave = pty.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": env.get("HOME", "/tmp"),
            "TERM": "xterm-256color",
            "PYTHONPATH": str(ROOT),
            "LANG": "C.UTF-8",
            **env,
        }

        def child_setup() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            if preexec_ignore_hup:
                signal.signal(signal.SIGHUP, signal.SIG_IGN)

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=full_env,
            cwd=ROOT,
            preexec_fn=child_setup,
            close_fds=True,
        )
        os.close(slave)
        self.output = bytearray()
        self._lock = threading.Lock()
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._closed:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.1)
                if ready:
                    data = os.read(self.master, 65536)
                    if not data:
                        return
                    with self._lock:
                        self.output += data
            except OSError:
                return

    def text(self) -> str:
        """Everything written so far, decoded leniently."""
        with self._lock:
            return bytes(self.output).decode("utf-8", errors="replace")

    def wait_for(self, needle: str, timeout: float = 15.0) -> None:
        """Wait until ``needle`` has been written to the terminal."""
        end = time.monotonic() + timeout
        while needle not in self.text():
            if time.monotonic() > end:
                raise AssertionError(f"{needle!r} never appeared; tail: {self.text()[-400:]!r}")
            if self.proc.poll() is not None:
                raise AssertionError(f"exited {self.proc.returncode}: {self.text()[-400:]!r}")
            time.sleep(0.05)

    def send(self, data: bytes) -> None:
        """Type into the terminal."""
        os.write(self.master, data)

    def cpu_seconds(self) -> float:
        """User+system CPU time of the app process so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def hang_up(self) -> None:
        """Close the master side, as an SSH drop does."""
        self._closed = True
        os.close(self.master)

    def wait(self, timeout: float) -> int | None:
        """The exit code, or None if still running after ``timeout``."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """Make sure the process is gone."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if not self._closed:
            self._closed = True
            try:
                os.close(self.master)
            except OSError:
                pass
