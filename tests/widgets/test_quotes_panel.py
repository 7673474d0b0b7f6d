"""The quotes panel in a tiny host app: text, classes, stale words, fallback, futures,
record badge, compact layout; plus deterministic snapshots."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from feeds.core.clock import ManualClock
from feeds.model.core import FeedState, FeedStatus
from feeds.model.history import AthMark
from feeds.model.quotes import QuoteMiss, QuotesView
from feeds.quotes.session import SessionIntervals
from feeds.quotes.state import QuotesSlice
from tests.feeds.quotes.helpers import FRIDAY_1030, quote
from widgets.quotes_panel import QuotesPanel

TCSS = Path(__file__).parents[2] / "tui" / "quotes.tcss"
IV = SessionIntervals(regular=15, extended=60, futures=60, closed=300)
WATCH = ("^RUT", "IWM", "^GSPC", "^DJI", "^NDX", "SI=F", "GC=F")


def make_view(wall: datetime = FRIDAY_1030, *, fail_yahoo: bool = True) -> tuple[QuotesView, float]:
    """A frozen view: five fresh Yahoo rows, ^DJI from Cboe, SI=F stale, GC=F never seen."""
    clock = ManualClock(wall, mono=1000.0)
    s = QuotesSlice(WATCH, clock=clock, futures=("RTY=F", "ES=F"), intervals=IV)
    t0 = clock.monotonic()
    s.apply(FeedStatus("yahoo", FeedState.LIVE, "", t0))
    s.apply(
        quote("SI=F", "64.21", prev="62.9", year_high="64.21", name="Silver futures", received=t0)
    )
    clock.advance(120)
    t1 = clock.monotonic()
    s.apply(
        quote("^RUT", "2558.12", prev="2541.03", year_high="2560", name="Russell 2000", received=t1)
    )
    s.apply(
        quote(
            "IWM",
            "253.10",
            prev="251.40",
            year_high="252.00",
            name="iShares Russell 2000 ETF",
            received=t1,
        )
    )
    s.apply(quote("^GSPC", "6880.50", prev="6886.68", name="S&P 500", received=t1))
    s.apply(
        quote(
            "^NDX",
            "25640.00",
            prev="25560.00",
            year_high="26182.10",
            name="Nasdaq 100",
            received=t1,
        )
    )
    s.apply(
        quote(
            "^DJI",
            "48712.00",
            source="cboe",
            prev="48704.00",
            year_high=None,
            delay_s=900,
            name="Dow Jones Industrial Average",
            received=t1,
        )
    )
    if fail_yahoo:
        s.apply(QuoteMiss("yahoo", "^DJI", "^DJI: HTTP 404", t1))
        s.apply(QuoteMiss("yahoo", "SI=F", "SI=F: HTTP 500", t1))
        s.apply(QuoteMiss("yahoo", "GC=F", "GC=F: Not Found", t1))
    for f in ("RTY=F", "ES=F"):
        s.apply(
            quote(
                f,
                "2566.0" if f == "RTY=F" else "6930.25",
                prev="2549.0" if f == "RTY=F" else "6912.00",
                year_high=None,
                name=f + " future",
                received=t1,
            )
        )
    s.refresh(t1)
    return s.view(), t1


class Host(App[None]):
    CSS_PATH = str(TCSS)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {"up": "green", "down": "red"}  # the app's themes define these

    def compose(self) -> ComposeResult:
        yield QuotesPanel()


def cell(app: App[Any], symbol: str, name: str) -> Static:
    rid = "q-" + "".join(c.lower() if c.isalnum() else "-" for c in symbol).strip("-")
    return app.query_one(f"#{rid}", Horizontal).query_one(f".q-{name}", Static)


def text(app: App[Any], symbol: str, name: str) -> str:
    return str(cell(app, symbol, name).render())


async def test_rows_show_price_change_source_and_age() -> None:
    view, t1 = make_view()
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        panel = app.query_one(QuotesPanel)
        panel.show(view)
        panel.tick(t1 + 7, FRIDAY_1030)
        await pilot.pause()
        assert text(app, "^RUT", "last") == "2,558.12"
        assert text(app, "^RUT", "chg") == "+17.09"
        assert text(app, "^RUT", "pct") == "+0.67%"
        assert cell(app, "^RUT", "chg").has_class("-up")
        assert text(app, "^GSPC", "chg") == "−6.18"
        assert cell(app, "^GSPC", "pct").has_class("-downtick")
        assert text(app, "^RUT", "state") == "OPEN"
        assert text(app, "^RUT", "src") == "yahoo rt"
        assert text(app, "^RUT", "age") == "5s"  # 7 s old, in 5 s steps
        assert text(app, "^RUT", "name") == "Russell 2000"
        assert text(app, "^RUT", "range") == "2,548.12–2,568.12"
        # Fallback row says where it came from and how late it is.
        assert text(app, "^DJI", "src") == "cboe 15m"
        assert cell(app, "^DJI", "src").has_class("-fallback")
        panel.tick(t1 + 47, FRIDAY_1030)
        assert text(app, "^RUT", "age") == "45s"


async def test_a_second_that_changes_no_age_paints_nothing() -> None:
    """Idle CPU: the ages go in 5 s steps, so most 1 Hz ticks leave every row as it
    was and walk none of them; a tick whose age reads differently paints."""
    view, t1 = make_view()
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        panel = app.query_one(QuotesPanel)
        panel.show(view)
        await pilot.pause()
        paints: list[bool] = []
        paint = panel._paint

        def counted(*, full: bool) -> None:
            paints.append(full)
            paint(full=full)

        panel._paint = counted  # type: ignore[method-assign]
        panel.tick(t1 + 5, FRIDAY_1030)
        assert paints == [False]  # the ages appear
        panel.tick(t1 + 6, FRIDAY_1030)  # "5s" still
        panel.tick(t1 + 9, FRIDAY_1030)
        assert paints == [False]
        panel.tick(t1 + 10, FRIDAY_1030)  # "10s"
        assert paints == [False, False]
        assert text(app, "^RUT", "age") == "10s"
        view2, _ = make_view()
        panel.show(view2)  # a new view is painted whole; its first tick paints again
        panel.tick(t1 + 11, FRIDAY_1030)
        assert paints == [False, False, True, False]


async def test_stale_row_keeps_last_value_with_words() -> None:
    view, t1 = make_view()
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        panel = app.query_one(QuotesPanel)
        panel.show(view)
        panel.tick(t1 + 1, FRIDAY_1030)
        await pilot.pause()
        assert text(app, "SI=F", "last") == "64.21"  # the last good value, never blank
        assert text(app, "SI=F", "age") == "STALE since 10:30"
        row = app.query_one("#q-si-f", Horizontal)
        assert row.has_class("-stale")
        # Never seen at all: a word, not a zero.
        assert text(app, "GC=F", "last") == "NO DATA"
        assert text(app, "GC=F", "age") == "DOWN"
        assert "1 STALE" in str(panel.border_subtitle)


def mark(symbol: str, pct: str | None, at_high: bool = False) -> AthMark:
    return AthMark(symbol, None if pct is None else Decimal(pct), at_high, False)


async def test_record_badge_uses_52w_high_until_ath_is_supplied() -> None:
    view, t1 = make_view()
    app = Host()
    async with app.run_test(size=(120, 20)) as pilot:
        panel = app.query_one(QuotesPanel)
        panel.show(view)
        await pilot.pause()
        assert text(app, "IWM", "rec") == "52W HI"  # 253.10 >= 252.00
        assert cell(app, "IWM", "rec").has_class("-record")
        assert text(app, "^NDX", "rec") == ""
        # The ATH view's marks: its distance and its RECORD flag, shown as they are.
        panel.set_ath({"IWM": mark("IWM", "-2.6538"), "^RUT": mark("^RUT", "0", at_high=True)})
        await pilot.pause()
        assert text(app, "IWM", "rec") == "ATH−2.7%"
        assert not cell(app, "IWM", "rec").has_class("-record")
        assert text(app, "^RUT", "rec") == "RECORD"
        panel.set_ath({"IWM": mark("IWM", "-36.7")})
        await pilot.pause()
        assert text(app, "IWM", "rec") == "ATH−37%"
        # A print above the high the ATH guard has not confirmed is not a RECORD here,
        # whatever the quote's price says, and never a positive distance: PENDING.
        panel.set_ath({"IWM": mark("IWM", "0.4", at_high=False)})
        await pilot.pause()
        assert text(app, "IWM", "rec") == "PENDING"
        assert not cell(app, "IWM", "rec").has_class("-record")


async def test_compact_at_80_columns_hides_name_and_range() -> None:
    view, t1 = make_view()
    app = Host()
    async with app.run_test(size=(80, 20)) as pilot:
        panel = app.query_one(QuotesPanel)
        panel.show(view)
        panel.tick(t1, FRIDAY_1030)
        await pilot.pause()
        assert panel.has_class("-compact")
        assert not cell(app, "^RUT", "name").display or cell(app, "^RUT", "name").size.width == 0
        assert text(app, "SI=F", "age") == "STALE 10:30"
        assert cell(app, "^DJI", "last").region.right <= 80


async def test_futures_rows_when_cash_closed_and_holiday() -> None:
    christmas = datetime(2025, 12, 25, 15, 0, tzinfo=UTC)
    view, t1 = make_view(christmas)
    assert [r.symbol for r in view.futures] == ["RTY=F", "ES=F"]
    app = Host()
    async with app.run_test(size=(120, 24)) as pilot:
        panel = app.query_one(QuotesPanel)
        panel.show(view)
        await pilot.pause()
        title = app.query_one("#q-fut-title", Static)
        assert title.display and "INDEX FUTURES" in str(title.render())
        assert text(app, "ES=F", "state") == "HOLIDAY"
        assert text(app, "^GSPC", "state") == "HOLIDAY"
        assert app.query_one("#q-es-f", Horizontal).has_class("-future")
        # The session opens: the futures rows hide again (mounted once, never removed).
        view2, _ = make_view()
        panel.show(view2)
        await pilot.pause()
        assert not app.query_one("#q-es-f", Horizontal).display
        assert not title.display


def test_snapshot_panel_compact(snap_compare: Any) -> None:
    view, t1 = make_view()

    async def before(pilot: Any) -> None:
        panel = pilot.app.query_one(QuotesPanel)
        panel.show(view)
        panel.tick(t1 + 12, FRIDAY_1030)
        await pilot.pause()

    assert snap_compare(Host(), terminal_size=(80, 14), run_before=before)


def test_snapshot_panel_wide_with_futures(snap_compare: Any) -> None:
    view, t1 = make_view(datetime(2025, 12, 12, 22, 0, tzinfo=UTC))  # Friday 17:00 ET

    async def before(pilot: Any) -> None:
        panel = pilot.app.query_one(QuotesPanel)
        panel.show(view)
        panel.tick(t1 + 3, datetime(2025, 12, 12, 22, 0, tzinfo=UTC))
        await pilot.pause()

    assert snap_compare(Host(), terminal_size=(130, 16), run_before=before)
