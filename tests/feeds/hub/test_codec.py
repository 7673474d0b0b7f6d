"""The hub's wire format: every relayed event type round-trips; receipt times count from
the original receipt; garbage, truncated, oversized and hostile entries become counted
BadMessages and never raise."""

from __future__ import annotations

import dataclasses
import pickle
import string
from datetime import UTC, date, datetime
from decimal import Decimal

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.core.clock import ManualClock
from feeds.core.text import clean_text
from feeds.history.ath_state import HistoryNotice
from feeds.hub.codec import (
    EVENT_TYPES,
    MAX_ENTRY,
    MONO_FIELDS,
    Decoder,
    encode,
    topic_key,
)
from feeds.model.btc import Heartbeat, Tick, VenueNotice
from feeds.model.core import BadMessage, FeedState, FeedStatus
from feeds.model.fed import (
    LadderStrike,
    MeetingOdds,
    Move,
    OutcomePrice,
    RateLadder,
    TargetRange,
    ZqProbe,
    ZqQuote,
)
from feeds.model.history import (
    AthRecord,
    BackfillProgress,
    Bar,
    CachedAth,
    DailySeries,
    HistoryBars,
)
from feeds.model.quotes import MarketState, Quote, QuoteMiss, TradingPeriods
from feeds.model.tbills import (
    FredSeries,
    OperationKind,
    OperationStatus,
    ScheduledOperation,
    SchedulePage,
    SchedulePeriod,
    ScheduleUnavailable,
    TsyDetail,
    TsyOperation,
    TsyOperations,
)

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
D = Decimal


def tick(price: str = "97000.5", received: float = 995.0) -> Tick:
    return Tick(
        "coinbase", D(price), D("96999"), D("97001"), D("95000"), D("98000"), D("94000"),
        D("1234.5"), datetime(2026, 3, 2, 14, 59, 59, tzinfo=UTC), 42, received,
    )  # fmt: skip


def quote() -> Quote:
    session = (datetime(2026, 3, 2, 14, 30, tzinfo=UTC), datetime(2026, 3, 2, 21, tzinfo=UTC))
    return Quote(
        "yahoo", "^RUT", "Russell 2000", D("2556.85"), D("2541"), D("2558"), D("2535.92"),
        D("2558"), "USD", MarketState.REGULAR, False, 0, T0, date(1987, 9, 10), 990.0,
        TradingPeriods(None, session, None),
    )  # fmt: skip


def tsy_op() -> TsyOperation:
    return TsyOperation(
        "nyfed", "OP1", OperationStatus.RESULTS, "Outright Bill Purchase", OperationKind.BILL,
        True, date(2026, 3, 2), date(2026, 3, 3), date(2026, 4, 1), date(2026, 6, 1), T0, T0,
        D("30000000000"), D("6000000000"), D("6000000000"), "",
        (TsyDetail("912797AB1", "Bill 4/1/2026", D("1000"), D("2000"), D("99.5")),), 980.0,
    )  # fmt: skip


SAMPLES: list[object] = [
    tick(),
    Heartbeat("kraken", 996.0),
    VenueNotice("kraken", "maintenance", False, 997.0),
    FeedStatus("yahoo", FeedState.RATE_LIMITED, "HTTP 429", 998.0, 1060.0),
    FeedStatus("kalshi", FeedState.LIVE, "", 998.0),
    BadMessage("coinbase", "price is not finite"),
    quote(),
    QuoteMiss("yahoo", "ZZZ", "no such symbol", 999.0),
    TargetRange("fed_target", "nyfed", D("3.50"), D("3.75"), D("3.64"), date(2026, 2, 27), 900.0),
    MeetingOdds(
        "kalshi",
        date(2026, 3, 18),
        "KXFEDDECISION-26MAR",
        (
            OutcomePrice(Move.CUT, D("0.2"), D("0.22"), None, D("0.21"), D("0.02"), 0.2, ""),
            OutcomePrice(Move.HOLD, D("0.78"), D("0.8"), D("0.79"), D("0.79"), D("0.02"), 0.8, ""),
        ),
        D("1.0"),
        D("0.02"),
        D("12000"),
        True,
        ("THIN",),
        950.0,
    ),  # fmt: skip
    RateLadder(
        "kalshi",
        date(2026, 3, 18),
        "KXFED-26MAR",
        ((D("3.50"), 0.9), (D("3.75"), 0.2)),
        True,
        (),
        951.0,
        (LadderStrike(D("3.50"), D("0.89"), D("0.91"), None, None, 0.9, ()),),
        "",
    ),  # fmt: skip
    ZqQuote("yahoo_zq", "ZQH26.CBT", date(2026, 3, 1), D("96.36"), 952.0),
    ZqProbe("yahoo_zq", ("ZQH26.CBT",), ("ZQZ27.CBT",), 953.0),
    HistoryBars(
        "yahoo-history",
        "^RUT",
        (Bar("^RUT", date(2026, 2, 27), D("2500"), D("2560"), D("2490"), D("2541"), "yahoo"),),
        date(1987, 9, 10),
        954.0,
    ),  # fmt: skip
    DailySeries(
        "cache",
        "^RUT",
        (date(2026, 2, 26), date(2026, 2, 27)),
        (2560.5, 2561.0),
        (2541.25, 2550.0),
        954.5,
    ),
    CachedAth(
        "history",
        "BTC-USD",
        AthRecord(
            "BTC-USD",
            D("126000"),
            date(2025, 10, 6),
            "coinbase",
            D("124700"),
            date(2025, 10, 6),
            "coinbase",
        ),
        D("97000"),
        "coinbase",
        T0,
        955.0,
    ),  # fmt: skip
    BackfillProgress("coinbase-history", "BTC-USD", 3, 10, date(2020, 1, 1), False, "", 956.0),
    HistoryNotice("history", "history file was corrupt; moved aside", 957.0),
    TsyOperations("nyfed", "last", date(2026, 3, 2), (tsy_op(),), 958.0),
    SchedulePage(
        "nyfed_web",
        (
            SchedulePeriod(
                date(2026, 2, 13),
                date(2026, 3, 12),
                D("40000000000"),
                date(2026, 3, 12),
                "Feb 13 - Mar 12",
            ),
        ),
        (
            ScheduledOperation(
                date(2026, 3, 3),
                T0,
                T0,
                "Outright Bill Purchase",
                OperationKind.BILL,
                None,
                None,
                "0 - 1 year",
                D("6000000000"),
            ),
        ),
        959.0,
    ),  # fmt: skip
    ScheduleUnavailable("nyfed_web", "HTTP 503", 960.0),
    FredSeries("fred", "WRESBAL", ((date(2026, 2, 25), D("3100000")),), 961.0),
]


