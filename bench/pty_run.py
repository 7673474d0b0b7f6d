"""Run a program under a pseudo-terminal and watch its screen the way a user would.

A reader thread drains the pty master (optionally at a fixed byte rate, to emulate a
slow link) and timestamps every chunk; a parser thread feeds the chunks to pyte and
records, per chunk, which BTC price (hence which message) is on screen, and per
frame (a burst of chunks), how many bytes were written, how many rows were touched
and how many cells changed. Timestamps come from the reader, so parsing costs do not
skew latency. A sampler thread records the program's RSS and CPU time once a second.
"""

from __future__ import annotations

import fcntl
import os
import pty
import queue
import re
import select
import signal
import struct
import termios
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pyte

from bench.common import APP_CORE, ROOT
from bench.simhost import price_to_seq

FRAME_GAP = 0.003
"""Chunks closer than this belong to one frame (Textual writes a frame in one write)."""

_PRICE = re.compile(r"\$(\d{1,3}(?:,\d{3})+\.\d{2})")
_PEER_PRICE = re.compile(r"(?<![\d,.])(\d{1,3}(?:,\d{3})+\.\d{2})(?![\d])")


def lockstep_price(texts: Sequence[str]) -> list[int]:
    """Message numbers of every ``$40,123.45``-style price on a lockstep (or baseline)
    screen. The caller keeps the largest that has really been sent: other panels may show
    BTC from another source (Kraken's snapshot, a stored close), which maps to a number
    beyond anything sent."""
    out: list[int] = []
    for line in texts:
        if "$" not in line:
            continue
        for m in _PRICE.finditer(line):
            seq = price_to_seq(float(m.group(1).replace(",", "")))
            if seq > 0:
                out.append(seq)
    return out


def peer_price(texts: Sequence[str]) -> list[int]:
    """Message numbers of the ``40,123.45`` prices on crypto-terminal's BTC-USD rows."""
    out: list[int] = []
    for line in texts:
        if "BTC-USD" not in line:
            continue
        for m in _PEER_PRICE.finditer(line.split("BTC-USD", 1)[1]):
            seq = price_to_seq(float(m.group(1).replace(",", "")))
            if seq > 0:
                out.append(seq)
    return out


PriceReader = Callable[[Sequence[str]], list[int]]


@dataclass(slots=True)
class Frame:
    """One burst of output."""

    t0: float
    t1: float
    nbytes: int = 0
    rows: set[int] = field(default_factory=set)
    changed_rows: set[int] = field(default_factory=set)
    changed_chars: int = 0
    changed_cells: int = 0
    full: bool = False


@dataclass(slots=True)
class Sample:
    """One sampler reading of the program under test."""

    t: float
    rss: int
    cpu: float


