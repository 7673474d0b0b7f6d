"""The runtime's start-up order (bench B8): nothing is opened while it is built, the BTC
streams start with the app, and every other feed after the first frame and the first BTC
price, so that neither waits behind a dozen first requests and the history read."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import tui.runtime as runtime_module
from feeds.core.clock import SystemClock
from feeds.core.poll import LazyTransport
from feeds.core.store import Store
from feeds.history.loader import HistoryLoader
from feeds.model.btc import Tick
from tui.app import LockstepApp
from tui.config import Settings
from tui.runtime import Runtime, build_runtime, supervise


class Stream:
    """A BTC venue that sends one tick after ``delay`` seconds."""

    source = "coinbase"

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.sent_at: float | None = None

    async def events(self) -> AsyncIterator[object]:
        await asyncio.sleep(self.delay)
        loop = asyncio.get_running_loop()
        self.sent_at = loop.time()
        price = Decimal("92000")
        yield Tick(
            "coinbase", price, None, None, None, None, None, None,
            datetime(2025, 12, 12, tzinfo=UTC), None, SystemClock().monotonic(),
        )  # fmt: skip
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        pass


class Polled:
    """A polled source that notes when it starts."""

    source = "yahoo"

    def __init__(self) -> None:
        self.started_at: float | None = None

    async def events(self) -> AsyncIterator[object]:
        self.started_at = asyncio.get_running_loop().time()
        await asyncio.Event().wait()
        yield None  # pragma: no cover

    async def aclose(self) -> None:
        pass


def runtime(tmp_path: Path) -> Runtime:
    return build_runtime(Settings(), SystemClock(), data=tmp_path)


def test_building_the_runtime_opens_nothing(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    assert rt.history is not None and not rt.history.is_open
    assert not (tmp_path / Settings().history.file_name).exists()
    transport = rt.client._transport
    assert isinstance(transport, LazyTransport) and transport._inner is None
    # The streams first, then the history loader: the app starts them in this order.
    assert [f.source for f in rt.feeds[:3]] == ["coinbase", "kraken", "history"]
    assert isinstance(rt.feeds[2], HistoryLoader)
    assert rt.warnings == []


async def test_without_a_screen_every_feed_starts_at_once(tmp_path: Path) -> None:
    polled = Polled()
    task = asyncio.create_task(supervise(polled, Store([]), SystemClock()))
    await asyncio.sleep(0.05)
    assert polled.started_at is not None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def run_until_polled_starts(app: LockstepApp, polled: Polled) -> None:
    """Run ``app`` headless until the polled feed has started (at most 5 s), then quit."""
    loop = asyncio.get_running_loop()
    async with app.run_test(size=(120, 40)) as pilot:
        end = loop.time() + 5
        while polled.started_at is None and loop.time() < end:
            await pilot.pause(0.05)
        await app.action_quit()


async def test_in_the_app_the_other_feeds_wait_for_the_first_btc_price(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    stream, polled = Stream(delay=0.3), Polled()
    rt.feeds = [stream, polled]
    await run_until_polled_starts(LockstepApp(rt, watch_terminal=False), polled)
    assert stream.sent_at is not None and polled.started_at is not None
    assert polled.started_at >= stream.sent_at


async def test_silent_streams_hold_the_other_feeds_back_for_a_bounded_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime_module, "STREAMS_FIRST_S", 0.2)
    rt = runtime(tmp_path)
    stream, polled = Stream(delay=30.0), Polled()
    rt.feeds = [stream, polled]
    await run_until_polled_starts(LockstepApp(rt, watch_terminal=False), polled)
    assert polled.started_at is not None and stream.sent_at is None
