"""Leaving cleanly: signals, a vanished terminal, and a hard stop if shutdown hangs.

Textual handles neither SIGHUP nor SIGTERM, and with SIGHUP ignored its input
thread spins at 100% CPU once the pty is gone (reliability.md finding 5). The app
installs its own handlers and watches the terminal itself.
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import sys
import threading
from collections.abc import Callable

HARD_EXIT_AFTER = 3.0


def install_signal_handlers(request_exit: Callable[[str], None]) -> list[signal.Signals]:
    """SIGHUP, SIGTERM and SIGINT ask the app to exit (terminal restored, data flushed).

    Returns the signals whose handlers were installed, for
    :func:`remove_signal_handlers`."""
    if sys.platform == "win32":
        return []  # asyncio has no signal handlers there; Textual's own Ctrl-C handling applies
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, request_exit, sig.name)
            installed.append(sig)
        except (RuntimeError, ValueError):  # not the main thread (tests, embedding)
            pass
    return installed


def remove_signal_handlers(installed: list[signal.Signals]) -> None:
    """Undo :func:`install_signal_handlers` (a caller that runs more than once in a
    process, like the hub in the tests)."""
    loop = asyncio.get_running_loop()
    for sig in installed:
        loop.remove_signal_handler(sig)


_armed: list[threading.Timer] = []


def arm_hard_exit(seconds: float = HARD_EXIT_AFTER, code: int = 0) -> None:
    """If a graceful exit has not finished in ``seconds``, leave anyway (a hung close
    on a dead network must not keep an orphaned process alive)."""

    def fire() -> None:
        os._exit(code)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    _armed.append(timer)


def disarm_hard_exit() -> None:
    """The graceful exit finished: cancel any pending hard exit."""
    while _armed:
        _armed.pop().cancel()


def terminal_gone(fd: int | None = None) -> bool:
    """True when the controlling terminal has hung up (the SSH session dropped)."""
    if fd is None:
        try:
            fd = sys.__stdin__.fileno() if sys.__stdin__ is not None else -1
        except (ValueError, OSError):
            return True
    if fd < 0:
        return False
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        events = poller.poll(0)
    except (OSError, ValueError):
        return True
    return any(ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, ev in events)
