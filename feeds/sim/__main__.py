"""Run the simulated market on its own: ``python -m feeds.sim``.

Prints a config file (TOML) whose [endpoints] point at the simulated servers, then
serves until stopped. Commands on standard input, one per line:

    rate N                  ticker messages per second per connection (both venues)
    cut SOURCE              stop a source listening (coinbase_ws, kraken_ws, yahoo ...)
    restore SOURCE          bring it back on the same port
    mode VENUE MODE         script a venue: normal, stall, accept_close, oversize ...
    quit
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from feeds.core.clock import DEMO_START, Clock, ShiftedClock, SystemClock
from feeds.sim.market import SimMarket, start_market


def endpoints_toml(endpoints: dict[str, str]) -> str:
    """A config file pointing every source at the simulated market."""
    lines = ["[endpoints]"] + [f'{k} = "{v}"' for k, v in sorted(endpoints.items())]
    return "\n".join(lines) + "\n"


async def _commands(market: SimMarket) -> None:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        words = line.split()
        if not words:
            continue
        cmd, args = words[0], words[1:]
        if cmd == "quit":
            return
        if cmd == "rate" and args:
            rate = float(args[0])
            market.btc.coinbase.set_script(rate=rate)
            market.btc.kraken.set_script(rate=rate)
        elif cmd == "cut" and args:
            await market.cut(args[0])
        elif cmd == "restore" and args:
            await market.restore(args[0])
        elif cmd == "mode" and len(args) == 2:
            venue = market.btc.coinbase if args[0].startswith("coinbase") else market.btc.kraken
            venue.set_script(mode=args[1])
        print(f"ok {line.strip()}", flush=True)


async def _main(args: argparse.Namespace) -> None:
    clock: Clock = ShiftedClock(DEMO_START) if args.demo_clock else SystemClock()
    market = await start_market(clock, btc_rate=args.rate, price_mode=args.price_mode)
    if args.kraken_rate is not None:
        market.btc.kraken.set_script(rate=args.kraken_rate)
    print(endpoints_toml(market.endpoints), flush=True)
    print("# ready", flush=True)
    try:
        await _commands(market)
    finally:
        await market.stop()


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m feeds.sim",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rate", type=float, default=4.0, help="BTC messages/s per venue")
    parser.add_argument("--kraken-rate", type=float, default=None, help="override for Kraken")
    parser.add_argument("--price-mode", choices=["walk", "sequence"], default="walk")
    parser.add_argument("--demo-clock", action="store_true", help="replay Dec 12, 2025")
    try:
        asyncio.run(_main(parser.parse_args()))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
