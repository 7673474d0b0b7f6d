"""Pure parsers for the Yahoo v8 chart and Cboe delayed-quote payloads (sources.md §C1, §C5).

Every function takes an already-decoded JSON value and returns model objects or a
:class:`~feeds.model.core.BadMessage`; none of them raises for bad input. Null entries
inside Yahoo's chart arrays are skipped, never read as 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feeds.core.decode import DecodeError, loads, number, price
from feeds.core.text import clean_text
from feeds.model.core import BadMessage
from feeds.model.history import Bar
from feeds.model.quotes import Quote, TradingPeriods
from feeds.quotes.session import NEW_YORK, cash_state, is_future_symbol, market_state

# Timestamps outside this window are garbage, not history (first US index data ~1885).
_TS_MIN = -2_800_000_000
_TS_MAX = 4_200_000_000
# Yahoo's gmtoffset is seconds east of UTC; real offsets stay within +-14 h.
_MAX_OFFSET_S = 14 * 3600


def chart_result(payload: object, source: str = "yahoo") -> Mapping[str, Any] | BadMessage:
    """The single ``chart.result[0]`` object of a v8 chart payload, or why there is none.

    A null ``chart.result`` with a ``chart.error`` becomes a BadMessage that carries the
    error's code and description (sanitised), so it can be shown.
    """
    if not isinstance(payload, Mapping):
        return BadMessage(source, "chart payload is not an object")
    chart = payload.get("chart")
    if not isinstance(chart, Mapping):
        return BadMessage(source, "no chart object")
    result = chart.get("result")
    if not isinstance(result, list) or not result:
        err = chart.get("error")
        if isinstance(err, Mapping):
            code = clean_text(err.get("code", "?"), 40)
            desc = clean_text(err.get("description", ""), 120)
            return BadMessage(source, f"chart error {code}: {desc}".rstrip(": "))
        return BadMessage(source, "chart.result is empty")
    first = result[0]
    if not isinstance(first, Mapping):
        return BadMessage(source, "chart.result[0] is not an object")
    return first


def exchange_tz(meta: Mapping[str, Any]) -> tzinfo:
    """The exchange's timezone from ``meta.exchangeTimezoneName``, else a fixed offset from
    ``meta.gmtoffset``, else UTC."""
    name = meta.get("exchangeTimezoneName")
    if isinstance(name, str) and 0 < len(name) <= 64 and ".." not in name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    off = meta.get("gmtoffset")
    if isinstance(off, int) and not isinstance(off, bool) and abs(off) <= _MAX_OFFSET_S:
        return timezone(timedelta(seconds=off))
    return UTC


def epoch(value: object) -> datetime | None:
    """An aware-UTC datetime from a unix-seconds integer in a sane range, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    secs = int(value)
    if not _TS_MIN <= secs <= _TS_MAX:
        return None
    return datetime.fromtimestamp(secs, UTC)


def _column(quote: Mapping[str, Any], key: str) -> Sequence[object] | None:
    col = quote.get(key)
    return col if isinstance(col, list) else None


# Sub-unit currencies: Yahoo quotes London in pence ("GBp"), Johannesburg in cents ("ZAc")
# and Tel Aviv in agorot ("ILA"); a pound price read as pence is 100x wrong (reliability.md
# §2.2). The real OCDO.L chart (tests/data/real/yahoo/chart_OCDO.L_GBp_1d_*.json) carries
# "GBp" with both meta prices and bars in pence.
_SUBUNIT = {
    "GBp": ("GBP", Decimal(100)),
    "ZAc": ("ZAR", Decimal(100)),
    "ILA": ("ILS", Decimal(100)),
}


def chart_unit(meta: Mapping[str, Any]) -> tuple[str, Decimal]:
    """The currency of a chart's prices in its main unit, and what to divide them by.

    The one place sub-unit currencies are normalised: quotes and daily bars both go
    through it, so an all-time high from bars and a live quote are on one scale.
    """
    raw = meta.get("currency")
    currency = clean_text(raw, 8) if isinstance(raw, str) else ""
    return _SUBUNIT.get(currency, (currency, Decimal(1)))


