"""Issue 13, one owner per fact: the slices are wired as ``build_runtime`` wires them,
and every consumer (views, alert inputs, the quotes panel's badge) carries the owner's
value, never one it worked out itself."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

from feeds.alerts.engine import AlertInputs
from feeds.btc.state import BtcSlice
from feeds.core.clock import ManualClock
from feeds.core.health import HealthSlice
from feeds.core.store import Store
from feeds.history.ath import AthGuard
from feeds.history.ath_state import AthSlice
from feeds.history.divergence_state import DivergenceSlice
from feeds.model.btc import Heartbeat, Tick
from feeds.model.core import FeedState, FeedStatus
from feeds.model.history import Bar, HistoryBars
from feeds.model.quotes import MarketState, Quote, QuoteMiss, QuoteRow, QuotesView
from feeds.quotes.state import QuotesSlice
from widgets.quotes_panel import record_badge

WALL = datetime(2025, 12, 12, 15, 25, tzinfo=UTC)
T0 = 1000.0


def tick(venue: str, price: str, t: float) -> Tick:
    return Tick(venue, D(price), None, None, None, None, None, None, None, None, t)


def quote(symbol: str, price: str, t: float, source: str = "yahoo") -> Quote:
    return Quote(
        source, symbol, symbol, D(price), None, None, None, None, "USD",
        MarketState.REGULAR, False, 0, None, None, t,
    )  # fmt: skip


def bars(symbol: str, high: str, close: str, source: str = "yahoo") -> HistoryBars:
    day = date(2025, 10, 6)
    b = Bar(symbol, day, D(close), D(high), D(close) - 10, D(close), source)
    later = Bar(symbol, date(2025, 12, 11), D(close), D(close), D(close) - 10, D(close), source)
    return HistoryBars(source, symbol, (b, later), None, T0)


class Wired:
    """Health, BTC, quotes, ATH and divergence slices wired as ``tui.runtime.build_runtime``."""

    def __init__(self) -> None:
        self.clock = ManualClock(WALL, mono=T0)
        self.health = HealthSlice({"coinbase": 5.0, "kraken": 5.0}, heartbeat_kinds=(Heartbeat,))
        self.btc = BtcSlice(("coinbase", "kraken"), stale_after=5.0, failback_after=30.0)
        self.health.delegate_staleness(self.btc.venues, self.btc.venue_stale)
        self.quotes = QuotesSlice(["^RUT"], clock=self.clock)
        self.ath = AthSlice(
            ["^RUT"],
            clock=self.clock,
            guard=AthGuard(outlier_pct=10, confirm_pct=1, persist_s=60),
            btc_shown=self.btc.shown_tick,
            quote_shown=self.quotes.shown_quote,
        )
        self.div = DivergenceSlice(
            clock=self.clock,
            btc_shown=self.btc.shown_tick,
            ath_view=self.ath.view,
            threshold_pct=20.0,
        )
        self.store = Store([self.health, self.btc, self.quotes, self.ath, self.div])
        self.store.apply(bars("BTC-USD", "126200", "124500", "coinbase"))
        self.store.apply(bars("^RUT", "2547", "2541"))
        for venue in ("coinbase", "kraken"):
            self.store.apply(FeedStatus(venue, FeedState.LIVE, "", T0))

    def inputs(self, now: float) -> AlertInputs:
        self.store.refresh(now)
        return AlertInputs.from_views(
            now, btc=self.btc.view(), ath=self.ath.view(), divergence=self.div.view()
        )


def btc_prices_everywhere(w: Wired, now: float) -> tuple[D, str, list[tuple[D, str]]]:
    """The BTC view's shown price and venue, and every BTC price any other view carries."""
    inputs = w.inputs(now)
    shown = w.btc.view().tick
    assert shown is not None
    row = w.ath.view().row("BTC-USD")
    assert row is not None and row.price is not None
    side = w.div.view().a
    assert side.price is not None
    others = [
        (row.price, row.price_source),
        (D(repr(side.price)), side.source),
        (inputs.prices["BTC-USD"].price, inputs.prices["BTC-USD"].source),
        (inputs.ath["BTC-USD"].price, inputs.ath["BTC-USD"].source),
    ]
    return shown.price, shown.source, others


