"""Simulated Yahoo Finance: the v8 chart endpoint (intraday quotes and daily history),
the cookie and crumb endpoints, and scriptable Yahoo-specific faults.

Daily history answers ``range=max`` with every bar and ``period1``/``period2`` (unix
seconds) with the bars stamped inside that span only, as Yahoo does (sources.md §C1): a
restarted app asks for the days since its newest stored bar and must get just those.

Prices are a seeded random walk around :data:`feeds.sim.levels.LEVELS`, one small step
per chart request while the symbol's session is open, so runs are repeatable. The
trading periods come from the injected clock, so tests and the demo script the session.
Generic faults (429 with Retry-After, HTML pages, hangs, huge bodies) go through
``server.set_fault``; the controls here add the Yahoo-shaped ones.
"""

from __future__ import annotations

import bisect
import math
import random
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import unquote

import orjson

from feeds.core.clock import Clock
from feeds.model.history import Bar
from feeds.model.quotes import MarketState
from feeds.quotes.session import NEW_YORK, futures_state, market_state, nyse_hours
from feeds.sim.http import SimHttpServer, SimRequest, SimResponse, json_response
from feeds.sim.levels import LEVELS, Level

INVALID_CRUMB = (
    b'{"finance":{"result":null,"error":{"code":"Unauthorized","description":"Invalid Crumb"}}}'
)
_STEP_SIGMA = 0.0004  # about 0.04% per poll: visible movement, no absurd drift
_BAND = 0.03  # the walk stays within +-3% of the level's starting price
_BARS = 12


def _epoch(when: datetime) -> int:
    return int(when.timestamp())


class PriceWalk:
    """A deterministic random walk per symbol, plus the session high and low."""

    def __init__(self, seed: int = 2025) -> None:
        self._seed = seed
        self._rng: dict[str, random.Random] = {}
        self.price: dict[str, float] = {}
        self.high: dict[str, float] = {}
        self.low: dict[str, float] = {}
        self.recent: dict[str, deque[float]] = {}

    def level(self, symbol: str) -> Level | None:
        """The reference level for ``symbol``, if simulated."""
        return LEVELS.get(symbol)

    def current(self, symbol: str) -> float:
        """The current price without moving it."""
        if symbol not in self.price:
            lv = LEVELS[symbol]
            self._rng[symbol] = random.Random(zlib.crc32(symbol.encode()) ^ self._seed)
            self.price[symbol] = lv.last
            self.high[symbol] = round(max(lv.last, lv.prev_close * 1.001), 2)
            self.low[symbol] = round(min(lv.last, lv.prev_close * 0.998), 2)
            self.recent[symbol] = deque([lv.last] * _BARS, maxlen=_BARS)
        return self.price[symbol]

    def step(self, symbol: str) -> float:
        """Move ``symbol`` one small step and return the new price."""
        p = self.current(symbol)
        lv = LEVELS[symbol]
        p *= math.exp(self._rng[symbol].gauss(0.0, _STEP_SIGMA))
        p = min(max(p, lv.last * (1 - _BAND)), lv.last * (1 + _BAND))
        p = round(p, 2)
        self.price[symbol] = p
        self.high[symbol] = max(self.high[symbol], p)
        self.low[symbol] = min(self.low[symbol], p)
        self.recent[symbol].append(p)
        return p


def _session_stamp(day: date) -> int:
    """A daily bar's timestamp: the session's open, 09:30 New York."""
    return _epoch(datetime.combine(day, time(9, 30), NEW_YORK))


def _local_day(stamp: int) -> date:
    return datetime.fromtimestamp(stamp, UTC).astimezone(NEW_YORK).date()


def _last_session(day: date) -> date:
    for back in range(10):
        d = day - timedelta(days=back)
        if nyse_hours(d) is not None:
            return d
    return day