def test_every_relayed_type_has_a_sample() -> None:
    assert {type(s) for s in SAMPLES} == set(EVENT_TYPES)


def _same(a: object, b: object) -> bool:
    """Equal, with monotonic times equal to within a microsecond (they pass through wall
    time, a float near 1.8e9)."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        if type(a) is not type(b):
            return False
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if f.name in MONO_FIELDS or f.name == "retry_at":
                if (x is None) != (y is None) or (x is not None and abs(x - y) > 1e-5):
                    return False
            elif not _same(x, y):
                return False
        return True
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same, a, b))
    return a == b and type(a) is type(b)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_every_event_type_round_trips_exactly(event: object) -> None:
    clock = ManualClock(T0, mono=1000.0)
    decoder = Decoder(clock)
    out = decoder.decode(encode(event, clock))
    assert _same(out, event), (out, event)
    assert decoder.bad == 0 and decoder.decoded == 1


def test_age_counts_from_the_original_receipt_on_the_subscribers_clock() -> None:
    hub = ManualClock(T0, mono=1000.0)
    entry = encode(tick(received=995.0), hub)  # received 5 s before publication
    # The subscriber's monotonic clock has another origin; two seconds later in wall time.
    sub = ManualClock(T0, mono=50_000.0)
    sub.advance(2.0)
    out = Decoder(sub).decode(entry)
    assert isinstance(out, Tick)
    assert sub.monotonic() - out.received == pytest.approx(7.0, abs=1e-5)


def test_a_relayed_value_never_looks_fresher_than_its_entry() -> None:
    hub = ManualClock(T0, mono=1000.0)
    # A receipt stamped after the publication (a hub bug, a hostile entry): the age is
    # never below the entry's own.
    entry = orjson.loads(encode(tick(received=999.0), hub))
    entry["d"]["received"] = entry["w"] + 30.0
    sub = ManualClock(T0, mono=7.0)
    sub.advance(1.0)
    out = Decoder(sub).decode(orjson.dumps(entry))
    assert isinstance(out, Tick)
    assert sub.monotonic() - out.received == pytest.approx(1.0, abs=1e-5)


def test_a_subscriber_whose_wall_clock_is_behind_never_sees_a_future_receipt() -> None:
    hub = ManualClock(T0, mono=1000.0)
    entry = encode(tick(received=1000.0), hub)
    sub = ManualClock(T0, mono=7.0)
    sub.jump_wall(-60.0)  # its wall clock a minute behind the hub's
    out = Decoder(sub).decode(entry)
    assert isinstance(out, Tick)
    assert out.received <= sub.monotonic()


def _entry(**changes: object) -> dict[str, object]:
    doc: dict[str, object] = orjson.loads(encode(tick(), ManualClock(T0, mono=1000.0)))
    for path, value in changes.items():
        target: dict[str, object] = doc
        *parents, last = path.split("__")
        for p in parents:
            inner = target[p]
            assert isinstance(inner, dict)
            target = inner
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return doc


_DELETE = object()
GOOD = orjson.dumps(_entry())

BAD: list[tuple[str, object]] = [
    ("empty", b""),
    ("not json", b"hello"),
    ("a list", b"[1, 2]"),
    ("truncated", GOOD[: len(GOOD) // 2]),
    ("oversized", b'{"v":1,"t":"Tick","w":1,"d":"' + b"x" * (MAX_ENTRY + 10) + b'"}'),
    ("pickle", pickle.dumps(tick())),
    ("not bytes", 12345),
    ("unknown type", orjson.dumps(_entry(t="Popen"))),
    ("type not relayed", orjson.dumps(_entry(t="DivergenceComputed"))),
    ("other schema version", orjson.dumps(_entry(v=2))),
    ("extra top-level key", orjson.dumps({**_entry(), "x": 1})),
    ("extra field", orjson.dumps(_entry(d__evil=1))),
    ("missing field", orjson.dumps(_entry(d__price=_DELETE))),
    ("price not finite", orjson.dumps(_entry(d__price="NaN"))),
    ("price infinite", orjson.dumps(_entry(d__price="Infinity"))),
    ("price negative", orjson.dumps(_entry(d__price="-5"))),
    ("price zero", orjson.dumps(_entry(d__price="0"))),
    ("price as a number", orjson.dumps(_entry(d__price=97000.5))),
    ("price not a decimal", orjson.dumps(_entry(d__price="97k"))),
    ("price too long", orjson.dumps(_entry(d__price="1" * 100))),
    ("bid negative", orjson.dumps(_entry(d__bid="-1"))),
    ("sequence a bool", orjson.dumps(_entry(d__sequence=True))),
    ("sequence huge", GOOD.replace(b'"sequence":42', b'"sequence":' + b"9" * 30)),
    ("received text", orjson.dumps(_entry(d__received="soon"))),
    ("received null", orjson.dumps(_entry(d__received=None))),
    ("publication not a number", orjson.dumps(_entry(w="now"))),
    ("bad date", orjson.dumps(_entry(d__exchange_time="yesterday"))),
    ("source not text", orjson.dumps(_entry(d__source=["coinbase"]))),
    ("data not an object", orjson.dumps(_entry(d=[1]))),
    ("deep nesting", b'{"v":1,"t":"Tick","w":1,"d":' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ("unknown enum", orjson.dumps({**_entry(), "t": "FeedStatus", "d": {
        "source": "x", "state": "EXPLODED", "reason": "", "since": 1.0, "retry_at": None}})),
]  # fmt: skip


@pytest.mark.parametrize(("name", "raw"), BAD, ids=[name for name, _ in BAD])
def test_bad_entries_are_counted_and_dropped_never_raised(name: str, raw: object) -> None:
    decoder = Decoder(ManualClock(T0, mono=1000.0))
    out = decoder.decode(raw)
    assert isinstance(out, BadMessage), name
    assert out.source == "hub" and out.reason
    assert decoder.bad == 1 and decoder.decoded == 0


def test_a_good_entry_still_decodes_after_bad_ones() -> None:
    decoder = Decoder(ManualClock(T0, mono=1000.0))
    for _, raw in BAD[:5]:
        decoder.decode(raw)
    assert isinstance(decoder.decode(GOOD), Tick)
    assert (decoder.bad, decoder.decoded) == (5, 1)


def test_hostile_text_is_sanitised_not_shown_raw() -> None:
    hostile = "\x1b]0;pwned\x07maint\x1b[2Jenance\u202e\u200b" + "x" * 5000
    entry = orjson.dumps(_entry(t="VenueNotice", d={
        "source": "kraken", "status": hostile, "is_error": False, "received": 1.0}))  # fmt: skip
    out = Decoder(ManualClock(T0, mono=1000.0)).decode(entry)
    assert isinstance(out, VenueNotice)
    assert "\x1b" not in out.status and "\u202e" not in out.status and "\x07" not in out.status
    assert out.status.startswith("maintenance")
    assert len(out.status) <= 1000


def test_encoding_a_type_the_hub_does_not_relay_is_refused() -> None:
    with pytest.raises(TypeError):
        encode(object(), ManualClock(T0))


@pytest.mark.parametrize(
    ("event", "key"),
    [
        (tick(), "Tick|coinbase"),
        (quote(), "Quote|yahoo|^RUT"),
        (FeedStatus("yahoo", FeedState.LIVE, "", 1.0), "FeedStatus|yahoo"),
        (SAMPLES[9], "MeetingOdds|kalshi|2026-03-18"),
        (FredSeries("fred", "WRESBAL", (), 1.0), "FredSeries|fred|WRESBAL"),
        (BadMessage("coinbase", "x"), None),
    ],
)
def test_each_topic_keeps_its_latest_value_under_its_own_key(
    event: object, key: str | None
) -> None:
    assert topic_key(event) == key


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=40)
    | st.text(alphabet=string.printable, max_size=40)
    | st.text(alphabet=string.ascii_letters + " ", min_size=995, max_size=1010)
)
def test_text_fields_decode_exactly_as_the_sanitiser_cleans_them(text: str) -> None:
    # The decoder passes plain printable ASCII through without the sanitiser's work:
    # the result must be what clean_text gives, for any text.
    entry = orjson.dumps(_entry(t="VenueNotice", d={
        "source": "kraken", "status": text, "is_error": False, "received": 1.0}))  # fmt: skip
    out = Decoder(ManualClock(T0, mono=1000.0)).decode(entry)
    assert isinstance(out, VenueNotice)
    assert out.status == clean_text(text, 1000)
