"""tui/driver.py: the terminal driver whose input thread sleeps while no key is pressed
(Textual's wakes ten times a second), run on a real pseudo-terminal."""

from __future__ import annotations

import asyncio
import os
import pty
import threading
import tty
from typing import Any

import pytest
from textual import events
from textual.drivers.headless_driver import HeadlessDriver
from textual.drivers.linux_driver import LinuxDriver
from textual.drivers.web_driver import WebDriver
from textual.message import Message

import tui.driver
from tui.driver import IDLE_S, SETTLE_S, SHORT_S, QuietLinuxDriver, poll_timeout, quiet_driver_for


@pytest.mark.parametrize(
    ("since_input", "timeout"),
    [(0.0, SHORT_S), (SETTLE_S / 2, SHORT_S), (SETTLE_S, IDLE_S), (3600.0, IDLE_S)],
)
def test_the_input_thread_polls_briefly_only_just_after_input(
    since_input: float, timeout: float
) -> None:
    # A lone Escape is timed out by the parser's tick, so the short timeout is kept for a
    # moment after input; with no recent input nothing is due.
    assert poll_timeout(100.0 + since_input, 100.0) == timeout


def test_only_textuals_linux_driver_on_the_tested_textual_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert quiet_driver_for(LinuxDriver) is QuietLinuxDriver
    # A `lockstep serve` session (the web driver) and the tests' headless driver stay.
    assert quiet_driver_for(WebDriver) is WebDriver
    assert quiet_driver_for(HeadlessDriver) is HeadlessDriver
    monkeypatch.setattr("tui.partial_render.textual_version", lambda: (9, 0, 0))
    assert quiet_driver_for(LinuxDriver) is LinuxDriver


class _Recorder(QuietLinuxDriver):
    """The driver without an app: the messages its input thread parses are kept."""

    def __init__(self, app: Any, fileno: int) -> None:
        super().__init__(app)
        self.fileno = fileno
        self.got: list[Message] = []
        self.arrived = threading.Event()

    def process_message(self, message: Message) -> None:
        self.got.append(message)
        self.arrived.set()

    def keys(self) -> list[str]:
        return [m.key for m in self.got if isinstance(m, events.Key)]


async def test_keys_and_a_lone_escape_arrive_and_stopping_wakes_the_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without the wake-up pipe a stop would wait for the idle poll: make that an hour.
    monkeypatch.setattr(tui.driver, "IDLE_S", 3600.0)
    master, slave = pty.openpty()
    tty.setraw(slave)  # as Textual sets the terminal: keys arrive one by one
    driver = _Recorder(object(), slave)
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    thread.start()
    try:
        os.write(master, b"a")
        await _until(lambda: driver.keys() == ["a"])
        os.write(master, b"\x1b")  # a lone Escape: only the parser's timeout ends it
        await _until(lambda: driver.keys() == ["a", "escape"])
        await asyncio.sleep(SETTLE_S + 0.2)  # now idle: the thread polls for an hour
        os.write(master, b"q")
        await _until(lambda: driver.keys() == ["a", "escape", "q"])
        await asyncio.sleep(SETTLE_S + 0.2)
        driver.exit_event.set()  # what Textual does to stop the input thread
        await asyncio.to_thread(thread.join, 30)
        assert not thread.is_alive(), "the stop did not wake the idle input thread"
    finally:
        driver.exit_event.set()
        driver.close()
        os.close(master)
        os.close(slave)


async def _until(ok: Any, limit: float = 10.0) -> None:
    for _ in range(int(limit / 0.02)):
        if ok():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the input thread did not deliver in time")


async def test_a_hang_up_ends_the_input_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # An SSH drop: the terminal reads as ended, and no stop comes from Textual on that
    # path. The thread must end (it is not a daemon: it would hold the exit), not spin.
    monkeypatch.setattr(tui.driver, "IDLE_S", 3600.0)
    master, slave = pty.openpty()
    tty.setraw(slave)
    driver = _Recorder(object(), slave)
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    thread.start()
    try:
        os.write(master, b"a")
        await _until(lambda: driver.keys() == ["a"])
        os.close(master)
        master = -1
        await asyncio.to_thread(thread.join, 30)
        assert not thread.is_alive(), "the input thread outlived the terminal"
        assert not driver.exit_event.is_set()
    finally:
        driver.exit_event.set()
        if master >= 0:
            os.close(master)
        os.close(slave)


async def test_a_stop_after_the_thread_ended_writes_nowhere() -> None:
    # The pipe is the thread's own: once it has ended, setting the stop flag again (as
    # Textual does on every stop) must not write to a closed, maybe reused, descriptor.
    master, slave = pty.openpty()
    tty.setraw(slave)
    driver = _Recorder(object(), slave)
    driver.exit_event.set()
    driver.run_input_thread()  # the flag is set: one look, then it ends
    spare_r, spare_w = os.pipe()
    try:
        os.set_blocking(spare_r, False)
        driver.exit_event.set()
        with pytest.raises(BlockingIOError):
            os.read(spare_r, 1)
    finally:
        for fd in (spare_r, spare_w, master, slave):
            os.close(fd)
