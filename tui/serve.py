"""``lockstep serve``: the dashboard in a browser.

An aiohttp server (textual-serve's protocol and its bundled xterm.js, so the page needs
nothing from outside the machine) starts one dashboard process per browser tab: the same
App as ``lockstep``, run with ``--read-only`` under Textual's web driver, reading the desk
hub when one is configured. Safe by default: it listens on 127.0.0.1; any other address
needs an access token (made here, or ``[serve] token``), checked in constant time on
every request. ``[serve] max_sessions`` caps the tabs: the next is refused with a page.
Closing a tab ends its process; SIGINT or SIGTERM ends the server and every session.

aiohttp and textual-serve are imported only when the server starts: this module is
imported by the command line's parser, which must stay cheap (bench B8).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import html
import logging
import secrets
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tui.config import HUB_ENV, Settings, is_loopback
from tui.terminal import install_signal_handlers, remove_signal_handlers

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger("lockstep.serve")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
STOP_WAIT_S = 3.0
"""How long a session process may take to quit when asked before it is killed."""
MAX_MESSAGE = 64 * 1024
"""Largest message a browser may send (keys and resizes are a few bytes)."""
MAX_CELLS = 1000
"""Largest terminal width or height a browser may ask for."""


def add_serve_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Register ``serve`` on the command line's subparsers (``common`` carries
    ``--config``, ``--demo`` and ``--hub``)."""
    p: argparse.ArgumentParser = sub.add_parser(
        "serve",
        parents=[common],
        help="the dashboard in a browser (read-only views; loopback unless a token is used)",
        description="Serve the dashboard to web browsers: each tab runs its own read-only "
        "dashboard (from the desk hub with --hub URL or [hub] url). Listens on 127.0.0.1 "
        "by default; any other address needs an access token ([serve] token, else a new "
        "one printed in the URL). Stops, with every session, on Ctrl-C or SIGTERM.",
    )
    p.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}; others need the token)",
    )
    p.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    return p


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, got {value}")
    return value


def needs_token(host: str, configured: str) -> bool:
    """A token is required beyond loopback, and wherever one is configured."""
    return bool(configured) or not is_loopback(host)


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison of what a request carried with the access token."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))


def session_command(*, demo: bool, config: str | None, python: str = sys.executable) -> list[str]:
    """The argv of one browser session's dashboard: the monitor, read-only. It never
    holds the hub URL: that goes in :func:`session_environment`."""
    argv = [python, "-m", "tui.cli", "--read-only"]
    if config:
        argv += ["--config", str(Path(config).expanduser().resolve())]
    if demo:
        argv.append("--demo")
    return argv


def session_environment(hub: str | None) -> dict[str, str]:
    """What a session's environment adds to the server's: the hub URL given on the
    server's command line (one from the config file reaches the session through the
    same file, one from ``$LOCKSTEP_HUB`` through the inherited environment)."""
    return {HUB_ENV: hub} if hub else {}


def client_size(query: Any) -> tuple[int, int]:
    """The terminal size a browser asked for, within 1..MAX_CELLS (80x24 if unreadable)."""
    return _cells(query.get("width"), 80), _cells(query.get("height"), 24)


def _cells(text: object, default: int) -> int:
    try:
        value = int(str(text))
    except ValueError:
        return default
    return max(1, min(MAX_CELLS, value))


