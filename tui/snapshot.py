"""``lockstep snapshot --json``: connect, wait for the first value from each source (or
the timeout), print one JSON document, exit. For scripts and cron jobs over SSH."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from feeds.btc.state import BtcSlice
from feeds.core.health import HealthSlice
from tui.runtime import Runtime


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def btc_json(runtime: Runtime, now_mono: float) -> dict[str, Any] | None:
    """The BTC section: the shown venue's latest tick with source and age."""
    view = runtime.store.slice("btc", BtcSlice).view()
    tick = view.tick
    if tick is None:
        return None
    return {
        "symbol": "BTC-USD",
        "price": _num(tick.price),
        "source": tick.source,
        "failover_reason": view.failover_reason or None,
        "bid": _num(tick.bid),
        "ask": _num(tick.ask),
        "open_24h": _num(tick.open_24h),
        "high_24h": _num(tick.high_24h),
        "low_24h": _num(tick.low_24h),
        "exchange_time": _iso(tick.exchange_time),
        "age_s": round(now_mono - tick.received, 3),
        "simulated": runtime.demo,
    }


def document(runtime: Runtime) -> dict[str, Any]:
    """The whole snapshot as a JSON-ready dict."""
    now_mono = runtime.clock.monotonic()
    health = runtime.store.slice("health", HealthSlice).view()
    sources = {}
    for name in runtime.sources:
        h = health.get(name)
        sources[name] = {
            "state": h.state.value if h else "CONNECTING",
            "reason": (h.reason or None) if h else None,
            "age_s": round(now_mono - h.last_data, 3) if h and h.last_data is not None else None,
            "bad_messages": h.bad if h else 0,
        }
    doc: dict[str, Any] = {
        "generated_at": _iso(runtime.clock.now()),
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
