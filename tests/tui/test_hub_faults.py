"""The desk hub's faults end to end, with a real redis-server and real hub processes:
the hub SIGKILLed (the terminal goes STALE, falls back to its own feeds, and returns to
the new hub); Redis SIGKILLed and restarted empty (nothing lost: the hub writes its
latest values and whole history again, and terminals, old and new, show the hub's
values). Loopback only."""

from __future__ import annotations

import asyncio
import contextlib
import io
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from feeds.btc.state import BtcSlice
from feeds.core.clock import DEMO_START, ShiftedClock
from feeds.core.health import HealthSlice
from feeds.hub.publish import Publisher
from feeds.hub.settings import HubSettings
from feeds.hub.subscribe import HubFeed
from feeds.model.core import FeedState
from feeds.sim.market import MarketThread
from tests.feeds.hub.redis_server import RedisServer, running, start
from tests.ptyharness import ROOT
from tests.tui.test_hub_e2e import (
    POLLED,
    SECTIONS,
    _backfilled,
    _endpoints,
    _env,
    _has_everything,
    _history,
    _shown,
)
from tui.config import BtcSettings, Settings, with_endpoints
from tui.hub import FALLBACK_NOTE, HubFallback, serve
from tui.runtime import Runtime, build_runtime
from tui.snapshot import answered, document

pytestmark = pytest.mark.timeout(150)


@pytest.fixture(scope="module")
def markets() -> Iterator[tuple[MarketThread, MarketThread]]:
    """Market A feeds an in-process hub; market B is the terminals' own endpoints."""
    a, b = MarketThread(ShiftedClock(DEMO_START)), MarketThread(ShiftedClock(DEMO_START))
    a.start()
    b.start()
    yield a, b
    a.stop()
    b.stop()