def trading_periods(symbol: str, now: datetime) -> dict[str, dict[str, int | str]]:
    """``currentTradingPeriod`` as Yahoo shapes it: today's session for cash symbols (the
    last session on closed days); for futures the Globex day ending 17:00 ET."""
    local = now.astimezone(NEW_YORK)
    off = local.utcoffset()
    tzinfo: dict[str, int | str] = {
        "timezone": local.tzname() or "EST",
        "gmtoffset": int(off.total_seconds()) if off is not None else 0,
    }

    def win(a: datetime, b: datetime) -> dict[str, int | str]:
        return {**tzinfo, "start": _epoch(a), "end": _epoch(b)}

    if symbol.endswith("=F"):
        end_day = local.date() if local.time() < time(17) else local.date() + timedelta(days=1)
        end = datetime.combine(end_day, time(17), NEW_YORK)
        start = datetime.combine(end_day - timedelta(days=1), time(18), NEW_YORK)
        return {"pre": win(start, start), "regular": win(start, end), "post": win(end, end)}
    day = _last_session(local.date())
    hours = nyse_hours(day)
    assert hours is not None
    open_, close = hours
    pre = datetime.combine(day, time(4), NEW_YORK)
    post = min(datetime.combine(day, time(20), NEW_YORK), close + timedelta(hours=4))
    return {"pre": win(pre, open_), "regular": win(open_, close), "post": win(close, post)}


@dataclass(slots=True)
class RawAnswer:
    """A scripted answer for one symbol's chart request."""

    status: int
    body: bytes
    content_type: str = "application/json"


