"""The floor: a hand-written ANSI printer fed the same stream as the app.

``python -m bench.baseline --url ws://127.0.0.1:PORT [--fps 10]``

It uses the same receive stack as the app (websockets, ``recv(decode=False)``,
orjson), keeps the latest BTC ticker (latest value wins) and, at the app's render
rate, rewrites only the fields whose text changed with cursor moves and plain SGR:
the least CPU and the fewest bytes that can show the same BTC figures (price, 24 h
change, range, volume, bid/ask) from the same stream.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

FIELDS = ("price", "change", "range", "book")
ROW = {"price": 3, "change": 3, "range": 4, "book": 5}
COL = {"price": 3, "change": 20, "range": 3, "book": 3}
WIDTH = {"price": 15, "change": 40, "range": 60, "book": 60}


class Printer:
    """Latest value in, changed fields out."""

    def __init__(self) -> None:
        self.latest: dict[str, object] | None = None
        self.shown: dict[str, str] = {}
        self.out = sys.stdout.fileno()

    def setup(self) -> None:
        """Alternate screen, hidden cursor, the static labels."""
        os.write(
            self.out,
            b"\x1b[?1049h\x1b[?25l\x1b[2J\x1b[1;1H\x1b[1mBTC-USD\x1b[0m  raw ANSI baseline",
        )

    def teardown(self) -> None:
        """Give the terminal back."""
        os.write(self.out, b"\x1b[0m\x1b[?25h\x1b[?1049l")

    def texts(self, msg: dict[str, object]) -> dict[str, str]:
        """The four fields as text."""
        price = float(str(msg.get("price")))
        open_24h = float(str(msg.get("open_24h") or price))
        diff = price - open_24h
        pct = diff / open_24h * 100 if open_24h else 0.0
        arrow = "▲" if diff > 0 else "▼" if diff < 0 else "■"
        return {
            "price": f"${price:,.2f}",
            "change": f"{arrow} {pct:+.2f}%  {diff:+,.0f} 24h",
            "range": (
                f"24h high {float(str(msg.get('high_24h'))):,.0f}  "
                f"low {float(str(msg.get('low_24h'))):,.0f}  "
                f"vol {float(str(msg.get('volume_24h'))):,.0f} BTC"
            ),
            "book": (
                f"bid {float(str(msg.get('best_bid'))):,.2f}  "
                f"ask {float(str(msg.get('best_ask'))):,.2f}"
            ),
        }

    def paint(self) -> None:
        """Write the fields whose text changed since the last paint."""
        msg, self.latest = self.latest, None
        if msg is None:
            return
        try:
            texts = self.texts(msg)
        except (TypeError, ValueError):
            return
        parts = []
        for key in FIELDS:
            text = texts[key]
            if self.shown.get(key) == text:
                continue
            self.shown[key] = text
            style = "\x1b[1m" if key == "price" else ""
            parts.append(f"\x1b[{ROW[key]};{COL[key]}H{style}{text:<{WIDTH[key]}}\x1b[0m")
        if parts:
            os.write(self.out, "".join(parts).encode())


async def run(url: str, fps: float) -> None:
    """Read the stream and paint at ``fps`` until cancelled."""
    printer = Printer()
    printer.setup()

    async def painter() -> None:
        period = 1.0 / fps
        loop = asyncio.get_running_loop()
        nxt = loop.time()
        while True:
            nxt += period
            await asyncio.sleep(max(0.0, nxt - loop.time()))
            printer.paint()

    task = asyncio.create_task(painter())
    try:
        while True:
            try:
                async with connect(url, max_queue=16, compression=None) as ws:
                    await ws.send(
                        orjson.dumps(
                            {
                                "type": "subscribe",
                                "product_ids": ["BTC-USD"],
                                "channels": ["ticker", "heartbeat"],
                            }
                        ).decode()
                    )
                    while True:
                        raw = await ws.recv(decode=False)
                        msg = orjson.loads(raw)
                        if msg.get("type") == "ticker" and msg.get("product_id") == "BTC-USD":
                            printer.latest = msg
            except (OSError, ConnectionClosed):
                await asyncio.sleep(0.5)
    finally:
        task.cancel()
        printer.teardown()


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.baseline")
    parser.add_argument("--url", required=True)
    parser.add_argument("--fps", type=float, default=10.0)
    args = parser.parse_args()

    async def guarded() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        await run(args.url, args.fps)

    try:
        asyncio.run(guarded())
    except (asyncio.CancelledError, KeyboardInterrupt):
        pass


if __name__ == "__main__":
    main()