def test_every_btc_price_is_the_btc_views_shown_price() -> None:
    w = Wired()
    # Both venues live at different prices, the other venue ticking last (the issue's
    # screen: the BTC panel said Coinbase, the ATH and divergence panels said Kraken).
    w.store.apply(tick("coinbase", "87658.91", T0 + 1))
    w.store.apply(tick("kraken", "87684", T0 + 1.1))
    price, venue, others = btc_prices_everywhere(w, T0 + 1.2)
    assert (price, venue) == (D("87658.91"), "coinbase")
    assert others == [(price, venue)] * 4
    # The ATH distance is of that price (the divergence side carries the same one).
    row = w.ath.view().row("BTC-USD")
    assert row is not None and row.distance_pct == (D("87658.91") / D("126200") - 1) * 100
    assert w.div.view().a.drawdown_pct == float(row.distance_pct)

    # Coinbase falls silent; Kraken keeps ticking: failover happens on a refresh (no
    # tick of the shown venue), and every view follows at once.
    for i in range(8):
        w.store.apply(tick("kraken", str(87690 + i), T0 + 2 + i))
    price, venue, others = btc_prices_everywhere(w, T0 + 9.5)
    assert (price, venue) == (D("87697"), "kraken")
    assert others == [(price, venue)] * 4


def test_btc_staleness_has_one_derivation() -> None:
    w = Wired()
    # Health's own timer would say "not stale" for a long while: it must not be asked.
    w.health.set_threshold("coinbase", 600.0)
    w.store.apply(tick("coinbase", "90000", T0 + 1))
    w.store.apply(tick("kraken", "90010", T0 + 1))
    w.store.refresh(T0 + 5.9)  # 4.9 s of silence: not stale yet
    assert w.btc.view().state is FeedState.LIVE and w.btc.view().fresh
    assert w.health.view()["coinbase"].state is FeedState.LIVE
    assert "BTC-USD" in w.inputs(T0 + 5.9).prices
    # Past stale_after: the BTC view, the status bar's health and the alert inputs all
    # say so at the same refresh.
    now = T0 + 6.5
    inputs = w.inputs(now)
    view = w.btc.view()
    assert view.state is FeedState.STALE and not view.fresh
    assert {v.state for v in view.venues.values()} == {FeedState.STALE}
    health = w.health.view()
    assert health["coinbase"].state is FeedState.STALE
    assert health["kraken"].state is FeedState.STALE
    assert "BTC-USD" not in inputs.prices and "BTC-USD" not in inputs.ath
    # A heartbeat alone makes the venue fresh again for all of them.
    w.store.apply(Heartbeat("coinbase", now))
    w.store.refresh(now + 0.1)
    assert w.btc.view().venues["coinbase"].state is FeedState.LIVE
    assert w.health.view()["coinbase"].state is FeedState.LIVE


def test_a_print_the_guard_rejects_is_no_record_anywhere() -> None:
    w = Wired()
    w.store.apply(tick("coinbase", "92100", T0 + 1))
    for i in range(4):  # a recent window, so the median judges the next print
        w.store.apply(quote("^RUT", "2540", T0 + 1 + i))
    # One source prints above the stored high (2547): pending, not confirmed.
    w.store.apply(quote("^RUT", "2560", T0 + 6))
    view = w.ath.view()
    row = view.row("^RUT")
    assert row is not None and row.pending and not row.new_ath and not row.at_high
    qrow = QuoteRow(
        "^RUT", "^RUT", quote("^RUT", "2560", T0 + 6), MarketState.REGULAR,
        False, False, None, "", False,
    )  # fmt: skip
    badge = record_badge(qrow, view.marks)
    assert badge == "PENDING"  # never a positive distance: the pending word (widgets.words)
    side = w.div.view().b
    assert side.ath == 2547.0 and side.ath_day == date(2025, 10, 6)  # not a new high
    # BTC: an outlier print (shown, like the BTC panel shows it) is flagged, is not a
    # record, is not a new high, and gives the divergence no drawdown.
    for i in range(4):
        w.store.apply(tick("coinbase", "92100", T0 + 7 + i))
    w.store.apply(tick("coinbase", "190000", T0 + 12))
    btc = w.ath.view().row("BTC-USD")
    assert btc is not None and btc.outlier and btc.price == D("190000")
    assert not w.ath.view().marks["BTC-USD"].at_high and not btc.new_ath
    a = w.div.view().a
    assert a.ath == 126200.0 and a.ath_day == date(2025, 10, 6) and a.drawdown_pct is None
    assert w.div.view().flag is None


