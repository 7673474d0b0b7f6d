"""Keys, the help screen, the command palette's watchlist commands (saved to the config
file), and config reload (live settings, the restart notice, a bad file)."""

from __future__ import annotations

import asyncio
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from feeds.core.store import Store
from feeds.quotes.yahoo import YahooChartFeed
from tests.tui.test_layout import full_app, settle
from tui.app import LockstepApp
from tui.config import ConfigError, Settings, load_settings
from tui.help import HelpScreen
from tui.reload import ConfigWatcher, classify, rewrite_watchlist, save_watchlist
from widgets.quotes_panel import QuotesPanel

USER_CONFIG = """\
# my lockstep config: keep this comment
[ui]
fps = 5.0   # slow link

[quotes]
# the symbols I watch
watchlist = [
    "^RUT",  # small caps
    "IWM",
]
futures = ["RTY=F"]

[fed]
meetings_shown = 4
"""


async def until(pilot: Any, cond: Callable[[], bool], timeout: float = 5.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while not cond():
        if asyncio.get_running_loop().time() > end:
            pytest.fail("condition not met in time")
        await pilot.pause(0.05)


def palette_options(app: LockstepApp) -> int:
    found = app.screen.query("CommandList")
    return found.first().option_count if found else 0  # type: ignore[attr-defined]


def notices(app: LockstepApp) -> str:
    return " | ".join(str(n.message) for n in app._notifications)


def configured_app(tmp_path: Path, text: str = USER_CONFIG) -> tuple[LockstepApp, Any, Any, Path]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    settings, _ = load_settings(str(path), env={})
    app, runtime, clock = full_app(tmp_path, settings, config_path=path)
    return app, runtime, clock, path


async def test_help_opens_with_question_mark_and_closes(tmp_path: Path) -> None:
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, runtime, clock, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        app._tick()  # the dashboard keeps ticking underneath
        app._apply_size(80, 24)
        text = str(app.screen.query_one("#help-text").render())
        for words in ("quit", "zoom", "theme", "reload", "palette", "Fed rate odds", "Kraken"):
            assert words in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark")
        await pilot.press("question_mark")  # ? toggles
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark")
        await pilot.click("#help-text")  # and the mouse closes it
        assert not isinstance(app.screen, HelpScreen)
        await app.action_quit()


async def test_footer_shows_the_main_keys(tmp_path: Path) -> None:
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, runtime, clock, pilot)
        keys = {k for k, b in app.active_bindings.items() if b.binding.show}
        assert {"q", "r", "question_mark", "t", "1"} <= keys
        await app.action_quit()


async def test_t_cycles_the_themes(tmp_path: Path) -> None:
    app, runtime, clock = full_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, runtime, clock, pilot)
        assert app.theme == "lockstep-dark"
        await pilot.press("t")
        assert app.theme == "lockstep-light" and not app.current_theme.dark
        await pilot.press("t")
        assert app.theme == "ansi-dark"
        await pilot.press("t")
        assert app.theme == "lockstep-dark"
        await app.action_quit()


async def test_palette_adds_and_removes_a_symbol_and_saves_it(tmp_path: Path) -> None:
    app, runtime, clock, path = configured_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, runtime, clock, pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"add nvda")
        await until(pilot, lambda: palette_options(app) > 0)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: "NVDA" in app.watchlist())
        assert app.watchlist() == ("^RUT", "IWM", "NVDA")
        saved = path.read_text()
        assert tomllib.loads(saved)["quotes"]["watchlist"] == ["^RUT", "IWM", "NVDA"]
        assert "# my lockstep config: keep this comment" in saved
        assert "fps = 5.0   # slow link" in saved and "meetings_shown = 4" in saved
        # The quotes feed and slice were rebuilt for the new list; old values carried over.
        yahoo = [f for f in runtime.feeds if isinstance(f, YahooChartFeed)]
        assert len(yahoo) == 1 and "NVDA" in yahoo[0].symbols
        await until(pilot, lambda: bool(app.query("#q-nvda")))
        panel = app.query_one(QuotesPanel)
        assert "2,558.12" in str(panel.query_one("#q-rut .q-last").render())
        assert "saved to" in notices(app)

        await pilot.press("ctrl+p")
        await pilot.press(*"remove ^rut")
        await until(pilot, lambda: palette_options(app) > 0)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: "^RUT" not in app.watchlist())
        assert tomllib.loads(path.read_text())["quotes"]["watchlist"] == ["IWM", "NVDA"]
        await pilot.pause()
        assert not app.query_one("#q-rut").display
        await app.action_quit()
    settings, _ = load_settings(str(path), env={})  # still a valid config
    assert settings.quotes.watchlist == ("IWM", "NVDA") and settings.ui.fps == 5.0


