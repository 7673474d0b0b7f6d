"""The alert rules: grammar, and for every rule the crossing, the cooldown, no repeats,
and stale or missing inputs ignored. Pure and synchronous."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest

from feeds.alerts.engine import (
    AlertEngine,
    AlertInputs,
    AthInput,
    AthRule,
    CutInput,
    CutProbRule,
    DivergenceRule,
    GapInput,
    LevelRule,
    MoveRule,
    PriceInput,
    TbillInput,
    TbillsRule,
    parse_rule,
    parse_rules,
)
from feeds.btc.state import BtcSlice
from feeds.model.alerts import AlertKind, FiredAlert
from feeds.model.btc import Tick
from feeds.model.core import FeedState, FeedStatus
from feeds.model.fed import FedOddsView, FomcMeeting, MeetingRow
from feeds.model.history import DivergenceView, Side
from feeds.model.quotes import MarketState, Quote, QuoteRow, QuotesView
from feeds.model.tbills import OperationStatus

T0 = 1000.0
WALL = datetime(2025, 12, 12, 15, 25, tzinfo=UTC)
JAN = date(2026, 1, 28)
MAR = date(2026, 3, 18)
APR = date(2026, 4, 29)


def inputs(
    prices: Mapping[str, float | str] | None = None,
    *,
    ath: Sequence[AthInput] = (),
    gap: float | None = None,
    cut: Sequence[tuple[date, float]] = (),
    tbills: Sequence[TbillInput] | None = None,
) -> AlertInputs:
    return AlertInputs(
        MappingProxyType(
            {s: PriceInput(s, Decimal(str(p)), "coinbase") for s, p in (prices or {}).items()}
        ),
        MappingProxyType({a.symbol: a for a in ath}),
        GapInput("BTC-USD", "^RUT", -gap, 0.0, gap) if gap is not None else None,
        tuple(CutInput(d, p, "kalshi") for d, p in cut),
        tuple(tbills) if tbills is not None else None,
    )


class Run:
    """An engine and a clock: ``at(seconds, inputs)`` evaluates at T0 + seconds."""

    def __init__(self, *rules: str, cooldown: float = 300.0, **kw: Any) -> None:
        self.engine = AlertEngine(parse_rules(rules), cooldown_s=cooldown, **kw)

    def at(self, t: float, inp: AlertInputs) -> list[FiredAlert]:
        return self.engine.evaluate(inp, T0 + t, WALL + timedelta(seconds=t))


def btc(p: float | str) -> AlertInputs:
    return inputs({"BTC-USD": p})


# -- grammar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("btc above 100000", LevelRule("btc above 100000", "BTC-USD", True, Decimal(100000))),
        ("BTC  below  85_000", LevelRule("BTC below 85_000", "BTC-USD", False, Decimal(85000))),
        ("^rut above 2547.5", LevelRule("^rut above 2547.5", "^RUT", True, Decimal("2547.5"))),
        ("^RUT move 2% in 30m", MoveRule("^RUT move 2% in 30m", "^RUT", "move", 2.0, 1800.0)),
        ("SI=F up 0.5% in 90s", MoveRule("SI=F up 0.5% in 90s", "SI=F", "up", 0.5, 90.0)),
        ("iwm down 3% in 1d", MoveRule("iwm down 3% in 1d", "IWM", "down", 3.0, 86400.0)),
        ("any new_ath", AthRule("any new_ath", None, False)),
        ("btc reclaim_ath", AthRule("btc reclaim_ath", "BTC-USD", True, 5.0)),
        (
            "^GSPC reclaim_ath after 10%",
            AthRule("^GSPC reclaim_ath after 10%", "^GSPC", True, 10.0),
        ),
        ("divergence above 25", DivergenceRule("divergence above 25", True, 25.0)),
        ("Divergence below 10pp", DivergenceRule("Divergence below 10pp", False, 10.0)),
        ("cut_prob Jan move 10pp", CutProbRule("cut_prob Jan move 10pp", "month:1", 10.0)),
        ("cut_prob next move 5pp", CutProbRule("cut_prob next move 5pp", "next", 5.0)),
        (
            "cut_prob 2026-03-18 move 7.5pp",
            CutProbRule("cut_prob 2026-03-18 move 7.5pp", "2026-03-18", 7.5),
        ),
        ("cut_prob 2026-03 move 5pp", CutProbRule("cut_prob 2026-03 move 5pp", "ym:2026-03", 5)),
        ("tbills announced", TbillsRule("tbills announced", False)),
        ("TBILLS results", TbillsRule("TBILLS results", True)),
    ],
)
def test_grammar_accepts(text: str, expected: object) -> None:
    assert parse_rule(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty rule"),
        ("btc", "expected a condition"),
        ("btc abov 100000", 'unknown condition "abov"'),
        ("btc above", 'expected "<symbol> above <price>"'),
        ("btc above 100,000", "not a price (write a plain number"),
        ("btc above 0", "must be above 0"),
        ("btc above -5", "not a price"),
        ("btc above nan", "not a price"),
        ("btc move 2 in 30m", "not a percentage"),
        ("btc move 2% 30m", 'expected "<symbol> move <N>% in <window>"'),
        ("btc move 2% in 5s", "between 10s and 1d"),
        ("btc move 2% in 2d", "between 10s and 1d"),
        ("btc move 2% in 30 minutes", 'expected "<symbol> move'),
        ("btc move 0% in 30m", "above 0%"),
        ("any above 5", '"any" works only with new_ath and reclaim_ath'),
        ("btc new_ath now", "takes nothing after it"),
        ("btc reclaim_ath after 100%", "at most 99%"),
        ("divergence 25", 'expected "divergence above <points>"'),
        ("divergence above 250", "at most 100 points"),
        ("cut_prob jan move 10", "not a number of percentage points"),
        ("cut_prob smarch move 10pp", '"smarch" is not a meeting'),
        ("cut_prob 2026-13 move 10pp", "is not a meeting"),
        ("tbills everything", 'expected "tbills announced"'),
        ("$(rm) above 5", "is not a symbol"),
        ("btc above 1e9", "not a price"),
    ],
)
def test_grammar_rejects_with_the_rule_named(text: str, problem: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_rule(text)
    message = str(err.value)
    assert problem in message
    assert message.startswith(f'rule "{" ".join(text.split())}"')


def test_rule_list_names_the_index_and_rejects_duplicates() -> None:
    with pytest.raises(ValueError, match=r'^rules\[1\] rule "btc abov 1"'):
        parse_rules(["btc above 1", "btc abov 1"])
    with pytest.raises(ValueError, match=r'rules\[1\] rule "BTC above 1": listed twice'):
        parse_rules(["btc above 1", "BTC  above 1"])


# -- price levels ----------------------------------------------------------------------


def test_above_fires_once_per_crossing_with_hysteresis_and_cooldown() -> None:
    r = Run("btc above 100000", cooldown=300, hysteresis_pct=0.1)
    assert r.at(0, btc(99_000)) == []
    fired = r.at(1, btc(100_000))
    assert [a.message for a in fired] == ["BTC-USD 100,000.00 crossed above 100,000 (coinbase)"]
    assert fired[0].kind is AlertKind.ABOVE and not fired[0].at_start
    assert fired[0].fired_at == WALL + timedelta(seconds=1) and fired[0].fired_mono == T0 + 1
    assert r.at(2, btc(100_500)) == []  # still above: no repeat
    assert r.at(3, btc(99_950)) == []  # inside the 0.1% band: not re-armed
    assert r.at(4, btc(100_010)) == []
    assert r.at(5, btc(99_800)) == []  # below the band: re-armed
    assert r.at(6, btc(100_100)) == []  # a crossing, but inside the cooldown
    assert r.engine.suppressed == 1
    assert r.at(400, btc(99_000)) == []
    assert len(r.at(401, btc(100_001))) == 1  # after the cooldown it fires again
    assert r.engine.fired == 2


def test_below_fires_on_the_way_down() -> None:
    r = Run("btc below 85000")
    assert r.at(0, btc(86_000)) == []
    assert [a.kind for a in r.at(1, btc("84999.99"))] == [AlertKind.BELOW]
    assert r.at(2, btc(84_000)) == []


@pytest.mark.parametrize(("rule", "price"), [("btc above 90000", 92_100), ("btc below 99999", 1)])
def test_level_already_true_fires_once_at_start(rule: str, price: float) -> None:
    r = Run(rule)
    fired = r.at(0, btc(price))
    assert len(fired) == 1 and fired[0].at_start
    assert fired[0].line.endswith("(at start)") and " is " in fired[0].message
    assert r.at(1, btc(price)) == [] and r.at(600, btc(price)) == []


def test_level_stale_or_missing_input_never_fires_and_keeps_state() -> None:
    r = Run("btc above 100000")
    assert r.at(0, btc(99_000)) == []
    assert r.at(1, inputs({})) == []  # stale: left out of the inputs
    assert r.at(2, inputs({"^RUT": 2600})) == []
    # Back with a fresh price: the crossing happened between two fresh readings.
    assert len(r.at(3, btc(100_500))) == 1
    # A rule whose symbol never has a fresh price never fires.
    r2 = Run("btc above 1")
    assert all(r2.at(t, inputs({"^RUT": 2600})) == [] for t in range(5))


# -- moves ----------------------------------------------------------------------------


def test_move_fires_when_the_window_moves_enough_and_not_again() -> None:
    r = Run("^RUT move 2% in 30m")

    def rut(p: float) -> AlertInputs:
        return inputs({"^RUT": p})

    assert r.at(0, rut(2500)) == []  # never at start: one reading is no move
    assert r.at(60, rut(2530)) == []
    fired = r.at(120, rut(2550))
    assert len(fired) == 1
    assert fired[0].message == "^RUT up 2.00% within 30m: 2,500.00 → 2,550.00 (coinbase)"
    assert fired[0].value == "+2.00%" and fired[0].kind is AlertKind.MOVE
    assert r.at(180, rut(2560)) == []  # still moved: no repeat
    # The low ages out of the window: the move shrinks below half, the rule re-arms ...
    assert r.at(2000, rut(2560)) == []
    assert r.at(2010, rut(2555)) == []
    # ... and a new fall of 2% within the window fires (the cooldown has passed).
    fired = r.at(2100, rut(2500))
    assert [a.value for a in fired] == ["−2.34%"]  # from the window's high, 2,560


def test_move_direction_and_stale_gaps() -> None:
    up = Run("btc up 1% in 10m")
    assert up.at(0, btc(100)) == [] and up.at(10, btc(98)) == []  # a fall is not "up"
    assert up.at(20, btc("98.9")) == []  # +0.92% from the low of 98 ...
    assert [a.value for a in up.at(30, btc("99.5"))] == ["+1.53%"]  # ... then +1.53%
    down = Run("btc down 1% in 10m")
    assert down.at(0, btc(100)) == []
    assert down.at(10, inputs({})) == []  # stale: not sampled, nothing fires
    assert down.at(20, btc("99.5")) == []
    fired = down.at(30, btc("98.9"))
    assert [a.value for a in fired] == ["−1.10%"]
    assert fired[0].message.startswith("BTC-USD down 1.10% within 10m: 100.00 → 98.90")
    assert down.at(40, btc(110)) == []  # a rise is not "down"


def test_move_ignores_stale_prices_entirely() -> None:
    r = Run("btc move 1% in 10m")
    assert r.at(0, btc(100)) == []
    for t in range(1, 30):
        assert r.at(t, inputs({})) == []  # a stale reading is never a sample
    assert r.at(30, btc("100.5")) == []
    assert len(r.at(31, btc(101))) == 1


# -- all-time highs --------------------------------------------------------------------


def ath(sym: str, price: float, high: float, day: date, new: bool) -> AthInput:
    return AthInput(sym, Decimal(str(price)), Decimal(str(high)), day, new, "yahoo")


def test_new_ath_fires_when_the_badge_appears_once_a_day() -> None:
    r = Run("any new_ath")
    dec11, dec12 = date(2025, 12, 11), date(2025, 12, 12)
    assert r.at(0, inputs(ath=[ath("^RUT", 2546, 2547, dec11, False)])) == []
    fired = r.at(60, inputs(ath=[ath("^RUT", 2558, 2558, dec12, True)]))
    assert [a.message for a in fired] == [
        "^RUT new all-time high 2,558.00, was 2,547.00 on Dec 11 (yahoo)"
    ]
    assert fired[0].kind is AlertKind.NEW_ATH and not fired[0].at_start
    # Higher highs the same day do not repeat.
    assert r.at(61, inputs(ath=[ath("^RUT", 2570, 2570, dec12, True)])) == []
    assert r.at(5000, inputs(ath=[ath("^RUT", 2580, 2580, dec12, True)])) == []
    # Next day the badge resets (re-arm); a new high that day fires again.
    assert r.at(90_000, inputs(ath=[ath("^RUT", 2560, 2580, dec12, False)])) == []
    assert len(r.at(90_100, inputs(ath=[ath("^RUT", 2590, 2590, date(2025, 12, 13), True)])))


def test_new_ath_any_covers_every_symbol_with_its_own_cooldown() -> None:
    r = Run("any new_ath")
    d = date(2025, 12, 11)
    t = date(2025, 12, 12)
    r.at(0, inputs(ath=[ath("^RUT", 1, 2, d, False), ath("IWM", 1, 2, d, False)]))
    fired = r.at(1, inputs(ath=[ath("^RUT", 3, 3, t, True), ath("IWM", 3, 3, t, True)]))
    assert sorted(a.subject for a in fired) == ["IWM", "^RUT"]
    one = Run("iwm new_ath")
    one.at(0, inputs(ath=[ath("^RUT", 1, 2, d, False), ath("IWM", 1, 2, d, False)]))
    fired = one.at(1, inputs(ath=[ath("^RUT", 3, 3, t, True), ath("IWM", 3, 3, t, True)]))
    assert [a.subject for a in fired] == ["IWM"]


def test_new_ath_at_start_and_stale_symbol() -> None:
    r = Run("^RUT new_ath")
    t = date(2025, 12, 12)
    assert r.at(0, inputs()) == []  # no fresh price: nothing
    fired = r.at(1, inputs(ath=[ath("^RUT", 2558, 2558, t, True)]))
    assert len(fired) == 1 and fired[0].at_start
    assert fired[0].message == "^RUT new all-time high 2,558.00 (yahoo)"
    assert r.at(2, inputs(ath=[ath("^RUT", 2558, 2558, t, True)])) == []


def test_reclaim_needs_a_drawdown_first_and_fires_once() -> None:
    r = Run("btc reclaim_ath", cooldown=60)
    oct6 = date(2025, 10, 6)

    def at(p: float) -> AlertInputs:
        return inputs(ath=[ath("BTC-USD", p, 126_200, oct6, False)])

    assert r.at(0, at(126_500)) == []  # at the high at start: never "reclaimed"
    assert r.at(1, at(92_100)) == []  # 27% below: armed
    fired = r.at(2, at(126_200))
    assert [a.message for a in fired] == [
        "BTC-USD 126,200.00 is back at its all-time high 126,200.00 (yahoo)"
    ]
    assert fired[0].kind is AlertKind.RECLAIM_ATH
    assert r.at(3, at(126_300)) == []
    assert r.at(100, at(124_000)) == [] and r.at(101, at(126_300)) == []  # -1.7%: not armed
    assert r.at(200, at(119_000)) == []  # -5.7%: armed again
    assert len(r.at(201, at(126_250))) == 1
    assert r.at(202, inputs()) == []  # stale: nothing


# -- divergence ------------------------------------------------------------------------


def test_divergence_above_crossing_hysteresis_and_start() -> None:
    r = Run("divergence above 25", cooldown=0)
    assert r.at(0, inputs(gap=24.0)) == []
    fired = r.at(1, inputs(gap=25.2))
    assert [a.message for a in fired] == [
        "BTC-USD vs ^RUT drawdown gap 25.2 pp crossed above 25 pp "
        "(BTC-USD -25.2%, ^RUT 0.0% from their highs)"
    ]
    assert r.at(2, inputs(gap=24.7)) == [] and r.at(3, inputs(gap=25.1)) == []  # within 0.5
    assert r.at(4, inputs(gap=24.4)) == []
    assert len(r.at(5, inputs(gap=25.0))) == 1
    assert r.at(6, inputs()) == []  # a side stale: no input, nothing
    start = Run("divergence above 20")
    fired = start.at(0, inputs(gap=27.0))
    assert len(fired) == 1 and fired[0].at_start


def test_divergence_below() -> None:
    r = Run("divergence below 10")
    assert r.at(0, inputs(gap=27.0)) == []
    assert len(r.at(1, inputs(gap=9.9))) == 1
    assert r.at(2, inputs(gap=5.0)) == []


# -- cut probability -------------------------------------------------------------------


def test_cut_prob_moves_from_the_first_reading_then_from_the_last_alert() -> None:
    r = Run("cut_prob jan move 10pp", cooldown=60)

    def cut(p: float) -> AlertInputs:
        return inputs(cut=[(JAN, p), (MAR, 0.9)])

    assert r.at(0, cut(0.40)) == []  # never at start: the first reading is the reference
    assert r.at(1, cut(0.49)) == []
    fired = r.at(2, cut(0.51))
    assert [a.message for a in fired] == [
        "P(cut) at the Jan 28, 2026 FOMC 40% → 51% (+11 pp, kalshi)"
    ]
    assert fired[0].subject == "2026-01-28" and fired[0].kind is AlertKind.CUT_PROB
    assert r.at(3, cut(0.55)) == []  # measured from 51% now: no repeat
    assert r.at(100, cut(0.40)) != []  # −11 pp from the last alert
    assert r.at(101, inputs(cut=[(MAR, 0.9)])) == []  # January stale or missing


def test_cut_prob_meeting_selectors_and_cooldown() -> None:
    nxt = Run("cut_prob next move 5pp", cooldown=300)
    assert nxt.at(0, inputs(cut=[(JAN, 0.2), (MAR, 0.5)])) == []
    assert [a.subject for a in nxt.at(1, inputs(cut=[(JAN, 0.3), (MAR, 0.5)]))] == ["2026-01-28"]
    assert nxt.at(2, inputs(cut=[(JAN, 0.4), (MAR, 0.5)])) == []  # a move, in cooldown
    assert nxt.engine.suppressed == 1
    by_date = Run("cut_prob 2026-03-18 move 5pp")
    by_date.at(0, inputs(cut=[(JAN, 0.2), (MAR, 0.5)]))
    assert [a.subject for a in by_date.at(1, inputs(cut=[(JAN, 0.9), (MAR, 0.6)]))] == [
        "2026-03-18"
    ]


# -- T-bill operations -----------------------------------------------------------------


def op(oid: str, status: OperationStatus) -> TbillInput:
    return TbillInput(
        oid,
        date(2025, 12, 12),
        status,
        "BILL",
        datetime(2025, 12, 12, 15, 30, tzinfo=UTC),
        Decimal("8.2e9"),
        Decimal("8.2e9") if status is OperationStatus.RESULTS else None,
        Decimal("27.06e9") if status is OperationStatus.RESULTS else None,
    )


def test_tbills_announced_then_results_once_each() -> None:
    r = Run("tbills announced", "tbills results")
    assert r.at(0, inputs(tbills=None)) == []  # stale or missing: nothing
    assert r.at(1, inputs(tbills=[])) == []
    fired = r.at(200, inputs(tbills=[op("OR 1", OperationStatus.ANNOUNCED)]))
    assert [a.message for a in fired] == [
        "Fed T-bill purchase OR 1 announced, up to $8.20 bn, closes 15:30 UTC (nyfed)"
    ]
    assert not fired[0].at_start and fired[0].kind is AlertKind.TBILLS_ANNOUNCED
    assert r.at(201, inputs(tbills=[op("OR 1", OperationStatus.CLOSED)])) == []
    fired = r.at(400, inputs(tbills=[op("OR 1", OperationStatus.RESULTS)]))
    assert [a.message for a in fired] == [
        "Fed T-bill purchase OR 1 results: accepted $8.20 bn of $27.06 bn submitted (nyfed)"
    ]
    assert r.at(401, inputs(tbills=[op("OR 1", OperationStatus.RESULTS)])) == []
    assert r.at(402, inputs(tbills=None)) == []


def test_tbills_already_announced_at_start() -> None:
    r = Run("tbills announced", "tbills results")
    fired = r.at(0, inputs(tbills=[op("OR 1", OperationStatus.ANNOUNCED)]))
    assert len(fired) == 1 and fired[0].at_start
    # An operation first seen with results fires "results" only.
    fired = r.at(5, inputs(tbills=[op("OR 1", OperationStatus.RESULTS)]))
    assert [a.kind for a in fired] == [AlertKind.TBILLS_RESULTS]


# -- the engine as a whole -------------------------------------------------------------


def test_history_is_bounded_newest_first_and_viewed() -> None:
    r = Run("btc above 10", "btc below 5", cooldown=0, keep=3)
    for i in range(4):
        r.at(i * 2, btc(11))
        r.at(i * 2 + 1, btc(4))
    v = r.engine.view(note="hook failed")
    assert len(v.alerts) == 3 and v.fired == 8
    assert v.alerts[0].fired_mono > v.alerts[1].fired_mono > v.alerts[2].fired_mono
    assert v.rules == ("btc above 10", "btc below 5") and v.note == "hook failed"


# -- inputs from the views: stale values are left out ----------------------------------


def tick(price: str, received: float, source: str = "coinbase") -> Tick:
    return Tick(source, Decimal(price), None, None, None, None, None, None, None, None, received)


def test_btc_input_needs_a_live_recent_venue() -> None:
    s = BtcSlice(stale_after=5.0)
    s.apply(FeedStatus("coinbase", FeedState.LIVE, "", T0))
    s.apply(tick("92100", T0))
    s.refresh(T0)
    got = AlertInputs.from_views(T0 + 1, btc=s.view()).prices
    assert got["BTC-USD"].price == Decimal("92100") and got["BTC-USD"].source == "coinbase"
    s.refresh(T0 + 6)
    assert "BTC-USD" not in AlertInputs.from_views(T0 + 6, btc=s.view()).prices
    # The rule never fires on that stale value.
    r = Run("btc below 999999")
    assert r.at(6, AlertInputs.from_views(T0 + 6, btc=s.view())) == []
    s.apply(FeedStatus("coinbase", FeedState.RECONNECTING, "closed", T0 + 6))
    s.apply(tick("92000", T0 + 6.5))
    assert "BTC-USD" not in AlertInputs.from_views(T0 + 7, btc=s.view()).prices


def quote(sym: str, price: str, received: float) -> Quote:
    return Quote(
        "yahoo", sym, sym, Decimal(price), None, None, None, None, "USD",
        MarketState.REGULAR, False, 0, None, None, received,
    )  # fmt: skip


def row(q: Quote, *, stale: bool = False) -> QuoteRow:
    return QuoteRow(q.symbol, q.symbol, q, MarketState.REGULAR, False, stale, None, "", False)


def test_quote_inputs_skip_stale_rows() -> None:
    view = QuotesView(
        rows=(
            row(quote("^RUT", "2558", T0)),
            row(quote("IWM", "253", T0), stale=True),
            row(quote("^GSPC", "6900", T0 - 100)),
        ),
        futures=(),
        cash_state=MarketState.REGULAR,
        primary=None,
        fallback=None,
        stale_after=45.0,
    )
    got = AlertInputs.from_views(T0 + 1, quotes=view).prices
    assert list(got) == ["^RUT"]


def side(sym: str, dd: float | None, received: float | None) -> Side:
    return Side(sym, 100.0, "x", received, None, 120.0, None, dd)


def div_view(a: Side, b: Side) -> DivergenceView:
    gap = None
    if a.drawdown_pct is not None and b.drawdown_pct is not None:
        gap = a.drawdown_pct - b.drawdown_pct  # as the slice works it out
    return DivergenceView(a, b, "1y", (), (), (), None, None, gap, None, (), 10, 0)


def test_divergence_input_needs_both_sides_fresh() -> None:
    fresh = {"BTC-USD": 92_100.0, "^RUT": 2558.0}
    s = BtcSlice(stale_after=5.0)
    s.apply(FeedStatus("coinbase", FeedState.LIVE, "", T0))
    s.apply(tick("92100", T0))
    quotes = QuotesView(
        (row(quote("^RUT", "2558", T0)),), (), MarketState.REGULAR, None, None, 45.0
    )
    view = div_view(side("BTC-USD", -27.0, T0), side("^RUT", 0.0, T0))
    got = AlertInputs.from_views(T0 + 1, btc=s.view(), quotes=quotes, divergence=view)
    assert set(got.prices) == set(fresh)
    assert got.divergence is not None and got.divergence.gap_pp == pytest.approx(27.0)
    closes = div_view(side("BTC-USD", -27.0, T0), side("^RUT", 0.0, None))  # a close only
    assert AlertInputs.from_views(T0 + 1, btc=s.view(), divergence=closes).divergence is None
    assert AlertInputs.from_views(T0 + 1, quotes=quotes, divergence=view).divergence is None


def meeting_row(day: date, p: float | None, flags: tuple[str, ...] = ()) -> MeetingRow:
    return MeetingRow(
        FomcMeeting(day, False), p, None, None, None, None, None, "", None,
        "kalshi" if p is not None else "", T0 if p is not None else None, None, flags,
        None, None, None,
    )  # fmt: skip


def test_fed_input_skips_stale_and_missing_rows() -> None:
    view = FedOddsView(
        None, None, None,
        (meeting_row(JAN, 0.2, ("STALE",)), meeting_row(MAR, 0.5), meeting_row(APR, None)),
        None, None, "", False, None, None, (), (), "kalshi",
    )  # fmt: skip
    got = AlertInputs.from_views(T0, fed=view)
    assert got.cut == (CutInput(MAR, 0.5, "kalshi"),)
    assert got.meetings == (JAN, MAR, APR)
    # "next" is January, which is stale: March's odds are never taken for it.
    nxt = Run("cut_prob next move 5pp", "cut_prob mar move 5pp")
    assert nxt.at(0, got) == []
    moved = FedOddsView(
        None, None, None,
        (meeting_row(JAN, 0.9, ("STALE",)), meeting_row(MAR, 0.9)),
        None, None, "", False, None, None, (), (), "kalshi",
    )  # fmt: skip
    fired = nxt.at(1, AlertInputs.from_views(T0 + 1, fed=moved))
    assert [a.rule for a in fired] == ["cut_prob mar move 5pp"]


def test_a_live_rule_edit_keeps_the_history_and_each_unchanged_rules_state() -> None:
    """Editing the rules (a config reload) used to start a new engine from nothing: the
    panel's history went blank and every condition already true re-fired "at start" for
    rules nobody touched. The new engine continues the old one: history and counts, and
    each unchanged rule's crossing state and cooldown (matched by its text, wherever it
    moved in the list); an added rule starts fresh, a dropped rule's state goes."""
    old = Run("btc above 90000", "btc below 80000")
    assert len(old.at(0, btc(92_100))) == 1  # true at start
    old.at(1, btc(89_000))  # re-armed below the band
    assert len(old.at(2, btc(91_000))) == 0  # a crossing inside the cooldown: suppressed
    new = AlertEngine(parse_rules(["^rut above 3000", "btc above 90000"]))
    new.carry_over(old.engine)
    view = new.view()
    assert [a.rule for a in view.alerts] == ["btc above 90000"]
    assert (view.fired, view.suppressed) == (1, 1)
    # The unchanged rule (now second) keeps its state: no "at start" again, and its
    # cooldown still runs (the crossing at 3 s is suppressed, one at 400 s fires).
    assert new.evaluate(btc(92_100), T0 + 3, WALL) == []
    assert new.evaluate(btc(89_000), T0 + 4, WALL) == []
    assert new.evaluate(btc(91_000), T0 + 5, WALL) == []
    assert new.suppressed == 2
    new.evaluate(btc(89_000), T0 + 399, WALL)
    assert [a.rule for a in new.evaluate(btc(91_000), T0 + 400, WALL)] == ["btc above 90000"]
    # An added rule starts fresh: its condition, true now, fires "at start".
    fired = new.evaluate(inputs({"^RUT": 3_100}), T0 + 401, WALL)
    assert [(a.rule, a.at_start) for a in fired] == [("^rut above 3000", True)]
    assert [a.rule for a in new.view().alerts][:2] == ["^rut above 3000", "btc above 90000"]
