"""The ``[alerts]`` settings."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class AlertsSettings:
    """Alerts: the rules, and how a fired alert is delivered (bell, notification, command)."""

    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "cooldown_s": (0.0, 86_400.0),
        "hysteresis_pct": (0.0, 10.0),
        "command_timeout_s": (1.0, 300.0),
        "history": (1, 500),
    }
    """Allowed ``(lowest, highest)`` per key, checked when the config file is read."""

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
