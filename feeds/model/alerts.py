"""Fired alerts and the alert history the panel shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AlertKind(StrEnum):
    """What kind of rule fired, written as a word on screen and in ``lockstep watch``."""

    ABOVE = "ABOVE"
    """A price reached a level from below."""
    BELOW = "BELOW"
    """A price reached a level from above."""
    MOVE = "MOVE"
    """A price moved by a percentage within a time window."""
    NEW_ATH = "NEW ATH"
    """A new all-time high was set."""
    RECLAIM_ATH = "ATH RECLAIMED"
    """A price got back to its all-time high after a drawdown."""
    DIVERGENCE = "DIVERGENCE"
    """The gap between the two drawdowns (BTC against the index) crossed a threshold."""
    CUT_PROB = "CUT ODDS"
    """A meeting's cut probability moved by a number of percentage points."""
    TBILLS_ANNOUNCED = "T-BILLS ANNOUNCED"
    """A Fed T-bill operation was announced."""
    TBILLS_RESULTS = "T-BILLS RESULTS"
    """A Fed T-bill operation's results were posted."""


@dataclass(frozen=True, slots=True)
class FiredAlert:
    """One alert that fired. Not a store event: it lives in the alert history.

    Attributes:
        rule: The rule as configured (whitespace collapsed), e.g. ``"btc above 100000"``.
        kind: What kind of rule fired.
        subject: What it is about: a symbol (``"BTC-USD"``, ``"^RUT"``), a meeting date
            (``"2026-01-28"``), an operation id, or ``"BTC-USD/^RUT"``.
        message: One plain line saying what happened, with the value and its source.
        value: The value that crossed, as text (``"99,980.50"``, ``"27.1 pp"``), or "".
        source: Where the value came from (``"coinbase"``, ``"yahoo"``, ``"kalshi"`` ...).
        at_start: True when the condition was already true at the first fresh reading
            (no crossing was seen: lockstep started, or the source first answered, after it).
        fired_at: Wall time (UTC) the alert fired.
        fired_mono: Monotonic time the alert fired, for its age on screen.
    """

    rule: str
    kind: AlertKind
    subject: str
    message: str
    value: str
    source: str
    at_start: bool
    fired_at: datetime
    fired_mono: float

    @property
    def line(self) -> str:
        """The message with the at-start mark, as printed and logged."""
        return f"{self.message} (at start)" if self.at_start else self.message


@dataclass(frozen=True, slots=True)
class AlertsView:
    """What the alerts panel shows.

    Attributes:
        alerts: Fired alerts, newest first (bounded).
        rules: The configured rules, in config order.
        fired: Alerts fired since start (may exceed ``len(alerts)``).
        suppressed: Crossings swallowed by the cooldown since start.
        note: A delivery problem in words (the command hook failing ...), or "".
    """

    alerts: tuple[FiredAlert, ...]
    rules: tuple[str, ...]
    fired: int
    suppressed: int
    note: str
