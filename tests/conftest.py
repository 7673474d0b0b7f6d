"""Shared fixtures. Every server binds 127.0.0.1; nothing leaves the machine."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable

import pytest
from hypothesis import HealthCheck, settings

from feeds.core.backoff import BackoffPolicy
from feeds.core.ws import WsTiming
from feeds.sim.exchanges import SimBtc, start_sim_btc

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

# Two workers on two cores: generation speed varies with load, so the too-slow health
# check would fail at random. Deadlines likewise; correctness is what is checked here.
settings.register_profile(
    "lockstep", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.load_profile("lockstep")


FAST_POLICY = BackoffPolicy(base=0.05, cap=0.2, healthy_after=1.0, window=60.0, max_attempts=50)
FAST_WS = WsTiming(
    reconnect_after=0.6,
    open_timeout=1.0,
    close_timeout=0.2,
    fatal_retry=2.0,
    ping_interval=None,
    backoff=FAST_POLICY,
)
"""Production timings scaled down about 1:15 so reconnect tests take a second or two."""


@pytest.fixture
async def sim_btc() -> AsyncIterator[SimBtc]:
    """Both simulated venues on free loopback ports, ticking 20 times a second."""
    sim = await start_sim_btc(rate=20.0)
    yield sim
    await sim.stop()


async def collect(
    events: AsyncIterator[object], until: Callable[[list[object]], bool], timeout: float = 5.0
) -> list[object]:
    """Gather events until ``until(seen)`` or the timeout (which fails the test)."""
    seen: list[object] = []

    async def run() -> None:
        async for ev in events:
            seen.append(ev)
            if until(seen):
                return

    try:
        await asyncio.wait_for(run(), timeout)
    except TimeoutError:
        pytest.fail(f"condition not met within {timeout}s; saw {len(seen)} events: {seen[-8:]}")
    return seen
