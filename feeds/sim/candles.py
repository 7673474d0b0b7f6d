"""A simulated Coinbase Exchange REST candles endpoint (sources.md §B).

``GET /products/<product>/candles?granularity=86400&start=<ISO>&end=<ISO>`` answers
``[[time, low, high, open, close, volume], ...]`` newest first, at most 300 candles; a
range that would need more is refused with HTTP 400, as Coinbase does. A request without
a ``User-Agent`` header gets 400 too (observed on the real API, sources.md §B).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import orjson

from feeds.model.history import Bar
from feeds.sim.http import SimHttpServer, SimRequest, SimResponse, json_response

MAX_CANDLES = 300
GRANULARITIES = (60, 300, 900, 3600, 21600, 86400)


@dataclass(slots=True)
class SimCandles:
    """The running candles server and what it has served."""

    server: SimHttpServer
    """The HTTP server: its ``url`` is the ``coinbase_rest`` endpoint."""
    served: list[int] = field(default_factory=list)
    """Candle counts of successful answers, in order."""

    async def stop(self) -> None:
        """Stop the server."""
        await self.server.stop()


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            return datetime.fromtimestamp(int(text), UTC)
        except (ValueError, OverflowError, OSError):
            return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _error(message: str, status: int = 400) -> SimResponse:
    return json_response(orjson.dumps({"message": message}), status)


async def start_sim_candles(
    history: Callable[[str], Sequence[Bar]], *, port: int = 0, volume: float = 1234.5
) -> SimCandles:
    """Start a candles server on 127.0.0.1 serving daily bars from ``history(product)``."""
    server = SimHttpServer("coinbase-rest")
    sim = SimCandles(server)
    cache: dict[str, tuple[list[date], Sequence[Bar]]] = {}

    def bars_for(product: str) -> tuple[list[date], Sequence[Bar]]:
        if product not in cache:
            bars = history(product)
            cache[product] = ([b.day for b in bars], bars)
        return cache[product]

    async def candles(req: SimRequest) -> SimResponse:
        if not req.headers.get("user-agent"):
            return _error("User-Agent header is required.")
        product = req.path.split("/")[2]
        try:
            gran = int(req.query.get("granularity", "60"))
        except ValueError:
            return _error("Unsupported granularity")
        if gran not in GRANULARITIES:
            return _error("Unsupported granularity")
        if gran != 86400:
            return json_response(b"[]")  # the simulation keeps daily history only
        try:
            days, bars = bars_for(product)
        except KeyError:
            return _error("NotFound", 404)
        start, end = _parse_time(req.query.get("start")), _parse_time(req.query.get("end"))
        if (start is None) != (end is None):
            return _error("start and end must both be set")
        if start is None or end is None:
            hi = len(days)
            lo = max(0, hi - MAX_CANDLES)
        else:
            if end < start:
                return _error("start must be before end")
            buckets = int((end - start).total_seconds() // gran) + 1
            if buckets > MAX_CANDLES:
                return _error(
                    "granularity too small for the requested time range. "
                    "Count of aggregations requested exceeds 300"
                )
            first = (
                start.date() if start.time() == datetime.min.time() else start.date() + timedelta(1)
            )
            lo = bisect.bisect_left(days, first)
            hi = bisect.bisect_right(days, end.date())
        rows = []
        for b in reversed(bars[lo:hi]):
            t = int(datetime(b.day.year, b.day.month, b.day.day, tzinfo=UTC).timestamp())
            rows.append([t, float(b.low), float(b.high), float(b.open), float(b.close), volume])
        sim.served.append(len(rows))
        return json_response(orjson.dumps(rows))

    server.route(r"/products/[^/]+/candles", candles)
    await server.start(port)
    return sim
