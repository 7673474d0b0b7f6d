"""The all-time-high slice (topic ``"ath"``): stored highs, live prices, the confirmation
guard, NEW ATH detection and backfill progress, for BTC and every watchlist symbol.

BTC's shown price is the BTC slice's (``btc_shown``, the shown venue's latest tick), so
the ATH panel, the divergence panel and the BTC panel show one price from one venue.
Likewise an index's shown price is the quotes slice's (``quote_shown``: primary or
fallback, as the quotes panel shows it). Every venue's and source's prints still go
through the guard, which needs a second one to confirm a new high.

Pure: a confirmed new high, and each symbol's last live price at most once per
``last_every`` seconds, are appended to :attr:`AthSlice.outbox` as write intents; the
:class:`~feeds.history.persist.HistoryPersister` feed hands them to the history writer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from types import MappingProxyType

from feeds.core.clock import Clock
from feeds.history.ath import (
    AthGuard,
    Decision,
    Verdict,
    band,
    days_since,
    distance_pct,
    history_note,
    merge_bars,
    raise_high,
)
from feeds.history.db import PutAth, PutLast
from feeds.history.persist import Outbox
from feeds.model.btc import Tick
from feeds.model.history import (
    AthRecord,
    AthRow,
    AthView,
    BackfillProgress,
    CachedAth,
    HistoryBars,
    WatchSymbols,
)
from feeds.model.quotes import Quote


@dataclass(frozen=True, slots=True)
class HistoryNotice:
    """A message about the history store for the panel (corrupt file moved aside ...)."""

    source: str
    text: str
    received: float


@dataclass(slots=True)
class _Sym:
    record: AthRecord | None = None
    price: Decimal | None = None
    source: str = ""
    received: float | None = None
    at: datetime | None = None
    pending: bool = False
    outlier: bool = False
    last_persist: float | None = None
    quote: Quote | None = None
    """The quotes slice's shown quote as last taken (with ``quote_shown``)."""
    outliers: dict[str, bool] = field(default_factory=dict)
    """Per source: was its latest judged print an outlier."""


BTC_EVERY = 0.25
"""Seconds between BTC prints the ATH guard looks at, per venue (prints above the
stored high are always looked at)."""


