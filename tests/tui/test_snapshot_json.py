"""The ``snapshot --json`` schema: one number encoding (feeds/core/jsonout.py), a source
and an age on every value object, the required keys, and each panel's section."""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from feeds.alerts.format import alert_json
from feeds.core.clock import DEMO_START, ManualClock, ShiftedClock
from feeds.core.jsonout import FLOAT_PLACES, SCHEMA_VERSION, age, dumps, exact, num
from feeds.core.store import Store
from feeds.model.alerts import AlertKind, FiredAlert
from feeds.model.core import FeedState, FeedStatus
from feeds.quotes.factory import make_quotes_slice
from feeds.quotes.settings import QuotesSettings
from feeds.rates.factory import make_fed_odds_slice
from feeds.rates.settings import FedOddsSettings
from feeds.sim.market import MarketThread
from tests.feeds.history.test_history_cache import restart_from_cache
from tests.feeds.quotes.helpers import quote
from tests.feeds.rates.test_odds_state import _kalshi, _poly, _target
from tests.feeds.rates.test_odds_wiring import run_demo_market
from tests.feeds.tbills.test_tbills_wiring import run_demo_day
from tui.config import Settings, with_endpoints
from tui.runtime import build_runtime
from tui.snapshot import take
from tui.snapshot_json import (
    fed_odds_snapshot_json,
    history_snapshot_json,
    quotes_snapshot_json,
    tbills_snapshot_json,
)

D = Decimal
NUMERIC_TEXT = re.compile(r"^[-+]?(\d[\d,]*)?\.?\d+([eE][-+]?\d+)?%?$")
"""A string that is really a number (``"6900"``, ``"0.19"``, ``"8200000000"``)."""
VALUE_KEYS = {"source", "age_s"}
IDENTIFIERS = {"cusip", "operation_id", "series", "symbol"}
"""Names, not quantities: strings even when all digits (a CUSIP can be ``912797179``)."""

# -- the one rule, walked over a whole document -----------------------------------------


def rule_problems(doc: object, path: str = "$", covered: bool = False) -> Iterator[str]:
    """Every place ``doc`` breaks the encoding rule or the value-object rule.

    Numbers are ``Decimal`` (as received, at most 8 places: no computed value leaks
    through as a 28-digit Decimal), finite ``float`` or ``int``; no string is a number;
    an object holding a number that came from a source (a Decimal) carries ``source`` and
    ``age_s`` itself or sits inside one that does."""
    if isinstance(doc, dict):
        here = covered or doc.keys() >= VALUE_KEYS
        if not here and any(isinstance(v, Decimal) for v in doc.values()):
            yield f"{path}: holds a received number but has no source/age_s"
        if "age_s" in doc and "source" not in doc:
            yield f"{path}: an age without its source"
        for key, value in doc.items():
            if key in IDENTIFIERS and isinstance(value, str):
                continue
            yield from rule_problems(value, f"{path}.{key}", here)
    elif isinstance(doc, list | tuple):
        for i, value in enumerate(doc):
            yield from rule_problems(value, f"{path}[{i}]", covered)
    elif isinstance(doc, Decimal):
        exp = doc.as_tuple().exponent
        if not doc.is_finite() or (isinstance(exp, int) and exp < -8):
            yield f"{path}: Decimal {doc} is not a value as received"
    elif isinstance(doc, float):
        if not math.isfinite(doc):
            yield f"{path}: non-finite float"
    elif isinstance(doc, str):
        if NUMERIC_TEXT.match(doc.strip()):
            yield f"{path}: number written as a string: {doc!r}"
    elif doc is not None and not isinstance(doc, bool | int):
        yield f"{path}: not JSON data: {type(doc).__name__}"


def text_problems(doc: object, written: object, path: str = "$") -> Iterator[str]:
    """Where the written text (parsed with every number kept as its literal) differs from
    the rule: a Decimal is its own digits, a float has at most FLOAT_PLACES places."""
    if isinstance(doc, dict) and isinstance(written, dict):
        for key, value in doc.items():
            yield from text_problems(value, written.get(key), f"{path}.{key}")
    elif isinstance(doc, list | tuple) and isinstance(written, list):
        for i, (value, w) in enumerate(zip(doc, written, strict=True)):
            yield from text_problems(value, w, f"{path}[{i}]")
    elif isinstance(doc, Decimal):
        if written != format(doc, "f"):
            yield f"{path}: {doc} written as {written!r}"
    elif isinstance(doc, float):
        places = len(written.partition(".")[2]) if isinstance(written, str) else 99
        if places > FLOAT_PLACES:
            yield f"{path}: {doc} written as {written!r}"