def parse_chart_bars(payload: object, symbol: str, source: str = "yahoo") -> list[Bar] | BadMessage:
    """Daily OHLC bars from a Yahoo v8 chart payload (``interval=1d``), oldest first.

    A day whose timestamp, open, high, low or close is null or invalid is skipped, as is a
    day whose high is below its low. Prices are in the main currency unit
    (:func:`chart_unit`), as :func:`parse_chart_quote` gives them, so a London bar and a
    London quote compare. Dates are session dates in the exchange timezone
    (``meta.exchangeTimezoneName``, else ``meta.gmtoffset``). If two rows fall on the same
    date (Yahoo sometimes appends a live row for today) the later one wins.
    """
    res = chart_result(payload, source)
    if isinstance(res, BadMessage):
        return res
    meta = res.get("meta")
    tz = exchange_tz(meta) if isinstance(meta, Mapping) else UTC
    stamps = res.get("timestamp")
    if stamps is None:
        return []  # a valid answer with no bars (e.g. a brand-new listing)
    if not isinstance(stamps, list):
        return BadMessage(source, "timestamp is not a list")
    indicators = res.get("indicators")
    quotes = indicators.get("quote") if isinstance(indicators, Mapping) else None
    if not isinstance(quotes, list) or not quotes or not isinstance(quotes[0], Mapping):
        return BadMessage(source, "no indicators.quote")
    q = quotes[0]
    _, div = chart_unit(meta) if isinstance(meta, Mapping) else ("", Decimal(1))
    cols = [_column(q, k) for k in ("open", "high", "low", "close")]
    if any(c is None for c in cols):
        return BadMessage(source, "indicators.quote lacks open/high/low/close")
    o_col, h_col, l_col, c_col = (c for c in cols if c is not None)
    n = min(len(stamps), len(o_col), len(h_col), len(l_col), len(c_col))
    by_day: dict[date, Bar] = {}
    for i in range(n):
        ts = epoch(stamps[i])
        o, h, lo, c = price(o_col[i]), price(h_col[i]), price(l_col[i]), price(c_col[i])
        if ts is None or o is None or h is None or lo is None or c is None or h < lo:
            continue
        day = ts.astimezone(tz).date()
        o, h, lo, c = o / div, h / div, lo / div, c / div
        by_day[day] = Bar(symbol=symbol, day=day, open=o, high=h, low=lo, close=c, source=source)
    return [by_day[d] for d in sorted(by_day)]


def parse_chart_meta_first_trade(payload: object) -> date | None:
    """``meta.firstTradeDate`` as an exchange-local date, or None when absent or invalid."""
    res = chart_result(payload)
    if isinstance(res, BadMessage):
        return None
    meta = res.get("meta")
    if not isinstance(meta, Mapping):
        return None
    ts = epoch(meta.get("firstTradeDate"))
    return None if ts is None else ts.astimezone(exchange_tz(meta)).date()


# -- quotes -----------------------------------------------------------------------------

_PAGE_MARKERS = (b"<!doctype", b"<html", b"<?xml")
# Yahoo's help pages list CME, COMEX, NYMEX and CBOT data as delayed 10 minutes; the chart
# meta does not say so itself (UNCONFIRMED), so this table is the fallback.
_EXCHANGE_DELAY_S = {"CME": 600, "CMX": 600, "NYM": 600, "CBT": 600}


def decode_body(body: bytes, content_type: str, source: str) -> object | BadMessage:
    """Strict JSON from a response body; an HTML page (Yahoo's "Will be right back" is
    served as 200), a truncated or otherwise invalid body becomes a BadMessage."""
    head = body[:256].lstrip().lower()
    if "html" in content_type.lower() or head.startswith(_PAGE_MARKERS):
        if b"will be right back" in body[:4096].lower():
            return BadMessage(source, "HTML page instead of JSON: source says it is down")
        return BadMessage(source, "HTML page instead of JSON")
    if not body.strip():
        return BadMessage(source, "empty answer")
    try:
        decoded: object = loads(body)
        return decoded
    except DecodeError:
        return BadMessage(source, "unreadable JSON (truncated or malformed)")