class AthSlice:
    """State for the ATH panel. ``btc_symbol`` is the row BTC ticks belong to.

    ``btc_shown`` returns the BTC slice's shown tick (``BtcSlice.shown_tick``); without
    it (a slice on its own, in tests) every tick is taken as the shown one.
    ``quote_shown`` returns the quote the quotes view shows for a symbol
    (``QuotesSlice.shown_quote``); without it every quote the guard accepts is shown."""

    topic = "ath"
    accepts: tuple[type, ...] = (
        Tick,
        Quote,
        HistoryBars,
        CachedAth,
        BackfillProgress,
        HistoryNotice,
        WatchSymbols,
    )

    def __init__(
        self,
        symbols: Sequence[str],
        *,
        clock: Clock,
        guard: AthGuard | None = None,
        edges: Sequence[float] = (5.0, 10.0, 20.0, 30.0),
        near_pct: float = 2.0,
        btc_symbol: str = "BTC-USD",
        btc_shown: Callable[[], Tick | None] | None = None,
        quote_shown: Callable[[str], Quote | None] | None = None,
        outbox: Outbox | None = None,
        last_every: float = 60.0,
        writer_error: Callable[[], str | None] | None = None,
    ) -> None:
        self.clock = clock
        self.guard = guard or AthGuard()
        self.edges = tuple(edges)
        self.near_pct = near_pct
        self.btc_symbol = btc_symbol
        self.btc_shown = btc_shown
        self.quote_shown = quote_shown
        self.outbox = outbox if outbox is not None else Outbox()
        """Write intents (new highs, last prices) for the persister: bounded."""
        self.last_every = last_every
        self.writer_error = writer_error
        self._order = [btc_symbol, *(s for s in symbols if s != btc_symbol)]
        self._syms: dict[str, _Sym] = {s: _Sym() for s in self._order}
        self._btc = self._syms[btc_symbol]
        self._progress: dict[str, BackfillProgress] = {}
        self._notices: list[str] = []
        self._writer_note: str | None = None
        self._cache: AthView | None = None
        self._btc_seen: dict[str, float] = {}
        self._btc_tick: Tick | None = None
        """The shown BTC tick as last taken (the BTC row's price)."""
        self._btc_outlier: dict[str, bool] = {}
        """Per venue: was its latest judged print an outlier."""

    def apply(self, event: object) -> bool:
        """Take one event; True if the panel changes. Pure: writes go to the outbox."""
        if isinstance(event, Tick):
            # BTC can tick thousands of times a second and the guard costs microseconds a
            # print: it looks at most every BTC_EVERY seconds per venue, except that a
            # print above the stored high is always looked at (it may be a new high, or
            # an outlier that must not become one). The shown price is the BTC slice's:
            # taking it costs a call and an identity check.
            changed = False
            record = self._btc.record
            seen_at = self._btc_seen.get(event.source)
            if (
                seen_at is None
                or event.received - seen_at >= BTC_EVERY
                or (record is not None and event.price > record.high)
            ):
                self._btc_seen[event.source] = event.received
                changed = self._judge_btc(event)
            shown = event if self.btc_shown is None else self.btc_shown()
            if event is shown:
                changed = self._show_btc(event) or changed
        else:
            changed = self._apply(event)
        if changed:
            self._cache = None
        return changed

    def _watch(self, symbols: Sequence[str]) -> bool:
        """Follow ``symbols`` from now on (BTC first, always): a new one starts empty
        (its stored high and its history arrive as events), a dropped one goes with its
        state. True if the rows changed."""
        order = [self.btc_symbol, *(s for s in dict.fromkeys(symbols) if s != self.btc_symbol)]
        if order == self._order:
            return False
        self._syms = {s: self._syms.get(s) or _Sym() for s in order}
        self._order = order
        return True

    def symbols(self) -> tuple[str, ...]:
        """The symbols followed, in row order (BTC first)."""
        return tuple(self._order)

    def _judge_btc(self, tick: Tick) -> bool:
        """Run one venue's BTC print through the guard (both venues count for it)."""
        st = self._btc
        high = st.record.high if st.record else None
        decision = self.guard.observe(self.btc_symbol, tick.source, tick.price, tick.received, high)
        self._btc_outlier[tick.source] = decision.outlier
        st.pending = decision.verdict is Verdict.PENDING
        self._confirm(st, tick.source, decision)
        return True

    def _show_btc(self, tick: Tick | None) -> bool:
        """Take the BTC slice's shown tick as the BTC row's price; True if it moved."""
        last = self._btc_tick
        if tick is last:
            return False
        self._btc_tick = tick
        self._cache = None  # any view built from now on carries this tick
        if tick is None:
            return last is not None
        st = self._btc
        if not self._btc_outlier.get(tick.source, False) and (
            st.last_persist is None or tick.received - st.last_persist >= self.last_every
        ):
            st.last_persist = tick.received
            self.outbox.put(PutLast(self.btc_symbol, tick.price, tick.source, self.clock.now()))
        return last is None or tick.price != last.price or tick.source != last.source

    def _confirm(self, st: _Sym, venue: str, decision: Decision) -> None:
        if decision.verdict is Verdict.CONFIRMED and st.record and decision.value is not None:
            today = self.clock.now().date()
            st.record = raise_high(st.record, decision.value, today, f"live:{venue}")
            self.outbox.put(PutAth(st.record))

    def _apply(self, event: object) -> bool:
        if isinstance(event, Quote):
            if event.symbol not in self._syms:
                return False
            return self._live(event)
        if isinstance(event, HistoryBars):
            st = self._syms.get(event.symbol)
            if st is None:
                return False
            rec = merge_bars(st.record, event.symbol, event.bars, event.first_trade)
            if rec is None and event.first_trade is None:
                return False
            st.record = rec
            if event.bars and st.received is None:
                last = event.bars[-1]
                if st.at is None or st.source != "cache" or _close_time(last.day) > st.at:
                    st.price, st.source = last.close, f"close {last.source}"
                    st.at = _close_time(last.day)
            return True
        if isinstance(event, CachedAth):
            st = self._syms.get(event.symbol)
            if st is None:
                return False
            if event.record is not None:
                st.record = (
                    event.record if st.record is None else _max_record(st.record, event.record)
                )
            if event.last_price is not None and st.received is None:
                st.price, st.source, st.at = event.last_price, "cache", event.last_at
            shown = self._btc_tick.price if st is self._btc and self._btc_tick else st.price
            if st.pending and st.record is not None and shown is not None:
                # A stored high at or above the held print settles it: the print is no
                # longer above any high (a hub terminal that started late gets the high
                # the hub confirmed this way, and must not keep calling it PENDING).
                st.pending = shown > st.record.high
            return True
        if isinstance(event, BackfillProgress):
            self._progress[event.source] = event
            return True
        if isinstance(event, WatchSymbols):
            return self._watch(event.symbols)
        if isinstance(event, HistoryNotice):
            if event.text not in self._notices:
                self._notices = [*self._notices[-4:], event.text]
            return True
        return False

    def _live(self, quote: Quote) -> bool:
        """Run a quote through the guard (both sources count), then show the quotes
        slice's shown quote (or, on its own, this one unless it is an outlier)."""
        symbol, venue = quote.symbol, quote.source
        st = self._syms[symbol]
        high = st.record.high if st.record else None
        decision = self.guard.observe(symbol, venue, quote.price, quote.received, high)
        st.pending = decision.verdict is Verdict.PENDING
        self._confirm(st, venue, decision)
        if self.quote_shown is None:
            st.outlier = decision.outlier
            if not decision.outlier:
                self._take_quote(symbol, st, quote)
            return True
        st.outliers[venue] = decision.outlier
        self._show_quote(symbol, st)
        return True

    def _show_quote(self, symbol: str, st: _Sym) -> bool:
        """Take the quotes slice's shown quote of ``symbol``; True if it changed. A print
        judged an outlier is shown as the quotes panel shows it, flagged, never stored."""
        assert self.quote_shown is not None
        quote = self.quote_shown(symbol)
        if quote is None or quote is st.quote:
            return False
        st.quote = quote
        st.outlier = st.outliers.get(quote.source, False)
        self._take_quote(symbol, st, quote)
        return True

    def _show_quotes(self) -> bool:
        """Re-read every index's shown quote (a failover or handback in the quotes slice
        happens without a quote for this slice); True if any changed."""
        if self.quote_shown is None:
            return False
        changed = False
        for symbol, st in self._syms.items():
            if st is not self._btc and self._show_quote(symbol, st):
                changed = True
        if changed:
            self._cache = None
        return changed

    def _take_quote(self, symbol: str, st: _Sym, quote: Quote) -> None:
        received = quote.received
        st.price, st.source, st.received, st.at = quote.price, quote.source, received, None
        if not st.outlier and (
            st.last_persist is None or received - st.last_persist >= self.last_every
        ):
            st.last_persist = received
            self.outbox.put(PutLast(symbol, quote.price, quote.source, self.clock.now()))

    def refresh(self, now: float) -> bool:
        """Pick up a change of the shown BTC venue or index source (failover) and of the
        writer's health (disk full, read-only ...)."""
        changed = self.btc_shown is not None and self._show_btc(self.btc_shown())
        changed = self._show_quotes() or changed
        note = self.writer_error() if self.writer_error is not None else None
        if note != self._writer_note:
            self._writer_note = note
            self._cache = None
            changed = True
        return changed

    def record(self, symbol: str) -> AthRecord | None:
        """The current all-time highs of ``symbol``."""
        st = self._syms.get(symbol)
        return None if st is None else st.record

    def view(self) -> AthView:
        """An immutable view of every row (BTC's price is the BTC slice's shown one)."""
        if self.btc_shown is not None:
            # A failover between two refreshes (a status event) is seen here at once.
            self._show_btc(self.btc_shown())
        self._show_quotes()
        if self._cache is not None:
            return self._cache
        today = self.clock.now().date()
        rows = []
        for symbol in self._order:
            st = self._syms[symbol]
            rec = st.record
            price, source, received, at = st.price, st.source, st.received, st.at
            outlier = st.outlier
            tick = self._btc_tick if st is self._btc else None
            if tick is not None:
                price, source, received, at = tick.price, tick.source, tick.received, None
                outlier = self._btc_outlier.get(tick.source, False)
            dist = cdist = None
            level, label = 0, "NO HISTORY" if rec is None else "NO PRICE"
            if rec is not None and price is not None:
                dist = distance_pct(price, rec.high)
                cdist = distance_pct(price, rec.close)
                level, label = band(min(dist, Decimal(0)), self.edges, self.near_pct)
            rows.append(
                AthRow(
                    symbol=symbol,
                    price=price,
                    price_source=source,
                    price_received=received,
                    price_at=at,
                    record=rec,
                    distance_pct=dist,
                    close_distance_pct=cdist,
                    band_level=level,
                    band=label,
                    new_ath=rec is not None and rec.high_day >= today,
                    pending=st.pending,
                    outlier=outlier,
                    note=history_note(symbol, rec.first_trade) if rec else None,
                    at_high=dist is not None and dist >= 0 and not st.pending and not outlier,
                    days_since_high=days_since(rec.high_day, today) if rec else None,
                )
            )
        notices = list(self._notices)
        if self._writer_note:
            notices.append(self._writer_note)
        marks = MappingProxyType({r.symbol: r.mark for r in rows})
        self._cache = AthView(
            tuple(rows), tuple(self._progress.values()), tuple(notices), today, marks
        )
        return self._cache

    def row(self, symbol: str) -> AthRow | None:
        """``symbol``'s row of the current view (the divergence slice reads its prices,
        highs and distances here)."""
        return self.view().row(symbol)


def _close_time(day: date) -> datetime:
    # A daily close is "as of" the US session end; BTC candles close at 00:00 UTC, close enough.
    return datetime.combine(day, time(21, 0), UTC)


def _max_record(a: AthRecord, b: AthRecord) -> AthRecord:
    hi = a if a.high >= b.high else b
    cl = a if a.close >= b.close else b
    first = min((d for d in (a.first_trade, b.first_trade) if d is not None), default=None)
    return AthRecord(
        a.symbol,
        hi.high,
        hi.high_day,
        hi.high_source,
        cl.close,
        cl.close_day,
        cl.close_source,
        first,
    )
