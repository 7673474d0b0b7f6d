"""A fired alert as a JSON document, a plain line and a notification title."""

from __future__ import annotations

from typing import Any

from feeds.core.jsonout import SCHEMA_VERSION
from feeds.core.text import clean_text
from feeds.model.alerts import FiredAlert


def _iso(alert: FiredAlert) -> str:
    return alert.fired_at.isoformat(timespec="seconds").replace("+00:00", "Z")


def alert_json(alert: FiredAlert, *, demo: bool = False) -> dict[str, Any]:
    """The alert as a JSON-ready dict (``watch --json`` lines and the hook's stdin).
    ``value`` is the crossing value as shown (``"99,980.50"``, ``"27.1 pp"``): text
    with its unit, not a number; ``source`` says where it came from."""
    return {
        "schema_version": SCHEMA_VERSION,
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
