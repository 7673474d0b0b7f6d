"""The rule inputs, read from the slices' views."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from feeds.btc.state import BtcSlice
from feeds.core.store import Store
from feeds.history.ath_state import AthSlice
from feeds.history.divergence_state import DivergenceSlice
from feeds.quotes.state import QuotesSlice
from feeds.rates.state import FedOddsSlice
from feeds.tbills.state import TbillsSlice

if TYPE_CHECKING:
    from feeds.alerts.engine import AlertInputs


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
