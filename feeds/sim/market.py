"""The whole simulated market: every simulated source on 127.0.0.1, started together.

:func:`start_market` runs inside an event loop (tests, benchmarks). :class:`MarketThread`
runs it on a loop of its own in a background thread, so the demo's simulated servers
never compete with the app's event loop, and offers thread-safe controls (cut a
source, bring it back).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from feeds.core.clock import Clock
from feeds.sim.exchanges import SimBtc, start_sim_btc


@dataclass(slots=True)
class SimMarket:
    """Handles on every simulated source, and the endpoint URLs to configure."""

    btc: SimBtc
    endpoints: dict[str, str] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    """Other simulated sources by endpoint key (each has a ``.server``)."""
    _stoppers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def cut(self, source: str) -> None:
        """Make one source unreachable (its server stops listening)."""
        if source == "coinbase_ws":
            await self.btc.coinbase.stop()
        elif source == "kraken_ws":
            await self.btc.kraken.stop()
        elif source in self.extras:
            await self.extras[source].server.stop()

    async def restore(self, source: str) -> None:
        """Bring a cut source back on its old port."""
        if source == "coinbase_ws":
            await self.btc.coinbase.start()
        elif source == "kraken_ws":
            await self.btc.kraken.start()
        elif source in self.extras:
            await self.extras[source].server.start()

    def is_up(self, source: str) -> bool:
        """True while the source is listening."""
        if source == "coinbase_ws":
            return self.btc.coinbase.running
        if source == "kraken_ws":
            return self.btc.kraken.running
        extra = self.extras.get(source)
        return bool(extra is not None and extra.server.running)

    async def stop(self) -> None:
        """Stop everything."""
        await self.btc.stop()
        for stop in self._stoppers:
            await stop()
        for extra in self.extras.values():
            await extra.server.stop()


async def start_market(
    clock: Clock, *, btc_rate: float = 4.0, price_mode: str = "walk", http: bool = True
) -> SimMarket:
    """Start every simulated source on free loopback ports. ``http=False`` starts only
    the BTC venues (for benchmarks that measure the stream alone)."""
    btc = await start_sim_btc(clock, rate=btc_rate, price_mode=price_mode)
    market = SimMarket(btc)
    market.endpoints.update(coinbase_ws=btc.coinbase.url, kraken_ws=btc.kraken.url)
    if not http:
        return market
    from feeds.sim.candles import start_sim_candles
    from feeds.sim.cboe import start_sim_cboe
    from feeds.sim.fed_rates import fed_rates_fred_series, register_effr_routes
    from feeds.sim.fred import fred_liquidity_series, register_fred_routes
    from feeds.sim.history_data import daily_bars
    from feeds.sim.http import SimHttpServer
    from feeds.sim.kalshi import start_sim_kalshi
    from feeds.sim.nyfed_tsy import register_tsy_routes
    from feeds.sim.nyfed_web import register_schedule_routes
    from feeds.sim.polymarket import start_sim_polymarket
    from feeds.sim.yahoo import start_sim_yahoo

    yahoo = await start_sim_yahoo(clock, history=daily_bars)
    cboe = await start_sim_cboe(clock)
    kalshi = await start_sim_kalshi(clock)
    polymarket = await start_sim_polymarket(clock)
    candles = await start_sim_candles(daily_bars)
    nyfed = SimHttpServer("nyfed")
    register_effr_routes(nyfed, clock)
    tsy = register_tsy_routes(nyfed, clock)
    await nyfed.start(0)
    nyfed_web = SimHttpServer("nyfed_web")
    schedule = register_schedule_routes(nyfed_web, clock, tsy.ops)
    await nyfed_web.start(0)
    fred = SimHttpServer("fred")
    register_fred_routes(fred, {**fed_rates_fred_series(clock), **fred_liquidity_series(clock)})
    await fred.start(0)
    market.extras.update(
        yahoo=yahoo,
        cboe=cboe,
        kalshi=kalshi,
        polymarket=polymarket,
        coinbase_rest=candles,
        nyfed=_Handle(nyfed, tsy),
        nyfed_web=_Handle(nyfed_web, schedule),
        fred=_Handle(fred, None),
    )
    market.endpoints.update(
        yahoo=yahoo.url,
        cboe=cboe.url,
        kalshi=kalshi.url,
        polymarket=polymarket.url,
        coinbase_rest=candles.server.url,
        nyfed=nyfed.url,
        nyfed_web=nyfed_web.url,
        fred=fred.url,
    )
    return market


@dataclass(slots=True)
class _Handle:
    """A simulated HTTP source: its server and its controls."""

    server: Any
    controls: Any


class MarketThread:
    """The simulated market on its own event loop in a daemon thread."""

    def __init__(self, clock: Clock, **options: Any) -> None:
        self._clock = clock
        self._options = options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="sim-market", daemon=True)
        self.market: SimMarket | None = None

    def start(self, timeout: float = 10.0) -> dict[str, str]:
        """Start the thread and the servers; return the endpoint URLs."""
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(
            start_market(self._clock, **self._options), self._loop
        )
        self.market = fut.result(timeout)
        return dict(self.market.endpoints)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def submit(self, coro: Awaitable[Any]) -> Future[Any]:
        """Run a coroutine on the market's loop (thread-safe)."""

        async def wrap() -> Any:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrap(), self._loop)

    def toggle(self, source: str) -> bool:
        """Cut the source if it is up, restore it if not, without waiting; returns True
        if it is being restored."""
        market = self.market
        if market is None:
            return False
        if market.is_up(source):
            self.submit(market.cut(source))
            return False
        self.submit(market.restore(source))
        return True

    def stop(self) -> None:
        """Stop the servers and the loop."""
        if self.market is not None and self._loop.is_running():
            try:
                self.submit(self.market.stop()).result(5)
            except Exception:  # noqa: BLE001 - best effort at exit
                pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