class SimYahoo:
    """The simulated Yahoo source and its controls.

    Attributes:
        server: The loopback HTTP server (``url``, ``stop()``/``start()``, request log).
        walk: The price walk (tests read prices from it).
        require_crumb: When True, chart requests need the current crumb and the A3 cookie,
            else they get Yahoo's 401 ``Invalid Crumb`` answer.
        always_401: Every chart request gets the 401 answer (crumb refresh cannot help).
        truncate_next: This many chart answers are cut mid-body and the connection dropped.
        raw: Scripted answers per symbol (status, body, content type), used while set.
    """

    def __init__(
        self,
        clock: Clock,
        history: Callable[[str], Sequence[Bar]] | None = None,
        seed: int = 2025,
    ) -> None:
        self.clock = clock
        self.history = history
        self.server = SimHttpServer("yahoo")
        self.walk = PriceWalk(seed)
        self.require_crumb = False
        self.always_401 = False
        self.truncate_next = 0
        self.raw: dict[str, RawAnswer] = {}
        self.names: dict[str, str] = {}
        """Display names to serve instead of the usual ones (hostile-text tests)."""
        self.crumb = "simCrumb0"
        self._crumbs_issued = 0
        self.server.route(r"/v8/finance/chart/[^/]+", self._chart)
        self.server.route(r"/v1/test/getcrumb", self._getcrumb)
        self.server.route(r"/fc", self._cookie)

    @property
    def url(self) -> str:
        """Base URL (the ``yahoo`` endpoint)."""
        return self.server.url

    @property
    def cookie_url(self) -> str:
        """The simulated stand-in for ``https://fc.yahoo.com``."""
        return self.server.url + "/fc"

    def rotate_crumb(self) -> None:
        """Invalidate the crumb clients hold: their next chart request gets 401."""
        self._crumbs_issued += 1
        self.crumb = f"simCrumb{self._crumbs_issued}"

    def chart_requests(self, since: float = 0.0) -> list[str]:
        """Logged chart request targets at or after monotonic ``since``."""
        return [t for at, t in self.server.requests_since(since) if "/v8/finance/chart/" in t]

    # -- handlers ---------------------------------------------------------------------

    async def _cookie(self, req: SimRequest) -> SimResponse:
        # fc.yahoo.com answers 404 and sets the session cookie anyway.
        return SimResponse(
            404,
            b"<html><body>Not found</body></html>",
            content_type="text/html",
            headers={"Set-Cookie": "A3=d=simcookie; Path=/; HttpOnly"},
        )

    async def _getcrumb(self, req: SimRequest) -> SimResponse:
        return SimResponse(200, self.crumb.encode(), content_type="text/plain")

    async def _chart(self, req: SimRequest) -> SimResponse:
        symbol = unquote(req.path.rsplit("/", 1)[1])
        if self.always_401 or (
            self.require_crumb
            and (req.query.get("crumb") != self.crumb or "A3=" not in req.headers.get("cookie", ""))
        ):
            return json_response(INVALID_CRUMB, status=401)
        raw = self.raw.get(symbol)
        if raw is not None:
            return SimResponse(raw.status, raw.body, content_type=raw.content_type)
        if symbol not in LEVELS:
            body = {
                "chart": {
                    "result": None,
                    "error": {
                        "code": "Not Found",
                        "description": "No data found, symbol may be delisted",
                    },
                }
            }
            return json_response(orjson.dumps(body), status=404)
        rng = req.query.get("range", "1d")
        if rng in ("1d", "5d") and req.query.get("interval", "5m") != "1d":
            body_bytes = orjson.dumps(self.intraday(symbol))
        elif "period1" in req.query and "range" not in req.query:
            span = self._span(req.query)
            if isinstance(span, str):
                body = {
                    "chart": {"result": None, "error": {"code": "Bad Request", "description": span}}
                }
                return json_response(orjson.dumps(body), status=400)
            body_bytes = orjson.dumps(self.daily(symbol, *span))
        else:
            body_bytes = orjson.dumps(self.daily(symbol))
        if self.truncate_next > 0:
            self.truncate_next -= 1
            resp = json_response(body_bytes)
            resp.truncate_to = len(body_bytes) // 2
            return resp
        return json_response(body_bytes)

    # -- payloads ---------------------------------------------------------------------

    def _meta(self, lv: Level, now: datetime) -> dict[str, object]:
        kind = {"index": "INDEX", "etf": "ETF", "future": "FUTURE"}.get(lv.kind, "EQUITY")
        exch = {"index": "SNP", "etf": "PCX"}.get(lv.kind)
        if lv.kind == "future":
            exch = "CMX" if lv.symbol in ("SI=F", "GC=F") else "CME"
        local = now.astimezone(NEW_YORK)
        off = local.utcoffset()
        first = datetime.combine(lv.first_trade, time(9, 30), NEW_YORK)
        return {
            "currency": "USD",
            "symbol": lv.symbol,
            "exchangeName": exch or "NYQ",
            "fullExchangeName": "Simulated " + lv.kind,
            "instrumentType": kind,
            "firstTradeDate": _epoch(first),
            "hasPrePostMarketData": lv.kind == "etf",
            "gmtoffset": int(off.total_seconds()) if off is not None else 0,
            "timezone": local.tzname(),
            "exchangeTimezoneName": "America/New_York",
            "longName": self.names.get(lv.symbol, lv.name),
            "shortName": self.names.get(lv.symbol, lv.name),
            "priceHint": 2,
        }

    def intraday(self, symbol: str) -> dict[str, object]:
        """A ``range=1d&interval=5m`` chart answer; the price moves while in session."""
        lv = LEVELS[symbol]
        now = self.clock.now()
        periods = trading_periods(symbol, now)
        is_future = lv.kind == "future"
        state = futures_state(now) if is_future else market_state(now, None, False)
        if state is MarketState.REGULAR:
            last = self.walk.step(symbol)
        else:
            last = self.walk.current(symbol)
        reg = periods["regular"]
        reg_end = datetime.fromtimestamp(int(reg["end"]), UTC)
        at = min(now, reg_end)
        stamps = [_epoch(at - timedelta(minutes=5 * k)) for k in range(_BARS - 1, -1, -1)]
        closes: list[float | None] = list(self.walk.recent[symbol])
        meta = self._meta(lv, now)
        meta.update(
            {
                "regularMarketTime": _epoch(at),
                "regularMarketPrice": last,
                "fiftyTwoWeekHigh": max(lv.ath, self.walk.high[symbol]),
                "fiftyTwoWeekLow": round(lv.prev_close * 0.8, 2),
                "regularMarketDayHigh": self.walk.high[symbol],
                "regularMarketDayLow": self.walk.low[symbol],
                "regularMarketVolume": 0,
                "chartPreviousClose": lv.prev_close,
                "previousClose": lv.prev_close,
                "currentTradingPeriod": periods,
                "dataGranularity": "5m",
                "range": "1d",
                "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "5y", "max"],
            }
        )
        return {
            "chart": {
                "result": [
                    {
                        "meta": meta,
                        "timestamp": stamps,
                        "indicators": {
                            "quote": [
                                {
                                    "open": closes,
                                    "high": closes,
                                    "low": closes,
                                    "close": closes,
                                    "volume": [0] * len(closes),
                                }
                            ]
                        },
                    }
                ],
                "error": None,
            }
        }

    def _span(self, query: dict[str, str]) -> tuple[int, int] | str:
        """``(period1, period2)`` from a chart request (``period2`` defaults to now), or
        Yahoo's complaint about them."""
        try:
            start = int(query["period1"])
            end = int(query["period2"]) if "period2" in query else _epoch(self.clock.now())
        except ValueError:
            return "Invalid input - period1 and period2 must be unix times"
        if start > end:
            return "Invalid input - start date cannot be after end date"
        return start, end

    def daily(
        self, symbol: str, period1: int | None = None, period2: int | None = None
    ) -> dict[str, object]:
        """A daily (``interval=1d``) answer from the injected history (or 30 made-up
        sessions ending at the previous close when none is injected): every bar
        (``range=max``), or only those stamped within ``[period1, period2]``. A span without
        a session has no ``timestamp`` and empty columns, as Yahoo answers it."""
        lv = LEVELS[symbol]
        every = list(self.history(symbol)) if self.history is not None else self._short(lv)
        before: Bar | None = None
        bars = every
        if period1 is not None:
            days = [b.day for b in every]  # oldest first, one bar a day
            lo = bisect.bisect_left(days, _local_day(period1))
            hi = len(every) if period2 is None else bisect.bisect_right(days, _local_day(period2))
            # A bar is stamped at its session's open, 09:30 New York, so only the span's
            # first and last days can fall outside it.
            if lo < hi and _session_stamp(every[lo].day) < period1:
                lo += 1
            if lo < hi and period2 is not None and _session_stamp(every[hi - 1].day) > period2:
                hi -= 1
            bars = every[lo:hi]
            before = every[lo - 1] if lo > 0 else None
        stamps = [_session_stamp(b.day) for b in bars]
        meta = self._meta(lv, self.clock.now())
        if period1 is None:
            previous = float(bars[0].close) if bars else lv.prev_close
        else:
            # The close before the span's first bar (sources.md §C1, chartPreviousClose).
            previous = float(before.close) if before is not None else lv.prev_close
        meta.update(
            {
                "regularMarketPrice": self.walk.current(symbol),
                "chartPreviousClose": previous,
                "dataGranularity": "1d",
                "range": "max" if period1 is None else "",
            }
        )
        closes = [float(b.close) for b in bars]
        result: dict[str, object] = {"meta": meta}
        if bars:
            result["timestamp"] = stamps
        return {
            "chart": {
                "result": [
                    {
                        **result,
                        "indicators": {
                            "quote": [
                                {
                                    "open": [float(b.open) for b in bars],
                                    "high": [float(b.high) for b in bars],
                                    "low": [float(b.low) for b in bars],
                                    "close": closes,
                                    "volume": [0] * len(bars),
                                }
                            ],
                            "adjclose": [{"adjclose": closes}],
                        },
                    }
                ],
                "error": None,
            }
        }

    def _short(self, lv: Level) -> list[Bar]:
        rng = random.Random(zlib.crc32(lv.symbol.encode()))
        day = _last_session(self.clock.now().astimezone(NEW_YORK).date() - timedelta(days=1))
        days: list[date] = []
        while len(days) < 30:
            if nyse_hours(day) is not None:
                days.append(day)
            day -= timedelta(days=1)
        out: list[Bar] = []
        close = lv.prev_close
        for d in days:  # newest first, walking back
            open_ = close * math.exp(rng.gauss(0, 0.006))
            hi, lo = max(open_, close) * 1.004, min(open_, close) * 0.996
            q = Decimal("0.01")
            out.append(
                Bar(
                    lv.symbol,
                    d,
                    Decimal(repr(open_)).quantize(q),
                    Decimal(repr(hi)).quantize(q),
                    Decimal(repr(lo)).quantize(q),
                    Decimal(repr(close)).quantize(q),
                    "yahoo",
                )
            )
            close = open_ * math.exp(rng.gauss(0, 0.004))
        out.reverse()
        return out


async def start_sim_yahoo(
    clock: Clock, history: Callable[[str], Sequence[Bar]] | None = None, seed: int = 2025
) -> SimYahoo:
    """Start a simulated Yahoo on 127.0.0.1 (a free port)."""
    sim = SimYahoo(clock, history, seed)
    await sim.server.start(0)
    return sim
