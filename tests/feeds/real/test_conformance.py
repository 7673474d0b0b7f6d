"""Every real recorded response in tests/data/real (provenance in its PROVENANCE.md) runs
through the parser that reads it in the app. The expected values are computed here from
the raw payload's own fields, never typed in; a sample the app must not use is refused
for the stated reason.

A new sample without a row here fails :func:`test_every_real_sample_has_a_row`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from feeds.btc.parse import parse_coinbase, parse_kraken
from feeds.core.decode import loads
from feeds.history.backfill import parse_candles
from feeds.model.btc import Tick, VenueNotice
from feeds.model.core import BadMessage, Ignored
from feeds.model.fed import MeetingOdds, TargetRange
from feeds.model.quotes import MarketState, Quote
from feeds.quotes.parse import chart_unit, parse_cboe_quote, parse_chart_bars, parse_chart_quote
from feeds.rates.calendar import load_calendar
from feeds.rates.effr import parse_effr
from feeds.rates.kalshi import (
    event_meeting,
    market_price,
    parse_decision_event,
    parse_ladder_event,
)
from feeds.rates.odds_checks import MarketChecks
from feeds.rates.polymarket import bucket, parse_event
from feeds.tbills.fred import parse_fredgraph_csv

REAL = Path(__file__).parents[2] / "data" / "real"
NOW = datetime(2025, 2, 20, 11, 47, tzinfo=UTC)  # the Yahoo recordings' Date header


def _json(rel: str) -> Any:
    return json.loads((REAL / rel).read_text())


def _d(value: object) -> Decimal:
    return Decimal(str(value))


def _iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- Coinbase ---------------------------------------------------------------------------


def check_coinbase_ticker(rel: str) -> None:
    raw = _json(rel)
    tick = parse_coinbase(raw, 1.0)
    assert isinstance(tick, Tick), tick
    assert tick.price == _d(raw["price"])
    assert tick.bid == _d(raw["best_bid"]) and tick.ask == _d(raw["best_ask"])
    assert tick.open_24h == _d(raw["open_24h"])
    assert tick.high_24h == _d(raw["high_24h"]) and tick.low_24h == _d(raw["low_24h"])
    assert tick.volume_24h == _d(raw["volume_24h"])
    assert tick.sequence == raw["sequence"]
    assert tick.exchange_time == _iso(raw["time"])


def check_coinbase_subscriptions(rel: str) -> None:
    # The ack names the channel "ticker_1000" although "ticker_batch" was asked for: it
    # is an acknowledgement, never a price, and must not be read as an error.
    out = parse_coinbase(_json(rel), 1.0)
    assert isinstance(out, Ignored) and out.kind == "subscriptions"


def check_coinbase_candles_refused(rel: str) -> None:
    # Refused: a BTC-USDT hourly candle is not a BTC-USD daily one. The payload cannot
    # say its product, but its start time (11:00 UTC) shows it is not a daily candle.
    raw = _json(rel)
    assert raw[0][0] % 86_400 != 0
    out = parse_candles(raw, "BTC-USD")
    assert isinstance(out, BadMessage) and "not daily candles" in out.reason
    # Re-based to midnight, the very same row is read with the documented column order
    # [time, low, high, open, close, volume] (ccxt's parsed form agrees).
    t, low, high, open_, close, _ = raw[0]
    rebased = parse_candles([[t - t % 86_400, low, high, open_, close, 1]], "BTC-USD")
    assert isinstance(rebased, list)
    (bar,) = rebased
    assert (bar.low, bar.high, bar.open, bar.close) == (_d(low), _d(high), _d(open_), _d(close))


# -- Kraken -----------------------------------------------------------------------------


def check_kraken_status(rel: str) -> None:
    raw = _json(rel)
    out = parse_kraken(raw, 1.0)
    assert isinstance(out, VenueNotice)
    assert out.status == raw["data"][0]["system"] == "online" and not out.is_error


def check_kraken_subscribe_ack(rel: str) -> None:
    raw = _json(rel)
    assert raw["success"] is True
    assert isinstance(parse_kraken(raw, 1.0), Ignored)


def check_kraken_algo_refused(rel: str) -> None:
    # Refused: an ALGO/USD ticker is not BTC (the subscription asked for both).
    raw = _json(rel)
    assert raw["data"][0]["symbol"] == "ALGO/USD"
    out = parse_kraken(raw, 1.0)
    assert isinstance(out, BadMessage) and "another symbol" in out.reason
    # The same message for BTC/USD is read, numbers and timestamp from its own fields.
    item = dict(raw["data"][0], symbol="BTC/USD")
    tick = parse_kraken(dict(raw, data=[item]), 1.0)
    assert isinstance(tick, Tick)
    assert tick.price == _d(item["last"]) and tick.bid == _d(item["bid"])
    assert tick.ask == _d(item["ask"]) and tick.volume_24h == _d(item["volume"])
    assert tick.open_24h == _d(item["last"]) - _d(item["change"])
    assert tick.exchange_time == _iso(item["timestamp"])


# -- Yahoo ------------------------------------------------------------------------------


def check_yahoo_chart(rel: str) -> None:
    raw = _json(rel)
    res = raw["chart"]["result"][0]
    meta = res["meta"]
    symbol = meta["symbol"]
    div = Decimal(100) if meta["currency"] in ("GBp", "ZAc", "ILA") else Decimal(1)
    main = {"GBp": "GBP", "ZAc": "ZAR", "ILA": "ILS"}.get(meta["currency"], meta["currency"])
    assert chart_unit(meta) == (main, div)

    q = parse_chart_quote(raw, symbol, received=1.0, now=NOW)
    assert isinstance(q, Quote), q
    assert q.price == _d(meta["regularMarketPrice"]) / div
    prev = meta.get("previousClose", meta.get("chartPreviousClose"))
    assert q.prev_close == _d(prev) / div
    assert q.currency == main
    assert q.is_future == (meta["instrumentType"] == "FUTURE")
    assert q.year_high == _d(meta["fiftyTwoWeekHigh"]) / div
    assert q.market_time == datetime.fromtimestamp(meta["regularMarketTime"], UTC)

    bars = parse_chart_bars(raw, symbol)
    assert isinstance(bars, list), bars
    quote = res["indicators"]["quote"][0]
    closes = [c for c in quote.get("close", []) if c is not None]
    assert [b.close for b in bars] == [_d(c) / div for c in closes]
    assert [b.high for b in bars] == [_d(h) / div for h in quote.get("high", []) if h is not None]
    # Bars and the quote's numbers on one scale: the first bar's close is near the close
    # before it (chartPreviousClose, read through the quote path), never 100x apart.
    if bars:
        before = _d(meta["chartPreviousClose"]) / div
        assert Decimal("0.8") < bars[0].close / before < Decimal("1.25")


# -- FRED -------------------------------------------------------------------------------


def check_fred(rel: str) -> None:
    text = (REAL / rel).read_text()
    rows = list(csv.reader(io.StringIO(text)))
    series = rows[0][1]
    want = [(r[0], _d(r[1])) for r in rows[1:] if r and r[1] != ""]
    got = parse_fredgraph_csv(text, series)
    assert isinstance(got, list), got
    assert [(d.isoformat(), v) for d, v in got] == want
    assert len(got) < len(rows) - 1 or all(r[1] for r in rows[1:])  # empties skipped
    wrong = parse_fredgraph_csv(text, "DFF")
    assert isinstance(wrong, BadMessage) and series in wrong.reason


# -- Kalshi (not Fed markets: the market object's shape) --------------------------------


def _check_kalshi_market(market: dict[str, Any]) -> None:
    for field in ("yes_bid_dollars", "yes_ask_dollars", "last_price_dollars"):
        value, flag = market_price(market, field)
        assert flag == "" and value == _d(market[field]), field  # sub-cent "0.1630" kept
    # Refused as a Fed market for its ticker, not for its numbers.
    why = event_meeting(market["event_ticker"], ())
    assert isinstance(why, str) and "not understood" in why


def check_kalshi_page(rel: str) -> None:
    raw = _json(rel)
    assert raw["markets"]
    for market in raw["markets"]:
        _check_kalshi_market(market)


def check_kalshi_single(rel: str) -> None:
    _check_kalshi_market(_json(rel)["market"])


def check_kalshi_fed_funds_year_refused(rel: str) -> None:
    # A real Fed series that is not a meeting: KXFEDFUNDSYEAR (the rate at a year's end)
    # has a dated event ticker ("-37JAN01") that the meeting reader must not take for a
    # KXFED/KXFEDDECISION month. Its markets' prices are still read as recorded.
    raw = _json(rel)
    for market in raw["markets"]:
        for field in ("yes_bid_dollars", "yes_ask_dollars", "last_price_dollars"):
            value, flag = market_price(market, field)
            assert flag == "" and value == _d(market[field]), field
    cal = load_calendar()
    for parse in (
        lambda: parse_ladder_event(raw, cal, 1.0),
        lambda: parse_decision_event(raw, cal, MarketChecks(), 1.0),
    ):
        out = parse()
        assert isinstance(out, BadMessage), out
        assert raw["event_ticker"] in out.reason and "not understood" in out.reason


# -- Cboe delayed quotes ------------------------------------------------------------------

# From each cassette's headers (see PROVENANCE.md): the HTTP Date (when it was asked for)
# and Last-Modified (when Cboe wrote the answer; the CDN may serve it hours later).
CBOE_RECORDED = {
    "cboe/quote_AAPL_after-close_openbb-cassette_2024-06-27.json": (
        datetime(2024, 6, 27, 10, 12, 12, tzinfo=UTC),
        datetime(2024, 6, 27, 3, 44, 3, tzinfo=UTC),
        MarketState.PRE,
    ),
    "cboe/quote_AAPL_session_openbb-cassette_2023-12-18.json": (
        datetime(2023, 12, 18, 15, 29, 34, tzinfo=UTC),
        datetime(2023, 12, 18, 15, 28, 52, tzinfo=UTC),
        MarketState.REGULAR,
    ),
    "cboe/quote_AAPL_session_openbb-cassette_2023-09-26.json": (
        datetime(2023, 9, 26, 19, 6, 36, tzinfo=UTC),
        datetime(2023, 9, 26, 19, 5, 45, tzinfo=UTC),
        MarketState.REGULAR,
    ),
}


def check_cboe_quote(rel: str) -> None:
    raw = loads((REAL / rel).read_bytes())
    data = raw["data"]
    recorded, modified, state = CBOE_RECORDED[rel]
    q = parse_cboe_quote(raw, data["symbol"], name="Apple", received=1.0, now=recorded)
    assert isinstance(q, Quote), q
    close, prev_day_close = _d(data["close"]), _d(data["prev_day_close"])
    change = _d(data["price_change"])
    if close == prev_day_close:
        # After the close: prev_day_close already is today's close and current_price
        # has moved on after hours; the day's change is measured from close - change.
        assert _d(data["current_price"]) != close
        assert q.price == close and q.prev_close == close - change
    else:
        # In the session: current_price, and the previous close it implies is the
        # payload's own prev_day_close.
        assert q.price == _d(data["current_price"])
        assert q.prev_close == q.price - change == prev_day_close
    assert q.day_high == _d(data["high"]) and q.day_low == _d(data["low"])
    assert q.currency == "USD" and q.delay_s == 900 and q.market_state == state
    # last_trade_time has no offset and is read as New York time. The payload's own
    # "timestamp" is UTC (seconds before the Last-Modified header), so the trade it names
    # must precede it: by the ~15-minute delay in the session, by hours after the close.
    stamp = datetime.fromisoformat(raw["timestamp"]).replace(tzinfo=UTC)
    assert timedelta(0) <= modified - stamp < timedelta(minutes=1)
    assert q.market_time is not None
    lag = stamp - q.market_time
    if state == MarketState.REGULAR:
        assert timedelta(minutes=14) < lag < timedelta(minutes=16), lag
    else:
        assert timedelta(0) < lag < timedelta(hours=24), lag


# -- NY Fed EFFR ---------------------------------------------------------------------------


def check_nyfed_effr(rel: str) -> None:
    raw = loads((REAL / rel).read_bytes())
    rows = raw["refRates"]
    newest = max(rows, key=lambda r: r["effectiveDate"])
    got = parse_effr(raw, 1.0)
    assert isinstance(got, TargetRange), got
    assert got.as_of == date.fromisoformat(newest["effectiveDate"])
    assert (got.lower, got.upper) == (_d(newest["targetRateFrom"]), _d(newest["targetRateTo"]))
    assert got.effr == _d(newest["percentRate"])
    # Each real row alone is the shape of /effr/last/1.json: every one is read, across
    # the three target-range changes (Feb, Mar, May 2023) the recording spans.
    ranges = set()
    for row in rows:
        one = parse_effr({"refRates": [row]}, 1.0)
        assert isinstance(one, TargetRange), (row, one)
        assert (one.lower, one.upper, one.effr) == (
            _d(row["targetRateFrom"]),
            _d(row["targetRateTo"]),
            _d(row["percentRate"]),
        )
        ranges.add((one.lower, one.upper))
    assert len(ranges) == 4


# -- Polymarket Gamma events ----------------------------------------------------------------


def check_polymarket_fed_event(rel: str) -> None:
    raw = _json(rel)
    cal = load_calendar()
    # The excerpt dropped the event's endDate (the source trimmed it); as recorded the
    # event is refused for it, never guessed.
    assert "endDate" not in raw
    out = parse_event(raw, cal, MarketChecks(), 1.0)
    assert isinstance(out, BadMessage) and "endDate" in out.reason
    # With the end date its markets carry (the meeting's decision day) it is read.
    event = dict(raw, endDate=raw["markets"][0]["endDate"])
    odds = parse_event(event, cal, MarketChecks(), 1.0)
    assert isinstance(odds, MeetingOdds), odds
    assert odds.meeting == date.fromisoformat(raw["markets"][0]["endDate"][:10])
    assert odds.event == raw["slug"]
    by_move = {o.move: o for o in odds.outcomes}
    for market in raw["markets"]:
        move = bucket(market["groupItemTitle"])
        assert move is not None
        o = by_move[move]
        # bestBid is absent, not 0, when nobody bids (the 50+ bucket).
        assert o.bid == (_d(market["bestBid"]) if "bestBid" in market else None)
        assert o.ask == _d(market["bestAsk"])
        assert o.last == _d(json.loads(market["outcomePrices"])[0])
    # Only two of the event's buckets were kept by the excerpt: their prices sum far
    # below 1, which the sum check must refuse rather than normalise.
    assert not odds.usable
    assert any("outcomes sum to" in f for f in odds.flags)


def check_polymarket_other_event_ignored(rel: str) -> None:
    # A real non-Fed event from the same page: no bucket label is a rate move, so it is
    # ignored (the "Other" placeholder market, inactive with no outcomePrices, included).
    raw = _json(rel)
    assert all(bucket(m["groupItemTitle"]) is None for m in raw["markets"])
    assert any("outcomePrices" not in m for m in raw["markets"])
    out = parse_event(raw, load_calendar(), MarketChecks(), 1.0)
    assert isinstance(out, Ignored) and "not a decision event" in out.kind


# -- the table --------------------------------------------------------------------------

CASES: dict[str, Callable[[str], None]] = {
    "coinbase/ws_ticker_crypto-msg-parser_2022-06-02.json": check_coinbase_ticker,
    "coinbase/ws_ticker_ru-capture-doc_2026-10-03.json": check_coinbase_ticker,
    "coinbase/ws_subscriptions_ticker_batch_ru-capture-doc_2026-10-03.json": (
        check_coinbase_subscriptions
    ),
    "coinbase/rest_candles_1h_BTC-USDT_ccxt-static_2024-03-13.json": (
        check_coinbase_candles_refused
    ),
    "kraken/ws_status_ru-capture-doc_2026-10-03.json": check_kraken_status,
    "kraken/ws_subscribe_ack_ticker_ru-capture-doc_2026-10-03.json": check_kraken_subscribe_ack,
    "kraken/ws_ticker_snapshot_ALGOUSD_ru-capture-doc_2026-10-03.json": check_kraken_algo_refused,
    "yahoo/chart_AAPL_1m_intraday_yahoo-finance2_2025-02-20.json": check_yahoo_chart,
    "yahoo/chart_GC=F_future_1d_yahoo-finance2_2025-02-20.json": check_yahoo_chart,
    "yahoo/chart_OCDO.L_GBp_1d_yahoo-finance2_2025-02-20.json": check_yahoo_chart,
    "yahoo/chart_WSU.DE_EUR_1d_yahoo-finance2_2025-02-20.json": check_yahoo_chart,
    "fred/fredgraph_RRPONTSYD_matemadrigal_2025-11.csv": check_fred,
    "fred/fredgraph_WALCL_matemadrigal_2025-11.csv": check_fred,
    "fred/fredgraph_WTREGEN_matemadrigal_2025-11.csv": check_fred,
    "kalshi/markets_page_tickers_ccxt-static_2026-04-09.json": check_kalshi_page,
    "kalshi/market_single_KXELONMARS-99_ccxt-static_2026-04-09.json": check_kalshi_single,
    "kalshi/event_KXFEDFUNDSYEAR-37JAN01_hexagon-excerpt_2026-09-15.json": (
        check_kalshi_fed_funds_year_refused
    ),
    "cboe/quote_AAPL_after-close_openbb-cassette_2024-06-27.json": check_cboe_quote,
    "cboe/quote_AAPL_session_openbb-cassette_2023-12-18.json": check_cboe_quote,
    "cboe/quote_AAPL_session_openbb-cassette_2023-09-26.json": check_cboe_quote,
    "nyfed/effr_search_2023-01-01_2023-06-06_openbb-cassette_2024-06-27.json": check_nyfed_effr,
    "polymarket/gamma_event_fed-decision-in-september-762_hexagon-excerpt_2026-09-15.json": (
        check_polymarket_fed_event
    ),
    "polymarket/gamma_event_russian-parliamentary-election_hexagon-excerpt_2026-09-15.json": (
        check_polymarket_other_event_ignored
    ),
}


@pytest.mark.parametrize("rel", sorted(CASES))
def test_real_sample(rel: str) -> None:
    CASES[rel](rel)


def test_every_real_sample_has_a_row_and_a_provenance_entry() -> None:
    samples = {
        p.relative_to(REAL).as_posix()
        for p in REAL.rglob("*")
        if p.is_file() and p.name != "PROVENANCE.md"
    }
    assert samples == set(CASES)
    provenance = (REAL / "PROVENANCE.md").read_text()
    for rel in samples:
        assert rel in provenance, rel


def test_ocdo_quote_and_bars_share_a_unit() -> None:
    # Issue 18 #2: the quote read 3.05 GBP while the bars stayed at 1259.5 GBp.
    raw = _json("yahoo/chart_OCDO.L_GBp_1d_yahoo-finance2_2025-02-20.json")
    q = parse_chart_quote(raw, "OCDO.L", received=1.0, now=NOW)
    bars = parse_chart_bars(raw, "OCDO.L")
    assert isinstance(q, Quote) and isinstance(bars, list)
    assert q.price == Decimal("3.053") and bars[0].close == Decimal("12.595")
