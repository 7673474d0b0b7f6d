"""The alert rules running against a store."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from feeds.alerts.delivery import Delivery
from feeds.alerts.inputs import alert_inputs
from feeds.core.store import Store
from feeds.model.alerts import AlertsView, FiredAlert

if TYPE_CHECKING:
    from feeds.alerts.engine import AlertEngine


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
