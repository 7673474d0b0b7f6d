"""``lockstep snapshot --json``: connect, wait for the first value from each source (or
the timeout), print one JSON document, exit. For scripts and cron jobs over SSH."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from feeds.btc.state import BtcSlice
from feeds.core.health import HealthSlice
from feeds.core.jsonout import SCHEMA_VERSION, age, exact
from tui.runtime import Runtime
from tui.snapshot_json import iso


def btc_json(runtime: Runtime, now_mono: float) -> dict[str, Any] | None:
    """The BTC section: the shown venue's latest tick with source and age."""
    view = runtime.store.slice("btc", BtcSlice).view()
    tick = view.tick
    if tick is None:
        return None
    return {
        "symbol": "BTC-USD",
        "price": exact(tick.price),
        "source": tick.source,
        "failover_reason": view.failover_reason or None,
        "state": view.state.value,
        "fresh": view.fresh,
        "bid": exact(tick.bid),
        "ask": exact(tick.ask),
        "open_24h": exact(tick.open_24h),
        "high_24h": exact(tick.high_24h),
        "low_24h": exact(tick.low_24h),
        "exchange_time": iso(tick.exchange_time),
        "age_s": age(now_mono, tick.received),
        "simulated": runtime.demo,
    }


def document(runtime: Runtime) -> dict[str, Any]:
    """The whole snapshot as a dict for :func:`feeds.core.jsonout.dumps` (numbers are
    ``Decimal`` or ``float``; the writer applies the one encoding rule)."""
    now_mono = runtime.clock.monotonic()
    health = runtime.store.slice("health", HealthSlice).view()
    sources = {}
    for name in runtime.sources:
        h = health.get(name)
        sources[name] = {
            "source": name,
            "state": h.state.value if h else "CONNECTING",
            "reason": (h.reason or None) if h else None,
            "age_s": age(now_mono, h.last_data) if h else None,
            "bad_messages": h.bad if h else 0,
        }
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": iso(runtime.clock.now()),
        "demo": runtime.demo,
        "sources": sources,
        "btc": btc_json(runtime, now_mono),
    }
    for key, section in runtime.snapshot_sections.items():
        doc[key] = section(now_mono)
    return doc


def answered(runtime: Runtime) -> set[str]:
    """Sources that have delivered real data."""
    health = runtime.store.slice("health", HealthSlice).view()
    return {n for n in runtime.sources if (h := health.get(n)) and h.last_data is not None}


async def take(runtime: Runtime, timeout: float) -> dict[str, Any]:
    """Run the feeds until every source answered or ``timeout`` passed; the runtime is
    closed on the way out, however that is (an error, Ctrl-C)."""
    runtime.start()
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while answered(runtime) != set(runtime.sources):
                    runtime.drain(runtime.clock.monotonic())
                    await asyncio.sleep(0.05)
        runtime.store.refresh(runtime.clock.monotonic())
        return document(runtime)
    finally:
        await runtime.aclose()
