"""D12: every decoder, fed arbitrary JSON-shaped input (realistic keys, hostile values),
returns its model or a BadMessage / Ignored, never raises, and never lets a
non-finite or non-positive price through. (The Fed odds, schedule, FRED and quotes
decoders have their own property tests next to them.)"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from feeds.btc.parse import parse_coinbase, parse_kraken
from feeds.btc.state import BtcSlice
from feeds.core.store import Store
from feeds.history.backfill import parse_candles
from feeds.model import BadMessage, FeedState, FeedStatus, Heartbeat, Ignored, Tick, VenueNotice
from feeds.model.history import Bar
from feeds.quotes.parse import parse_cboe_quote, parse_chart_bars, parse_chart_quote
from feeds.tbills.nyfed import parse_tsy_payload

KEYS = [
    "type", "product_id", "price", "best_bid", "best_ask", "open_24h", "high_24h", "low_24h",
    "volume_24h", "sequence", "time", "channel", "data", "symbol", "last", "bid", "ask",
    "change", "volume", "method", "success", "error", "message", "reason", "chart",
    "result", "meta", "timestamp", "indicators", "quote", "close", "treasury", "auctions",
    "operationDate", "totalParAmtAccepted", "current_price", "regularMarketPrice",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "ticker",
            "heartbeat",
            "BTC-USD",
            "BTC/USD",
            "NaN",
            "Infinity",
            "-1",
            "0",
            "1e999",
            "92104.17",
            "2025-12-12T15:25:00.799258Z",
            "update",
            "snapshot",
            "status",
            "",
            "NA",
            "\x1b]0;x\x07",
            "[b]x[/",
        ]  # fmt: skip
    ),
    st.text(max_size=12),
)
JSON: Any = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=8),
    ),
    max_leaves=30,
)


def finite_positive(value: Decimal | None) -> bool:
    return value is None or (value.is_finite() and value > 0)


@given(JSON)
def test_d12_btc_decoders(value: object) -> None:
    for parse in (parse_coinbase, parse_kraken):
        out = parse(value, 1.0)
        assert isinstance(out, Tick | Heartbeat | VenueNotice | Ignored | BadMessage)
        if isinstance(out, Tick):
            assert out.price.is_finite() and out.price > 0
            assert all(finite_positive(p) for p in (out.bid, out.ask, out.high_24h, out.low_24h))


@given(JSON)
def test_d12_history_decoders(value: object) -> None:
    for out in (parse_candles(value, "BTC-USD"), parse_chart_bars(value, "^RUT")):
        assert isinstance(out, list | BadMessage)
        if isinstance(out, list):
            for bar in out:
                assert isinstance(bar, Bar)
                assert all(
                    p.is_finite() and p > 0 for p in (bar.open, bar.high, bar.low, bar.close)
                )


@given(JSON)
def test_d12_quote_and_operation_decoders(value: object) -> None:
    now = datetime(2025, 12, 12, 15, 25, tzinfo=UTC)
    parse_chart_quote(value, "^RUT", received=1.0, now=now)
    parse_cboe_quote(value, "^RUT", name="Russell 2000", received=1.0, now=now)
    out = parse_tsy_payload(value, 1.0)
    assert isinstance(out, list | BadMessage)


@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(1, 10**7), st.integers(0, 3)),
        max_size=300,
    )
)
def test_d12_store_stays_bounded_and_ordered(ticks: list[tuple[int, int, int]]) -> None:
    btc = BtcSlice(spark_minutes=30)
    store = Store([btc])
    store.apply(FeedStatus("coinbase", FeedState.LIVE, "", 0.0))
    for i, (second, cents, venue) in enumerate(ticks):
        px = Decimal(cents) / 100
        when = datetime.fromtimestamp(1_765_000_000 + second, UTC)
        source = ("coinbase", "kraken")[venue % 2]
        store.apply(Tick(source, px, None, None, None, None, None, None, when, i, float(i)))
    spark = btc.view().spark
    assert len(spark) <= 30
    assert all(p > 0 for p in spark)
    assert store.drain() <= {"btc"}
