"""Delivering fired alerts: bell, notification, log line and the command hook."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

import orjson

from feeds.alerts.format import alert_json, alert_line, alert_title
from feeds.alerts.settings import AlertsSettings
from feeds.core.text import clean_text
from feeds.model.alerts import FiredAlert

log = logging.getLogger("lockstep.alerts")


MAX_HOOKS = 4
"""Command hooks running at once; further alerts skip the hook (logged and counted)
rather than queueing without bound behind a hung script."""


class Delivery:
    """Delivers fired alerts: one bell per batch, an in-app notification per alert, a
    log line per alert, and the optional command hook (asyncio subprocess, no shell,
    with a timeout; its output goes to the log, never to the screen).

    ``bell`` and ``notify`` are callbacks the caller provides (the TUI: ``App.bell`` and
    ``App.notify``; ``lockstep watch``: a BEL on a terminal stderr, no notify).
    :meth:`deliver` must be called on the running event loop when a hook is set.
    """

    def __init__(
        self,
        settings: AlertsSettings,
        *,
        bell: Callable[[], None] | None = None,
        notify: Callable[[FiredAlert], None] | None = None,
        demo: bool = False,
        logger: logging.Logger | None = None,
    ) -> None:
        self.settings = settings
        self.demo = demo
        self._bell = bell if settings.bell else None
        self._notify = notify if settings.notify else None
        self._log = logger or log
        self._argv = settings.argv()
        self._tasks: set[asyncio.Task[None]] = set()
        self.hooks_run = 0
        """Hook runs that finished with exit status 0."""
        self.hook_failures = 0
        """Hook runs that failed (not found, non-zero exit, timeout)."""
        self.hooks_skipped = 0
        """Alerts whose hook was skipped because MAX_HOOKS were still running."""
        self.note = ""
        """The latest delivery problem in words ("" once the hook works again)."""

    def deliver(self, alerts: Sequence[FiredAlert]) -> None:
        """Deliver a batch of alerts (from one evaluation)."""
        if not alerts:
            return
        if self._bell is not None:
            self._safe(self._bell)
        for alert in alerts:
            self._log.warning(
                # Pre-formatted on purpose: the log's rate limiter keys on the message
                # text, and every alert must be written.
                alert_line(alert, demo=self.demo)
            )
            if self._notify is not None:
                self._safe(self._notify, alert)
            if self._argv:
                self._spawn(alert)

    def _safe(self, call: Callable[..., None], *args: object) -> None:
        try:
            call(*args)
        except Exception:  # noqa: BLE001 - a delivery channel must not stop the others
            self._log.exception("alert delivery callback failed")

    def _spawn(self, alert: FiredAlert) -> None:
        if len(self._tasks) >= MAX_HOOKS:
            self.hooks_skipped += 1
            self.note = f"alert command busy: {MAX_HOOKS} still running, hook skipped"
            self._log.warning("alert command skipped: %d hooks still running", MAX_HOOKS)
            return
        task = asyncio.get_running_loop().create_task(self._run(alert))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, alert: FiredAlert) -> None:
        argv = [*self._argv, alert_title(alert, demo=self.demo), alert.line]
        payload = orjson.dumps(alert_json(alert, demo=self.demo)) + b"\n"
        name = clean_text(self._argv[0], 80)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # a Ctrl-C in the terminal is ours, not the hook's
            )
        except OSError as exc:
            self._failed(f"alert command {name} could not start: {exc.strerror or exc}")
            return
        try:
            async with asyncio.timeout(self.settings.command_timeout_s):
                out, err = await proc.communicate(payload)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            self._failed(
                f"alert command {name} timed out after {self.settings.command_timeout_s:g} s"
            )
            return
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
        if out or err:
            self._log.info(
                "alert command %s said: %s",
                name,
                clean_text((out + err).decode("utf-8", "replace")),
            )
        if proc.returncode != 0:
            self._failed(f"alert command {name} failed with exit status {proc.returncode}")
            return
        self.hooks_run += 1
        self.note = ""

    def _failed(self, why: str) -> None:
        self.hook_failures += 1
        self.note = why
        self._log.warning(why)

    @property
    def running(self) -> int:
        """Hooks still running."""
        return len(self._tasks)

    async def aclose(self, timeout: float = 3.0) -> None:
        """Let running hooks finish for up to ``timeout`` seconds, then kill them."""
        if not self._tasks:
            return
        tasks = list(self._tasks)
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.difference_update(tasks)  # done callbacks run a loop turn later