def literal(text: str) -> object:
    """JSON text with every number kept as its literal text."""
    return json.loads(text, parse_float=str, parse_int=str)


def test_the_text_check_catches_a_rounding_slip() -> None:
    doc = {"p": 0.123456, "d": D("1.50")}
    assert list(text_problems(doc, literal('{"p": 0.1235, "d": 1.50}'))) == []
    assert len(list(text_problems(doc, literal('{"p": 0.123456, "d": 1.5}')))) == 2


def test_the_walker_catches_each_kind_of_slip() -> None:
    assert list(rule_problems({"price": "6900"})) != []
    assert list(rule_problems({"price": D("1"), "source": "x"})) != []  # no age_s
    assert list(rule_problems({"age_s": 1.0})) != []  # no source
    assert list(rule_problems({"p": D("0.1234567890123")})) != []  # computed Decimal
    assert list(rule_problems({"p": math.nan})) != []
    assert list(rule_problems({"a": {"price": D("1")}, "source": "x", "age_s": 1.0})) == []
    assert list(rule_problems({"symbol": "^RUT", "date": "2026-01-28", "n": 3})) == []


# -- the encoder ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("87234.56000000"), "87234.56000000"),  # exactly as received
        (D("8200000000"), "8200000000"),
        (D("1E+3"), "1000"),
        (D("0.0000001"), "0.0000001"),
        (D("NaN"), "null"),
        (0.1 + 0.2, "0.3"),
        (12.345678, "12.3457"),
        (-27.0199999, "-27.02"),
        (math.inf, "null"),
        (3, "3"),
        (True, "true"),
        (None, "null"),
        ('a"b\n', '"a\\"b\\n"'),
        ([], "[]"),
        ({}, "{}"),
        ({"a": [1, D("2.50")], "b": {"c": None}}, '{"a":[1,2.50],"b":{"c":null}}'),
    ],
)
def test_dumps_writes_each_number_by_the_rule(value: object, text: str) -> None:
    assert dumps(value) == text


def test_dumps_indented_is_the_same_document() -> None:
    doc = {"a": [1, D("2.50"), {"x": 0.123456}], "b": "c", "e": []}
    text = dumps(doc, indent=True)
    assert "\n  " in text
    assert json.loads(text, parse_float=Decimal) == json.loads(dumps(doc), parse_float=Decimal)
    assert json.loads(text, parse_float=Decimal)["a"][1] == D("2.50")


def test_dumps_refuses_what_is_not_json_data() -> None:
    with pytest.raises(TypeError):
        dumps({"x": object()})


def test_helpers() -> None:
    assert exact(D("1.10")) == D("1.10") and exact(None) is None
    assert num(D("1") / D("3")) == pytest.approx(1 / 3) and isinstance(num(D("1")), float)
    assert num(math.nan) is None and num(None) is None
    assert age(10.0, 7.5) == 2.5 and age(10.0, 11.0) == 0.0 and age(10.0, None) is None
    assert FLOAT_PLACES == 4


# -- each section -----------------------------------------------------------------------


def test_quote_row_shape() -> None:
    clock = ManualClock(DEMO_START)
    s = make_quotes_slice(QuotesSettings(watchlist=("^GSPC",)), clock)
    s.apply(quote(received=clock.monotonic()))
    clock.advance(12)
    (row,) = quotes_snapshot_json(s, clock.monotonic())
    assert row == {
        "symbol": "^GSPC",
        "name": "S&P 500",
        "is_future": False,
        "state": row["state"],
        "price": D("6900"),
        "prev_close": D("6886.68"),
        "change": D("13.32"),
        "change_pct": pytest.approx(0.1934, abs=1e-4),
        "day_low": D("6890"),
        "day_high": D("6910"),
        "year_high": D("6920.34"),
        "currency": "USD",
        "source": "yahoo",
        "fallback": False,
        "delay_s": 0.0,
        "age_s": 12.0,
        "stale": False,
        "stale_since": None,
        "market_time": None,
        "reason": None,
    }
    assert list(rule_problems(row)) == []
    written = json.loads(dumps(row))
    assert written["price"] == 6900 and written["change_pct"] == 0.1934


