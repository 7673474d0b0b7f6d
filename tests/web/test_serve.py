"""``lockstep serve`` without a browser: the token rule, the guard on every route, the
session limit's page, the session command, and the ``[serve]`` config table. The server
runs in-process on 127.0.0.1 (aiohttp's test server); no session process is started
except where a test says so."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

import dev
from tui.config import ConfigError, ServeSettings, load_settings
from tui.serve import (
    ServeOptions,
    WebServer,
    add_serve_parser,
    client_size,
    needs_token,
    session_command,
    session_environment,
    token_matches,
)

TOKEN = "a-long-enough-token_0123456789"


def options(token: str | None = None, max_sessions: int = 8) -> ServeOptions:
    return ServeOptions(
        host="127.0.0.1",
        port=0,
        token=token,
        max_sessions=max_sessions,
        session_argv=(sys.executable, "-c", "pass"),
    )


async def client_for(opts: ServeOptions) -> tuple[TestClient[Any, Any], WebServer]:
    server = WebServer(opts)
    client: TestClient[Any, Any] = TestClient(TestServer(server.make_app(), host="127.0.0.1"))
    await client.start_server()
    return client, server


@pytest.fixture
async def open_client() -> AsyncIterator[TestClient[Any, Any]]:
    client, _ = await client_for(options())
    yield client
    await client.close()


@pytest.fixture
async def token_client() -> AsyncIterator[TestClient[Any, Any]]:
    client, _ = await client_for(options(TOKEN))
    yield client
    await client.close()


@pytest.mark.parametrize(
    ("host", "configured", "needed"),
    [
        ("127.0.0.1", "", False),
        ("localhost", "", False),
        ("::1", "", False),
        ("127.0.0.2", "", False),
        ("0.0.0.0", "", True),
        ("::", "", True),
        ("192.168.1.20", "", True),
        ("my-host.example", "", True),
        ("127.0.0.1", TOKEN, True),  # a configured token is required everywhere
    ],
)
def test_a_token_is_needed_beyond_loopback_or_when_configured(
    host: str, configured: str, needed: bool
) -> None:
    assert needs_token(host, configured) is needed


@pytest.mark.parametrize(
    ("given", "ok"),
    [(TOKEN, True), (None, False), ("", False), (TOKEN[:-1], False), (TOKEN + "x", False)],
)
def test_token_matching(given: str | None, ok: bool) -> None:
    assert token_matches(given, TOKEN) is ok


def test_the_session_command_is_the_read_only_monitor(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    argv = session_command(demo=True, config=str(cfg))
    assert argv[:4] == [sys.executable, "-m", "tui.cli", "--read-only"]
    assert argv[4:] == ["--config", str(cfg.resolve()), "--demo"]
    assert session_command(demo=False, config=None)[3:] == ["--read-only"]


def test_the_hub_url_reaches_a_session_through_its_environment_not_its_argv() -> None:
    # `ps` shows every user each process's argv; a hub URL may hold the Redis password.
    url = "redis://desk:s3cret@127.0.0.1:6379/0"
    assert session_environment(url) == {"LOCKSTEP_HUB": url}
    assert session_environment(None) == {}
    options = ServeOptions(
        host="127.0.0.1",
        port=1,
        token=None,
        max_sessions=1,
        session_argv=tuple(session_command(demo=False, config=None)),
        session_env=session_environment(url),
    )
    assert "s3cret" not in " ".join(options.session_argv)
    assert "s3cret" not in repr(options)


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ({"width": "120", "height": "40"}, (120, 40)),
        ({}, (80, 24)),
        ({"width": "x", "height": "-3"}, (80, 1)),
        ({"width": 10**9, "height": "0"}, (1000, 1)),
    ],
)
def test_client_size_is_bounded(query: dict[str, object], size: tuple[int, int]) -> None:
    assert client_size(query) == size


async def test_on_loopback_the_page_needs_no_token_and_loads_nothing_from_elsewhere(
    open_client: TestClient[Any, Any],
) -> None:
    page = await open_client.get("/")
    assert page.status == 200
    body = await page.text()
    assert 'src="/static/js/textual.js"' in body and 'href="/static/css/xterm.css"' in body
    # Offline: every script, stylesheet and font is this server's own.
    assert "http:" not in body and "https:" not in body and "//fonts" not in body
    assert f'data-session-websocket-url="ws://{open_client.host}:{open_client.port}/ws"' in body
    assert page.headers["X-Frame-Options"] == "DENY"
    script = await open_client.get("/static/js/textual.js")
    assert script.status == 200 and len(await script.read()) > 100_000
    assert (await open_client.get("/static/")).status in (403, 404)  # no directory listing


async def test_with_a_token_every_route_refuses_without_it(
    token_client: TestClient[Any, Any],
) -> None:
    for path in ("/", "/ws", "/static/js/textual.js", "/static/css/xterm.css", "/nothing"):
        for params in ({}, {"token": "wrong-token-wrong-token"}, {"token": TOKEN[:-1]}):
            r = await token_client.get(path, params=params)
            assert r.status == 403, (path, params)
            assert TOKEN not in await r.text()
    # The right token in the URL opens the page and sets the cookie the page's own
    # requests (its script, its websocket) then carry.
    page = await token_client.get("/", params={"token": TOKEN})
    assert page.status == 200
    cookie = page.headers["Set-Cookie"]
    assert TOKEN in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert (await token_client.get("/static/js/textual.js")).status == 200  # by cookie


async def test_a_websocket_from_another_sites_page_is_refused(
    open_client: TestClient[Any, Any],
) -> None:
    r = await open_client.get("/ws", headers={"Origin": "http://evil.example"})
    assert r.status == 403
    assert "cross-origin" in await r.text()


@pytest.mark.parametrize(
    ("host", "status"),
    [("127.0.0.1:8000", 200), ("localhost:8000", 200), ("[::1]:8000", 200), ("localhost", 200)]
    + [("evil.example:8000", 403), ("evil.example", 403), ("127.0.0.1.evil.example", 403)],
)
async def test_without_a_token_only_loopback_names_are_answered(
    open_client: TestClient[Any, Any], host: str, status: int
) -> None:
    """DNS rebinding: another site's name pointed at 127.0.0.1 gets nothing."""
    paths = (
        ("/", "/static/js/textual.js") if status == 200 else ("/", "/static/css/xterm.css", "/ws")
    )
    for path in paths:
        r = await open_client.get(path, headers={"Host": host})
        assert r.status == status, path
        if status == 403:
            assert "unexpected Host" in await r.text()


