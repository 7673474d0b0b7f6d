"""``lockstep serve`` in a real headless Chromium (issue 16): the dashboard reaches the
browser (the xterm.js buffer, read over the DevTools protocol, shows the simulated BTC
price and the DEMO label), directly and through the desk hub; beyond loopback nothing
is served without the token; the session limit refuses with a page; closing a tab ends
its process; SIGTERM and SIGINT end the server and every session."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
import redis

from feeds.hub.keys import HubKeys
from feeds.sim.levels import LEVELS
from tests.feeds.hub.redis_server import running
from tests.web.cdp import Browser, Tab
from tests.web.conftest import ROOT, env_for, needs_chromium, serving

pytestmark = [needs_chromium, pytest.mark.timeout(120), pytest.mark.slow]

PRICE = re.compile(r"\b(\d{2,3}(?:,\d{3})+\.\d{2})\b")


def btc_price(screen: str) -> float | None:
    """The price in the BTC panel (its box, from the "1 BTC-USD" title to its bottom)."""
    lines = screen.splitlines()
    start = next((i for i, line in enumerate(lines) if "1 BTC-USD" in line), None)
    if start is None:
        return None
    for line in lines[start + 1 :]:
        if line.lstrip().startswith("╰"):
            break
        found = PRICE.search(line)
        if found:
            return float(found.group(1).replace(",", ""))
    return None


async def shows_the_demo_dashboard(tab: Tab, timeout: float = 45.0) -> str:
    """Wait until the browser's terminal shows the DEMO label and a simulated BTC price
    near the simulated market's level; the screen text."""
    level = LEVELS["BTC-USD"].last
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = await tab.screen() or ""
        price = btc_price(screen)
        if "DEMO" in screen and price is not None and 0.8 * level < price < 1.2 * level:
            return screen
        await _pause()
    raise AssertionError(f"the dashboard did not show the demo BTC price:\n{screen}")


async def _pause() -> None:
    import asyncio

    await asyncio.sleep(0.25)


async def test_serve_demo_shows_the_dashboard_and_closing_the_tab_ends_its_process(
    tmp_path: Path, browser: Browser
) -> None:
    with serving(tmp_path, "--demo") as served:
        assert served.url.startswith("http://127.0.0.1:")
        assert served.token is None  # loopback: no token needed
        tab = await browser.new_tab(served.url)
        screen = await shows_the_demo_dashboard(tab)
        assert "SIMULATED" in screen
        # Live: the browser's screen follows the simulated market's ticks.
        first = btc_price(screen)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and btc_price(await tab.screen() or "") == first:
            await _pause()
        assert btc_price(await tab.screen() or "") not in (None, first)
        (session,) = served.wait_sessions(1)
        # The session is the dashboard itself, read-only, in demo.
        assert "--read-only" in session.cmdline() and "--demo" in session.cmdline()
        await tab.close()
        gone, alive = psutil.wait_procs([session], timeout=20)
        assert alive == [] and served.wait_sessions(0) == []
        assert served.proc.poll() is None  # the server keeps serving


