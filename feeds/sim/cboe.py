"""Simulated Cboe delayed quotes (``/api/global/delayed_quotes/quotes/{SYM}.json``).

Indices are underscore-prefixed (``_SPX``); ETFs are plain (``IWM``); ``_DJX`` is the Dow
divided by 100; anything else gets 403, as Cboe answers for unknown symbols. Prices are a
seeded walk of their own, about 15 minutes behind by their timestamps.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import orjson

from feeds.core.clock import Clock
from feeds.model.quotes import MarketState
from feeds.quotes.cboe import CBOE_SCALE, DEFAULT_CBOE_MAP
from feeds.quotes.session import NEW_YORK, cash_state
from feeds.sim.http import SimHttpServer, SimRequest, SimResponse, json_response
from feeds.sim.levels import LEVELS
from feeds.sim.yahoo import PriceWalk

_BY_CBOE = {cboe: yahoo for yahoo, cboe in DEFAULT_CBOE_MAP.items()}


class SimCboe:
    """The simulated Cboe source.

    Attributes:
        server: The loopback HTTP server (``url``, ``stop()``/``start()``, request log).
        walk: The price walk.
        unlisted: Cboe symbols answered with 403 (e.g. ``{"_RUT"}`` to test a gap).
    """

    def __init__(self, clock: Clock, seed: int = 4049) -> None:
        self.clock = clock
        self.server = SimHttpServer("cboe")
        self.walk = PriceWalk(seed)
        self.unlisted: set[str] = set()
        self.server.route(r"/api/global/delayed_quotes/quotes/[^/]+\.json", self._quote)

    @property
    def url(self) -> str:
        """Base URL (the ``cboe`` endpoint)."""
        return self.server.url

    def quote_requests(self, since: float = 0.0) -> list[str]:
        """Logged quote request targets at or after monotonic ``since``."""
        return [t for at, t in self.server.requests_since(since) if "/delayed_quotes/" in t]

    def payload(self, cboe: str) -> dict[str, object] | None:
        """The answer for Cboe symbol ``cboe``, or None if it is not listed."""
        symbol = _BY_CBOE.get(cboe)
        if symbol is None or symbol not in LEVELS or cboe in self.unlisted:
            return None
        lv = LEVELS[symbol]
        now = self.clock.now()
        if cash_state(now) is MarketState.REGULAR:
            last = self.walk.step(symbol)
        else:
            last = self.walk.current(symbol)
        scale = float(CBOE_SCALE.get(cboe, 1))
        cur, prev = round(last / scale, 2), round(lv.prev_close / scale, 2)
        stamp = (now - timedelta(minutes=15)).astimezone(NEW_YORK).replace(tzinfo=None)
        return {
            "timestamp": now.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M:%S"),
            "data": {
                "symbol": "^" + cboe.lstrip("_") if cboe.startswith("_") else cboe,
                "security_type": "index" if cboe.startswith("_") else "etf",
                "current_price": cur,
                "price_change": round(cur - prev, 2),
                "price_change_percent": round((cur - prev) * 100 / prev, 4),
                "open": prev,
                "high": round(self.walk.high[symbol] / scale, 2),
                "low": round(self.walk.low[symbol] / scale, 2),
                "close": cur,
                "prev_day_close": prev,
                "volume": 0,
                "last_trade_time": stamp.isoformat(timespec="seconds"),
            },
        }

    async def _quote(self, req: SimRequest) -> SimResponse:
        cboe = unquote(req.path.rsplit("/", 1)[1])[: -len(".json")]
        body = self.payload(cboe)
        if body is None:
            return SimResponse(403, b"<Error><Code>AccessDenied</Code></Error>", "application/xml")
        return json_response(orjson.dumps(body))


async def start_sim_cboe(clock: Clock, seed: int = 4049) -> SimCboe:
    """Start a simulated Cboe on 127.0.0.1 (a free port)."""
    sim = SimCboe(clock, seed)
    await sim.server.start(0)
    return sim