def test_a_confirmed_high_is_the_same_record_everywhere() -> None:
    w = Wired()
    w.store.apply(tick("coinbase", "92100", T0 + 1))
    w.store.apply(quote("^RUT", "2558", T0 + 2, "yahoo"))
    w.store.apply(quote("^RUT", "2557", T0 + 3, "cboe"))  # a second source confirms
    view = w.ath.view()
    row = view.row("^RUT")
    assert row is not None and row.new_ath and row.record is not None
    assert row.record.high == D("2557") and row.at_high and view.marks["^RUT"].at_high
    side = w.div.view().b
    assert side.ath == 2557.0 and side.ath_day == WALL.date() and side.drawdown_pct == 0.0


def test_divergence_gap_and_flag_are_the_divergence_views() -> None:
    w = Wired()
    w.store.apply(tick("coinbase", "92100", T0 + 1))
    w.store.apply(quote("^RUT", "2541", T0 + 1))
    # The rules read the view's gap (as a size) and drawdowns; nothing re-derived.
    div = w.div.view()
    rut = QuoteRow(
        "^RUT", "^RUT", quote("^RUT", "2541", T0 + 1), MarketState.REGULAR,
        False, False, None, "", False,
    )  # fmt: skip
    quotes = QuotesView((rut,), (), MarketState.REGULAR, None, None, 60.0)
    inputs = AlertInputs.from_views(
        T0 + 1.5, btc=w.btc.view(), ath=w.ath.view(), divergence=div, quotes=quotes
    )
    assert div.gap_pp is not None and div.flag is not None and div.flag.raised
    assert div.gap_pp == div.flag.gap_pp
    gap = inputs.divergence
    assert gap is not None and gap.gap_pp == abs(div.gap_pp)
    assert (gap.a_dd, gap.b_dd) == (div.a.drawdown_pct, div.b.drawdown_pct)
    row = w.ath.view().row("^RUT")
    assert row is not None and row.distance_pct is not None
    assert div.b.drawdown_pct == float(min(row.distance_pct, D(0)))


def index_prices_everywhere(w: Wired) -> tuple[tuple[D, str], list[tuple[D, str]]]:
    """The quotes view's ^RUT price and source, and the ATH and divergence views' ones."""
    w.store.refresh(w.clock.monotonic())
    row = w.quotes.view().rows[0]
    assert row.quote is not None
    ath = w.ath.view().row("^RUT")
    side = w.div.view().b
    assert ath is not None and ath.price is not None and side.price is not None
    return (row.quote.price, row.quote.source), [
        (ath.price, ath.price_source),
        (D(str(side.price)), side.source),
    ]


def test_an_index_price_is_the_quotes_views_shown_price() -> None:
    w = Wired()
    w.store.apply(quote("^RUT", "2501.5", T0 + 1, "yahoo"))
    w.clock.advance(1.0)
    w.store.apply(quote("^RUT", "2499.25", T0 + 2, "cboe"))  # newer, but Yahoo is primary
    shown, others = index_prices_everywhere(w)
    assert shown == (D("2501.5"), "yahoo")
    assert others == [shown, shown]
    # Yahoo misses the symbol: the quotes slice falls back to Cboe, and the other panels
    # follow without another quote reaching them.
    w.store.apply(QuoteMiss("yahoo", "^RUT", "HTTP 404", T0 + 3))
    shown, others = index_prices_everywhere(w)
    assert shown == (D("2499.25"), "cboe")
    assert others == [shown, shown]
    # Handback: Yahoo delivers again, and is shown everywhere even though Cboe quotes next.
    w.clock.advance(1.0)
    w.store.apply(quote("^RUT", "2502", T0 + 4, "yahoo"))
    w.store.apply(quote("^RUT", "2498", T0 + 4.5, "cboe"))
    shown, others = index_prices_everywhere(w)
    assert shown == (D("2502"), "yahoo")
    assert others == [shown, shown]
