"""The all-time-high slice (topic ``"ath"``): stored highs, live prices, the confirmation
guard, NEW ATH detection and backfill progress, for BTC and every watchlist symbol.

A confirmed new high is handed to ``persist`` (the history writer's ``submit``), and so
is each symbol's last live price at most once per ``last_every`` seconds, for the next
start-up's first paint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from feeds.core.clock import Clock
from feeds.history.ath import (
    AthGuard,
    Verdict,
    band,
    distance_pct,
    history_note,
    merge_bars,
    raise_high,
)
from feeds.history.db import PutAth, PutLast, WriteOp
from feeds.model.btc import Tick
from feeds.model.history import AthRecord, BackfillProgress, CachedAth, HistoryBars
from feeds.model.quotes import Quote


@dataclass(frozen=True, slots=True)
class HistoryNotice:
    """A message about the history store for the panel (corrupt file moved aside ...)."""

    source: str
    text: str
    received: float


@dataclass(frozen=True, slots=True)
class AthRow:
    """One symbol's line in the ATH panel.

    Attributes:
        symbol: Yahoo-style symbol.
        price: Latest price (live, else cached, else the last stored close).
        price_source: Where ``price`` came from (``"kraken"``, ``"yahoo"``, ``"cache"``).
        price_received: Monotonic receipt time of a live price, for its age.
        price_at: Wall time (UTC) of a cached price or stored close, for its age.
        record: The all-time highs, if known.
        distance_pct: ``price`` against the intraday high, percent (negative below).
        close_distance_pct: ``price`` against the closing high, percent.
        band_level: 0 at or near the high, then one per drawdown band.
        band: The band in words and numbers (``"AT HIGH"``, ``"20-30%"``).
        new_ath: True when the intraday high was set today (a confirmed new high).
        pending: True while a print above the high waits for confirmation.
        outlier: True when the latest print was judged an outlier.
        note: ``"high since 1992"`` when the source's history starts late.
    """

    symbol: str
    price: Decimal | None
    price_source: str
    price_received: float | None
    price_at: datetime | None
    record: AthRecord | None
    distance_pct: Decimal | None
    close_distance_pct: Decimal | None
    band_level: int
    band: str
    new_ath: bool
    pending: bool
    outlier: bool
    note: str | None


@dataclass(frozen=True, slots=True)
class AthView:
    """Everything the ATH panel shows."""

    rows: tuple[AthRow, ...]
    progress: tuple[BackfillProgress, ...]
    notices: tuple[str, ...]
    today: date


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


BTC_EVERY = 0.25
"""Seconds between BTC prints the ATH guard looks at, per venue (prints above the
stored high are always looked at)."""


class AthSlice:
    """State for the ATH panel. ``btc_symbol`` is the row BTC ticks belong to."""

    topic = "ath"
    accepts: tuple[type, ...] = (
        Tick,
        Quote,
        HistoryBars,
        CachedAth,
        BackfillProgress,
        HistoryNotice,
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
        persist: Callable[[WriteOp], None] | None = None,
        last_every: float = 60.0,
        writer_error: Callable[[], str | None] | None = None,
    ) -> None:
        self.clock = clock
        self.guard = guard or AthGuard()
        self.edges = tuple(edges)
        self.near_pct = near_pct
        self.btc_symbol = btc_symbol
        self.persist = persist
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

    def apply(self, event: object) -> bool:
        """Take one event; True if the panel changes."""
        if isinstance(event, Tick):
            # BTC can tick thousands of times a second and the guard costs microseconds a
            # print: look at most every BTC_EVERY seconds per venue, except that a print
            # above the stored high is always looked at (it may be a new high, or an
            # outlier that must not become one). The rest cost two lookups and a compare.
            record = self._btc.record
            seen_at = self._btc_seen.get(event.source)
            above = record is not None and event.price > record.high
            if not above and seen_at is not None and event.received - seen_at < BTC_EVERY:
                return False
            self._btc_seen[event.source] = event.received
            changed = self._live(self.btc_symbol, event.source, event.price, event.received)
        else:
            changed = self._apply(event)
        if changed:
            self._cache = None
        return changed

    def _apply(self, event: object) -> bool:
        if isinstance(event, Quote):
            if event.symbol not in self._syms:
                return False
            return self._live(event.symbol, event.source, event.price, event.received)
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
            return True
        if isinstance(event, BackfillProgress):
            self._progress[event.source] = event
            return True
        if isinstance(event, HistoryNotice):
            if event.text not in self._notices:
                self._notices = [*self._notices[-4:], event.text]
            return True
        return False

    def _live(self, symbol: str, venue: str, price: Decimal, received: float) -> bool:
        st = self._syms[symbol]
        high = st.record.high if st.record else None
        decision = self.guard.observe(symbol, venue, price, received, high)
        st.outlier = decision.outlier
        st.pending = decision.verdict is Verdict.PENDING
        if not decision.outlier:
            st.price, st.source, st.received, st.at = price, venue, received, None
        if decision.verdict is Verdict.CONFIRMED and st.record and decision.value is not None:
            today = self.clock.now().date()
            st.record = raise_high(st.record, decision.value, today, f"live:{venue}")
            if self.persist is not None:
                self.persist(PutAth(st.record))
        if (
            self.persist is not None
            and not decision.outlier
            and (st.last_persist is None or received - st.last_persist >= self.last_every)
        ):
            st.last_persist = received
            self.persist(PutLast(symbol, price, venue, self.clock.now()))
        return True

    def refresh(self, now: float) -> bool:
        """Pick up a change in the writer's health (disk full, read-only ...)."""
        note = self.writer_error() if self.writer_error is not None else None
        if note != self._writer_note:
            self._writer_note = note
            self._cache = None
            return True
        return False

    def record(self, symbol: str) -> AthRecord | None:
        """The current all-time highs of ``symbol``."""
        st = self._syms.get(symbol)
        return None if st is None else st.record

    def view(self) -> AthView:
        """An immutable view of every row."""
        if self._cache is not None:
            return self._cache
        today = self.clock.now().date()
        rows = []
        for symbol in self._order:
            st = self._syms[symbol]
            rec = st.record
            dist = cdist = None
            level, label = 0, "NO HISTORY" if rec is None else "NO PRICE"
            if rec is not None and st.price is not None:
                dist = distance_pct(st.price, rec.high)
                cdist = distance_pct(st.price, rec.close)
                level, label = band(min(dist, Decimal(0)), self.edges, self.near_pct)
            rows.append(
                AthRow(
                    symbol=symbol,
                    price=st.price,
                    price_source=st.source,
                    price_received=st.received,
                    price_at=st.at,
                    record=rec,
                    distance_pct=dist,
                    close_distance_pct=cdist,
                    band_level=level,
                    band=label,
                    new_ath=rec is not None and rec.high_day >= today,
                    pending=st.pending,
                    outlier=st.outlier,
                    note=history_note(symbol, rec.first_trade) if rec else None,
                )
            )
        notices = list(self._notices)
        if self._writer_note:
            notices.append(self._writer_note)
        self._cache = AthView(tuple(rows), tuple(self._progress.values()), tuple(notices), today)
        return self._cache


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
