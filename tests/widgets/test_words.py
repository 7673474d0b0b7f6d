"""One vocabulary: a pending new high, a confirmed one and a stale source read the same
in every panel that shows them (widgets.words), from the views' facts."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from textual.app import App, ComposeResult

from feeds.model.core import FeedState, SourceHealth
from tests.widgets.test_ath_panel import MONO, WALL, make_view, quote, row
from tests.widgets.test_quotes_panel import make_view as quotes_view
from tests.widgets.test_quotes_panel import text
from widgets.ath_panel import AthPanel
from widgets.btc_panel import BtcPanel
from widgets.cells import Cell
from widgets.quotes_panel import QuotesPanel
from widgets.status_bar import describe
from widgets.words import PENDING, RECORD, STALE, ath_word


class Host(App[None]):
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {"up": "green", "down": "red"}

    def compose(self) -> ComposeResult:
        yield BtcPanel(sparkline=False)
        yield QuotesPanel()
        yield AthPanel()


def _views() -> Any:
    """An ATH view where ^GSPC prints above its stored high (pending confirmation) and
    ^RUT is at its confirmed high."""
    view = make_view()
    gspc = view.row("^GSPC")
    assert gspc is not None and gspc.record is not None
    return view, gspc.record.high * Decimal("1.001")


async def test_pending_and_record_read_the_same_in_every_panel() -> None:
    from feeds.core.clock import ManualClock
    from feeds.history.ath import AthGuard
    from feeds.history.ath_state import AthSlice
    from feeds.model.history import HistoryBars
    from feeds.sim.history_data import daily_bars
    from feeds.sim.levels import LEVELS

    # The same slice as make_view, plus one unconfirmed print above ^GSPC's high.
    base, above = _views()
    s = AthSlice(["^RUT", "IWM", "^GSPC"], clock=ManualClock(WALL, mono=MONO),
                 guard=AthGuard(persist_s=60))  # fmt: skip
    for sym in ("^RUT", "IWM", "^GSPC"):
        bars = tuple(daily_bars(sym)[-400:])
        s.apply(HistoryBars("yahoo", sym, bars, LEVELS[sym].first_trade, MONO - 100))
    s.apply(quote("^RUT", 2558.0, "yahoo", MONO - 5))
    s.apply(quote("^RUT", 2557.5, "cboe", MONO - 4))
    s.apply(quote("^GSPC", float(above), "yahoo", MONO - 1))
    view = s.view()
    gspc, rut = view.row("^GSPC"), view.row("^RUT")
    assert gspc is not None and gspc.pending and gspc.distance_pct is not None
    assert gspc.distance_pct > 0  # the fact: above the stored high, not confirmed
    assert rut is not None and rut.at_high
    assert ath_word(gspc) == ath_word(view.marks["^GSPC"]) == PENDING
    assert ath_word(rut) == ath_word(view.marks["^RUT"]) == RECORD
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        qview, _ = quotes_view()
        quotes = app.query_one(QuotesPanel)
        quotes.show(qview)
        quotes.set_ath(view.marks)
        ath = app.query_one(AthPanel)
        ath.show(view)
        ath.tick(MONO, WALL)
        btc = app.query_one(BtcPanel)
        await pilot.pause()
        assert text(app, "^GSPC", "rec") == PENDING
        assert text(app, "^RUT", "rec") == RECORD
        assert PENDING in row(app, "^GSPC").text and "+" not in row(app, "^GSPC").text[50:70]
        assert RECORD in row(app, "^RUT").text
        # The BTC line words a mark the same way (whichever symbol it is given).
        btc.set_ath(view.marks["^GSPC"])
        assert btc.query_one("#btc-ath", Cell).text == PENDING
        btc.set_ath(view.marks["^RUT"])
        assert btc.query_one("#btc-ath", Cell).text == RECORD
        await app.action_quit()
    assert base.row("^RUT") is not None


def test_a_stale_source_reads_stale_in_the_status_bar() -> None:
    h = SourceHealth("yahoo", FeedState.STALE, "", MONO - 30, None, MONO - 30, MONO - 30, 0, 1)
    assert f"Yahoo {STALE}" in describe(h, "yahoo", MONO, WALL).plain
    assert STALE == "STALE" == FeedState.STALE.value


def test_a_clock_skew_hint_shows_beside_a_live_source_in_the_status_bar() -> None:
    skew = "clock skew: source time 120 s ahead"
    h = SourceHealth("coinbase", FeedState.LIVE, "", MONO - 5, None, MONO - 1, MONO - 1, 0, 9, skew)
    assert skew in describe(h, "coinbase", MONO, WALL).plain
    # A narrow terminal leaves hints and reasons to the panels, so every source fits.
    assert skew not in describe(h, "coinbase", MONO, WALL, brief=True).plain
    assert "clock skew" not in describe(replace(h, hint=""), "coinbase", MONO, WALL).plain


def test_a_fallback_on_standby_reads_standby_with_no_age_in_the_status_bar() -> None:
    """Cboe while Yahoo delivers every symbol: ready, serving nothing. No age and no
    data age (it serves no value on screen), and never the word LIVE."""
    why = "not needed: the primary source delivers every symbol"
    h = SourceHealth("cboe", FeedState.STANDBY, why, MONO - 30, None, MONO - 600, MONO - 30, 0, 4)
    assert describe(h, "cboe", MONO, WALL).plain == "Cboe STANDBY"
    assert describe(h, "cboe", MONO, WALL, terse=True).plain == "Cboe STANDBY"
