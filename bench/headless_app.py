"""The real app, headless, with measuring probes: run as a child process by the harness.

``python -m bench.headless_app --config PATH [--poll-url URL --poll-interval S]``

It builds the runtime exactly as ``lockstep`` does (same settings, same feeds, the
history store in the data directory, which the harness seeds warm) and runs
:class:`~tui.app.LockstepApp` under ``App.run_test(headless=True, size=(120, 40))``.
Inside the app's event loop it adds:

* a 10 ms sleep-drift probe (B9): every wake-up records how late it was;
* a sampler on the same tick: messages applied so far, the latest Coinbase tick
  (price = message number, ``received`` = when it was read and applied), and whether
  the websocket had stopped reading (``max_queue`` full);
* counters for frames (``post_display_hook``), ``BtcPanel.show`` and ``Static.update``
  calls, to prove no widget is called per message.

With ``--poll-url`` an extra polled feed (a :class:`feeds.core.poll.PolledFeed`) polls that
URL on the app's loop, for B11 when the app has no polled panels of its own.

Protocol: one JSON line ``{"ready": ...}`` on stdout once mounted; then it runs until
a line ``stop`` arrives on stdin, and prints ``{"result": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.simhost import price_to_seq


def polled_urls(feeds: Sequence[object]) -> list[str]:
    """Loopback base URLs held by the runtime's polled feeds (to find the servers)."""
    from feeds.core.poll import PolledFeed

    urls: list[str] = []
    for feed in feeds:
        if not isinstance(feed, PolledFeed):
            continue
        for name in dir(feed):
            if name.startswith("__"):
                continue
            try:
                value = getattr(feed, name)
            except Exception:  # noqa: BLE001 - properties may raise
                continue
            if isinstance(value, str) and value.startswith("http://127.0.0.1"):
                urls.append(value)
    return sorted(set(urls))


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    """Run the app until told to stop; return the measurements."""
    import textual.widgets

    from feeds.core.clock import SystemClock
    from feeds.core.poll import PolledFeed, PollTiming
    from feeds.model.btc import Tick
    from tui.app import LockstepApp
    from tui.config import data_dir, load_settings
    from tui.logs import setup_logging
    from tui.runtime import build_runtime
    from widgets.btc_panel import BtcPanel

    settings, _ = load_settings(args.config)
    setup_logging(data_dir(settings))
    # History on disk in the data directory, as ``lockstep`` opens it (tui/cli.py); without
    # ``data`` the store is in memory and every headless run would backfill from scratch.
    runtime = build_runtime(settings, SystemClock(), data=data_dir(settings))

    if args.poll_url:

        class BenchPoll(PolledFeed):
            """A polled source on the app's loop (B11 when no polled panel exists)."""

            source = "bench-poll"

            def interval(self) -> float:
                return float(args.poll_interval)

            async def poll(self) -> Sequence[object]:
                resp = await self.get(args.poll_url)
                return [] if resp.status == 200 else []

        runtime.feeds.append(
            BenchPoll(
                client=runtime.client,
                clock=runtime.clock,
                timing=PollTiming(connect=2.0, read=float(args.poll_timeout), deadline=15.0),
            )
        )

    counts = {"show": 0, "update": 0}
    frames: list[float] = []
    orig_show = BtcPanel.show
    orig_update = textual.widgets.Static.update

    def show(self: BtcPanel, view: Any) -> None:
        counts["show"] += 1
        orig_show(self, view)

    def update(self: textual.widgets.Static, *a: Any, **kw: Any) -> None:
        counts["update"] += 1
        orig_update(self, *a, **kw)

    BtcPanel.show = show  # type: ignore[method-assign]
    textual.widgets.Static.update = update  # type: ignore[method-assign]

    class BenchApp(LockstepApp):
        def post_display_hook(self) -> None:
            frames.append(time.monotonic())

    app = BenchApp(
        runtime,
        fps=settings.ui.fps,
        low_bandwidth=settings.ui.low_bandwidth,
        watch_terminal=False,
    )
    drifts: list[tuple[float, float]] = []
    samples: list[list[float]] = []
    stop = asyncio.Event()

    def latest() -> tuple[int, float]:
        try:
            btc = runtime.store._slices.get("btc")  # noqa: SLF001 - read-only peek
            last = getattr(btc, "_last", {}).get("coinbase")
        except Exception:  # noqa: BLE001
            last = None
        if isinstance(last, Tick):
            return price_to_seq(float(last.price)), last.received
        return 0, 0.0

    def paused() -> float:
        feed = runtime.feeds[0] if runtime.feeds else None
        ws = getattr(feed, "_ws", None)
        assembler = getattr(ws, "recv_messages", None)
        return 1.0 if getattr(assembler, "paused", False) else 0.0

    async def probe() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            t0 = loop.time()
            await asyncio.sleep(0.01)
            now = time.monotonic()
            drifts.append((now, (loop.time() - t0 - 0.01) * 1000))
            seq, rx = latest()
            samples.append(
                [
                    now,
                    float(runtime.store.applied),
                    float(seq),
                    rx,
                    paused(),
                    float(len(frames)),
                    float(counts["show"]),
                    float(counts["update"]),
                ]
            )

    async def stdin_stop() -> None:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line or line.strip() == "stop":
                stop.set()
                return

    t_start = time.monotonic()
    async with app.run_test(headless=True, size=(120, 40)) as pilot:
        await pilot.pause()
        print(
            json.dumps(
                {
                    "ready": time.monotonic(),
                    "t_start": t_start,
                    "polled": polled_urls(runtime.feeds),
                    "feeds": [type(f).__name__ for f in runtime.feeds],
                }
            ),
            flush=True,
        )
        tasks = [asyncio.create_task(probe()), asyncio.create_task(stdin_stop())]
        await stop.wait()
        seq, rx = latest()
        for task in tasks:
            task.cancel()
        errors = []
        for task in tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))
        result = {
            "drifts": drifts,
            "samples": samples,
            "frames": frames,
            "counts": counts,
            "last_seq": seq,
            "last_rx": rx,
            "applied": runtime.store.applied,
            "errors": errors,
        }
        app.exit()
    return result


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.headless_app")
    parser.add_argument("--config", required=True)
    parser.add_argument("--poll-url", default="")
    parser.add_argument("--poll-interval", type=float, default=5.0)
    parser.add_argument("--poll-timeout", type=float, default=10.0)
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    print(json.dumps({"result": result}), flush=True)


if __name__ == "__main__":
    main()
