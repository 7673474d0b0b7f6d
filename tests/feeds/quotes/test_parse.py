"""Table tests for the Yahoo chart and Cboe parsers on realistic payloads (tests/data/quotes)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.model.core import BadMessage
from feeds.model.history import Bar
from feeds.model.quotes import MarketState, Quote
from feeds.quotes.parse import (
    decode_body,
    parse_cboe_quote,
    parse_chart_bars,
    parse_chart_meta_first_trade,
    parse_chart_quote,
    yahoo_error,
)

DATA = Path(__file__).parents[2] / "data" / "quotes"
NOW = datetime(2025, 12, 12, 15, 30, tzinfo=UTC)  # Friday 10:30 ET, session open


def _load(name: str) -> object:
    ctype = "text/html" if name.endswith(".html") else "application/json"
    return decode_body((DATA / name).read_bytes(), ctype, "yahoo")


def _quote(name: str, symbol: str) -> Quote | BadMessage:
    payload = _load(name)
    if isinstance(payload, BadMessage):
        return payload
    return parse_chart_quote(payload, symbol, received=5.0, now=NOW)


@pytest.mark.parametrize(
    ("name", "symbol", "expect"),
    [
        (
            "chart_gspc_normal.json",
            "^GSPC",
            {
                "price": Decimal("6902.55"),
                "prev_close": Decimal("6886.68"),
                "day_high": Decimal("6910.12"),
                "day_low": Decimal("6880.4"),
                "year_high": Decimal("6920.34"),
                "currency": "USD",
                "name": "S&P 500",
                "market_state": MarketState.REGULAR,
                "is_future": False,
                "delay_s": 0,
                "first_trade": date(1927, 12, 30),
            },
        ),
        (
            # No regularMarketPrice: the last NON-NULL close, never a null read as 0;
            # day range from the valid highs and lows only.
            "chart_rut_nulls.json",
            "^RUT",
            {
                "price": Decimal("2554.6"),
                "prev_close": Decimal("2541.03"),
                "day_high": Decimal("2556.9"),
                "day_low": Decimal("2539.8"),
                "name": "Russell 2000",
            },
        ),
        (
            # Pence: 1123.4 GBp is 11.234 GBP, not 1123.4 pounds.
            "chart_hsba_gbp.json",
            "HSBA.L",
            {
                "price": Decimal("11.234"),
                "prev_close": Decimal("11.086"),
                "day_high": Decimal("11.27"),
                "year_high": Decimal("11.3"),
                "currency": "GBP",
            },
        ),
    ],
)
def test_h14_chart_quote_table(name: str, symbol: str, expect: dict[str, object]) -> None:
    q = _quote(name, symbol)
    assert isinstance(q, Quote), q
    for field, value in expect.items():
        assert getattr(q, field) == value, field
    assert q.price > 0 and q.source == "yahoo" and q.received == 5.0


@pytest.mark.parametrize(
    ("name", "reason_part"),
    [
        ("chart_error_null_result.json", "No data found, symbol may be delisted"),
        ("yahoo_down.html", "HTML page"),
        ("chart_gspc_truncated.json", "truncated"),
    ],
)
def test_h8_h9_h14_bad_answers_are_bad_messages(name: str, reason_part: str) -> None:
    q = _quote(name, "^GSPC")
    assert isinstance(q, BadMessage)
    assert reason_part in q.reason


def test_h8_html_page_served_as_json_content_type() -> None:
    body = (DATA / "yahoo_down.html").read_bytes()
    got = decode_body(body, "application/json", "yahoo")
    assert isinstance(got, BadMessage)
    assert "down" in got.reason


def test_h7_invalid_crumb_envelope_reason() -> None:
    payload = _load("yahoo_401_invalid_crumb.json")
    assert yahoo_error(payload) == "Unauthorized: Invalid Crumb"


def test_quote_for_another_symbol_is_rejected() -> None:
    q = _quote("chart_gspc_normal.json", "^DJI")
    assert isinstance(q, BadMessage)


def test_zero_and_negative_prices_never_become_quotes() -> None:
    payload = _load("chart_gspc_normal.json")
    assert isinstance(payload, dict)
    meta = payload["chart"]["result"][0]["meta"]
    meta["regularMarketPrice"] = 0
    quote = payload["chart"]["result"][0]["indicators"]["quote"][0]
    quote["close"] = [None, 0, -1, None, "NaN", None]
    q = parse_chart_quote(payload, "^GSPC", received=1.0, now=NOW)
    assert isinstance(q, BadMessage)


def test_chart_bars_skip_null_and_invalid_days() -> None:
    bars = parse_chart_bars(_load("chart_rut_daily.json"), "^RUT")
    assert isinstance(bars, list)
    # Dec 9 has null open/high/low; Dec 12 has a low of 0: both skipped.
    assert [b.day for b in bars] == [date(2025, 12, 8), date(2025, 12, 10), date(2025, 12, 11)]
    assert bars[-1] == Bar(
        "^RUT",
        date(2025, 12, 11),
        Decimal("2541.7"),
        Decimal("2552.9"),
        Decimal("2539.0"),
        Decimal("2547.3"),
        "yahoo",
    )


def test_chart_bars_error_and_first_trade() -> None:
    assert isinstance(parse_chart_bars(_load("chart_error_null_result.json"), "X"), BadMessage)
    assert parse_chart_meta_first_trade(_load("chart_rut_daily.json")) == date(1987, 9, 10)
    assert parse_chart_meta_first_trade(_load("chart_error_null_result.json")) is None
    assert parse_chart_meta_first_trade({"chart": {"result": [{"meta": {}}]}}) is None


def test_chart_bars_use_the_exchange_date() -> None:
    # 23:30 UTC on Dec 11 is still Dec 11 in New York but Dec 12 in Tokyo.
    ts = int(datetime(2025, 12, 11, 23, 30, tzinfo=UTC).timestamp())
    quote = {"open": [1.0], "high": [2.0], "low": [1.0], "close": [1.5]}

    def payload(tz: str) -> object:
        meta = {"exchangeTimezoneName": tz}
        return {
            "chart": {
                "result": [{"meta": meta, "timestamp": [ts], "indicators": {"quote": [quote]}}]
            }
        }

    ny = parse_chart_bars(payload("America/New_York"), "A")
    tokyo = parse_chart_bars(payload("Asia/Tokyo"), "A")
    assert isinstance(ny, list) and isinstance(tokyo, list)
    assert ny[0].day == date(2025, 12, 11) and tokyo[0].day == date(2025, 12, 12)


def test_cboe_quote_and_previous_close_pitfall() -> None:
    spx = decode_body((DATA / "cboe_spx.json").read_bytes(), "application/json", "cboe")
    q = parse_cboe_quote(spx, "^GSPC", name="S&P 500", received=2.0, now=NOW)
    assert isinstance(q, Quote)
    assert q.price == Decimal("6890.12") and q.prev_close == Decimal("6886.68")
    assert q.source == "cboe" and q.delay_s == 900
    assert q.market_time == datetime(2025, 12, 12, 15, 24, 58, tzinfo=UTC)
    # After the close prev_day_close already equals the close: use price - change.
    djx = decode_body((DATA / "cboe_djx_after_close.json").read_bytes(), "application/json", "cboe")
    q2 = parse_cboe_quote(djx, "^DJI", name="Dow", received=2.0, now=NOW, scale=Decimal(100))
    assert isinstance(q2, Quote)
    assert q2.price == Decimal("48710.0") and q2.prev_close == Decimal("48704.00")


@pytest.mark.parametrize(
    ("name", "symbol", "scale", "price", "prev", "change"),
    [
        # In session: current_price - price_change (6890.12 - 3.44).
        ("cboe_spx.json", "^GSPC", Decimal(1), "6890.12", "6886.68", "3.44"),
        # After the close, RECONSTRUCTED from the numbers of a real after-close AAPL answer
        # quoted in issue 18 (close 213.25, current_price 212.8, price_change 4.18,
        # prev_day_close 213.25; the other fields are filled in). The change is today's
        # close against yesterday's: 213.25 - 4.18 = 209.07, not 212.8 - 4.18 = 208.62.
        (
            "cboe_aapl_after_close_reconstructed.json",
            "AAPL",
            Decimal(1),
            "213.25",
            "209.07",
            "4.18",
        ),
        # After the close with current_price == close: both readings agree (x100 for DJX).
        ("cboe_djx_after_close.json", "^DJI", Decimal(100), "48710.0", "48704.00", "6.00"),
    ],
)
def test_cboe_quote_table(
    name: str, symbol: str, scale: Decimal, price: str, prev: str, change: str
) -> None:
    payload = decode_body((DATA / name).read_bytes(), "application/json", "cboe")
    q = parse_cboe_quote(payload, symbol, name=symbol, received=2.0, now=NOW, scale=scale)
    assert isinstance(q, Quote), q
    assert q.price == Decimal(price) and q.prev_close == Decimal(prev)
    assert q.change == Decimal(change)
    # The percentage the payload states agrees with the row's (to its 4 decimals).
    assert isinstance(payload, dict)
    stated = Decimal(str(payload["data"]["price_change_percent"]))
    if name != "cboe_spx.json":  # the SPX sample's stated percent is a rounded 0.0499
        assert q.change_pct is not None and abs(q.change_pct - stated) < Decimal("0.01")


def test_cboe_after_close_without_change_has_no_previous_close() -> None:
    # prev_day_close == close after the close: it is today's close, never "previous".
    data = {"current_price": 212.8, "close": 213.25, "prev_day_close": 213.25}
    q = parse_cboe_quote({"data": data}, "AAPL", name="AAPL", received=1.0, now=NOW)
    assert isinstance(q, Quote) and q.price == Decimal("213.25") and q.prev_close is None


def test_bars_and_quote_share_the_main_unit() -> None:
    payload = _load("chart_hsba_gbp.json")
    quote = parse_chart_quote(payload, "HSBA.L", received=1.0, now=NOW)
    bars = parse_chart_bars(payload, "HSBA.L")
    assert isinstance(quote, Quote) and isinstance(bars, list) and bars
    assert isinstance(payload, dict)
    raw = payload["chart"]["result"][0]["indicators"]["quote"][0]
    assert bars[-1].close == Decimal(str(raw["close"][-1])) / 100
    assert bars[-1].high == Decimal(str(raw["high"][-1])) / 100
    # One scale: the live price and the day's bar are within a few percent, not 100x.
    assert abs(quote.price / bars[-1].close - 1) < Decimal("0.05")


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
        lambda kids: (
            st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=4)
        ),
        max_leaves=30,
    )
)
def test_parsers_never_raise(payload: object) -> None:
    for wrapped in (
        payload,
        {"chart": {"result": [payload]}},
        {"chart": {"result": [{"meta": payload}]}},
    ):
        parse_chart_quote(wrapped, "^GSPC", received=1.0, now=NOW)
        parse_chart_bars(wrapped, "^GSPC")
        parse_chart_meta_first_trade(wrapped)
        parse_cboe_quote({"data": payload}, "^GSPC", name="x", received=1.0, now=NOW)
        yahoo_error(wrapped)
