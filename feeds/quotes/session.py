"""Market sessions: which state (pre, regular, post, closed, holiday) a quote is in.

Two inputs, in order of trust: the trading periods a source reported for today (Yahoo's
``currentTradingPeriod``), then the NYSE calendar (:mod:`feeds.quotes.nyse`, computed by
rule) for weekends, holidays and early closes. Futures follow CME Globex hours, which no
input here states exactly, so they are derived defensively (see :func:`futures_state`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from feeds.model.quotes import MarketState, TradingPeriods
from feeds.quotes import nyse

NEW_YORK = nyse.NEW_YORK
_PRE_OPEN = time(4, 0)
_POST_CLOSE = time(20, 0)
# CME Globex equity-index and metals futures: Sunday 18:00 to Friday 17:00 ET, with a
# daily maintenance break 17:00-18:00 ET (CME's published hours; holiday hours vary).
_GLOBEX_BREAK = time(17, 0)
_GLOBEX_REOPEN = time(18, 0)


def _at(day: date, t: time) -> datetime:
    return datetime.combine(day, t, NEW_YORK)


@lru_cache(maxsize=1024)
def nyse_hours(day: date) -> tuple[datetime, datetime] | None:
    """The regular open and close of ``day`` (aware, New York time), or None when the
    NYSE is shut (weekend or holiday). Early closes included."""
    return nyse.regular_hours(day)


def is_holiday(day: date) -> bool:
    """True for a weekday the NYSE does not open."""
    return nyse.is_holiday(day)


def cash_state(now: datetime) -> MarketState:
    """The NYSE session at ``now`` from the calendar alone: pre 04:00, regular open to
    close, post until 20:00 (or four hours after an early close)."""
    local = now.astimezone(NEW_YORK)
    day = local.date()
    hours = nyse_hours(day)
    if hours is None:
        return MarketState.HOLIDAY if day.weekday() < 5 else MarketState.CLOSED
    open_, close = hours
    if open_ <= now < close:
        return MarketState.REGULAR
    if _at(day, _PRE_OPEN) <= now < open_:
        return MarketState.PRE
    if close <= now < min(_at(day, _POST_CLOSE), close + timedelta(hours=4)):
        return MarketState.POST
    return MarketState.CLOSED


def futures_state(now: datetime) -> MarketState:
    """Globex hours: REGULAR Sunday 18:00 to Friday 17:00 ET except the daily 17:00-18:00
    break. On an NYSE holiday's daytime the state is HOLIDAY: CME holiday hours differ by
    product and are not published in any input we have (defensive; UNCONFIRMED)."""
    local = now.astimezone(NEW_YORK)
    wd, t = local.weekday(), local.time()
    if wd == 5 or (wd == 6 and t < _GLOBEX_REOPEN) or (wd == 4 and t >= _GLOBEX_BREAK):
        return MarketState.CLOSED
    if _GLOBEX_BREAK <= t < _GLOBEX_REOPEN:
        return MarketState.CLOSED
    if t < _GLOBEX_REOPEN and is_holiday(local.date()):
        return MarketState.HOLIDAY
    return MarketState.REGULAR


def _inside(window: tuple[datetime, datetime] | None, now: datetime) -> bool:
    return window is not None and window[0] <= now < window[1]


def market_state(now: datetime, periods: TradingPeriods | None, is_future: bool) -> MarketState:
    """The state of one symbol at ``now``.

    Reported periods win while ``now`` is inside one of them. Outside them, a cash
    symbol whose periods are today's is CLOSED (after hours end) and otherwise the
    calendar decides; futures always fall back to Globex hours, because the periods
    Yahoo reports for futures are not documented (UNCONFIRMED).
    """
    if periods is not None:
        if _inside(periods.regular, now):
            return MarketState.REGULAR
        if not is_future:
            if _inside(periods.pre, now):
                return MarketState.PRE
            if _inside(periods.post, now):
                return MarketState.POST
            today = now.astimezone(NEW_YORK).date()
            if periods.regular[0].astimezone(NEW_YORK).date() == today:
                return MarketState.CLOSED
    return futures_state(now) if is_future else cash_state(now)


def is_future_symbol(symbol: str) -> bool:
    """Yahoo's continuous futures end in ``=F``."""
    return symbol.upper().endswith("=F")


@dataclass(frozen=True, slots=True)
class SessionIntervals:
    """Poll intervals by session (seconds), so Yahoo is asked often only when prices move.

    Attributes:
        regular: While the NYSE regular session is open.
        extended: Pre-market and after hours.
        futures: NYSE closed but futures trading (the watchlist or the futures rows).
        closed: Everything closed (weekends, holidays, the Globex break).
    """

    regular: float = 15.0
    extended: float = 60.0
    futures: float = 60.0
    closed: float = 300.0

    def for_time(self, now: datetime, has_futures: bool) -> float:
        """The interval at ``now``; ``has_futures`` says futures are being polled."""
        state = cash_state(now)
        if state is MarketState.REGULAR:
            return self.regular
        if has_futures and futures_state(now) is MarketState.REGULAR:
            return min(self.futures, self.extended)
        if state in (MarketState.PRE, MarketState.POST):
            return self.extended
        return self.closed
