"""L5: a feed that raises an unexpected exception again and again is restarted with
backoff and shown as an error in its place; the other feeds and the app carry on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from feeds.core.clock import ManualClock
from feeds.core.health import HealthSlice
from feeds.model import FeedState, FeedStatus
from tui.app import LockstepApp
from tui.config import Settings
from tui.runtime import build_runtime


class CrashingFeed:
    """A feed with a bug: it raises after one status, every time it is started."""

    source = "yahoo"

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.starts = 0

    async def events(self) -> AsyncIterator[object]:
        self.starts += 1
        yield FeedStatus(self.source, FeedState.LIVE, "", self.clock.monotonic())
        raise ZeroDivisionError("a bug in a parser")

    async def aclose(self) -> None:
        pass


class SteadyFeed:
    """A feed that keeps working."""

    source = "kalshi"

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.sent = 0

    async def events(self) -> AsyncIterator[object]:
        while True:
            self.sent += 1
            yield FeedStatus(self.source, FeedState.LIVE, "", self.clock.monotonic())
            await asyncio.sleep(0.05)

    async def aclose(self) -> None:
        pass


async def test_l5_a_crashing_feed_is_restarted_and_shown_while_others_continue(
    tmp_path: Path,
) -> None:
    clock = ManualClock(start=datetime(2025, 12, 12, 15, 25, tzinfo=UTC))
    runtime = build_runtime(Settings(), clock, data=tmp_path)
    crashing, steady = CrashingFeed(clock), SteadyFeed(clock)
    runtime.feeds = [crashing, steady]
    app = LockstepApp(runtime, watch_terminal=False)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(60):
            await pilot.pause(0.1)
            if crashing.starts >= 2:
                break
        assert crashing.starts >= 2  # restarted, with backoff (not a tight loop)
        assert crashing.starts <= 4
        health = runtime.store.slice("health", HealthSlice).view()
        assert health["yahoo"].state in (FeedState.DOWN, FeedState.LIVE)
        assert steady.sent >= 5  # the others never stopped
        assert app.is_running
        await pilot.press("r")
        await app.action_quit()
