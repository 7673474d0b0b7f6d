"""The quotes slice: failover to the fallback and back, last good value kept, stale
since, and futures rows while the cash session is closed. Pure and synchronous."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from feeds.core.clock import ManualClock
from feeds.core.store import Store
from feeds.model.core import FeedState, FeedStatus
from feeds.model.quotes import MarketState, QuoteMiss, QuoteRow
from feeds.quotes.session import SessionIntervals
from feeds.quotes.state import QuotesSlice
from tests.feeds.quotes.helpers import FRIDAY_1030, quote

IV = SessionIntervals(regular=10, extended=60, futures=60, closed=300)


def make(clock: ManualClock) -> QuotesSlice:
    return QuotesSlice(
        ["^GSPC", "SI=F"], clock=clock, futures=["ES=F"], intervals=IV, stale_multiplier=3
    )


def status(source: str, state: FeedState, at: float, reason: str = "") -> FeedStatus:
    return FeedStatus(source, state, reason, at)


def test_rows_before_data_are_waiting_not_zero() -> None:
    clock = ManualClock(FRIDAY_1030)
    view = make(clock).view()
    assert [r.symbol for r in view.rows] == ["^GSPC", "SI=F"]
    assert all(r.quote is None and not r.stale for r in view.rows)
    assert view.futures == ()  # cash session open: no futures rows


def test_stale_after_multiplier_keeps_last_value() -> None:
    clock = ManualClock(FRIDAY_1030)
    s = make(clock)
    s.apply(quote(received=clock.monotonic()))
    assert s.view().rows[0].quote is not None and not s.view().rows[0].stale
    clock.advance(29)
    assert not s.refresh(clock.monotonic()) or not s.view().rows[0].stale
    clock.advance(2)  # 31 s > 3 x 10 s
    assert s.refresh(clock.monotonic())
    row = s.view().rows[0]
    assert row.stale and row.quote is not None and row.quote.price == Decimal("6900")
    assert row.stale_since == FRIDAY_1030


def test_failover_to_cboe_and_handback() -> None:
    clock = ManualClock(FRIDAY_1030)
    s = make(clock)
    store = Store([s])
    store.apply(status("yahoo", FeedState.LIVE, clock.monotonic()))
    store.apply(quote(received=clock.monotonic()))
    clock.advance(5)
    store.apply(status("yahoo", FeedState.DOWN, clock.monotonic(), "connection refused"))
    row = s.view().rows[0]
    # Yahoo down, no fallback yet: last good value, stale at once, with the reason.
    assert row.stale and row.quote is not None and row.quote.source == "yahoo"
    assert "connection refused" in row.reason
    store.apply(quote(price="6890.12", source="cboe", received=clock.monotonic(), delay_s=900))
    row = s.view().rows[0]
    assert row.fallback and not row.stale and row.quote is not None
    assert row.quote.source == "cboe" and row.quote.delay_s == 900
    clock.advance(5)
    store.apply(status("yahoo", FeedState.LIVE, clock.monotonic()))
    store.apply(quote(price="6905", received=clock.monotonic()))
    row = s.view().rows[0]
    assert not row.fallback and not row.stale and row.quote is not None
    assert row.quote.source == "yahoo" and row.reason == ""


def test_per_symbol_miss_uses_fallback_only_for_that_symbol() -> None:
    clock = ManualClock(FRIDAY_1030)
    s = make(clock)
    s.apply(status("yahoo", FeedState.LIVE, clock.monotonic()))
    s.apply(quote(received=clock.monotonic()))
    s.apply(quote("SI=F", "64.2", received=clock.monotonic(), name="Silver"))
    s.apply(QuoteMiss("yahoo", "SI=F", "SI=F: Not Found", clock.monotonic()))
    rows = {r.symbol: r for r in s.view().rows}
    assert not rows["^GSPC"].stale
    assert rows["SI=F"].stale and rows["SI=F"].quote is not None  # no Cboe fallback for silver
    assert "Not Found" in rows["SI=F"].reason


def test_futures_rows_when_cash_closed_with_holiday_state() -> None:
    clock = ManualClock(datetime(2025, 12, 25, 15, 0, tzinfo=UTC))  # Christmas
    s = make(clock)
    view = s.view()
    assert view.cash_state is MarketState.HOLIDAY
    assert [r.symbol for r in view.futures] == ["ES=F"]
    assert view.futures[0].is_future and view.futures[0].state is MarketState.HOLIDAY
    assert view.rows[0].state is MarketState.HOLIDAY


def test_state_advances_with_the_clock_without_new_quotes() -> None:
    clock = ManualClock(datetime(2025, 12, 12, 20, 59, 50, tzinfo=UTC))
    s = make(clock)
    s.apply(quote(received=clock.monotonic()))
    assert s.view().rows[0].state is MarketState.REGULAR
    clock.advance(20)  # 16:00:10 ET
    assert s.refresh(clock.monotonic())
    assert s.view().rows[0].state is MarketState.POST
    assert [r.symbol for r in s.view().futures] == ["ES=F"]


def test_unknown_symbols_and_other_sources_are_ignored() -> None:
    clock = ManualClock(FRIDAY_1030)
    s = make(clock)
    assert not s.apply(quote("AAPL"))
    assert not s.apply(status("coinbase", FeedState.DOWN, 1.0))


def test_refresh_rebuilds_only_at_a_staleness_limit_or_a_session_edge() -> None:
    """A terminal drains at 10 Hz; the rows are rebuilt only when the clock has crossed
    something that changes them: a quote's staleness limit, or a session edge."""
    clock = ManualClock(datetime(2025, 12, 12, 20, 59, 30, tzinfo=UTC))  # 15:59:30 ET
    s = make(clock)
    s.apply(quote(received=clock.monotonic()))
    view = s.view()
    rows: list[str] = []
    row = s._row

    def counted(symbol: str, now: float, wall: datetime, limit: float) -> QuoteRow:
        rows.append(symbol)
        return row(symbol, now, wall, limit)

    s._row = counted  # type: ignore[method-assign]
    for _ in range(20):  # 15:59:30 -> 15:59:50: nothing due
        clock.advance(1)
        assert not s.refresh(clock.monotonic())
    assert s.view() is view and rows == []  # not one row rebuilt
    clock.advance(9.5)  # 15:59:59.5: still the regular session, the quote fresh (29.5 s)
    assert not s.refresh(clock.monotonic())
    clock.advance(0.5)  # 16:00:00 ET: the close, at once
    assert s.refresh(clock.monotonic())
    assert s.view().rows[0].state is MarketState.POST
    assert [r.symbol for r in s.view().futures] == ["ES=F"]
    clock.jump_wall(-60)  # a wall clock stepped back is looked at again
    assert s.refresh(clock.monotonic())
    assert s.view().rows[0].state is MarketState.REGULAR


def test_refresh_turns_a_quote_stale_at_its_limit_not_later() -> None:
    clock = ManualClock(FRIDAY_1030)
    s = make(clock)
    s.apply(quote(received=clock.monotonic()))
    clock.advance(30)  # exactly 3 x 10 s: still fresh
    s.refresh(clock.monotonic())
    assert not s.view().rows[0].stale
    clock.advance(0.01)
    assert s.refresh(clock.monotonic())
    assert s.view().rows[0].stale
