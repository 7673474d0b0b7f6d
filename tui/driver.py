"""A terminal driver whose input thread sleeps while no key is pressed.

Textual's Linux driver reads the keyboard in a thread that wakes ten times a second,
pressed key or not, to time out a lone Escape. On a dashboard left open all day that is
the largest single share of an idle terminal's CPU after the frames themselves (py-spy,
bench P0: about a seventh). :class:`QuietLinuxDriver` keeps everything of Textual's
driver but that loop: it polls the terminal with the short timeout only while a key
sequence may still be open (for a moment after input arrived), and otherwise sleeps until
input arrives or the driver stops (a pipe wakes it, so quitting is not delayed).

It uses Textual's private key parser (``textual._xterm_parser``), so it is fenced like
:mod:`tui.partial_render`: only the tested Textual minor on the Linux driver gets it
(:func:`quiet_driver_for`); anything else runs Textual's own driver.
"""

from __future__ import annotations

import os
import select
import threading
from codecs import getincrementaldecoder
from typing import Any

from textual.driver import Driver

try:
    from textual._parser import ParseError
    from textual._xterm_parser import XTermParser
    from textual.drivers.linux_driver import LinuxDriver
except ImportError:  # not Linux/macOS, or another Textual: never used (quiet_driver_for)
    LinuxDriver = XTermParser = None  # type: ignore[assignment,misc]
    ParseError = EOFError  # type: ignore[misc,assignment]

SHORT_S = 0.1
"""The poll timeout while a key sequence may be open: Textual's own, which times out a
lone Escape (its parser's ``tick``)."""
SETTLE_S = 1.0
"""How long after the last input the short timeout is kept."""
IDLE_S = 5.0
"""The poll timeout with no recent input. Nothing is due then (the parser has no open
sequence); the cap only bounds the wait should a wake-up ever be missed."""


class _WakingEvent(threading.Event):
    """Textual's stop flag for the input thread, which also wakes that thread's poll
    (through the pipe of the thread's current run, if one is running)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._wake_fd: int | None = None

    def attach(self, wake_fd: int | None) -> None:
        """The write end of the running input thread's pipe (None: no thread runs; the
        pipe is closed only after this, so a stop never writes to a reused fd)."""
        with self._lock:
            self._wake_fd = wake_fd

    def set(self) -> None:
        super().set()
        with self._lock:
            if self._wake_fd is None:
                return
            try:
                os.write(self._wake_fd, b"x")
            except OSError:
                pass  # the pipe is full: a wake-up is already pending


def poll_timeout(now: float, last_input: float) -> float:
    """Seconds the input thread may sleep: short while a sequence may be open."""
    return SHORT_S if now - last_input < SETTLE_S else IDLE_S


if LinuxDriver is not None:

    class QuietLinuxDriver(LinuxDriver):
        """Textual's Linux driver with an input thread that sleeps when idle."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.exit_event = _WakingEvent()

        def run_input_thread(self) -> None:
            """Read the terminal until the driver stops or the terminal is gone (an SSH
            hang-up: no more input can come); parse keys and mouse events."""
            import time

            parser = XTermParser(self._debug)
            decode = getincrementaldecoder("utf-8")().decode
            wake_r, wake_w = os.pipe()
            os.set_blocking(wake_r, False)
            os.set_blocking(wake_w, False)
            stop = self.exit_event
            assert isinstance(stop, _WakingEvent)
            stop.attach(wake_w)
            poller = select.poll()
            poller.register(self.fileno, select.POLLIN)
            poller.register(wake_r, select.POLLIN)
            last_input = -SETTLE_S
            try:
                while True:
                    final = stop.is_set()
                    gone = False
                    wait = 0.0 if final else poll_timeout(time.monotonic(), last_input)
                    for fd, mask in poller.poll(wait * 1000):
                        if fd == wake_r:
                            _drain(wake_r)
                            continue
                        if not mask & select.POLLIN:
                            gone = True  # hung up or closed, nothing left to read
                            continue
                        # An error here ends the thread, as in Textual's loop.
                        data = os.read(self.fileno, 4096)
                        if not data:
                            gone = True  # end of input: the terminal hung up
                            continue
                        last_input = time.monotonic()
                        for event in parser.feed(decode(data, final=final)):
                            self.process_message(event)
                    for event in parser.tick():
                        self.process_message(event)
                    if final or gone:
                        break
            finally:
                stop.attach(None)
                os.close(wake_r)
                os.close(wake_w)
                try:
                    for _ in parser.feed(""):
                        pass
                except (EOFError, ParseError):
                    pass  # an unfinished sequence at exit, as in Textual's loop

else:  # pragma: no cover - a platform without Textual's Linux driver
    QuietLinuxDriver = None  # type: ignore[assignment,misc]


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 64):
            pass
    except (BlockingIOError, OSError):
        pass


def quiet_driver_for(chosen: type[Driver]) -> type[Driver]:
    """The driver to run: :class:`QuietLinuxDriver` where Textual picked its own Linux
    driver and is the tested minor; else ``chosen`` unchanged (the web driver of a
    ``lockstep serve`` session, the headless driver of tests, Windows, another Textual)."""
    from tui.partial_render import TESTED_TEXTUAL, textual_version

    if QuietLinuxDriver is None or chosen is not LinuxDriver:
        return chosen
    if textual_version()[:2] != TESTED_TEXTUAL:
        return chosen
    return QuietLinuxDriver
