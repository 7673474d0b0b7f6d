"""A web session's dashboard is a view (``--read-only``): the palette offers no watchlist
edits, nothing is written to the config file, the alert command hook is not run, and
the Screenshot command (a file) is gone. The same app without the flag does all four."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from feeds.core.clock import ManualClock
from tui.app import LockstepApp
from tui.config import load_settings
from tui.palette import WatchlistCommands
from tui.runtime import build_runtime

CONFIG = """\
[quotes]
watchlist = ["^RUT", "IWM"]

[alerts]
rules = ["btc above 1"]
command = "touch {marker}"
"""


def make_app(tmp_path: Path, *, read_only: bool) -> tuple[LockstepApp, Path]:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(marker=tmp_path / "ran"))
    settings, _ = load_settings(str(path))
    clock = ManualClock(start=datetime(2025, 12, 12, 15, 25, tzinfo=UTC), mono=5000.0)
    runtime = build_runtime(settings, clock, demo=True, data=tmp_path / "data")
    runtime.feeds = []
    app = LockstepApp(runtime, watch_terminal=False, config_path=path, read_only=read_only)
    return app, path


async def palette_titles(app: LockstepApp, query: str | None) -> list[str]:
    provider = WatchlistCommands(app.screen)
    hits = provider.discover() if query is None else provider.search(query)
    return [str(hit.prompt) async for hit in hits]


async def test_a_read_only_dashboard_edits_nothing_and_runs_no_command(tmp_path: Path) -> None:
    app, path = make_app(tmp_path, read_only=True)
    before = path.read_text()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert await palette_titles(app, None) == []
        assert await palette_titles(app, "add NVDA") == []
        app.add_symbol("NVDA")
        app.remove_symbol("IWM")
        await pilot.pause()
        assert app.watchlist() == ("^RUT", "IWM")
        assert path.read_text() == before
        assert app._alerts.delivery.settings.command == ""
        assert app.settings.alerts.command.startswith("touch")  # the rules still show
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Screenshot" not in titles and "Help" in titles and "Theme" in titles
        await app.action_quit()
    assert not (tmp_path / "ran").exists()


async def test_the_same_dashboard_without_the_flag_edits_and_saves(tmp_path: Path) -> None:
    app, path = make_app(tmp_path, read_only=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert any("NVDA" in t for t in await palette_titles(app, "add NVDA"))
        assert len(await palette_titles(app, None)) > 0
        app.add_symbol("NVDA")
        await pilot.pause()
        assert app.watchlist() == ("^RUT", "IWM", "NVDA")
        assert "NVDA" in path.read_text()
        assert app._alerts.delivery.settings.command.startswith("touch")
        assert "Screenshot" in [c.title for c in app.get_system_commands(app.screen)]
        await app.action_quit()