def yahoo_error(payload: object) -> str | None:
    """The ``{code}: {description}`` of a Yahoo ``finance.error`` or ``chart.error``
    envelope (the 401 Invalid Crumb answer has the first shape), or None."""
    if not isinstance(payload, Mapping):
        return None
    for key in ("finance", "chart"):
        env = payload.get(key)
        if isinstance(env, Mapping) and isinstance(env.get("error"), Mapping):
            err = env["error"]
            code = clean_text(err.get("code", "?"), 40)
            desc = clean_text(err.get("description", ""), 120)
            return f"{code}: {desc}" if desc else code
    return None


def _window(value: object) -> tuple[datetime, datetime] | None:
    if not isinstance(value, Mapping):
        return None
    start, end = epoch(value.get("start")), epoch(value.get("end"))
    if start is None or end is None or end < start:
        return None
    return start, end


def parse_trading_periods(meta: Mapping[str, Any]) -> TradingPeriods | None:
    """``meta.currentTradingPeriod`` as :class:`TradingPeriods`; None if the regular
    window is missing or invalid."""
    ctp = meta.get("currentTradingPeriod")
    if not isinstance(ctp, Mapping):
        return None
    regular = _window(ctp.get("regular"))
    if regular is None:
        return None
    return TradingPeriods(
        pre=_window(ctp.get("pre")), regular=regular, post=_window(ctp.get("post"))
    )


def _valid(col: Sequence[object] | None) -> list[Decimal]:
    """The valid prices in a chart column; null entries are skipped, never read as 0."""
    if col is None:
        return []
    return [p for p in (price(v) for v in col) if p is not None]


def parse_chart_quote(
    payload: object,
    symbol: str,
    *,
    received: float,
    now: datetime,
    source: str = "yahoo",
) -> Quote | BadMessage:
    """The latest quote from a Yahoo v8 chart payload (``range=1d`` intraday).

    The price is ``meta.regularMarketPrice``, else the last non-null close. The previous
    close is ``meta.previousClose``, else ``meta.chartPreviousClose``. The latter is the
    close before the chart's first bar: the previous session for the ``range=1d`` this
    feed asks for, but not for a longer window, as the real OCDO.L, GC=F and WSU.DE
    answers show (tests/data/real/yahoo/, ``period1``/``period2`` windows in 2020 and
    2023 beside a 2025 ``regularMarketPrice``). Sub-unit currencies (``GBp``)
    are converted to the main unit by :func:`chart_unit`, as bars are. The market state
    is derived from ``currentTradingPeriod`` and the NYSE calendar at ``now``.
    """
    res = chart_result(payload, source)
    if isinstance(res, BadMessage):
        return res
    meta = res.get("meta")
    if not isinstance(meta, Mapping):
        return BadMessage(source, "chart has no meta")
    got = meta.get("symbol")
    if isinstance(got, str) and got.upper() != symbol.upper():
        return BadMessage(source, f"answer is for {clean_text(got, 20)}, not {symbol}")
    indicators = res.get("indicators")
    quotes = indicators.get("quote") if isinstance(indicators, Mapping) else None
    q: Mapping[str, Any] = (
        quotes[0] if isinstance(quotes, list) and quotes and isinstance(quotes[0], Mapping) else {}
    )
    closes = _valid(_column(q, "close"))
    highs = _valid(_column(q, "high"))
    lows = _valid(_column(q, "low"))

    last = price(meta.get("regularMarketPrice")) or (closes[-1] if closes else None)
    if last is None:
        return BadMessage(source, f"{symbol}: no valid price")
    prev = price(meta.get("previousClose")) or price(meta.get("chartPreviousClose"))
    day_high = price(meta.get("regularMarketDayHigh")) or (max(highs) if highs else None)
    day_low = price(meta.get("regularMarketDayLow")) or (min(lows) if lows else None)
    if day_high is not None and day_low is not None and day_high < day_low:
        day_high = day_low = None
    year_high = price(meta.get("fiftyTwoWeekHigh"))

    currency, div = chart_unit(meta)
    if div != 1:
        last, prev, day_high, day_low, year_high = (
            None if p is None else p / div for p in (last, prev, day_high, day_low, year_high)
        )
        assert last is not None

    name_raw = meta.get("shortName") or meta.get("longName") or symbol
    name = clean_text(name_raw, 60) or symbol
    itype = meta.get("instrumentType")
    is_future = itype == "FUTURE" or is_future_symbol(symbol)
    periods = parse_trading_periods(meta)
    delay_s = 0
    # Minutes in the v7 quote answer. None of the four real chart metas in
    # tests/data/real/yahoo/ carries it (CMX gold included), so the table is what applies.
    delayed_by = meta.get("exchangeDataDelayedBy")
    if isinstance(delayed_by, int) and not isinstance(delayed_by, bool) and 0 < delayed_by < 1440:
        delay_s = delayed_by * 60
    elif isinstance(meta.get("exchangeName"), str):
        delay_s = _EXCHANGE_DELAY_S.get(meta["exchangeName"], 0)
    first = epoch(meta.get("firstTradeDate"))
    return Quote(
        source=source,
        symbol=symbol,
        name=name,
        price=last,
        prev_close=prev,
        day_high=day_high,
        day_low=day_low,
        year_high=year_high,
        currency=currency,
        market_state=market_state(now, periods, is_future),
        is_future=is_future,
        delay_s=delay_s,
        market_time=epoch(meta.get("regularMarketTime")),
        first_trade=None if first is None else first.astimezone(exchange_tz(meta)).date(),
        received=received,
        periods=periods,
    )


