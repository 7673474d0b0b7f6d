"""The alert engine built from the ``[alerts]`` settings, and the config check on its symbols."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from feeds.alerts.settings import AlertsSettings

if TYPE_CHECKING:
    from feeds.alerts.engine import AlertEngine


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
