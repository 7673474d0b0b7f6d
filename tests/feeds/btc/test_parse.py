"""Table tests for the BTC parsers on realistic payloads (sources.md A1, A3) and on
the bad inputs of reliability.md D2/D3."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.btc.parse import parse_coinbase, parse_iso_time, parse_kraken
from feeds.core.decode import DecodeError, loads
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


# -- the fast paths: numbers ------------------------------------------------------------
#
# parse_coinbase validates prices with string checks and a regex before Decimal, and
# remembers the last text of each field. These tables pin down that the fast paths accept
# exactly the plain decimal strings exchanges send and nothing Decimal() alone would take.

GOOD_PRICE_TEXT: list[tuple[str, Decimal]] = [
    ("92104.17", Decimal("92104.17")),
    ("+92104.17", Decimal("92104.17")),  # a leading '+' is a plain sign
    ("00092104.17", Decimal("92104.17")),
    ("92104.", Decimal("92104")),
    (".5", Decimal("0.5")),
    ("+.5", Decimal("0.5")),
    ("0.00000001", Decimal("0.00000001")),
    ("999999999999.99", Decimal("999999999999.99")),  # just under the 10^12 ceiling
    ("1" + "0" * 11, Decimal(10**11)),
    ("0." + "0" * 29 + "1", Decimal("1e-30")),  # 32 characters: the longest accepted
]

BAD_PRICE_TEXT: list[str] = [
    "1e3", "1E3", "1e-3", "1.5e+2",  # exponents
    " 1", "1 ", " 92104.17", "92104.17\n", "\t1",  # surrounding space
    "6_4000", "1_000.5",  # underscores
    "NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf",  # non-finite spellings
    "", "+", "-", ".", "+.", "-.",  # no digits
    "1.2.3", "..5", "--1", "+-1", "-+1", "1-", "1+",  # malformed
    "-5", "-0.01", "0", "0.000", "+0", "-0", ".0",  # not positive
    "1000000000000", "1000000000000.00", "9" * 20,  # at or over 10^12
    "0." + "0" * 30 + "1",  # 33 characters: over the length cap
    "١٢٣", "１２３", "²", "٣.٥",  # non-ASCII digits Decimal would take
    "92,104.17", "0x10", "1/2", "$5", "5$",  # other junk
]  # fmt: skip

BAD_PRICE_VALUES: list[object] = [
    True, False, None, [], {}, [1], {"a": 1},
    0, -1, 0.0, -0.0, -1.5, 1e12, 10**12, 2**80,
]  # fmt: skip


@pytest.mark.parametrize(("text", "want"), GOOD_PRICE_TEXT)
def test_coinbase_accepts_plain_decimal_price_text(text: str, want: Decimal) -> None:
    for field in ("price", "best_bid", "open_24h", "high_24h", "low_24h"):
        msg = payload("coinbase_ticker.json") | {field: text}
        if field == "best_bid":
            msg["best_ask"] = "999999999999.99"
        tick = parse_coinbase(msg, 1.0)
        assert isinstance(tick, Tick), (field, text, tick)
        assert getattr(tick, "bid" if field == "best_bid" else field) == want


@pytest.mark.parametrize("bad", [*BAD_PRICE_TEXT, *BAD_PRICE_VALUES])
@pytest.mark.parametrize("field", ["price", "best_bid", "best_ask", "high_24h"])
def test_d3_coinbase_rejects_what_decimal_alone_would_take(field: str, bad: object) -> None:
    msg = payload("coinbase_ticker.json") | {field: bad}
    out = parse_coinbase(msg, 1.0)
    if bad in (None, "") and field != "price":
        assert isinstance(out, Tick)  # an optional field null or empty is simply absent
    else:
        assert isinstance(out, BadMessage), (field, bad, out)
        assert field in out.reason


@pytest.mark.parametrize(
    ("value", "want"),
    [(92104.17, Decimal("92104.17")), (92104, Decimal(92104)), (0.1, Decimal("0.1"))],
)
def test_json_numbers_are_accepted_as_prices(value: object, want: Decimal) -> None:
    tick = parse_coinbase(payload("coinbase_ticker.json") | {"price": value}, 1.0)
    assert isinstance(tick, Tick) and tick.price == want


@pytest.mark.parametrize(
    ("value", "want"),
    [("0", Decimal(0)), ("8123.45678901", Decimal("8123.45678901")), (12, Decimal(12)),
     ("", None), (None, None)],
)  # fmt: skip
def test_coinbase_volume_may_be_zero_or_absent(value: object, want: Decimal | None) -> None:
    tick = parse_coinbase(payload("coinbase_ticker.json") | {"volume_24h": value}, 1.0)
    assert isinstance(tick, Tick) and tick.volume_24h == want


@pytest.mark.parametrize("bad", ["-1", "-0.5", "1e3", " 1", True, [], "NaN", float("nan")])
def test_d3_coinbase_rejects_bad_volume(bad: object) -> None:
    out = parse_coinbase(payload("coinbase_ticker.json") | {"volume_24h": bad}, 1.0)
    assert out == BadMessage("coinbase", "volume_24h is not a number")


def test_remembered_field_text_never_stands_in_for_other_values() -> None:
    """The per-field memo compares strings only: JSON ``true`` must not pass for a
    remembered ``"1"`` (True == 1 in Python), and a bad value in between changes nothing."""
    base = payload("coinbase_ticker.json") | {"best_bid": "1", "best_ask": "2"}
    first = parse_coinbase(base, 1.0)
    assert isinstance(first, Tick) and first.bid == Decimal(1)
    assert isinstance(parse_coinbase(base | {"best_bid": True}, 1.0), BadMessage)
    assert isinstance(parse_coinbase(base | {"best_bid": 1}, 1.0), Tick)  # a JSON number 1
    assert isinstance(parse_coinbase(base | {"best_bid": "NaN"}, 1.0), BadMessage)
    again = parse_coinbase(base, 2.0)
    assert isinstance(again, Tick) and again.bid == Decimal(1) and again.received == 2.0
    other = parse_coinbase(base | {"best_bid": "1.5"}, 3.0)
    assert isinstance(other, Tick) and other.bid == Decimal("1.5")


def test_consecutive_realistic_messages_parse_like_fresh_ones() -> None:
    """A stream where most fields repeat and some change gives the same ticks as parsing
    every message on its own would (the memo is invisible)."""
    base = payload("coinbase_ticker.json")
    stream = []
    for i in range(50):
        cents = 9_210_417 + (i % 7) - 3
        stream.append(
            base
            | {
                "sequence": base["sequence"] + i,
                "price": f"{cents / 100:.2f}",
                "best_bid": f"{(cents - 1) / 100:.2f}",
                "best_ask": f"{(cents + 1) / 100:.2f}",
                "high_24h": "93914.00" if i < 30 else "93999.99",
                "volume_24h": f"{8123.45678901 + i // 5:.8f}",
            }
        )
    for i, msg in enumerate(stream):
        tick = parse_coinbase(msg, float(i))
        assert isinstance(tick, Tick)
        assert tick.price == Decimal(msg["price"])
        assert (tick.bid, tick.ask) == (Decimal(msg["best_bid"]), Decimal(msg["best_ask"]))
        assert tick.high_24h == Decimal(msg["high_24h"])
        assert tick.volume_24h == Decimal(msg["volume_24h"])
        assert tick.sequence == msg["sequence"]


@pytest.mark.parametrize(
    ("seq", "ok"),
    [(0, True), (2**63, True), (None, True), (-1, False), (True, False), (False, False),
     (1.0, False), ("12", False), ([1], False)],
)  # fmt: skip
def test_coinbase_sequence_must_be_a_non_negative_integer(seq: object, ok: bool) -> None:
    out = parse_coinbase(payload("coinbase_ticker.json") | {"sequence": seq}, 1.0)
    assert isinstance(out, Tick) is ok, (seq, out)


# -- the fast paths: times --------------------------------------------------------------

UTC_1525 = datetime(2025, 12, 12, 15, 25, 0, tzinfo=UTC)

GOOD_TIMES: list[tuple[str, datetime]] = [
    ("2025-12-12T15:25:00.799258Z", UTC_1525.replace(microsecond=799258)),
    ("2025-12-12T15:25:00Z", UTC_1525),  # no fraction
    ("2025-12-12T15:25:00.5Z", UTC_1525.replace(microsecond=500000)),
    ("2025-12-12T15:25:00.123456789Z", UTC_1525.replace(microsecond=123456)),  # 9 digits
    ("2025-12-12T15:25:00.1234567Z", UTC_1525.replace(microsecond=123456)),
    ("2025-12-12T15:25:00.123456789+00:00", UTC_1525.replace(microsecond=123456)),
    ("2025-12-12T15:25:00+00:00", UTC_1525),
    ("2025-12-12T16:25:00+01:00", UTC_1525),  # a non-UTC offset is converted
    ("2025-12-12T10:25:00.000001-05:00", UTC_1525.replace(microsecond=1)),
    ("2025-12-13T00:55:00+09:30", UTC_1525),
    ("2009-01-03T00:00:00Z", datetime(2009, 1, 3, tzinfo=UTC)),  # the first block
    ("2099-12-31T23:59:59.999999Z", datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
]

BAD_TIMES: list[object] = [
    "2025-12-12T15:25:00",  # no offset: local time of who knows where
    "2025-12-12T15:25:00.799258",
    "2025-12-12T15:25:00z",
    "2025-12-12T25:25:00Z",
    "2025-13-12T15:25:00Z",
    "2025-12-12T15:25:00+25:00",
    "2009-01-02T23:59:59Z",  # before the first block
    "2100-01-01T00:00:00Z",
    "2025-12-12",  # too short
    "2025-12-12T15:25:00.123456789123456789123456789Z",  # too long
    " 2025-12-12T15:25:00Z ",
    "yesterday at noon, roughly",
    1765553100,
    1765553100.5,
    True,
    None,
    [],
]


@pytest.mark.parametrize(("text", "want"), GOOD_TIMES)
def test_iso_times_fast_and_trimmed(text: str, want: datetime) -> None:
    got = parse_iso_time(text)
    assert got == want
    assert got is not None and got.tzinfo is UTC
    tick = parse_coinbase(payload("coinbase_ticker.json") | {"time": text}, 1.0)
    assert isinstance(tick, Tick) and tick.exchange_time == want


@given(
    st.datetimes(min_value=datetime(2009, 1, 4), max_value=datetime(2099, 12, 30)),
    st.integers(0, 9),
    st.sampled_from(["Z", "+00:00", "+01:00", "-05:00", "+05:45", "-00:30"]),
    st.integers(0, 999),
)
def test_iso_times_any_precision_and_offset(
    local: datetime, digits: int, offset: str, nanos: int
) -> None:
    """Whatever the fraction's length (0-9 digits) and the offset, the result is the same
    instant in UTC, truncated to the microsecond."""
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + (f"{local.microsecond:06d}{nanos:03d}")[:digits]
    text += offset
    tz = UTC if offset == "Z" else datetime.strptime(offset, "%z").tzinfo
    micro = int((f"{local.microsecond:06d}")[: min(digits, 6)].ljust(6, "0"))
    want = local.replace(microsecond=micro, tzinfo=tz).astimezone(UTC)
    assert parse_iso_time(text) == want


@pytest.mark.parametrize("bad", BAD_TIMES)
def test_d2_bad_times_are_refused(bad: object) -> None:
    assert parse_iso_time(bad) is None
    out = parse_coinbase(payload("coinbase_ticker.json") | {"time": bad}, 1.0)
    if bad is None:
        assert isinstance(out, Tick) and out.exchange_time is None  # no time sent
    else:
        assert out == BadMessage("coinbase", "time is not an ISO-8601 UTC timestamp")


# -- Kraken: JSON numbers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("bid", 108359.8, True),
        ("bid", 108359, True),
        ("bid", "108359.8", True),
        ("bid", "", True),  # empty: absent
        ("bid", None, True),
        ("bid", True, False),
        ("bid", 0, False),
        ("bid", -1.5, False),
        ("bid", float("inf"), False),
        ("bid", "1e5", False),
        ("high", 2e12, False),
        ("volume", 0, True),
        ("volume", 0.0, True),
        ("volume", None, True),
        ("volume", "", False),  # Kraken sends numbers: an empty string is malformed
        ("volume", -0.5, False),
        ("volume", False, False),
        ("change", -2679.9, True),
        ("change", "x", False),
        ("change", True, False),
    ],
)
def test_kraken_field_types(field: str, value: object, ok: bool) -> None:
    msg = payload("kraken_ticker_snapshot.json")
    msg["data"][0][field] = value
    out = parse_kraken(msg, 1.0)
    assert isinstance(out, Tick) is ok, (field, value, out)


def test_kraken_batch_whose_newest_item_is_not_an_object_is_bad() -> None:
    msg = payload("kraken_ticker_snapshot.json")
    msg["data"].append("garbage")
    assert isinstance(parse_kraken(msg, 1.0), BadMessage)


# -- the Tick the parsers build ---------------------------------------------------------


def test_tick_is_a_plain_frozen_dataclass() -> None:
    """Tick has a hand-written __init__ (speed); it must behave like the generated one."""
    tick = parse_coinbase(payload("coinbase_ticker.json"), 5.0)
    assert isinstance(tick, Tick)
    names = [f.name for f in dataclasses.fields(Tick)]
    by_keyword = Tick(**{name: getattr(tick, name) for name in names})
    assert by_keyword == tick and hash(by_keyword) == hash(tick)
    assert dataclasses.replace(tick, price=Decimal(1)).price == Decimal(1)
    assert repr(tick).startswith("Tick(source='coinbase', price=Decimal('92104.17')")
    with pytest.raises(dataclasses.FrozenInstanceError):
        tick.price = Decimal(1)  # type: ignore[misc]
    with pytest.raises(TypeError):
        Tick("coinbase", Decimal(1))  # type: ignore[call-arg]
