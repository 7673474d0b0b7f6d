"""The quotes slice of the store (topic ``"quotes"``): one row per symbol, merged from the
primary source (Yahoo) and the fallback (Cboe).

Which symbols the fallback must fetch is decided here too
(:meth:`QuotesSlice.fallback_symbols`), from the primary's own quotes, misses and
status: one owner for the failover, as the BTC slice owns the venue choice.

Per symbol, the primary's quote is shown while it is fresh and its last attempt
succeeded; otherwise a fresh fallback quote; otherwise the newest good value of either,
marked stale since the moment it arrived. A price is never replaced by nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from feeds.core.clock import Clock
from feeds.model.core import FeedState, FeedStatus
from feeds.model.quotes import MarketState, Quote, QuoteMiss, QuoteRow, QuotesView
from feeds.quotes.session import (
    SessionIntervals,
    cash_state,
    futures_state,
    is_future_symbol,
    market_state,
)

_FAILING = (FeedState.DOWN, FeedState.DEGRADED, FeedState.RATE_LIMITED, FeedState.RECONNECTING)


class QuotesSlice:
    """Merges the primary and fallback quote sources per symbol, with failover and handback."""

    topic = "quotes"
    accepts: tuple[type, ...] = (Quote, QuoteMiss, FeedStatus)

    def __init__(
        self,
        symbols: Sequence[str],
        *,
        clock: Clock,
        futures: Sequence[str] = (),
        show_futures_when_closed: bool = True,
        intervals: SessionIntervals | None = None,
        stale_multiplier: float = 3.0,
        primary: str = "yahoo",
        fallback: str = "cboe",
    ) -> None:
        self.symbols = tuple(dict.fromkeys(symbols))
        self.futures = tuple(f for f in dict.fromkeys(futures) if f not in self.symbols)
        self.show_futures = show_futures_when_closed
        self.clock = clock
        self.intervals = intervals or SessionIntervals()
        self.stale_multiplier = stale_multiplier
        self.primary = primary
        self.fallback = fallback
        self._known = frozenset(self.symbols + self.futures)
        # Keyed by (source, symbol): bounded by the configured symbols and two sources.
        self._last: dict[tuple[str, str], Quote] = {}
        self._arrived: dict[tuple[str, str], datetime] = {}
        self._ok: dict[tuple[str, str], bool] = {}
        self._miss: dict[tuple[str, str], str] = {}
        self._status: dict[str, FeedStatus] = {}
        self._view: QuotesView | None = None
        self._due = float("-inf")
        """Monotonic time at which the next quote crosses its staleness limit."""
        self._wall_due: tuple[datetime, datetime] | None = None
        """The wall time of the last rebuild and of the next session edge (a whole
        minute, or a reported period's edge): market states and the poll interval change
        only there."""

    # -- Slice protocol -------------------------------------------------------------

    def apply(self, event: object) -> bool:
        """Take a Quote, QuoteMiss or status of one of the two sources."""
        if isinstance(event, FeedStatus):
            if event.source not in (self.primary, self.fallback):
                return False
            self._status[event.source] = event
        elif isinstance(event, Quote):
            if event.symbol not in self._known:
                return False
            key = (event.source, event.symbol)
            self._last[key] = event
            self._arrived[key] = self.clock.now()
            self._ok[key] = True
            self._miss.pop(key, None)
        elif isinstance(event, QuoteMiss):
            if event.symbol not in self._known:
                return False
            key = (event.source, event.symbol)
            self._ok[key] = False
            self._miss[key] = event.reason
        else:
            return False
        return self._rebuild(self.clock.monotonic())

    def refresh(self, now: float) -> bool:
        """Re-derive staleness, failover and market states for ``now`` (monotonic): only
        when a quote's staleness limit or a session edge has passed since the last
        rebuild. Rebuilding every row at every paint (10 Hz) was most of a desk hub
        terminal's drain (bench B13) and a tenth of an idle terminal's CPU."""
        wall, edges = self.clock.now(), self._wall_due
        if now < self._due and edges is not None and edges[0] <= wall < edges[1]:
            return False  # (a wall clock stepped back is a change too)
        return self._rebuild(now)

    def fallback_symbols(self) -> frozenset[str]:
        """The symbols the fallback source must serve now: those the primary did not
        deliver on its last attempt, or all of them while the primary as a whole is
        failing (down, degraded, rate-limited, not answering).

        This is the one place the failover is decided. It reads only state the events
        brought, so the fallback feed can ask it as often as it likes; a symbol leaves
        the set the moment the primary delivers it again (the handback).
        """
        st = self._status.get(self.primary)
        if st is not None and st.state in _FAILING:
            return self._known
        return frozenset(
            sym for (src, sym), ok in self._ok.items() if src == self.primary and not ok
        )

    def shown_quote(self, symbol: str) -> Quote | None:
        """The quote the quotes view shows for ``symbol`` (its row's ``quote``: primary,
        fallback, or the last good one), or None before any source delivered it.

        The ATH slice reads an index's price through this, so the ATH, divergence and
        quotes panels show one price from one source. A configured futures symbol the
        view hides while the cash session is open gets the quote its row would show.
        Reads only: a scan of a few rows per call."""
        view = self.view()
        for row in view.rows:
            if row.symbol == symbol:
                return row.quote
        for row in view.futures:
            if row.symbol == symbol:
                return row.quote
        if symbol not in self._known:
            return None
        return self._row(symbol, self.clock.monotonic(), self.clock.now(), view.stale_after).quote

    def view(self) -> QuotesView:
        """The current snapshot."""
        if self._view is None:
            self._rebuild(self.clock.monotonic())
        assert self._view is not None
        return self._view

    # -- internals ------------------------------------------------------------------

    def stale_after(self, wall: datetime) -> float:
        """``stale_multiplier`` times the poll interval in force at ``wall``."""
        has_futures = any(map(is_future_symbol, self.symbols)) or bool(self.futures)
        return self.stale_multiplier * self.intervals.for_time(wall, has_futures)

    def _good(self, source: str, symbol: str, now: float, limit: float) -> Quote | None:
        q = self._last.get((source, symbol))
        if q is None or not self._ok.get((source, symbol), False):
            return None
        st = self._status.get(source)
        if st is not None and st.state in _FAILING:
            return None
        return q if now - q.received <= limit else None

    def _why(self, source: str, symbol: str) -> str:
        st = self._status.get(source)
        if st is not None and st.state in _FAILING:
            return f"{source} {st.state.value}: {st.reason}" if st.reason else st.state.value
        miss = self._miss.get((source, symbol))
        if miss:
            return f"{source}: {miss}"
        if (source, symbol) in self._last:
            return f"{source}: no update"
        return ""

    def _plan_refresh(self, now: float, wall: datetime, limit: float) -> None:
        """When :meth:`refresh` must rebuild next: the first quote to go stale, and the
        next whole minute (every calendar session edge is on one) or reported period
        edge, whichever comes first."""
        ahead = [q.received + limit for q in self._last.values() if q.received + limit >= now]
        self._due = min(ahead, default=float("inf"))
        edge = wall.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for q in self._last.values():
            p = q.periods
            if p is None:
                continue
            # Yahoo's periods are epoch seconds; not every edge need be on a minute
            # (UNCONFIRMED): each is an edge of its own.
            for window in (p.pre, p.regular, p.post):
                for t in window or ():
                    if wall < t < edge:
                        edge = t
        self._wall_due = (wall, edge)

    def _row(self, symbol: str, now: float, wall: datetime, limit: float) -> QuoteRow:
        is_future = is_future_symbol(symbol)
        chosen = self._good(self.primary, symbol, now, limit)
        fallback = False
        stale = False
        reason = ""
        if chosen is None:
            reason = self._why(self.primary, symbol)
            chosen = self._good(self.fallback, symbol, now, limit)
            fallback = chosen is not None
            if chosen is None:
                candidates = [
                    q
                    for q in (self._last.get((s, symbol)) for s in (self.primary, self.fallback))
                    if q is not None
                ]
                if candidates:
                    chosen = max(candidates, key=lambda q: q.received)
                    stale = True
        since = self._arrived.get((chosen.source, symbol)) if chosen and stale else None
        name = symbol
        named = self._last.get((self.primary, symbol)) or chosen
        if named is not None:
            name = named.name
        if chosen is not None:
            is_future = chosen.is_future
            state = market_state(wall, chosen.periods, is_future)
        else:
            state = futures_state(wall) if is_future else cash_state(wall)
        return QuoteRow(
            symbol=symbol,
            name=name,
            quote=chosen,
            state=state,
            fallback=fallback,
            stale=stale,
            stale_since=since,
            reason=reason,
            is_future=is_future,
        )

    def _rebuild(self, now: float) -> bool:
        wall = self.clock.now()
        limit = self.stale_after(wall)
        self._plan_refresh(now, wall, limit)
        cash = cash_state(wall)
        rows = tuple(self._row(s, now, wall, limit) for s in self.symbols)
        futures: tuple[QuoteRow, ...] = ()
        if self.show_futures and cash is not MarketState.REGULAR:
            futures = tuple(self._row(s, now, wall, limit) for s in self.futures)
        view = QuotesView(
            rows=rows,
            futures=futures,
            cash_state=cash,
            primary=self._status.get(self.primary),
            fallback=self._status.get(self.fallback),
            stale_after=limit,
        )
        if view == self._view:
            return False
        self._view = view
        return True
