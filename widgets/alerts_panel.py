"""The alerts panel: the history of fired alerts, newest first, each with its time, its
age, what happened and the rule that fired; the configured rules while nothing has
fired; and delivery trouble (a failing command hook) in words."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.widgets import Static

from feeds.core.text import clean_text
from feeds.model.alerts import AlertsView, FiredAlert
from widgets.border import set_subtitle, set_title
from widgets.fit import FitPanel, Need
from widgets.format import ET, age
from widgets.tick_gate import TickGate

FRESH_S = 60.0
"""The newest alert is highlighted (class ``-fresh``) for this long."""


def alert_row(alert: FiredAlert, now_mono: float | None) -> str:
    """One history line, time in New York, then the age, the rule and what happened:
    ``10:25:02   3m  [btc below 85000] BTC-USD 84,990.00 crossed below 85,000 ...``.
    The rule comes before the message so a narrow panel cuts the message, not the rule."""
    when = alert.fired_at.astimezone(ET).strftime("%H:%M:%S")
    ago = age(now_mono - alert.fired_mono) if now_mono is not None else "—"
    return clean_text(f"{when} {ago:>5}  [{alert.rule}] {alert.line}", 400)


class AlertsPanel(FitPanel):
    """Renders an :class:`AlertsView`. ``show`` on change, ``tick`` at 1 Hz for ages.

    ``rows`` history lines are mounted once and reused; older alerts stay in the view
    (bounded by ``[alerts] history``) but are not drawn."""

    DEFAULT_CSS = """
    AlertsPanel { height: auto; border: round $panel; padding: 0 1; }
    AlertsPanel > Static { height: 1; width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(
        self, *, rows: int = 6, id: str | None = "alerts-panel", classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.rows = max(1, rows)
        self._view: AlertsView | None = None
        self._texts: dict[str, str] = {}
        self._now_mono: float | None = None
        self._gate = TickGate()
        """The view, the ages and the highlight of the last tick that rendered."""
        set_title(self, "Alerts · times ET")

    def compose(self) -> ComposeResult:
        yield Static("", id="al-note", markup=False)
        yield Static("", id="al-empty", markup=False)
        for i in range(self.rows):
            yield Static("", id=f"al-row-{i}", classes="al-row", markup=False)

    # -- inputs ---------------------------------------------------------------------

    def show(self, view: AlertsView) -> None:
        """Take a new view (the paint loop calls it when an alert fired)."""
        self._view = view
        self._render_all()

    def tick(self, now_mono: float, now_wall: datetime) -> None:
        """Advance the ages (1 Hz): rendered again only when an age or the newest
        alert's highlight reads differently (with nothing fired, never: the panel was
        rendered every second of an idle day)."""
        self._now_mono = now_mono
        v = self._view
        if v is None:
            return
        shown = v.alerts[: self.rows]
        words = tuple(age(now_mono - a.fired_mono) for a in shown)
        fresh = bool(shown) and now_mono - shown[0].fired_mono < FRESH_S
        if not self._gate.changed(v, (words, fresh)):
            return
        self._render_all()

    # -- rendering ------------------------------------------------------------------

    # -- layout (the screen deals the rows) -------------------------------------------

    def need(self, width: int) -> Need:
        """Nothing at all with no rules, no alerts and no delivery problem (the panel
        folds away; zoom 7 still shows it); else one line (the newest alert, or what
        is watched), the delivery problem, then one more alert per row."""
        v = self._view
        if v is None or not (v.rules or v.alerts or v.note):
            return Need(0)
        more = max(0, min(self.rows, len(v.alerts)) - 1)
        return Need(1 + (1 if v.note else 0), ((6, 1),) * more)

    def fit(self, rows: int) -> None:
        """Show as many alert rows as were dealt."""
        super().fit(rows)
        if self._view is not None:
            self._render_all()

    def _set(self, name: str, text: str) -> Static:
        widget = self.query_one(f"#{name}", Static)
        if self._texts.get(name) != text:
            self._texts[name] = text
            widget.update(text, layout=False)
            widget.display = bool(text)
        return widget

    def _render_all(self) -> None:
        v = self._view
        assert v is not None
        self._needs_changed((bool(v.rules), min(self.rows, len(v.alerts)), bool(v.note)))
        now = self._now_mono
        shown = self._dealt - (1 if v.note else 0)
        note = self._set("al-note", f"DELIVERY PROBLEM: {clean_text(v.note)}" if v.note else "")
        note.set_class(bool(v.note), "-down")
        if not v.rules:
            empty = (
                "No alert rules. Add some to [alerts] rules in the config, "
                'e.g. rules = ["btc above 100000", "any new_ath"].'
            )
        elif not v.alerts:
            listed = " · ".join(v.rules[:8]) + (" …" if len(v.rules) > 8 else "")
            empty = f"Nothing has fired yet. Watching: {clean_text(listed, 300)}"
        else:
            empty = ""
        self._set("al-empty", empty)
        for i in range(self.rows):
            alert = v.alerts[i] if i < min(len(v.alerts), max(1, shown)) else None
            row = self._set(f"al-row-{i}", alert_row(alert, now) if alert else "")
            fresh = (
                i == 0
                and alert is not None
                and now is not None
                and now - alert.fired_mono < FRESH_S
            )
            row.set_class(fresh, "-fresh")
            row.set_class(alert is not None and alert.at_start, "-at-start")
        parts = [f"{len(v.rules)} rule{'s' if len(v.rules) != 1 else ''}"]
        if v.fired:
            parts.append(f"{v.fired} fired")
        if len(v.alerts) > self.rows:
            parts.append(f"{self.rows} of {len(v.alerts)} shown")
        if v.suppressed:
            parts.append(f"{v.suppressed} in cooldown")
        subtitle = " · ".join(parts)
        set_subtitle(self, subtitle)
        self.set_class(bool(v.note), "-down")
