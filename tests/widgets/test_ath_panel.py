"""The ATH panel: rows, words, classes, compact and wide layouts, progress, and a snapshot."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult

from feeds.core.clock import ManualClock
from feeds.history.ath import AthGuard
from feeds.history.ath_state import AthSlice, HistoryNotice
from feeds.model.btc import Tick
from feeds.model.history import AthView, BackfillProgress, HistoryBars
from feeds.model.quotes import MarketState, Quote
from feeds.sim.history_data import daily_bars
from feeds.sim.levels import LEVELS
from widgets.ath_panel import AthPanel
from widgets.cells import Cell

TCSS = Path(__file__).parent.parent.parent / "tui" / "history.tcss"
MONO = 1000.0
WALL = datetime(2025, 12, 12, 15, 25, tzinfo=UTC)
SYMBOLS = ["^RUT", "IWM", "^GSPC", "^DJI", "^NDX", "SI=F"]


def quote(symbol: str, price: float, source: str, t: float) -> Quote:
    return Quote(
        source, symbol, symbol, Decimal(str(price)), None, None, None, None, "USD",
        MarketState.REGULAR, False, 0, None, None, t,
    )  # fmt: skip


def make_view(progress: bool = False) -> AthView:
    clock = ManualClock(WALL, mono=MONO)
    s = AthSlice(SYMBOLS, clock=clock, guard=AthGuard(persist_s=60))
    for sym in ["BTC-USD", *SYMBOLS]:
        bars = tuple(daily_bars(sym)[-400:]) if sym != "BTC-USD" else tuple(daily_bars(sym))
        s.apply(HistoryBars("yahoo", sym, bars, LEVELS[sym].first_trade, MONO - 100))
    s.apply(
        Tick("kraken", Decimal("92100"), None, None, None, None, None, None, None, None, MONO - 2)
    )
    s.apply(quote("^RUT", 2558.0, "yahoo", MONO - 5))
    s.apply(quote("^RUT", 2557.5, "cboe", MONO - 4))
    s.apply(quote("^GSPC", 6905.0, "yahoo", MONO - 5))
    if progress:
        s.apply(
            BackfillProgress(
                "coinbase-candles", "BTC-USD", 5, 14, date(2022, 4, 1), False, "paging back", MONO
            )
        )
        s.apply(HistoryNotice("history", "history database was corrupt; moved aside", MONO))
    return s.view()


class Host(App[None]):
    CSS_PATH = str(TCSS)

    def compose(self) -> ComposeResult:
        yield AthPanel()


def row(app: App[Any], symbol: str) -> Cell:
    panel = app.query_one(AthPanel)
    return panel._rows[symbol]


async def shown(app: App[Any], pilot: Any, view: AthView) -> AthPanel:
    """The panel showing ``view``, ticked at the test's clocks and painted."""
    panel = app.query_one(AthPanel)
    panel.show(view)
    panel.tick(MONO, WALL)
    await pilot.pause()
    return panel


async def test_compact_rows_words_and_classes() -> None:
    app = Host()
    async with app.run_test(size=(80, 20)) as pilot:
        panel = await shown(app, pilot, make_view())
        btc = row(app, "BTC-USD")
        assert "126,200" in btc.text and "−27.0%" in btc.text and "20-30%" in btc.text
        assert "25-10-06" in btc.text and "67d" in btc.text and "kr <1m" in btc.text
        assert btc.has_class("-deep") and not btc.has_class("-new-ath")
        rut = row(app, "^RUT")
        assert "RECORD" in rut.text and rut.has_class("-new-ath")  # widgets.words
        assert "2,558" in rut.text and "0d" in rut.text
        dji = row(app, "^DJI")
        assert "†" in dji.text and dji.has_class("-cached") and "cls" in dji.text
        notes = app.query_one("#ath-notes", Cell).text
        assert "^DJI: high since 1992" in notes
        assert all(len(row(app, s).text) <= 80 for s in ["BTC-USD", *SYMBOLS])
        assert panel.border_subtitle == "RECORD · LIVE"


async def test_wide_layout_shows_both_dates_and_the_note() -> None:
    app = Host()
    async with app.run_test(size=(140, 20)) as pilot:
        await shown(app, pilot, make_view())
        btc = row(app, "BTC-USD").text
        assert "2025-10-06" in btc and "kraken <1m" in btc
        assert "(high since 1992)" in row(app, "^DJI").text


async def test_progress_notice_and_ages_keep_counting() -> None:
    app = Host()
    async with app.run_test(size=(80, 20)) as pilot:
        panel = await shown(app, pilot, make_view(progress=True))
        prog = app.query_one("#ath-progress", Cell).text
        assert "backfill BTC-USD" in prog and "35%" in prog and "paging back" in prog
        assert panel.border_subtitle == "BACKFILL"
        assert "corrupt" in app.query_one("#ath-notes", Cell).text
        panel.tick(MONO + 120, WALL)
        assert "kr 2m" in row(app, "BTC-USD").text


def test_snapshot_ath_panel(snap_compare: Any) -> None:
    view = make_view(progress=True)

    async def before(pilot: Any) -> None:
        panel = pilot.app.query_one(AthPanel)
        panel.show(view)
        panel.tick(MONO, WALL)
        await pilot.pause()

    assert snap_compare(Host(), terminal_size=(80, 16), run_before=before)


async def test_a_hidden_panel_keeps_the_view_and_renders_it_when_ticked() -> None:
    """Hidden (no room), a new view is kept but not rendered: every quote poll would
    re-render the table unseen. The tick that comes when it is shown renders it."""
    app = Host()
    async with app.run_test(size=(80, 20)) as pilot:
        panel = await shown(app, pilot, make_view())
        before = row(app, "BTC-USD").text
        panel.display = False
        panel.show(make_view(progress=True))
        assert row(app, "BTC-USD").text == before
        assert app.query_one("#ath-progress", Cell).text == ""
        assert panel.need(78).steps[0][1] == 1 + 7  # the layout still sees the view
        panel.display = True
        panel.tick(MONO + 120, WALL)
        assert "kr 2m" in row(app, "BTC-USD").text
        assert "backfill BTC-USD" in app.query_one("#ath-progress", Cell).text


async def test_rows_follow_the_watchlist_and_a_symbol_can_come_straight_back() -> None:
    """A symbol dropped from the watchlist hides its row (a removal completes later, and a
    new row under the same id before then would clash); brought back, the same row shows
    again in the view's order, however quickly it returns."""
    from dataclasses import replace

    full = make_view()
    without = replace(full, rows=tuple(r for r in full.rows if r.symbol != "IWM"))
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(AthPanel)

        def visible() -> list[str]:
            rows = panel.query(".ath-row").results(Cell)
            return [line.text.split()[0] for line in rows if line.display]

        panel.show(full)
        await pilot.pause()
        order = visible()
        assert order == [r.symbol for r in full.rows]
        iwm = panel._rows["IWM"]
        for _ in range(3):  # no pause between: the row never leaves the DOM
            panel.show(without)
            panel.show(full)
        panel.show(without)
        await pilot.pause()
        assert visible() == [s for s in order if s != "IWM"]
        panel.show(full)
        await pilot.pause()
        assert visible() == order and panel._rows["IWM"] is iwm