class PtyProgram:
    """A program under a pty, pinned to the app core, with its screen parsed live."""

    def __init__(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        *,
        cols: int = 120,
        rows: int = 40,
        core: int | None = APP_CORE,
        read_limit: float | None = None,
        price_reader: PriceReader = lockstep_price,
        title: str = "lockstep",
        cwd: Path = ROOT,
        parse: bool = True,
        seq_limit: Callable[[], int] | None = None,
    ) -> None:
        self.argv = list(argv)
        self.env = env
        self.cols, self.rows = cols, rows
        self.core = core
        self.read_limit = read_limit
        self.price_reader = price_reader
        self.title = title
        self.cwd = cwd
        self.parse = parse
        self.seq_limit = seq_limit
        self.pid = 0
        self.fd = -1
        self.t_launch = 0.0
        self.chunks: list[tuple[float, int]] = []
        """(time, bytes) of every read."""
        self.events: list[tuple[float, int]] = []
        """(time, message number) whenever the BTC price on screen changed."""
        self.frames: list[Frame] = []
        self.samples: list[Sample] = []
        self.resizes: list[tuple[float, int, int]] = []
        self.first_paint: float | None = None
        self.first_price: float | None = None
        self.texts: list[str] = [""] * rows
        self.exit_status: int | None = None
        self._q: queue.SimpleQueue[tuple[float, bytes | tuple[int, int]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._proc: psutil.Process | None = None
        self.total_bytes = 0
        self._wait_lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> PtyProgram:
        """Fork under a new pty and start watching."""
        winsize = struct.pack("HHHH", self.rows, self.cols, 0, 0)
        self.t_launch = time.monotonic()
        pid, fd = pty.fork()
        if pid == 0:  # the child: size the terminal, pin, exec; never return
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, winsize)
                if self.core is not None and hasattr(os, "sched_setaffinity"):
                    try:
                        os.sched_setaffinity(0, {self.core})
                    except OSError:
                        pass
                os.chdir(self.cwd)
                os.execve(self.argv[0], self.argv, self.env)
            except BaseException:  # noqa: BLE001 - anything here must end the child
                os._exit(127)
        self.pid, self.fd = pid, fd
        try:
            fcntl.ioctl(fd, termios.TIOCSWINSZ, winsize)
        except OSError:
            pass
        try:
            self._proc = psutil.Process(pid)
        except psutil.Error:
            self._proc = None
        for target, name in (
            (self._reader, "pty-reader"),
            (self._parser, "pty-parser"),
            (self._sampler, "pty-sampler"),
        ):
            th = threading.Thread(target=target, name=name, daemon=True)
            th.start()
            self._threads.append(th)
        return self

    def alive(self) -> bool:
        """True while the program runs."""
        with self._wait_lock:
            if self.exit_status is not None:
                return False
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.exit_status = -1
                return False
            if pid == 0:
                return True
            self.exit_status = status
            return False

    def stop(self, grace: float = 3.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; wait for the threads."""
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + grace
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.02)
            if self.alive():
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                while self.alive():
                    time.sleep(0.02)
        self._stop.set()
        for th in self._threads:
            th.join(timeout=60)
        try:
            os.close(self.fd)
        except OSError:
            pass

    def __enter__(self) -> PtyProgram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- measuring ------------------------------------------------------------------

    def cpu_seconds(self) -> float:
        """User + system CPU time of the program so far."""
        if self._proc is None:
            return float("nan")
        try:
            t = self._proc.cpu_times()
        except psutil.Error:
            return float("nan")
        return float(t.user + t.system)

    def rss(self) -> int:
        """Resident set size now, bytes (0 once gone)."""
        if self._proc is None:
            return 0
        try:
            return int(self._proc.memory_info().rss)
        except psutil.Error:
            return 0

    def resize(self, cols: int, rows: int) -> None:
        """Change the terminal size (the kernel sends SIGWINCH to the program)."""
        t = time.monotonic()
        self._q.put((t, (cols, rows)))
        self.resizes.append((t, cols, rows))
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def wait_for(self, pred: Callable[[], bool], timeout: float) -> bool:
        """Poll ``pred`` until true or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return True
            if not self.alive():
                return pred()
            time.sleep(0.01)
        return pred()

    def wait_price(self, timeout: float = 15.0) -> bool:
        """Wait until a BTC price is on screen."""
        return self.wait_for(lambda: self.first_price is not None, timeout)

    def send(self, data: bytes) -> None:
        """Type at the program."""
        os.write(self.fd, data)

    def wheel_up(self, x: int = 10, y: int = 8, times: int = 40) -> None:
        """Scroll up under (x, y) with SGR mouse wheel events, as a user would."""
        for _ in range(times):
            self.send(f"\x1b[<64;{x};{y}M".encode())
            time.sleep(0.005)

    def shown_seq(self, texts: Sequence[str]) -> int | None:
        """The newest really-sent message number among the prices on ``texts``."""
        limit = self.seq_limit() if self.seq_limit is not None else None
        seqs = [s for s in self.price_reader(texts) if limit is None or s <= limit]
        return max(seqs) if seqs else None

    def price_in_view(self) -> bool:
        """True if a BTC price is on the current screen."""
        return self.shown_seq(self.texts) is not None

    def ensure_in_view(self, timeout: float = 4.0) -> bool:
        """Scroll home with the wheel if the BTC price has left the screen (the app
        scrolled it away); False if it is still not in view after ``timeout``."""
        if self.price_in_view():
            return True
        self.wheel_up()
        return self.wait_for(self.price_in_view, timeout)

    def show_price(self, timeout: float = 15.0, patience: float = 4.0) -> str:
        """Wait for the BTC price; if the screen is up but the price is not in view
        after ``patience`` seconds, scroll home with the wheel. Returns "" if the price
        showed on its own, "scrolled" if it needed the wheel, "none" if never."""
        deadline = time.monotonic() + timeout
        if not self.wait_for(lambda: self.first_paint is not None, timeout):
            return "none"
        assert self.first_paint is not None
        if self.wait_for(lambda: self.first_price is not None, patience):
            return ""
        self.wheel_up()
        left = max(0.5, deadline - time.monotonic())
        return "scrolled" if self.wait_for(lambda: self.first_price is not None, left) else "none"

    # -- threads --------------------------------------------------------------------

    def _reader(self) -> None:
        fd = self.fd
        limit = self.read_limit
        tokens = 0.0
        last = time.monotonic()
        while True:
            try:
                ready, _, _ = select.select([fd], [], [], 0.2)
            except (OSError, ValueError):
                break
            if not ready:
                if self._stop.is_set() and not self.alive():
                    break
                continue
            want = 65536
            if limit is not None:
                now = time.monotonic()
                tokens = min(tokens + (now - last) * limit, max(limit * 0.05, 512.0))
                last = now
                if tokens < 256:
                    time.sleep((256 - tokens) / limit)
                    continue
                want = int(tokens)
            try:
                data = os.read(fd, want)
            except OSError:
                break
            if not data:
                break
            t = time.monotonic()
            if limit is not None:
                tokens -= len(data)
            self.total_bytes += len(data)
            self.chunks.append((t, len(data)))
            if self.parse:
                self._q.put((t, data))
        self._q.put(None)

    def _parser(self) -> None:
        screen = pyte.Screen(self.cols, self.rows)
        stream = pyte.ByteStream(screen)
        cols, rows = self.cols, self.rows
        prev: list[tuple[Any, ...]] = [()] * rows
        texts = [""] * rows
        frame: Frame | None = None
        shown: int | None = None
        while True:
            item = self._q.get()
            if item is None:
                break
            t, data = item
            if isinstance(data, tuple):
                cols, rows = data
                screen.resize(rows, cols)
                prev = [()] * rows
                texts = [""] * rows
                self.cols, self.rows = cols, rows
                continue
            if frame is None or t - frame.t1 > FRAME_GAP:
                if frame is not None:
                    self._close(frame, rows)
                frame = Frame(t, t)
            frame.t1 = t
            frame.nbytes += len(data)
            try:
                stream.feed(data)
            except Exception:  # noqa: BLE001 - a parser hiccup must not end the run
                continue
            dirty = [r for r in screen.dirty if 0 <= r < rows]
            screen.dirty.clear()
            buf = screen.buffer
            for r in dirty:
                line = buf[r]
                cells = tuple(line[x] for x in range(cols))
                old = prev[r]
                if old:
                    diff_chars = sum(
                        1 for a, b in zip(cells, old, strict=False) if a.data != b.data
                    )
                    diff_cells = sum(1 for a, b in zip(cells, old, strict=False) if a != b)
                    frame.changed_chars += diff_chars
                    frame.changed_cells += diff_cells
                    if diff_cells:
                        frame.changed_rows.add(r)
                else:
                    frame.changed_chars += sum(1 for c in cells if c.data != " ")
                    frame.changed_cells += sum(1 for c in cells if c.data != " ")
                prev[r] = cells
                texts[r] = "".join(c.data for c in cells)
                frame.rows.add(r)
            if not dirty:
                continue
            if self.first_paint is None and any(self.title in x for x in texts):
                self.first_paint = t
            seq = self.shown_seq(texts)
            if seq is not None and seq != shown:
                shown = seq
                self.events.append((t, seq))
                if self.first_price is None:
                    self.first_price = t
            self.texts = list(texts)
        if frame is not None:
            self._close(frame, rows)

    def _close(self, frame: Frame, rows: int) -> None:
        frame.full = len(frame.rows) >= max(1, int(rows * 0.9))
        self.frames.append(frame)

    def _sampler(self) -> None:
        while not self._stop.wait(1.0):
            if not self.alive():
                break
            cpu = self.cpu_seconds()
            self.samples.append(Sample(time.monotonic(), self.rss(), cpu))


def python_argv(*args: str) -> list[str]:
    """``python -m ...`` with the interpreter running the harness."""
    import sys

    return [sys.executable, *args]
