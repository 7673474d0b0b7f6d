"""Why a hub terminal's CPU cannot reach half a direct one's (issue 15, B13; bench/misses.py
D9): a hub-fed App and a direct App side by side, headless at 120×40 and 10 Hz, their
markets first both at 1,000 BTC msg/s, then both at 20 msg/s, alternated.

``python -m bench.hub_floor [--window 15] [--rounds 2]``

At 20 msg/s every frame still changes the price, so that phase is each App's fixed cost
F (the 1 Hz housekeeping and the 10 Hz paint). The direct App's step to 1,000 msg/s is
its ingest d; the hub App's is what the relayed events (and the larger changes per frame
they carry) add, h. The ratio B13 judges is (F + h) / (F + d): it reaches 0.5 only if
F ≤ d − 2h. The tool prints the four figures, F, d, h and that bound.

A development tool, not a benchmark row: nothing here is written to RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.b13_hub import TABLES, HubHeadless, _market_and_hub
from bench.common import log
from bench.headless_run import Headless
from bench.simhost import SimHost
from bench.warm import seed, wait_caught_up

RATES = (1000.0, 20.0)
"""BTC msg/s of the two phases: the B13 load, then a rate at which only the frames cost."""


def measure(window: float, rounds: int) -> dict[tuple[str, float], list[float]]:
    """CPU % of a core per (App, rate), one figure per round."""
    out: dict[tuple[str, float], list[float]] = {
        (app, rate): [] for app in ("hub", "direct") for rate in RATES
    }
    with (
        tempfile.TemporaryDirectory(prefix="lsbench-floor-") as d,
        _market_and_hub(Path(d)) as (redis, sim, _hub, cfg),
        SimHost(rate=10.0) as sim_b,
    ):
        tmp = Path(d)
        (tmp / "hubapp").mkdir()
        cfg_b = sim_b.write_config(tmp / "direct.toml", fps=10.0, tables=TABLES)
        seed(tmp / "direct")
        launched = time.monotonic()
        direct = Headless(cfg_b, tmp / "direct").start()
        try:
            hub_app = HubHeadless(cfg, tmp / "hubapp", hub=redis.url).start()
        except BaseException:
            direct.kill()
            raise
        try:
            wait_caught_up(sim_b, launched)
            for r in range(rounds):
                for rate in RATES:
                    sim.set_rate(rate)
                    sim_b.set_rate(rate)
                    time.sleep(4.0)  # the rate settles, the hub's coalescing with it
                    t0, h0, d0 = time.monotonic(), hub_app.cpu_seconds(), direct.cpu_seconds()
                    time.sleep(window)
                    t1, h1, d1 = time.monotonic(), hub_app.cpu_seconds(), direct.cpu_seconds()
                    out[("hub", rate)].append((h1 - h0) / (t1 - t0) * 100)
                    out[("direct", rate)].append((d1 - d0) / (t1 - t0) * 100)
                    log(
                        f"  round {r + 1}, {rate:g} msg/s: hub {out[('hub', rate)][-1]:.2f} %, "
                        f"direct {out[('direct', rate)][-1]:.2f} %"
                    )
            sim.set_rate(RATES[0])
            hub_app.stop()
            direct.stop()
        except BaseException:
            hub_app.kill()
            direct.kill()
            raise
    return out


def main() -> None:
    """Run the phases and print the figures and the bound."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--window", type=float, default=15.0, help="seconds a phase is measured")
    p.add_argument("--rounds", type=int, default=2, help="alternations of the two phases")
    args = p.parse_args()
    got = {k: statistics.mean(v) for k, v in measure(args.window, args.rounds).items()}
    hi, lo = RATES
    floor = statistics.mean((got[("hub", lo)], got[("direct", lo)]))
    d = got[("direct", hi)] - got[("direct", lo)]
    h = got[("hub", hi)] - got[("hub", lo)]
    for (app, rate), value in got.items():
        print(f"{app:>6} App at {rate:>5g} msg/s: {value:.2f} % of a core")
    print(f"ratio at {hi:g} msg/s: {got[('hub', hi)] / got[('direct', hi)]:.3f}")
    print(f"F (fixed cost) {floor:.2f} %, d (direct ingest) {d:.2f} %, h (relay) {h:.2f} %")
    print(f"0.5x needs F <= d - 2h = {d - 2 * h:.2f} % (with a free relay: F <= d = {d:.2f} %)")


if __name__ == "__main__":
    main()