@dataclass(frozen=True)
class ServeOptions:
    """What the server needs to know."""

    host: str
    port: int
    token: str | None
    """Required on every request when set."""
    max_sessions: int
    session_argv: tuple[str, ...]
    title: str = "lockstep"
    session_env: dict[str, str] = field(default_factory=dict, repr=False)
    """Added to each session's environment (:func:`session_environment`); not in the
    repr, as it may hold a password."""


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="/static/css/xterm.css">
<script src="/static/js/textual.js"></script>
<style>
  html, body {{ background: #0c181f; color: #e8eef2; margin: 0; }}
  body .textual-terminal {{ opacity: 0; }}
  body.-first-byte .textual-terminal {{ opacity: 1; }}
  .notice {{ position: absolute; inset: 0; display: flex; align-items: center;
    justify-content: center; font: 16px monospace; text-align: center; }}
  body.-first-byte .starting, .ended {{ display: none; }}
  body.-closed .ended {{ display: flex; z-index: 10; background: #0c181f; }}
  button {{ margin-top: 1em; padding: 0.6em 2em; font: inherit; cursor: pointer; }}
</style>
</head>
<body>
<div class="notice starting">{title}: starting the dashboard…</div>
<div class="notice ended"><div>The dashboard session ended.<br>
<button type="button" onclick="location.reload()">Start a new one</button></div></div>
<div id="terminal" class="textual-terminal"
  data-session-websocket-url="{websocket}" data-font-size="{font_size}"></div>
</body>
</html>
"""
"""The page: textual-serve's bundled script and stylesheet, nothing from elsewhere (its
own template loads a web font from a CDN, so lockstep writes its own)."""

FULL_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>lockstep: busy</title></head>
<body style="font: 16px monospace; background: #0c181f; color: #e8eef2; padding: 2em">
<h1>lockstep: every session is in use</h1>
<p>This server runs at most {limit} dashboard session(s) at once ([serve] max_sessions).
Close another tab showing it, then reload this page.</p>
</body></html>
"""

DENIED = "lockstep: this page needs its access token: open the URL `lockstep serve` printed.\n"


def _full_text(limit: int) -> str:
    return FULL_PAGE.format(limit=limit)


def _loopback_host(host_header: str) -> bool:
    """Whether a Host header names a loopback address (``127.0.0.1:8000``, ``[::1]``,
    ``localhost``)."""
    from urllib.parse import urlsplit

    try:
        name = urlsplit(f"//{host_header}").hostname
    except ValueError:
        return False
    return is_loopback(name)


def _cookie_name(port: int) -> str:
    # Cookies ignore the port: two servers on one host keep theirs apart by name.
    return f"lockstep_token_{port}"


class WebServer:
    """The HTTP side: the page, the static files, one websocket per session."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self._sessions: dict[Any, web.WebSocketResponse] = {}
        self._stopping = False
        self._ending: set[asyncio.Future[None]] = set()
        self._port = options.port

    @property
    def session_count(self) -> int:
        """Sessions running or starting."""
        return len(self._sessions)

    def make_app(self) -> web.Application:
        """The aiohttp application."""
        import textual_serve
        from aiohttp import web

        static = Path(textual_serve.__file__).parent / "static"
        app = web.Application(middlewares=[self._make_guard()])
        app.add_routes(
            [
                web.get("/", self._index),
                web.get("/ws", self._websocket),
                web.static("/static", static, show_index=False, follow_symlinks=False),
            ]
        )
        return app

    # -- access ---------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> tuple[bool, bool]:
        """Whether the request may pass, and whether it carried the token in its URL
        (then the response sets the cookie the page's own requests carry)."""
        token = self.options.token
        if token is None:
            return True, False
        if token_matches(request.query.get("token"), token):
            return True, True
        return token_matches(request.cookies.get(_cookie_name(self._port)), token), False

    @staticmethod
    def _same_origin(request: web.Request) -> bool:
        """A websocket must come from this server's own page: a browser sends the page's
        Origin, and another site's page must not start sessions here (cross-site
        websocket hijacking). Non-browser clients send none."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        from urllib.parse import urlsplit

        return urlsplit(origin).netloc.lower() == request.host.lower()

    def _make_guard(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        from aiohttp import web

        @web.middleware
        async def guard(
            request: web.Request,
            handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        ) -> web.StreamResponse:
            allowed, from_url = self._authorised(request)
            if not allowed:
                return web.Response(status=403, text=DENIED)
            if self.options.token is None and not _loopback_host(request.host):
                # No token means loopback only; a page from another name that resolves
                # here (DNS rebinding) must not read the dashboard or start sessions.
                return web.Response(status=403, text="lockstep: unexpected Host\n")
            if request.path == "/ws" and not self._same_origin(request):
                return web.Response(status=403, text="lockstep: cross-origin websocket refused\n")
            response = await handler(request)
            if from_url and self.options.token is not None and not response.prepared:
                response.set_cookie(
                    _cookie_name(self._port),
                    self.options.token,
                    httponly=True,
                    samesite="Strict",
                    secure=request.secure,
                )
            # The page and its files are not for other sites' frames, nor for caches.
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("Referrer-Policy", "no-referrer")
            return response

        return guard

    def _full(self) -> web.Response:
        from aiohttp import web

        return web.Response(
            status=503,
            text=_full_text(self.options.max_sessions),
            content_type="text/html",
            headers={"Retry-After": "10"},
        )

    # -- handlers -------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        if self._stopping or self.session_count >= self.options.max_sessions:
            return self._full()
        scheme = "wss" if request.secure else "ws"
        font_size = _cells(request.query.get("fontsize"), 16)
        body = PAGE.format(
            title=html.escape(self.options.title),
            websocket=html.escape(f"{scheme}://{request.host}/ws"),
            font_size=min(font_size, 64),
        )
        return web.Response(text=body, content_type="text/html")

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        # The slot is taken before anything is awaited, so two tabs cannot both get the
        # last one.
        if self._stopping or self.session_count >= self.options.max_sessions:
            return self._full()
        ws = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE)
        session = _new_session(self.options.session_argv, ws, self.options.session_env)
        self._sessions[session] = ws
        watcher: asyncio.Task[None] | None = None
        try:
            await ws.prepare(request)
            width, height = client_size(request.query)
            await session.start(width, height)
            log.info("session %s started (pid %s)", session.app_service_id[:8], session.pid)
            watcher = asyncio.create_task(_close_when_gone(session, ws))
            await _pump(ws, session)
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception:
            log.exception("session %s failed", session.app_service_id[:8])
        finally:
            if watcher is not None:
                watcher.cancel()
            # aiohttp cancels the handler when the browser's connection goes: the ending
            # runs on as its own task (kept here), so the process is always reaped and
            # the slot freed.
            ending = asyncio.ensure_future(self._end(session, ws))
            self._ending.add(ending)
            ending.add_done_callback(self._ending.discard)
            await asyncio.shield(ending)
        return ws

    async def _end(self, session: Any, ws: web.WebSocketResponse) -> None:
        try:
            await session.close(STOP_WAIT_S)
            if not ws.closed:
                await ws.close()
        finally:
            self._sessions.pop(session, None)
            log.info("session %s ended", session.app_service_id[:8])

    async def stop_sessions(self) -> None:
        """Refuse new sessions; ask every session to quit, kill what does not."""
        self._stopping = True
        sessions = list(self._sessions.items())
        await asyncio.gather(*(s.close(STOP_WAIT_S) for s, _ in sessions))
        for _, ws in sessions:
            if not ws.closed:
                await ws.close()
        if self._ending:
            await asyncio.gather(*self._ending, return_exceptions=True)


async def _pump(ws: web.WebSocketResponse, session: Any) -> None:
    """The browser's messages to the session: keys, resizes, focus; pings answered.
    Anything malformed is ignored (a browser is not trusted to be well-formed)."""
    import json

    from aiohttp import WSMsgType

    async for message in ws:
        if message.type != WSMsgType.TEXT:
            continue
        try:
            envelope = json.loads(message.data)
        except ValueError:
            continue
        if not isinstance(envelope, list) or not envelope:
            continue
        kind = envelope[0]
        data = envelope[1] if len(envelope) > 1 else None
        if kind == "stdin" and isinstance(data, str):
            await session.send_bytes(data.encode("utf-8", "replace"))
        elif kind == "resize" and isinstance(data, dict):
            width, height = client_size(data)
            await session.set_terminal_size(width, height)
        elif kind == "ping" and isinstance(data, str) and len(data) < 64:
            await ws.send_json(["pong", data])
        elif kind == "blur":
            await session.blur()
        elif kind == "focus":
            await session.focus()


async def _close_when_gone(session: Any, ws: web.WebSocketResponse) -> None:
    """A session process that ends by itself (q, a crash) closes its tab's websocket,
    which frees its slot."""
    await session.wait()
    if not ws.closed:
        await ws.close()


def _new_session(
    argv: Sequence[str], ws: web.WebSocketResponse, extra_env: dict[str, str] | None = None
) -> Any:
    """One browser tab's dashboard process, on textual-serve's AppService (the web
    driver's packet protocol), started without a shell and in its own process group."""
    from textual_serve.app_service import AppService
    from textual_serve.download_manager import DownloadManager

    async def close_ws() -> None:
        await ws.close()

    class Session(AppService):
        """A dashboard process and its pipes."""

        def __init__(self) -> None:
            super().__init__(
                " ".join(argv),
                write_bytes=ws.send_bytes,
                write_str=ws.send_str,
                close=close_ws,
                download_manager=DownloadManager(),
            )
            self.process: asyncio.subprocess.Process | None = None

        @property
        def pid(self) -> int | None:
            """The process id, once started."""
            return self.process.pid if self.process is not None else None

        async def _open_app_process(
            self, width: int = 80, height: int = 24
        ) -> asyncio.subprocess.Process:
            # AppService runs its command through a shell; lockstep runs the argv itself
            # (no quoting to get wrong) and keeps the process to end it for certain.
            env = self._build_environment(width=width, height=height)
            env.update(extra_env or {})
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                # Its own process group: Ctrl-C at the server's terminal reaches the
                # server, which ends the sessions in order.
                start_new_session=True,
            )
            assert process.stdin is not None
            self._process = self.process = process
            self._stdin = process.stdin
            return process

        async def on_meta(self, data: bytes) -> None:
            # A view delivers no files (nor opens URLs) through the browser.
            import json

            try:
                kind = json.loads(data).get("type")
            except (ValueError, AttributeError):
                return
            if kind == "exit":
                await self.remote_close()

        async def wait(self) -> None:
            """Until the process has ended."""
            if self.process is not None:
                await self.process.wait()

        async def close(self, wait_s: float) -> None:
            """Ask the process to quit; kill it if it has not within ``wait_s``.

            AppService.stop is not used: it waits on a task that swallows cancellation,
            so a process that ignores "quit" would hold its slot for ever."""
            process = self.process
            if process is not None and process.returncode is None:
                await self.send_meta({"type": "quit"})  # False on a broken pipe; no raise
                try:
                    async with asyncio.timeout(wait_s):
                        await process.wait()
                except TimeoutError:
                    log.warning("session %s did not quit; killing it", self.app_service_id[:8])
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    await process.wait()
            task, self._task = self._task, None
            if task is not None:
                # Its output ends with the process (unless a child of it kept the pipe).
                try:
                    async with asyncio.timeout(1.0):
                        await asyncio.shield(task)
                except TimeoutError:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    return Session()


def _url_host(host: str) -> str:
    """The host to print in the URL: an unspecified address (listen everywhere) is
    reached by this machine's name; IPv6 literals go in brackets."""
    if host in ("0.0.0.0", "::", ""):
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


async def serve(options: ServeOptions, out: TextIO) -> int:
    """Run the server until SIGINT or SIGTERM; every session is ended on the way out."""
    from aiohttp import web

    server = WebServer(options)
    runner = web.AppRunner(
        server.make_app(), handle_signals=False, access_log=None, shutdown_timeout=2.0
    )
    await runner.setup()
    site = web.TCPSite(runner, options.host, options.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        print(
            f"lockstep serve: cannot listen on {options.host}:{options.port}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    port = options.port
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            port = int(address[1])
            break
    server._port = port
    url = f"http://{_url_host(options.host)}:{port}/"
    if options.token is not None:
        url += f"?token={options.token}"
    # The one line that shows the token (never logged: access logging is off).
    print(f"lockstep serve: open {url}", file=out, flush=True)
    print(
        f"lockstep serve: at most {options.max_sessions} session(s); Ctrl-C stops "
        "the server and every session",
        file=out,
        flush=True,
    )
    log.info("serving on %s:%s (token %s)", options.host, port, "on" if options.token else "off")
    stop = asyncio.Event()
    installed = install_signal_handlers(lambda _name: stop.set())
    try:
        await stop.wait()
    finally:
        remove_signal_handlers(installed)
        await server.stop_sessions()
        await runner.cleanup()
    print("lockstep serve: stopped", file=out, flush=True)
    return 0


def run_serve(args: argparse.Namespace, settings: Settings, hub: str | None) -> int:
    """``lockstep serve``: check the hub (when given) once, then serve."""
    if hub is not None:
        from tui.hub import probe_hub

        probe = asyncio.run(probe_hub(hub, settings.hub))
        if probe.problem is not None and probe.fatal:
            # A wrong password or a certificate that does not verify: configuration.
            print(f"lockstep serve: {probe.problem}", file=sys.stderr)
            return 1
        if probe.problem is not None:
            # An outage: each session starts as a terminal would ([hub] fallback).
            print(
                f"lockstep serve: {probe.problem}; sessions follow [hub] fallback "
                f"({settings.hub.fallback!r}) until the hub is back",
                file=sys.stderr,
            )
    configured = settings.serve.token
    token: str | None = None
    if needs_token(args.host, configured):
        token = configured or secrets.token_urlsafe(24)
    options = ServeOptions(
        host=args.host,
        port=args.port,
        token=token,
        max_sessions=settings.serve.max_sessions,
        session_argv=tuple(session_command(demo=args.demo, config=args.config)),
        session_env=session_environment(getattr(args, "hub", None)),
        title="lockstep (DEMO)" if args.demo else "lockstep",
    )
    try:
        return asyncio.run(serve(options, sys.stdout))
    except KeyboardInterrupt:
        return 0
