"""Table tests for the BTC parsers on realistic payloads (sources.md A1, A3) and on
the bad inputs of reliability.md D2/D3."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from feeds.btc.parse import parse_coinbase, parse_iso_time, parse_kraken
from feeds.decode import DecodeError, loads
from feeds.model import BadMessage, Heartbeat, Ignored, Tick, VenueNotice

DATA = Path(__file__).parents[2] / "data" / "btc"


def payload(name: str) -> dict[str, Any]:
    value = json.loads((DATA / name).read_text())
    assert isinstance(value, dict)
    return value


def test_coinbase_ticker_fields() -> None:
    tick = parse_coinbase(payload("coinbase_ticker.json"), 5.0)
    assert isinstance(tick, Tick)
    assert tick.source == "coinbase"
    assert tick.price == Decimal("92104.17")
    assert (tick.bid, tick.ask) == (Decimal("92104.16"), Decimal("92104.18"))
    assert tick.open_24h == Decimal("92800.00")
    assert (tick.high_24h, tick.low_24h) == (Decimal("93914.00"), Decimal("90718.00"))
    assert tick.volume_24h == Decimal("8123.45678901")
    assert tick.sequence == 37475248783
    assert tick.exchange_time == datetime(2025, 12, 12, 15, 25, 0, 799258, tzinfo=UTC)
    assert tick.received == 5.0


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("coinbase_heartbeat.json", Heartbeat),
        ("coinbase_subscriptions.json", Ignored),
        ("coinbase_error.json", VenueNotice),
    ],
)
def test_coinbase_other_messages(name: str, kind: type) -> None:
    assert isinstance(parse_coinbase(payload(name), 1.0), kind)


def test_coinbase_error_is_an_error_notice_with_the_reason() -> None:
    notice = parse_coinbase(payload("coinbase_error.json"), 1.0)
    assert isinstance(notice, VenueNotice) and notice.is_error
    assert "not a valid product" in notice.status


def test_w18_unknown_type_and_extra_fields_are_ignored() -> None:
    assert parse_coinbase({"type": "brand_new", "x": 1}, 1.0) == Ignored("coinbase", "brand_new")
    msg = payload("coinbase_ticker.json") | {"future_field": {"a": [1]}}
    assert isinstance(parse_coinbase(msg, 1.0), Tick)


BAD_PRICES: list[object] = [
    "NaN", "Infinity", "-Infinity", "0", "0.00", "-1", "6_4000", " 1 ", "1e3", "",
    None, True, [], {}, "92,104.17", "0x10",
]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_PRICES)
def test_d3_coinbase_rejects_bad_prices(bad: object) -> None:
    msg = payload("coinbase_ticker.json") | {"price": bad}
    out = parse_coinbase(msg, 1.0)
    assert isinstance(out, BadMessage), bad


@pytest.mark.parametrize("field", ["best_bid", "best_ask", "open_24h", "high_24h", "low_24h"])
@pytest.mark.parametrize("bad", ["NaN", "-5", "abc", 0])
def test_d3_coinbase_rejects_bad_optional_prices(field: str, bad: object) -> None:
    msg = payload("coinbase_ticker.json") | {field: bad}
    assert isinstance(parse_coinbase(msg, 1.0), BadMessage)


@pytest.mark.parametrize(
    "change",
    [
        {"product_id": "ETH-USD"},
        {"sequence": "12"},
        {"sequence": True},
        {"sequence": -1},
        {"time": "yesterday"},
        {"time": "2001-01-01T00:00:00Z"},
        {"time": "2025-12-12T15:25:00"},
        {"best_bid": "92104.20", "best_ask": "92104.10"},
        {"volume_24h": "lots"},
    ],
)
def test_d2_coinbase_wrong_types_and_fields(change: dict[str, object]) -> None:
    msg = payload("coinbase_ticker.json") | change
    assert isinstance(parse_coinbase(msg, 1.0), BadMessage)


def test_d2_coinbase_missing_price_and_non_objects() -> None:
    msg = payload("coinbase_ticker.json")
    del msg["price"]
    assert isinstance(parse_coinbase(msg, 1.0), BadMessage)
    for junk in ([1, 2], "ticker", 5, None):
        assert isinstance(parse_coinbase(junk, 1.0), BadMessage)
    assert isinstance(parse_coinbase({"no": "type"}, 1.0), BadMessage)


def test_kraken_ticker_fields() -> None:
    tick = parse_kraken(payload("kraken_ticker_snapshot.json"), 2.0)
    assert isinstance(tick, Tick)
    assert tick.source == "kraken"
    assert tick.price == Decimal("108359.8")
    assert (tick.bid, tick.ask) == (Decimal("108359.8"), Decimal("108359.9"))
    assert tick.open_24h == Decimal("108359.8") - Decimal("-2679.9")
    assert (tick.high_24h, tick.low_24h) == (Decimal("111300"), Decimal("106824"))
    assert tick.sequence is None and tick.exchange_time is None


def test_kraken_batched_updates_take_the_newest() -> None:
    msg = payload("kraken_ticker_snapshot.json")
    second = dict(msg["data"][0], last=108400.1, bid=108400.0, ask=108400.2)
    msg["data"].append(second)
    tick = parse_kraken(msg, 1.0)
    assert isinstance(tick, Tick) and tick.price == Decimal("108400.1")


@pytest.mark.parametrize(
    ("msg", "kind"),
    [
        ({"channel": "heartbeat"}, Heartbeat),
        ({"method": "pong", "req_id": 3}, Heartbeat),
        ({"channel": "book", "type": "update", "data": []}, Ignored),
    ],
)
def test_kraken_other_messages(msg: dict[str, object], kind: type) -> None:
    assert isinstance(parse_kraken(msg, 1.0), kind)


def test_kraken_status_and_acks() -> None:
    status = parse_kraken(payload("kraken_status.json"), 1.0)
    assert status == VenueNotice("kraken", "online", False, 1.0)
    assert isinstance(parse_kraken(payload("kraken_sub_ack.json"), 1.0), Ignored)
    err = parse_kraken(payload("kraken_sub_error.json"), 1.0)
    assert isinstance(err, VenueNotice) and err.is_error
    assert err.status == "Currency pair not supported"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1, 0, "108359.8x", None, True])
def test_d3_kraken_rejects_bad_last(bad: object) -> None:
    msg = payload("kraken_ticker_snapshot.json")
    msg["data"][0]["last"] = bad
    assert isinstance(parse_kraken(msg, 1.0), BadMessage)


@pytest.mark.parametrize(
    "data", [None, [], ["x"], [{"symbol": "ETH/USD", "last": 3000.0}], {"symbol": "BTC/USD"}]
)
def test_d2_kraken_bad_data(data: object) -> None:
    assert isinstance(parse_kraken({"channel": "ticker", "data": data}, 1.0), BadMessage)


def test_x1_escape_sequences_in_venue_text_are_stripped() -> None:
    msg = {"type": "error", "message": "bad \x1b]0;PWNED\x07 \x1b[2J\x9b2J [b]x[/b]"}
    notice = parse_coinbase(msg, 1.0)
    assert isinstance(notice, VenueNotice)
    assert "\x1b" not in notice.status and "\x9b" not in notice.status
    assert "PWNED" not in notice.status


@pytest.mark.parametrize(
    "raw",
    [b"NaN", b'{"price": NaN}', b"[Infinity]", b'{"p": 1e400}', b"[" * 100_000, b"\xff\xfe", b""],
)
def test_d3_d10_strict_decoder_rejects(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        loads(raw)


def test_iso_times() -> None:
    assert parse_iso_time("2025-12-12T15:25:00.123456789Z") == datetime(
        2025, 12, 12, 15, 25, 0, 123456, tzinfo=UTC
    )
    assert parse_iso_time("2025-12-12T15:25:00+00:00") is not None
    for bad in ("2025-12-12", 5, None, "2008-12-31T00:00:00Z", "nonsense-nonsense-xx"):
        assert parse_iso_time(bad) is None
