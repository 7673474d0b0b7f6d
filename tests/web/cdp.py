"""A headless Chromium driven over the Chrome DevTools Protocol (CDP) with the project's
own ``websockets``: launch, open a tab, run JavaScript, close the tab. No selenium or
playwright. Chromium is told to reach nothing but loopback (no background networking,
every other host resolves to nothing, and any proxy-able fetch goes to a dead local port).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from websockets.asyncio.client import ClientConnection, connect

INSTALL = "apt-get update && apt-get install -y chromium"
"""What the browser tests need beyond Python: Debian's ``chromium`` package."""

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

TERMINAL_HOOK = """
(() => {
  // textual-serve's page keeps its xterm.js Terminal inside a closure. Its session
  // object assigns .terminal and then .fitAddon in its constructor; a setter for
  // "fitAddon" on Object.prototype sees that object once, keeps its terminal for the
  // test, and turns itself into an ordinary property on that object.
  Object.defineProperty(Object.prototype, "fitAddon", {
    configurable: true,
    set(value) {
      Object.defineProperty(this, "fitAddon", {
        value, writable: true, configurable: true, enumerable: true,
      });
      if (this.terminal) { window.__lockstepTerminal = this.terminal; }
    },
  });
})();
"""
"""Injected before the page's own scripts, so the test can read xterm.js's buffer."""

READ_SCREEN = """
(() => {
  const t = window.__lockstepTerminal;
  if (!t) { return null; }
  const b = t.buffer.active;
  const rows = [];
  for (let y = 0; y < b.length; y++) {
    const line = b.getLine(y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
})()
"""
"""The terminal's text, row by row, from xterm.js's public buffer API."""


def find_chromium() -> str | None:
    """The Chromium binary, or None."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    for path in ("/usr/bin/chromium", "/usr/lib/chromium/chromium"):
        if Path(path).exists():
            return path
    return None


@dataclass
class Tab:
    """One page target and its flattened CDP session."""

    browser: Browser
    target_id: str
    session_id: str

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """A CDP command in this tab."""
        return await self.browser.call(method, session_id=self.session_id, **params)

    async def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` in the page (None on a script error)."""
        reply = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in reply:
            return None
        return reply.get("result", {}).get("value")

    async def goto(self, url: str) -> None:
        """Navigate (the page's scripts run after the terminal hook)."""
        await self.call("Page.navigate", url=url)

    async def screen(self) -> str | None:
        """The xterm.js buffer's text, or None before the terminal exists."""
        text = await self.evaluate(READ_SCREEN)
        return text if isinstance(text, str) else None

    async def body_text(self) -> str:
        """The page's visible text."""
        text = await self.evaluate("document.body ? document.body.innerText : ''")
        return text if isinstance(text, str) else ""

    async def wait_screen(self, *needles: str, timeout: float = 40.0) -> str:
        """Poll the terminal until every needle shows; the last text on timeout."""
        last = ""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = await self.screen() or ""
            if all(n in last for n in needles):
                return last
            await asyncio.sleep(0.25)
        return last

    async def close(self) -> None:
        """Close the tab (as a user closing it)."""
        await self.browser.call("Target.closeTarget", targetId=self.target_id)


@dataclass
class Browser:
    """A running headless Chromium and its browser-level CDP connection."""

    proc: subprocess.Popen[bytes]
    ws: ClientConnection
    profile: tempfile.TemporaryDirectory[str]
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _pending: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _reader: asyncio.Task[None] | None = None

    def start_reader(self) -> None:
        """Route replies to their callers (events are dropped)."""
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            msg = json.loads(raw)
            future = self._pending.pop(msg.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(msg)

    async def call(
        self, method: str, session_id: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """A CDP command; its result (an error raises)."""
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session_id is not None:
            message["sessionId"] = session_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        await self.ws.send(json.dumps(message))
        reply = await asyncio.wait_for(future, 30)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    async def new_tab(self, url: str) -> Tab:
        """A new tab with the terminal hook installed, then navigated to ``url``."""
        target = await self.call("Target.createTarget", url="about:blank")
        attached = await self.call(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        tab = Tab(self, target["targetId"], attached["sessionId"])
        await tab.call("Page.enable")
        await tab.call("Runtime.enable")
        await tab.call("Page.addScriptToEvaluateOnNewDocument", source=TERMINAL_HOOK)
        await tab.goto(url)
        return tab

    async def close(self) -> None:
        """Close the connection, stop Chromium, remove its profile."""
        if self._reader is not None:
            self._reader.cancel()
        await self.ws.close()
        stop(self.proc)
        self.profile.cleanup()


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate Chromium and every process it started (its renderers and helpers
    outlive it briefly and would still be writing to the profile)."""
    try:
        helpers = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        helpers = []
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    _, alive = psutil.wait_procs(helpers, timeout=5)
    for helper in alive:
        try:
            helper.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)


async def launch(binary: str) -> Browser:
    """Start headless Chromium with a fresh profile and connect to it."""
    profile = tempfile.TemporaryDirectory(prefix="lockstep-chromium-", ignore_cleanup_errors=True)
    args = [
        binary,
        "--headless=new",
        "--remote-debugging-port=0",
        "--remote-debugging-address=127.0.0.1",
        f"--user-data-dir={profile.name}",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--no-pings",
        "--metrics-recording-only",
        # Loopback only: every other name resolves to nothing, and anything that would
        # go through a proxy goes to a closed local port.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
        "--proxy-server=127.0.0.1:9",
        "--window-size=1400,1000",
        "about:blank",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = Path(profile.name) / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    lines: list[str] = []
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            profile.cleanup()
            raise RuntimeError(f"chromium exited with {proc.returncode}")
        if port_file.exists():
            lines = port_file.read_text().split()
            if len(lines) >= 2:
                break
        await asyncio.sleep(0.05)
    if len(lines) < 2:
        stop(proc)
        profile.cleanup()
        raise RuntimeError("chromium did not write DevToolsActivePort")
    ws = await connect(f"ws://127.0.0.1:{lines[0]}{lines[1]}", max_size=2**24)
    browser = Browser(proc, ws, profile)
    browser.start_reader()
    return browser