def test_fed_odds_section_with_the_cross_check_per_meeting() -> None:
    clock = ManualClock(DEMO_START)
    s = make_fed_odds_slice(FedOddsSettings(meetings_shown=4, zq_enabled=False), clock)
    store = Store([s])
    for e in [_target(clock), *_kalshi(clock), *_poly(clock)]:
        store.apply(e)
    store.apply(FeedStatus("kalshi", FeedState.LIVE, "", clock.monotonic()))
    store.apply(FeedStatus("polymarket", FeedState.LIVE, "", clock.monotonic()))
    clock.advance(30)
    snap = fed_odds_snapshot_json(s, clock.monotonic())
    assert list(rule_problems(snap)) == []
    target = snap["target_range"]
    assert target["lower"] == D("3.50") and target["upper"] == D("3.75")
    assert target["source"] == "nyfed" and target["age_s"] == 30.0
    assert len(snap["meetings"]) == 4
    jan = snap["meetings"][0]
    assert jan["date"] == "2026-01-28" and jan["source"] == "kalshi" and jan["age_s"] == 30.0
    assert (jan["likely_lower"], jan["likely_upper"]) == (D("3.50"), D("3.75"))
    assert jan["fedwatch_p_cut"] is None
    assert 0 <= jan["p_cut"] <= 1 and 0 <= jan["p_hold"] <= 1
    cross = jan["cross_check"]
    assert set(cross) == {"source", "event", "p_cut", "p_hold", "p_hike", "age_s", "stale"}
    assert cross["p_hold"] is not None and cross["stale"] is False
    assert cross["source"] == "polymarket" and cross["p_cut"] is not None
    assert cross["age_s"] is not None and cross["age_s"] >= 0
    assert "cross_check_p_cut" not in jan and "likely_range" not in jan
    assert snap["cumulative"]["by"] == "2026-12-09"
    assert snap["cumulative"]["bp"] == pytest.approx(-50, abs=6)
    assert snap["cumulative"]["vs_yesterday_bp"] is None
    assert snap["sources"]["yahoo_zq"]["state"] == "OFF"
    assert snap["sources"]["kalshi"] == {
        "source": "kalshi",
        "state": "LIVE",
        "reason": None,
        "age_s": 30.0,
    }
    assert snap["next_decision"] == "2026-01-28T19:00:00Z"
    assert "FedWatch column off (ZQ probe disabled)" in snap["notes"]


def test_fed_odds_cross_check_follows_the_primary() -> None:
    clock = ManualClock(DEMO_START)
    s = make_fed_odds_slice(
        FedOddsSettings(primary="polymarket", meetings_shown=4, zq_enabled=False), clock
    )
    for e in [_target(clock), *_kalshi(clock), *_poly(clock)]:
        s.apply(e)
    snap = fed_odds_snapshot_json(s, clock.monotonic())
    assert snap["meetings"][0]["cross_check"]["source"] == "kalshi"


async def test_fed_odds_demo_market() -> None:
    slice_, clock = await run_demo_market()
    snap = fed_odds_snapshot_json(slice_, clock.monotonic())
    assert list(rule_problems(snap)) == []
    assert snap["sources"]["yahoo_zq"]["state"] == "DEGRADED"
    assert all(m["cross_check"]["source"] == "polymarket" for m in snap["meetings"])


async def test_tbills_demo_day() -> None:
    slice_, clock = await run_demo_day()
    doc = tbills_snapshot_json(slice_, clock.monotonic())
    assert list(rule_problems(doc)) == []
    (today,) = doc["today_operations"]
    assert today["accepted_usd"] == D("8200000000")
    assert today["submitted_usd"] > 3 * today["accepted_usd"]
    assert today["source"] == "nyfed" and today["age_s"] is not None
    assert today["phase"] == "RESULTS" and today["kind"] == "BILL"
    assert today["window_et"] == "10:10-10:30 ET"
    assert len(today["details"]) == 4
    assert doc["tally"]["period"] == {
        "start": "2025-12-12",
        "end": "2026-01-14",
        "planned_usd": D("40000000000"),
        "accepted_usd": D("8200000000"),
    }
    assert doc["tally"]["total_usd"] == D("8200000000") and doc["tally"]["source"] == "nyfed"
    assert doc["next_operation"]["date"] == "2025-12-15"
    assert doc["next_operation"]["window_start"] == "2025-12-15T15:10:00Z"
    assert doc["next_operation"]["source"] == "nyfed_web"
    assert doc["schedule"]["available"] is True and doc["schedule"]["source"] == "nyfed_web"
    assert len(doc["schedule"]["operations"]) == 11
    assert doc["next_schedule_due"] == "2026-01-14"
    assert {r["series"] for r in doc["liquidity"]} == {"WRESBAL", "RRPONTSYD", "WTREGEN"}
    assert all(r["source"] == "fred" and r["age_s"] is not None for r in doc["liquidity"])
    assert not doc["stale"]
    assert {r["kind"] for r in doc["recent"]} == {"BILL", "COUPON"}
    assert '"accepted_usd": 8200000000' in dumps(doc, indent=True)