def parse_cboe_time(value: object) -> datetime | None:
    """Cboe's ``last_trade_time`` (ISO 8601). A time without an offset is New York time:
    not documented, but confirmed by real recorded answers (tests/data/real/cboe: read as
    New York time, an in-session trade is ~15 minutes before the payload's own UTC
    ``timestamp``, the feed's delay)."""
    if not isinstance(value, str) or not 8 <= len(value) <= 40:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=NEW_YORK)
    return when.astimezone(UTC)


def parse_cboe_quote(
    payload: object,
    symbol: str,
    *,
    name: str,
    received: float,
    now: datetime,
    scale: Decimal = Decimal(1),
    delay_s: int = 900,
    source: str = "cboe",
) -> Quote | BadMessage:
    """A quote from a Cboe delayed-quotes payload (sources.md §C5) for watchlist ``symbol``.

    ``scale`` multiplies every price (``_DJX`` is the Dow divided by 100). During the
    session the price is ``current_price`` and the previous close ``current_price -
    price_change``. After the close ``prev_day_close`` already equals today's ``close``
    and ``current_price`` may have moved on (an after-hours print), while
    ``price_change`` is still today's close against yesterday's: the price is then
    ``close`` and the previous close ``close - price_change``. The state follows the NYSE
    calendar.
    """
    if not isinstance(payload, Mapping):
        return BadMessage(source, "payload is not an object")
    data = payload.get("data")
    if not isinstance(data, Mapping):
        return BadMessage(source, "no data object")
    last = price(data.get("current_price"))
    if last is None:
        return BadMessage(source, f"{symbol}: no valid current_price")
    close = price(data.get("close"))
    prev_day_close = price(data.get("prev_day_close"))
    if close is not None and close == prev_day_close:
        # The session is over: the payload's own sign of it (sources.md §C5). Read from a
        # real after-close AAPL answer (close 213.25, current_price 212.8, price_change
        # 4.18, prev_day_close 213.25): its change is measured from 209.07, which is
        # close - price_change, not current_price - price_change. During the session
        # ``close`` differs from ``prev_day_close`` (it equals current_price in the two
        # real in-session answers in tests/data/real/cboe), so this branch is not taken.
        last = close
    change = number(data.get("price_change"))
    prev: Decimal | None = None
    if change is not None and last - change > 0:
        prev = last - change
    elif prev_day_close is not None and prev_day_close != close:
        prev = prev_day_close
    high, low = price(data.get("high")), price(data.get("low"))
    if high is not None and low is not None and high < low:
        high = low = None
    last, prev, high, low = (None if p is None else p * scale for p in (last, prev, high, low))
    assert last is not None
    return Quote(
        source=source,
        symbol=symbol,
        name=clean_text(name, 60) or symbol,
        price=last,
        prev_close=prev,
        day_high=high,
        day_low=low,
        year_high=None,
        currency="USD",
        market_state=cash_state(now),
        is_future=False,
        delay_s=delay_s,
        market_time=parse_cboe_time(data.get("last_trade_time")),
        first_trade=None,
        received=received,
    )
