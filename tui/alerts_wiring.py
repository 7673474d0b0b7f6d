"""Wiring for alerts: the ``[alerts]`` settings, the engine, the inputs read from the
store, and delivery (bell, in-app notification, command hook, log), shared by the TUI
and ``lockstep watch``.

The rule grammar and the firing semantics are documented in :mod:`feeds.alerts.engine`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from feeds.btc.state import BtcSlice
from feeds.core.store import Store
from feeds.core.text import clean_text
from feeds.history.ath_state import AthSlice
from feeds.history.divergence_state import DivergenceSlice
from feeds.model.alerts import AlertsView, FiredAlert
from feeds.quotes.state import QuotesSlice
from feeds.rates.state import FedOddsSlice
from feeds.tbills.state import TbillsSlice

if TYPE_CHECKING:
    from feeds.alerts.engine import AlertEngine, AlertInputs

log = logging.getLogger("lockstep.alerts")

MAX_HOOKS = 4
"""Command hooks running at once; further alerts skip the hook (logged and counted)
rather than queueing without bound behind a hung script."""


@dataclass(frozen=True, slots=True)
class AlertsSettings:
    """Alerts: the rules, and how a fired alert is delivered (bell, notification, command)."""

    rules: tuple[str, ...] = ()
    """Alert rules, one per string, e.g. "btc above 100000", "^RUT move 2% in 30m",
    "any new_ath", "btc reclaim_ath", "divergence above 25", "cut_prob jan move 10pp",
    "tbills announced", "tbills results" (README: Alerts). Empty: no alerts."""
    cooldown_s: float = 300.0
    """After a rule fires for a subject, further crossings within this many seconds are
    swallowed (0-86400)."""
    hysteresis_pct: float = 0.1
    """An above/below rule re-arms once the price is back across its level by this
    percentage of the level (0-10)."""
    bell: bool = True
    """Ring the terminal bell when an alert fires."""
    notify: bool = True
    """Show an in-app notification when an alert fires (the alert history always shows)."""
    command: str = ""
    """A program to run on each alert, e.g. "notify-send" or "~/bin/alert-hook.sh";
    split like a shell command line but never run by a shell. It gets the title and the
    message as two arguments and the alert as JSON on stdin. Empty: no hook."""
    command_timeout_s: float = 10.0
    """Seconds the command may run before it is killed (1-300)."""
    history: int = 50
    """Fired alerts kept on screen, newest first (1-500)."""

    def __post_init__(self) -> None:
        if self.rules:
            # The rule engine loads with the first rule, not with every start (bench B8).
            from feeds.alerts.engine import parse_rules

            parse_rules(self.rules)  # ValueError: rules[i] rule "...": the problem
        if not 0 <= self.cooldown_s <= 86_400:
            raise ValueError("cooldown_s: must be between 0 and 86400 seconds")
        if not 0 <= self.hysteresis_pct <= 10:
            raise ValueError("hysteresis_pct: must be between 0 and 10")
        if not 1 <= self.command_timeout_s <= 300:
            raise ValueError("command_timeout_s: must be between 1 and 300 seconds")
        if not 1 <= self.history <= 500:
            raise ValueError("history: must be between 1 and 500")
        if self.command.strip():
            try:
                argv = shlex.split(self.command)
            except ValueError as exc:
                raise ValueError(f"command: cannot be split into arguments: {exc}") from None
            if not argv or not argv[0]:
                raise ValueError("command: names no program")

    def argv(self) -> list[str]:
        """The hook's program and fixed arguments (empty when there is no hook)."""
        if not self.command.strip():
            return []
        argv = shlex.split(self.command)
        argv[0] = _expand(argv[0])
        return argv


def _expand(path: str) -> str:
    return str(Path(path).expanduser()) if path.startswith("~") else path