async def test_history_section_from_cache(tmp_path: Path) -> None:
    from feeds.history.factory import close_history

    store, ath, div, clock = restart_from_cache(tmp_path)
    snap = history_snapshot_json(ath.view(), div.view(), clock.monotonic())
    assert list(rule_problems(snap)) == []
    btc = snap["ath"][0]  # type: ignore[index]
    assert btc["source"] == "cache" and btc["price"] == D("92100.0")
    assert btc["distance_pct"] == pytest.approx(-27.02, abs=0.005)
    assert btc["ath_date"] == "2025-10-06" and "price_source" not in btc
    assert snap["divergence"]["flag"]["raised"] is True  # type: ignore[index]
    assert "NaN" not in dumps(snap)
    await close_history(store)


def test_alert_json_carries_the_schema_and_no_numbers_as_text() -> None:
    from datetime import UTC, datetime

    fired = FiredAlert(
        "btc below 85000", AlertKind.BELOW, "BTC-USD", "BTC-USD 84,990.00 crossed below",
        "84,990.00", "coinbase", False, datetime(2025, 12, 12, 15, 25, 3, tzinfo=UTC), 1.0,
    )  # fmt: skip
    doc = alert_json(fired, demo=True)
    assert doc["schema_version"] == SCHEMA_VERSION and doc["source"] == "coinbase"
    assert doc["time"] == "2025-12-12T15:25:03Z"
    assert json.loads(dumps(doc)) == doc


# -- a whole demo document --------------------------------------------------------------

REQUIRED = {
    "schema_version",
    "generated_at",
    "demo",
    "sources",
    "btc",
    "quotes",
    "history",
    "fed_odds",
    "tbills",
}


@pytest.fixture(scope="module")
def demo_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    clock = ShiftedClock(DEMO_START)
    market = MarketThread(clock)
    try:
        settings = with_endpoints(Settings(), **market.start())
        data = tmp_path_factory.mktemp("snapshot") / "demo"
        runtime = build_runtime(settings, clock, demo=True, data=data)
        return asyncio.run(take(runtime, 8.0))
    finally:
        market.stop()


def test_demo_document_follows_the_rule_everywhere(demo_doc: dict[str, Any]) -> None:
    assert list(rule_problems(demo_doc)) == []
    text = dumps(demo_doc, indent=True)
    assert list(text_problems(demo_doc, literal(text))) == []
    assert json.loads(text, parse_float=Decimal)["btc"]["price"] == demo_doc["btc"]["price"]


def test_demo_document_has_every_required_key(demo_doc: dict[str, Any]) -> None:
    assert demo_doc.keys() >= REQUIRED
    assert demo_doc["schema_version"] == SCHEMA_VERSION and demo_doc["demo"] is True
    btc = demo_doc["btc"]
    assert isinstance(btc["price"], Decimal) and btc["source"] in ("coinbase", "kraken")
    assert btc["age_s"] >= 0
    for name, src in demo_doc["sources"].items():
        assert src["source"] == name and {"state", "reason", "age_s", "bad_messages"} <= src.keys()
    assert demo_doc["quotes"] and all(q.keys() >= VALUE_KEYS for q in demo_doc["quotes"])
    meetings = demo_doc["fed_odds"]["meetings"]
    assert meetings
    for m in meetings:
        assert m.keys() >= VALUE_KEYS and m["cross_check"].keys() >= VALUE_KEYS
        assert {"p_cut", "p_hold"} <= m["cross_check"].keys()
    assert {"ath", "backfill", "notices", "divergence"} <= demo_doc["history"].keys()
    assert {"today_operations", "recent", "tally", "schedule", "liquidity"} <= demo_doc[
        "tbills"
    ].keys()