async def test_serve_through_the_hub_shows_the_hubs_demo_values(
    tmp_path: Path, browser: Browser
) -> None:
    with running(tmp_path / "redis") as server:
        hub = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "hub", "--demo", "--hub", server.url],
            cwd=ROOT,
            env=env_for(tmp_path / "hub"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            r = redis.Redis(port=server.port)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not r.exists(HubKeys("lockstep").heartbeat):
                time.sleep(0.2)
            r.close()
            # No --demo here: the session learns from the hub that its values are simulated.
            with serving(tmp_path / "serve", "--hub", server.url) as served:
                tab = await browser.new_tab(served.url)
                screen = await shows_the_demo_dashboard(tab)
                assert "Hub" in screen or "hub" in screen
                (session,) = served.wait_sessions(1)
                # The URL reaches the session in its environment, never in its argv.
                assert "--hub" not in session.cmdline() and "--demo" not in session.cmdline()
                assert session.environ().get("LOCKSTEP_HUB") == server.url
                rest = served.signal(signal.SIGINT)
                assert served.proc.returncode == 0, rest
                assert "lockstep serve: stopped" in rest
                assert psutil.wait_procs([session], timeout=10)[1] == []
        finally:
            hub.terminate()
            try:
                hub.wait(30)
            except subprocess.TimeoutExpired:
                hub.kill()
                hub.wait(10)


async def test_beyond_loopback_nothing_is_served_without_the_token(
    tmp_path: Path, browser: Browser
) -> None:
    with serving(tmp_path, "--demo", "--host", "0.0.0.0") as served:
        token = served.token
        assert token is not None and len(token) >= 16
        # The token is printed once, in the URL line, and written nowhere else.
        assert sum(token in line for line in served.out) == 1
        with httpx.Client(timeout=10) as client:
            for path in ("/", "/static/js/textual.js", "/static/css/xterm.css", "/ws"):
                assert client.get(served.local(path)).status_code == 403, path
                wrong = client.get(
                    served.local(path),
                    params={"token": token[:-1] + ("y" if token.endswith("x") else "x")},
                )
                assert wrong.status_code == 403, path
            denied = client.get(served.local("/"))
            assert "access token" in denied.text
            assert client.get(served.local("/"), params={"token": token}).status_code == 200
        # Without the token the browser gets the refusal and no session starts.
        bare = await browser.new_tab(served.local("/"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "access token" not in await bare.body_text():
            await _pause()
        assert "access token" in await bare.body_text()
        assert served.sessions() == []
        # With it (the page's own requests carry it as a cookie) the dashboard works.
        tab = await browser.new_tab(served.local(f"/?token={token}"))
        await shows_the_demo_dashboard(tab)
        assert len(served.wait_sessions(1)) == 1
    for written in (tmp_path / "data").rglob("*"):
        if written.is_file():
            assert token not in written.read_text(errors="replace"), written


async def test_the_session_limit_refuses_with_a_page_and_sigterm_ends_everything(
    tmp_path: Path, browser: Browser
) -> None:
    config = "[serve]\nmax_sessions = 1\n"
    with serving(tmp_path, "--demo", config=config) as served:
        first = await browser.new_tab(served.url)
        await shows_the_demo_dashboard(first)
        (one,) = served.wait_sessions(1)
        with httpx.Client(timeout=10) as client:
            full = client.get(served.local("/"))
            assert full.status_code == 503
            assert "every session is in use" in full.text and "max_sessions" in full.text
            assert client.get(served.local("/ws")).status_code == 503
        second = await browser.new_tab(served.url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "in use" not in await second.body_text():
            await _pause()
        assert "every session is in use" in await second.body_text()
        assert [p.pid for p in served.sessions()] == [one.pid]  # no second process
        # Closing the first tab frees the slot.
        await first.close()
        assert psutil.wait_procs([one], timeout=20)[1] == []
        third = await browser.new_tab(served.url)
        await shows_the_demo_dashboard(third)
        (session,) = served.wait_sessions(1)
        rest = served.signal(signal.SIGTERM)
        assert served.proc.returncode == 0, rest
        assert "lockstep serve: stopped" in rest
        assert psutil.wait_procs([session], timeout=10)[1] == []


async def test_a_killed_server_leaves_no_session_behind(tmp_path: Path, browser: Browser) -> None:
    """SIGKILL gives the server no chance to end its sessions: each notices that its pipe
    from the server has gone and exits by itself (no orphaned dashboards)."""
    with serving(tmp_path, "--demo") as served:
        tab = await browser.new_tab(served.url)
        await shows_the_demo_dashboard(tab)
        (session,) = served.wait_sessions(1)
        served.proc.kill()
        served.proc.communicate(timeout=10)
        gone, alive = psutil.wait_procs([session], timeout=20)
        assert alive == [], "a session outlived its killed server"