async def test_a_full_server_answers_with_a_page_not_a_hang() -> None:
    client, server = await client_for(options(max_sessions=1))
    try:
        server._sessions[object()] = None  # type: ignore[assignment]  # one slot in use
        for path in ("/", "/ws"):
            r = await client.get(path)
            assert r.status == 503, path
            text = await r.text()
            assert "every session is in use" in text and "max_sessions" in text
            assert "at most 1 dashboard session" in text
    finally:
        await client.close()


async def test_a_session_is_a_process_that_ends_with_its_websocket() -> None:
    """A real session process (here a stand-in that speaks no protocol and just waits):
    closing the websocket ends it."""
    opts = ServeOptions(
        host="127.0.0.1",
        port=0,
        token=None,
        max_sessions=2,
        session_argv=(sys.executable, "-c", "import time; time.sleep(60)"),
    )
    client, server = await client_for(opts)
    try:
        ws = await client.ws_connect("/ws?width=100&height=30")

        for _ in range(200):
            if server.session_count == 1 and next(iter(server._sessions)).pid is not None:
                break
            await asyncio.sleep(0.05)
        (session,) = list(server._sessions)
        assert session.pid is not None and session.process.returncode is None
        await ws.close()
        for _ in range(200):
            if server.session_count == 0:
                break
            await asyncio.sleep(0.05)
        assert server.session_count == 0
        assert session.process.returncode is not None  # ended (killed: it ignored quit)
    finally:
        await client.close()


