"""The simulated market for a benchmark run, on its own event loop in a thread of the
harness process (pinned with the harness, away from the app's core).

Every endpoint the market reports is written into the app's config, so the full
default dashboard is measured as panels land. BTC prices run in ``sequence`` mode:
price = 40000 + n / 100 for the n-th Coinbase message, and the send time of every
message is recorded, so a price on screen gives back when it was sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from collections.abc import Awaitable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from feeds.core.clock import SystemClock
from feeds.sim.market import SimMarket, start_market

T = TypeVar("T")

BASE_PRICE = 40_000.0

CLOSED_URL = "http://127.0.0.1:9"
"""Where a failing source is pointed (``failing_http``): the discard port on loopback,
which nothing listens on in the bench's environment, so every request is refused at
connect. Loopback only, as everything the bench sends."""


def is_ws(url: str) -> bool:
    """True for a websocket endpoint (``ws://`` / ``wss://``)."""
    return url.lower().startswith(("ws://", "wss://"))


def price_to_seq(value: float) -> int:
    """The message number a sequence-mode price encodes."""
    return round((value - BASE_PRICE) * 100)


def _toml_value(value: float | int | str) -> str:
    """A scalar as TOML (JSON's string escapes are valid TOML basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


SHORTEST_POLLS: dict[str, dict[str, float | int | str]] = {
    "quotes": {
        "interval_regular": 5.0,
        "interval_extended": 5.0,
        "interval_futures": 5.0,
        "interval_closed": 5.0,
    },
    "fed": {
        "kalshi_interval": 5.0,
        "polymarket_interval": 5.0,
        "zq_interval": 30.0,
        "target_interval": 60.0,
    },
    "tbills": {"active_poll_s": 15.0, "idle_poll_s": 15.0, "schedule_poll_s": 60.0},
}
"""Every polled source at its shortest allowed interval (the config's floors): a
minute, or a 20-s window, then holds polls of every source."""


class SimHost:
    """Start, steer and stop the simulated market from synchronous harness code."""

    def __init__(self, rate: float = 0.0) -> None:
        self._rate = rate
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="bench-sim", daemon=True)
        self.market: SimMarket | None = None
        self.endpoints: dict[str, str] = {}
        self.skipped_endpoints: list[str] = []
        self._base = 0
        self._times: list[float] | None = None
        self.extra_servers: list[Any] = []

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> SimHost:
        """Start the market (Coinbase at ``rate``, Kraken heartbeats only)."""
        self._thread.start()
        self.market = self.call(start_market(SystemClock(), btc_rate=0.0, price_mode="sequence"))
        # Kraken trades at a basis to Coinbase: keep it to heartbeats and its subscribe
        # snapshot so every price on screen is a Coinbase sequence price.
        self.market.btc.kraken.set_script(rate=0.0)
        self.endpoints = dict(self.market.endpoints)
        self.record()
        self.set_rate(self._rate)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        def quiet(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            # Requests held by a hang fault are cancelled when a run ends: expected.
            if isinstance(context.get("exception"), asyncio.CancelledError):
                return
            loop.default_exception_handler(context)

        self._loop.set_exception_handler(quiet)
        self._loop.run_forever()

    def call(self, coro: Awaitable[T], timeout: float = 15.0) -> T:
        """Run a coroutine on the market's loop and wait for it."""

        async def wrap() -> T:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrap(), self._loop).result(timeout)

    def stop(self) -> None:
        """Stop every server and the loop."""
        if self.market is not None and self._loop.is_running():
            try:
                self.call(self.market.stop(), timeout=5)
            except Exception:  # noqa: BLE001 - best effort at the end of a run
                pass
            for server in self.extra_servers:
                try:
                    self.call(server.stop(), timeout=5)
                except Exception:  # noqa: BLE001
                    pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._loop.is_running():
            self._loop.close()

    def __enter__(self) -> SimHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- steering -------------------------------------------------------------------

    @property
    def btc(self) -> Any:
        """The simulated BTC venues."""
        assert self.market is not None
        return self.market.btc

    def set_rate(self, rate: float) -> None:
        """Coinbase ticker messages per second from now on."""
        self._rate = rate
        self.btc.coinbase.set_script(rate=float(rate))

    @property
    def rate(self) -> float:
        """The current Coinbase rate."""
        return self._rate

    @property
    def sent(self) -> int:
        """Coinbase ticker messages sent so far (the last sequence number)."""
        return int(self.btc.path.n)

    def record(self) -> None:
        """Start a fresh send-time record (done on the market loop, so no message is
        stepped between reading the base and swapping the list)."""

        def swap() -> None:
            path = self.btc.path
            self._base = path.n
            self._times = []
            path.send_times = self._times

        self._on_loop(swap)

    def stop_recording(self) -> None:
        """Stop recording send times (long soaks sample windows only)."""

        def off() -> None:
            self.btc.path.send_times = None

        self._on_loop(off)

    def _on_loop(self, fn: Any) -> None:
        done = threading.Event()

        def run() -> None:
            try:
                fn()
            finally:
                done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(5)

    def send_time(self, seq: int) -> float | None:
        """The monotonic send time of message ``seq``, if recorded."""
        times = self._times
        i = seq - self._base - 1
        if times is None or i < 0 or i >= len(times):
            return None
        return times[i]

    def requests_between(self, t0: float, t1: float) -> dict[str, int]:
        """Requests each polled source logged within [t0, t1] (``time.monotonic``)."""
        assert self.market is not None
        out = {}
        for name, extra in self.market.extras.items():
            server = getattr(extra, "server", extra)
            out[name] = sum(1 for t, _ in list(server.log) if t0 <= t <= t1)
        return out

    def recorded(self) -> tuple[int, list[float]]:
        """(base, times): message ``base + i + 1`` was sent at ``times[i]``."""
        return self._base, list(self._times or [])

    def cut_coinbase(self, down_for: float = 0.3) -> float:
        """Force a server-side disconnect: stop the venue, restart it on the same port.
        Returns the monotonic time the venue came back."""
        assert self.market is not None
        self.call(self.market.cut("coinbase_ws"))
        time.sleep(down_for)
        self.call(self.market.restore("coinbase_ws"))
        return time.monotonic()

    # -- config ---------------------------------------------------------------------

    def write_config(
        self,
        path: Path,
        *,
        fps: float | None = None,
        extra: dict[str, str] | None = None,
        tables: Mapping[str, Mapping[str, float | int | str]] | None = None,
        failing_http: bool = False,
    ) -> Path:
        """A lockstep config pointing every known endpoint at the market; ``tables`` adds
        settings (``{"history": {"page_delay_s": 0.0}}``), ``fps`` sets ``[ui] fps``.

        ``failing_http``: every polled (non-websocket) endpoint points at
        :data:`CLOSED_URL` instead, so every poll fails at connect from the first one,
        while the BTC websockets still answer (the "every polled source failing" idle
        of issue 17). Applied after ``extra``."""
        from tui.config import Endpoints

        known = {f.name for f in dataclasses.fields(Endpoints)}
        urls = dict(self.endpoints)
        if extra:
            urls.update(extra)
        if failing_http:
            urls = {k: v if is_ws(v) else CLOSED_URL for k, v in urls.items()}
        self.skipped_endpoints = sorted(k for k in urls if k not in known)
        lines = ["[endpoints]"]
        lines += [f'{k} = "{v}"' for k, v in sorted(urls.items()) if k in known]
        more: dict[str, dict[str, float | int | str]] = {
            name: dict(values) for name, values in (tables or {}).items()
        }
        if fps is not None:
            more.setdefault("ui", {})["fps"] = float(fps)
        for name, values in more.items():
            lines += ["", f"[{name}]"]
            for key, value in values.items():
                lines.append(f"{key} = {_toml_value(value)}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path
