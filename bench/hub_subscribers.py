"""Several desk terminals in one process, for B13: each the runtime ``lockstep snapshot
--hub`` and ``watch --hub`` build (the hub's feed, the whole store, its fallback to
direct feeds), drained at 10 Hz as a terminal's paint loop drains it, without a screen.

``python -m bench.hub_subscribers --config PATH --hub URL --count K``

Two hundred full terminal processes do not fit on a 2-core box (each imports the app
and idles at a few per cent), so the harness runs N terminals as a few of these
processes. Each instance has its own Redis connection, HubFeed, decoder, store and
fallback: what is shared is the interpreter and the event loop.

Every instance's decoder is wrapped to time each Tick it accepts: the delay from the
hub's receipt of the tick (its ``received``, relayed as wall time) to this decode, on
the same machine's clock; it includes any time the hub held the tick to coalesce it
(``[hub] tick_every_ms``). The latencies of all instances go into one
histogram (0.1 ms buckets), so the harness can merge processes exactly.

Protocol: one JSON line ``{"ready": ...}`` once every instance is LIVE on the hub (or
after a timeout, saying how many are); then ``mark`` on stdin starts the measured window
(counters reset) and ``stop`` ends it: one ``{"result": ...}`` line, and the process exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

BUCKET_S = 0.0001
"""Histogram bucket width (0.1 ms)."""

BUCKETS = 100_000
"""Buckets up to 10 s; slower decodes land in the last one (its count is reported)."""


@dataclass(slots=True)
class Counts:
    """One instance's window counters."""

    ticks: int = 0
    bad: int = 0
    skips0: int = 0
    last_lag: float = 0.0


class Recorder:
    """Latency histogram and per-instance counters for one process."""

    def __init__(self) -> None:
        self.on = False
        self.hist = [0] * (BUCKETS + 1)
        self.max = 0.0

    def add(self, seconds: float) -> None:
        """One accepted tick, ``seconds`` after the hub received it."""
        i = int(seconds / BUCKET_S)
        self.hist[min(max(i, 0), BUCKETS)] += 1
        if seconds > self.max:
            self.max = seconds

    def sparse(self) -> dict[str, int]:
        """The non-empty buckets (JSON keys are text)."""
        return {str(i): n for i, n in enumerate(self.hist) if n}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    """Run ``args.count`` hub terminals until told to stop; return the measurements."""
    from feeds.core.clock import SystemClock
    from feeds.hub.subscribe import HubFeed
    from feeds.model.btc import Tick
    from feeds.model.core import FeedState
    from tui.config import load_settings
    from tui.runtime import Runtime, build_runtime

    if args.read_every is not None:
        from feeds.hub import subscribe

        subscribe.READ_EVERY_S = float(args.read_every)
    settings, _ = load_settings(args.config)
    clock = SystemClock()
    rec = Recorder()
    runtimes: list[Runtime] = []
    feeds: list[HubFeed] = []
    counts: list[Counts] = []
    for i in range(args.count):
        rt = build_runtime(settings, clock, data=None, hub=args.hub)
        feed = rt.feeds[0]
        assert isinstance(feed, HubFeed)
        feed.id = f"{args.name}-{i}"
        c = Counts()
        decoder = feed.decoder
        decode = decoder.decode

        def timed(
            raw: object, decode: Any = decode, decoder: Any = decoder, c: Counts = c
        ) -> object:
            event = decode(raw)
            if rec.on and type(event) is Tick and event.source == "coinbase":
                # From the hub's receipt of the tick (its ``received``, relayed as wall
                # time and read back on this clock): a tick the hub held for its
                # coalescing window counts that hold too.
                lag = clock.monotonic() - event.received
                rec.add(lag)
                c.ticks += 1
                c.last_lag = lag
            return event

        decoder.decode = timed  # type: ignore[method-assign]
        runtimes.append(rt)
        feeds.append(feed)
        counts.append(c)
        rt.start()

    stop = asyncio.Event()
    marked = asyncio.Event()

    async def paint_loop() -> None:
        # A terminal drains its store at its paint rate (10 Hz by default).
        while not stop.is_set():
            now = clock.monotonic()
            for rt in runtimes:
                rt.drain(now)
            await asyncio.sleep(0.1)

    async def commands() -> None:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            word = line.strip()
            if word == "mark":
                for feed, c in zip(feeds, counts, strict=True):
                    c.ticks, c.bad, c.skips0 = 0, feed.decoder.bad, feed.skips
                rec.hist = [0] * (BUCKETS + 1)
                rec.max = 0.0
                rec.on = True
                marked.set()
            elif not line or word == "stop":
                rec.on = False
                stop.set()
                return

    painter = asyncio.create_task(paint_loop())
    reader = asyncio.create_task(commands())
    deadline = time.monotonic() + args.ready_timeout
    while time.monotonic() < deadline:
        if all(f.state is FeedState.LIVE for f in feeds):
            break
        await asyncio.sleep(0.1)
    live = sum(1 for f in feeds if f.state is FeedState.LIVE)
    print(json.dumps({"ready": time.monotonic(), "live": live, "count": len(feeds)}), flush=True)
    await stop.wait()
    result = {
        "hist": rec.sparse(),
        "max": rec.max,
        "ticks": [c.ticks for c in counts],
        "bad": [f.decoder.bad - c.bad for f, c in zip(feeds, counts, strict=True)],
        "skips": [f.skips - c.skips0 for f, c in zip(feeds, counts, strict=True)],
        "last_lag": [c.last_lag for c in counts],
        "live": sum(1 for f in feeds if f.state is FeedState.LIVE),
        "fallback": sum(1 for rt in runtimes if getattr(rt.on_drain, "active", None)),
    }
    print(json.dumps({"result": result}), flush=True)
    painter.cancel()
    reader.cancel()
    for rt in runtimes:
        for feed in rt.feeds:
            await feed.aclose()
    try:
        async with asyncio.timeout(10):
            await asyncio.gather(*(rt.aclose() for rt in runtimes), return_exceptions=True)
    except TimeoutError:
        pass
    return result


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.hub_subscribers")
    parser.add_argument("--config", required=True)
    parser.add_argument("--hub", required=True)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--name", default="sub")
    parser.add_argument("--ready-timeout", type=float, default=60.0)
    parser.add_argument(
        "--read-every",
        type=float,
        default=None,
        help="override feeds.hub.subscribe.READ_EVERY_S (0: read again at once)",
    )
    args = parser.parse_args()
    asyncio.run(main_async(args))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