def unknown_symbols(settings: AlertsSettings, known: Sequence[str]) -> tuple[str, ...]:
    """Symbols named by rules that no panel watches (``known``: watchlist + futures;
    BTC-USD is always known). Such rules never fire; the config check can say so."""
    from feeds.alerts.engine import parse_rules, rule_symbols

    have = {s.upper() for s in known} | {"BTC-USD"}
    return tuple(s for s in rule_symbols(parse_rules(settings.rules)) if s not in have)


def make_engine(settings: AlertsSettings) -> AlertEngine:
    """The engine for the configured rules."""
    from feeds.alerts.engine import AlertEngine, parse_rules

    return AlertEngine(
        parse_rules(settings.rules),
        cooldown_s=settings.cooldown_s,
        hysteresis_pct=settings.hysteresis_pct,
        keep=settings.history,
    )


def alert_inputs(store: Store, now_mono: float) -> AlertInputs:
    """Read the slices' views (cheap: cached until they change) into rule inputs."""
    from feeds.alerts.engine import AlertInputs

    def get(topic: str, kind: type[Any]) -> Any:
        return store.slice(topic, kind).view() if store.has(topic) else None

    return AlertInputs.from_views(
        now_mono,
        btc=get("btc", BtcSlice),
        quotes=get("quotes", QuotesSlice),
        ath=get("ath", AthSlice),
        divergence=get("divergence", DivergenceSlice),
        fed=get("fed_odds", FedOddsSlice),
        tbills=get("tbills", TbillsSlice),
    )


# -- formats ---------------------------------------------------------------------------


def _iso(alert: FiredAlert) -> str:
    return alert.fired_at.isoformat(timespec="seconds").replace("+00:00", "Z")


def alert_json(alert: FiredAlert, *, demo: bool = False) -> dict[str, Any]:
    """The alert as a JSON-ready dict (``watch --json`` lines and the hook's stdin)."""
    return {
        "time": _iso(alert),
        "rule": alert.rule,
        "kind": alert.kind.value,
        "subject": alert.subject,
        "message": alert.message,
        "value": alert.value or None,
        "source": alert.source,
        "at_start": alert.at_start,
        "demo": demo,
    }


def alert_line(alert: FiredAlert, *, demo: bool = False) -> str:
    """One plain line: ``2025-12-12T15:25:03Z ALERT [btc below 85000] BTC-USD ...``.
    No escape codes: every part is sanitised."""
    tag = "ALERT (DEMO, simulated)" if demo else "ALERT"
    return clean_text(f"{_iso(alert)} {tag} [{alert.rule}] {alert.line}", 400)


def alert_title(alert: FiredAlert, *, demo: bool = False) -> str:
    """A short title for notifications: ``lockstep: btc above 100000``."""
    prefix = "lockstep DEMO (simulated)" if demo else "lockstep"
    return clean_text(f"{prefix}: {alert.rule}", 200)


# -- delivery --------------------------------------------------------------------------


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


class AlertsRunner:
    """The rules running against a store: what the TUI and ``lockstep watch`` call.

    ``step`` reads the views, evaluates every rule and delivers what fired; it does the
    work at most once per ``every`` seconds however often it is called, so it can sit
    in a paint or tick loop."""

    def __init__(
        self, store: Store, engine: AlertEngine, delivery: Delivery, *, every: float = 1.0
    ) -> None:
        self.store = store
        self.engine = engine
        self.delivery = delivery
        self.every = every
        self._last = float("-inf")

    def step(self, now_mono: float, now_wall: datetime) -> list[FiredAlert]:
        """Evaluate (if ``every`` has passed) and deliver; returns the alerts fired."""
        if not self.engine.rules or now_mono - self._last < self.every * 0.9:
            return []
        self._last = now_mono
        fired = self.engine.evaluate(alert_inputs(self.store, now_mono), now_mono, now_wall)
        self.delivery.deliver(fired)
        return fired

    def view(self) -> AlertsView:
        """The alert history for the panel, with any delivery problem."""
        return self.engine.view(note=self.delivery.note)
