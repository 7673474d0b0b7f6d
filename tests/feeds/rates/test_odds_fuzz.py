"""D12: the Fed odds decoders return a model, BadMessage or Ignored for any JSON; nothing
else escapes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.rates.calendar import load_calendar
from feeds.rates.effr import parse_effr
from feeds.rates.kalshi import parse_decision_event, parse_ladder_event
from feeds.rates.odds_checks import MarketChecks
from feeds.rates.polymarket import parse_event
from feeds.rates.zq import parse_chart_price

CAL = load_calendar()
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["0.2200", "1.7", "-0.1", "NaN", '["0.2", "0.8"]', "[", "KXFEDDECISION-26JAN"]),
    st.text(max_size=12),
)
keys = st.sampled_from(
    [
        "event_ticker",
        "markets",
        "ticker",
        "yes_bid_dollars",
        "yes_ask_dollars",
        "last_price_dollars",
        "yes_bid",
        "status",
        "groupItemTitle",
        "outcomePrices",
        "endDate",
        "bestBid",
        "refRates",
        "targetRateFrom",
        "targetRateTo",
        "effectiveDate",
        "chart",
        "result",
        "meta",
        "regularMarketPrice",
        "floor_strike",
    ]
)
json_values: Any = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=25,
)


@settings(max_examples=120, deadline=None)
@given(json_values)
def test_decoders_never_raise(value: object) -> None:
    checks = MarketChecks()
    parse_decision_event(value, CAL, checks, 1.0)
    parse_ladder_event(value, CAL, 1.0)
    parse_event(value, CAL, checks, 1.0)
    parse_effr(value, 1.0)
    parse_chart_price(value, "ZQF26.CBT")


@settings(max_examples=80, deadline=None)
@given(st.lists(st.dictionaries(keys, json_values, max_size=6), max_size=5))
def test_kalshi_event_with_junk_markets_never_raises(markets: list[dict[str, Any]]) -> None:
    for m in markets:
        m.setdefault("ticker", "KXFEDDECISION-26JAN-H0")
    event = {"event_ticker": "KXFEDDECISION-26JAN", "markets": markets}
    parse_decision_event(event, CAL, MarketChecks(), 1.0)
    parse_ladder_event({**event, "event_ticker": "KXFED-26JAN"}, CAL, 1.0)
    poly = {"slug": "s", "endDate": "2026-01-28T00:00:00Z", "markets": markets}
    parse_event(poly, CAL, MarketChecks(), 1.0)