def test_the_serve_table_is_range_checked(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[serve]\nmax_sessions = 3\ntoken = "{TOKEN}"\n')
    settings, _ = load_settings(str(path))
    assert settings.serve == ServeSettings(token=TOKEN, max_sessions=3)
    for bad, message in (
        ("max_sessions = 0", "serve.max_sessions must be between 1 and 64"),
        ("max_sessions = 65", "serve.max_sessions must be between 1 and 64"),
        ('token = "short"', r"\[serve\] token must be 16-200"),
        ('token = "has spaces in it, sixteen+"', r"\[serve\] token must be 16-200"),
        ("sessions = 2", "unknown key 'sessions'"),
    ):
        path.write_text(f"[serve]\n{bad}\n")
        with pytest.raises(ConfigError, match=message):
            load_settings(str(path))
    assert ServeSettings().max_sessions == 8 and ServeSettings().token == ""


def test_a_bad_token_is_never_echoed(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[serve]\ntoken = "secret secret secret"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(str(path))
    assert "secret secret" not in str(err.value)


def test_serve_arguments() -> None:
    parser = argparse.ArgumentParser()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--demo", action="store_true")
    add_serve_parser(parser.add_subparsers(dest="command"), common)
    args = parser.parse_args(["serve"])
    assert (args.host, args.port, args.demo) == ("127.0.0.1", 8000, False)
    args = parser.parse_args(["serve", "--host", "0.0.0.0", "--port", "0", "--demo"])
    assert (args.host, args.port, args.demo) == ("0.0.0.0", 0, True)
    for bad in ("65536", "-1", "http"):
        with pytest.raises(SystemExit):
            parser.parse_args(["serve", "--port", bad])


def test_dev_installs_chromium_as_root_else_names_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[list[str]] = []
    installed: list[bool] = [False]

    def which(name: str) -> str | None:
        if name == "apt-get":
            return "/usr/bin/apt-get"
        return "/usr/bin/chromium" if installed[0] and name == "chromium" else None

    def run(args: list[str], env: dict[str, str] | None = None) -> int:
        ran.append(args)
        if args[:2] == ["apt-get", "install"]:
            installed[0] = True
        return 0

    monkeypatch.setattr("dev.shutil.which", which)
    monkeypatch.setattr(dev, "_run", run)
    monkeypatch.setattr("dev.os.geteuid", lambda: 1000)
    assert dev.ensure_chromium() == 1
    assert ran == []
    assert "apt-get update && apt-get install -y chromium" in capsys.readouterr().err
    monkeypatch.setattr("dev.os.geteuid", lambda: 0)
    assert dev.ensure_chromium() == 0
    assert ran == [["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]]


def test_an_unreachable_hub_is_an_outage_the_sessions_ride_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A hub whose Redis is down when serve starts is not a reason to refuse to serve:
    # each session starts as a terminal does ([hub] fallback). The password stays out.
    import socket

    import tui.serve as serve_mod
    from tui.config import Settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    served: list[ServeOptions] = []

    async def fake_serve(opts: ServeOptions, out: Any) -> int:
        served.append(opts)
        return 0

    monkeypatch.setattr(serve_mod, "serve", fake_serve)
    args = argparse.Namespace(host="127.0.0.1", port=0, demo=False, hub=None, config=None)
    url = f"redis://:hunter2-secret@127.0.0.1:{port}/0"
    assert serve_mod.run_serve(args, Settings(), url) == 0
    assert len(served) == 1
    err = capsys.readouterr().err
    assert "fallback" in err and "hunter2-secret" not in err and f"127.0.0.1:{port}" in err