async def test_editing_the_config_applies_live_and_names_what_needs_a_restart(
    tmp_path: Path,
) -> None:
    app, runtime, clock, path = configured_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, runtime, clock, pilot)
        assert app.fps == 5.0 and app.theme == "lockstep-dark"
        live = 'fps = 2.0\ntheme = "light"\nlow_bandwidth = true'
        edited = USER_CONFIG.replace("fps = 5.0", live)
        edited = edited.replace('    "IWM",\n', '    "IWM",\n    "^VIX",\n')
        edited = edited.replace("meetings_shown = 4", "meetings_shown = 5")
        path.write_text(edited)
        os.utime(path, ns=(1, 1))  # a different mtime even on a coarse clock
        await pilot.press("R")  # or wait for the 2 s poll
        await pilot.pause()
        assert app.fps == 2.0 and app.theme == "lockstep-light" and app.low_bandwidth
        assert app.watchlist() == ("^RUT", "IWM", "^VIX")
        assert "restart lockstep to apply the changes to [fed]" in notices(app)
        path.write_text("[ui]\nfps = 99\n")  # a bad value: nothing changes, it says why
        await pilot.press("R")
        await pilot.pause()
        assert app.fps == 2.0 and "config not applied" in notices(app)
        assert "ui.fps" in notices(app)
        await app.action_quit()


async def test_the_file_is_polled_for_changes(tmp_path: Path) -> None:
    app, runtime, clock, path = configured_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, runtime, clock, pilot)
        path.write_text(USER_CONFIG.replace("[ui]\n", '[ui]\nup_color = "#0000ff"\n'))
        os.utime(path, ns=(2, 2))
        await until(pilot, lambda: app.settings.ui.up_color == "#0000ff", timeout=5)
        assert app.get_css_variables()["up"] == "#0000ff"
        await app.action_quit()


def test_rewrite_keeps_everything_else(tmp_path: Path) -> None:
    out = rewrite_watchlist(USER_CONFIG, ["A", "B=F"])
    assert tomllib.loads(out)["quotes"] == {"watchlist": ["A", "B=F"], "futures": ["RTY=F"]}
    assert out.replace('watchlist = ["A", "B=F"]\n', "") == USER_CONFIG.replace(
        """watchlist = [\n    "^RUT",  # small caps\n    "IWM",\n]\n""", ""
    )
    assert tomllib.loads(rewrite_watchlist("", ["X"])) == {"quotes": {"watchlist": ["X"]}}
    added = rewrite_watchlist("[ui]\nfps = 3\n", ["X"])
    assert tomllib.loads(added) == {"ui": {"fps": 3}, "quotes": {"watchlist": ["X"]}}


def test_save_refuses_rather_than_lose_the_config(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("quotes.watchlist = ['A']\n")  # a dotted key: not safe to rewrite
    with pytest.raises(ConfigError, match="by hand"):
        save_watchlist(path, ["B"])
    assert path.read_text() == "quotes.watchlist = ['A']\n"
    path.write_text("[ui\n")
    with pytest.raises(ConfigError, match="cannot read"):
        save_watchlist(path, ["B"])
    assert path.read_text() == "[ui\n"
    new = tmp_path / "sub" / "new.toml"
    save_watchlist(new, ["B"])
    assert load_settings(str(new), env={})[0].quotes.watchlist == ("B",)
    assert not [p for p in new.parent.iterdir() if p.name.startswith(".lockstep-")]


def test_watcher_and_classify(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    w = ConfigWatcher(path)
    assert not w.changed()
    path.write_text("[btc]\nprimary = 'kraken'\n")
    assert w.changed() and not w.changed()
    new = w.load()
    change = classify(Settings(), new)
    assert change.live == () and change.restart == ("btc",)
    path.unlink()
    assert w.changed() and w.load() == Settings()


def test_store_add_replaces_the_slice_under_its_topic() -> None:
    from feeds.quotes.state import QuotesSlice
    from tests.feeds.quotes.helpers import quote

    clock = full_app.__globals__["ManualClock"](mono=1.0)
    old, new = QuotesSlice(["A"], clock=clock), QuotesSlice(["A", "B"], clock=clock)
    store = Store([old])
    store.add(new)
    assert store.slice("quotes", QuotesSlice) is new
    store.apply(quote("B", "1.0", received=1.0))
    assert store.drain() == {"quotes"}
    assert new.view().rows[1].quote is not None