async def until(rts: list[Runtime], check: Callable[[], bool], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while True:
            for rt in rts:
                rt.drain(rt.clock.monotonic())
            if check():
                return
            await asyncio.sleep(0.05)


def hub_state(rt: Runtime) -> FeedState | None:
    h = rt.store.slice("health", HealthSlice).view().get("hub")
    return h.state if h is not None else None


def hub_process(url: str, tmp: Path, name: str) -> subprocess.Popen[str]:
    """``lockstep hub --demo`` with a fast heartbeat and a short lease."""
    cfg = tmp / f"{name}.toml"
    cfg.write_text("[hub]\nheartbeat_s = 0.2\nlease_s = 1.0\n")
    env = _env(tmp) | {"LOCKSTEP_DATA_DIR": str(tmp / name)}
    return subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "hub", "--config", str(cfg), "--demo", "--hub", url],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def stop_process(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


async def test_the_hub_killed_goes_stale_then_fallback_then_back_to_a_new_hub(
    markets: tuple[MarketThread, MarketThread], tmp_path: Path
) -> None:
    _, b = markets
    with running(tmp_path / "redis") as server:
        url = server.url
        first = hub_process(url, tmp_path, "hub1")
        second: subprocess.Popen[str] | None = None
        hub = HubSettings(heartbeat_s=0.2, fallback_after=2.0)
        term = build_runtime(
            with_endpoints(Settings(hub=hub), **_endpoints(b)),
            ShiftedClock(DEMO_START),
            demo=True,
            data=None,
            hub=url,
        )
        fallback = term.on_drain
        assert isinstance(fallback, HubFallback)
        btc = term.store.slice("btc", BtcSlice)
        term.start()
        try:
            # The first hub leads; the terminal reads its price (before fallback_after:
            # the hub process takes a few seconds to start, so allow one fallback).
            await until(
                [term],
                lambda: hub_state(term) is FeedState.LIVE and btc.view().tick is not None,
                timeout=60,
            )
            await until([term], lambda: not fallback.active, timeout=30)
            falls = fallback.fallbacks
            first.kill()  # SIGKILL: no clean stop, no lease given up, no heartbeat taken down
            first.wait(10)
            seen: list[FeedState | None] = []

            def fell_back() -> bool:
                seen.append(hub_state(term))
                return fallback.fallbacks == falls + 1

            await until([term], fell_back, timeout=30)
            assert FeedState.STALE in seen  # STALE first, then the terminal's own feeds
            h = term.store.slice("health", HealthSlice).view()["hub"]
            assert FALLBACK_NOTE in h.reason
            assert len(term.feeds) > 1
            # The terminal's own feeds reach its own endpoints (market B): not blind.
            assert b.market is not None
            await until([term], lambda: btc.view().tick is not None)

            # A new hub: it takes the dead one's lease once it lapses, and the terminal
            # returns to the hub, its own feeds stopped.
            second = hub_process(url, tmp_path, "hub2")
            await until([term], lambda: not fallback.active, timeout=60)
            assert [type(f) for f in term.feeds] == [HubFeed]
            assert hub_state(term) is FeedState.LIVE
            assert second.poll() is None
        finally:
            async with asyncio.timeout(20):
                await term.aclose()
            stop_process(first)
            if second is not None:
                stop_process(second)


async def test_redis_killed_and_restarted_loses_nothing_old_and_new_terminals_match_the_hub(
    markets: tuple[MarketThread, MarketThread], tmp_path: Path
) -> None:
    a, b = markets
    clock = ShiftedClock(DEMO_START)
    server: RedisServer = start(tmp_path / "r1")
    url = server.url
    # One process runs the hub and both terminals here (decoding a terminal's whole
    # history holds the GIL for a while): a heartbeat that tolerates that.
    hub = HubSettings(heartbeat_s=0.5, lease_s=2.0, fallback="none")
    # No BTC venue turns stale while the values are compared with the hub's sources
    # frozen: which venue is shown then would depend on the instant each crossed the
    # threshold on each process's clock.
    # And one that fails over (a venue reconnecting in the simulated market) fails back
    # within a second, so hub and terminals settle on the same venue.
    btc = BtcSettings(stale_after=120.0, reconnect_after=240.0, failback_after=1.0)
    base = Settings(hub=hub, btc=btc)
    hub_rt = build_runtime(with_endpoints(base, **_endpoints(a)), clock, demo=True, data=None)
    stop = asyncio.Event()
    ready: list[Publisher] = []
    hub_task = asyncio.create_task(
        serve(hub_rt, url, out=io.StringIO(), stop=stop, on_ready=ready.append)
    )
    b_settings = with_endpoints(base, **_endpoints(b))
    old = build_runtime(b_settings, clock, demo=True, data=None, hub=url)
    old.start()
    new: Runtime | None = None
    try:
        await until(
            [hub_rt, old],
            lambda: (
                bool(ready)
                and answered(hub_rt) >= POLLED
                and _backfilled(hub_rt)
                and _has_everything(document(old))
            ),
            timeout=60,
        )
        # Redis dies (SIGKILL: nothing saved) and comes back empty on the same port.
        server.proc.kill()
        server.proc.wait(10)
        await until([hub_rt, old], lambda: hub_state(old) is FeedState.DOWN, timeout=30)
        server = start(tmp_path / "r2", port=server.port)
        publisher = ready[0]
        await until([hub_rt, old], lambda: publisher.rewrites >= 1, timeout=30)
        # A terminal that starts only now reads everything from the rewritten hashes.
        new = build_runtime(b_settings, clock, demo=True, data=None, hub=url)
        new.start()
        terminals = [old, new]
        await until(
            [hub_rt, *terminals],
            lambda: all(hub_state(t) is FeedState.LIVE for t in terminals),
            timeout=60,
        )

        # A terminal that starts shows the venue whose tick it read first, and fails back
        # to the primary on a later tick, as a direct terminal that starts does.
        def venue(rt: Runtime) -> tuple[object, object]:
            btc = document(rt)["btc"] or {}
            return btc.get("source"), btc.get("failover_reason")

        await until(
            [hub_rt, *terminals],
            lambda: all(venue(t) == venue(hub_rt) for t in terminals),
            timeout=60,
        )
        # Freeze the hub's sources, let the last entries through, then compare.
        hub_rt.replace_feeds(list(hub_rt.feeds), [])
        async with asyncio.timeout(30):
            while publisher.pending:
                await asyncio.sleep(0.05)
        want: dict[str, Any] = {}

        def shown(rt: Runtime) -> dict[str, Any]:
            doc = document(rt)
            out = _shown(doc) | _history(doc)
            # And each venue's last price, not only the shown one's.
            last = rt.store.slice("btc", BtcSlice)._last
            out["venues"] = {v: (t.price, t.bid, t.ask) for v, t in last.items()}
            # (_history leaves out the live-print guard's own judgement: the old terminal
            # missed the prints of the outage, the new one those before it started.)
            return out

        def same() -> bool:
            nonlocal want
            want = shown(hub_rt)
            return all(shown(t) == want for t in terminals)

        with contextlib.suppress(TimeoutError):
            await until([hub_rt, *terminals], same, timeout=20)
        assert set(want["venues"]) == {"coinbase", "kraken"} and want["btc"]["price"]
        assert want["quotes"] and want["fed_odds"]["meetings"]
        assert want["history"]["ath"][0]["ath"] is not None
        for t in terminals:
            got = shown(t)
            for section in (*SECTIONS, "history", "venues"):
                assert got[section] == want[section], section
    finally:
        stop.set()
        for term in (old, new):
            if term is not None:
                async with asyncio.timeout(20):
                    await term.aclose()
        async with asyncio.timeout(20):
            await hub_task
        server.stop()
