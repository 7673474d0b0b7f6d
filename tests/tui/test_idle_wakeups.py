"""Idle CPU (issue 17): one 1 Hz wake-up does the time-driven state, the ages, the
hang-up check and the config poll; the wall clock and the no-network notice are not
recomputed every second."""

from __future__ import annotations

from pathlib import Path

import pytest

from feeds.core.clock import ManualClock
from feeds.model.core import FeedState, FeedStatus
from tests.tui.test_layout import full_app, settle
from tui import app as app_module
from tui.app import LockstepApp
from tui.config import Settings
from tui.runtime import build_runtime
from widgets.cells import Cell
from widgets.status_bar import StatusBar


def app_timers(app: LockstepApp) -> set[str]:
    return {str(t.name) for t in app._timers}


async def test_one_timer_wakes_the_app_each_second(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("")
    app, runtime, clock = full_app(tmp_path, config_path=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, runtime, clock, pilot)
        names = app_timers(app)
        assert "ages" in names
        assert not names & {"hangup-watch", "config-watch"}
        await app.action_quit()


async def test_the_second_drains_the_store_itself_and_leaves_the_paint_timer_asleep(
    tmp_path: Path,
) -> None:
    """Staleness still flips within the second: the 1 Hz wake-up drains the store's
    time-driven state and paints it at once, without waking the paint timer for a
    second look."""
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, runtime, clock, pilot)
        timer = app._paint_timer
        assert timer is not None
        app._paint()  # nothing left to paint: the timer sleeps
        assert not timer._active.is_set()
        status = app.query_one(StatusBar)
        assert "STALE" not in status.render().plain
        clock.advance(3600)  # every live source is far past its staleness limit
        app._second()
        assert "STALE" in status.render().plain
        assert not timer._active.is_set()
        await app.action_quit()


async def test_the_config_file_is_looked_at_every_other_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("")
    app, runtime, clock = full_app(tmp_path, config_path=config)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, runtime, clock, pilot)
        polls: list[int] = []
        monkeypatch.setattr(app, "_poll_config", lambda: polls.append(1))
        for _ in range(4):
            app._second()
        assert len(polls) == 4 // app_module.CONFIG_EVERY
        await app.action_quit()


async def test_the_second_still_watches_for_a_hang_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, runtime, clock, pilot)
        exits: list[int] = []
        monkeypatch.setattr(app_module, "arm_hard_exit", lambda: None)
        monkeypatch.setattr(app, "exit", lambda *a, **k: exits.append(1))
        app._second()
        assert exits == []  # watch_terminal=False: not watched
        app._watch_terminal = True
        monkeypatch.setattr(app_module, "terminal_gone", lambda: False)
        app._second()
        assert exits == []
        monkeypatch.setattr(app_module, "terminal_gone", lambda: True)
        app._second()
        assert exits == [1]
        monkeypatch.undo()
        await app.action_quit()


async def test_the_wall_clock_is_drawn_once_a_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, runtime, clock, pilot)
        cell = app.query_one("#wall-clock", Cell)
        sets: list[str] = []
        real = Cell.set

        def counted(self: Cell, content: object) -> None:
            if self is cell:
                sets.append(str(content))
            real(self, content)  # type: ignore[arg-type]

        monkeypatch.setattr(Cell, "set", counted)
        now = clock.now()
        to_next_minute = 60 - now.second - now.microsecond / 1e6
        clock.advance(to_next_minute)  # the first second of a minute: drawn
        app._tick_top(clock.monotonic(), clock.now())
        for _ in range(59):  # the rest of it: not drawn again
            clock.advance(1)
            app._tick_top(clock.monotonic(), clock.now())
        assert len(sets) == 1
        clock.advance(1)
        app._tick_top(clock.monotonic(), clock.now())
        assert len(sets) == 2 and sets[0] != sets[1]
        assert cell.render().plain.endswith(" ET")
        await app.action_quit()


async def test_the_no_network_notice_follows_the_health_changes(tmp_path: Path) -> None:
    """Every source DOWN for want of a network: the notice says so; one answering again
    clears it. It is set when health changes, not read every second."""
    clock = ManualClock()
    runtime = build_runtime(Settings(), clock, demo=False, data=tmp_path / "data")
    runtime.feeds = []
    app = LockstepApp(runtime, watch_terminal=False)
    async with app.run_test(size=(120, 40)) as pilot:
        notice = app.query_one("#notice", Cell)
        now = clock.monotonic()
        for name in runtime.sources:
            runtime.store.apply(FeedStatus(name, FeedState.DOWN, "no network", now, now + 30))
        app._paint()
        await pilot.pause()
        assert "No network" in notice.render().plain
        clock.advance(5)
        runtime.store.apply(FeedStatus(runtime.sources[0], FeedState.LIVE, "", clock.monotonic()))
        app._paint()
        await pilot.pause()
        assert notice.render().plain == ""
        await app.action_quit()
