"""B8 startup: time to first paint and to the first live price under the pty, and the
import time of the app's modules. The targets are for a warm start (a copy of the
invocation's warm data directory, bench/warm.py); a cold first run (empty data
directory) is reported alongside for information."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import ROOT, Section, child_env, log, median, percentile
from bench.scenarios import launch
from bench.simhost import SimHost
from bench.warm import seed, warm_cache


def import_ms(runs: int) -> float:
    """``python -X importtime`` total for the app's modules (sum of self times), ms."""
    totals = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as d:
            proc = subprocess.run(
                [sys.executable, "-X", "importtime", "-c", "import tui.cli, tui.app"],
                cwd=ROOT,
                env=child_env(Path(d)),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        total = 0
        for line in proc.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            try:
                total += int(line.split(":", 1)[1].split("|")[0])
            except ValueError:
                continue
        totals.append(total / 1000)
    return median(totals[1:] if len(totals) > 1 else totals)


@dataclass(slots=True)
class Launches:
    """First paint and first live price of a series of launches, seconds after exec."""

    paints: list[float] = field(default_factory=list)
    prices: list[float] = field(default_factory=list)
    hidden: int = 0
    """Launches whose BTC price never showed (counted as ∞ in ``prices``)."""
    failures: int = 0
    """Launches that never painted."""


def launch_once(warm: bool) -> tuple[float | None, float | None]:
    """One launch against a market already streaming 100 msg/s, from a fresh data
    directory: a copy of the warm one, or empty (a first run). Returns (first paint,
    first price) in seconds after exec, None for what never came."""
    with SimHost(rate=100.0) as sim, tempfile.TemporaryDirectory(prefix="lsbench-") as d:
        if warm:
            seed(Path(d))
        prog = launch("app", sim, Path(d))
        try:
            prog.wait_for(lambda p=prog: p.first_paint is not None, 15.0)  # type: ignore[misc]
            prog.wait_for(lambda p=prog: p.first_price is not None, 4.0)  # type: ignore[misc]
        finally:
            prog.stop()
    paint = None if prog.first_paint is None else prog.first_paint - prog.t_launch
    price = None if prog.first_price is None else prog.first_price - prog.t_launch
    return paint, price


def launches(n: int, *, warm: bool, drop_first: bool) -> Launches:
    """``n`` launches; ``drop_first`` leaves the first out of the figures (it warms the
    page cache, which a trader's machine has warm)."""
    out = Launches()
    label = "warm" if warm else "cold (empty data directory)"
    for i in range(n):
        log(f"  B8 launch {i + 1}/{n}, {label}")
        paint, price = launch_once(warm)
        if paint is None:
            out.failures += 1
            continue
        if i == 0 and drop_first:
            continue
        out.paints.append(paint)
        if price is None:
            out.hidden += 1
            out.prices.append(float("inf"))
        else:
            out.prices.append(price)
    return out


def _price_spread(runs: Launches) -> str:
    if runs.hidden:
        return (
            f"{runs.hidden} of {len(runs.prices)} launches never showed it within 4 s of "
            "first paint"
        )
    return f"p95 {percentile(runs.prices, 95):.2f} s, n={len(runs.prices)}"


def run(quick: bool, launches_warm: int | None = None, launches_cold: int | None = None) -> Section:
    """Launch the app repeatedly against a market already streaming 100 msg/s: from a
    copy of the warm data directory (the targets: a trader's restart), then from an empty
    one (a first run, reported for information)."""
    n = launches_warm or (2 if quick else 10)
    n_cold = launches_cold or (1 if quick else 3)
    sec = Section("B8", "Startup", "python -m bench --only B8" + (" --quick" if quick else ""))
    cache = warm_cache()
    warm = launches(n, warm=True, drop_first=n > 2)
    cold = launches(n_cold, warm=False, drop_first=False)
    failures = warm.failures + cold.failures
    if failures:
        sec.broken = f"{failures} of {n + n_cold} launches never painted"
    sec.add(
        "first paint p50 (title on screen), warm data directory",
        median(warm.paints),
        "s",
        target="≤ 0.8",
        limit=0.8,
        spread=f"n={len(warm.paints)}",
    )
    sec.add(
        "first paint p95, warm data directory",
        percentile(warm.paints, 95),
        "s",
        target="≤ 1.2",
        limit=1.2,
    )
    sec.add(
        "first live price p50 (BTC price on screen without scrolling), warm data directory",
        median(warm.prices),
        "s",
        target="≤ 1.5",
        limit=1.5,
        spread=_price_spread(warm),
    )
    sec.add(
        "first paint p50, cold first run (empty data directory)",
        median(cold.paints),
        "s",
        spread=f"n={len(cold.paints)}",
        note="information: the target is for a warm cache (T7)",
    )
    sec.add(
        "first live price p50, cold first run (empty data directory)",
        median(cold.prices),
        "s",
        spread=_price_spread(cold),
        note="information: the history backfill runs alongside",
    )
    imp = import_ms(1 if quick else 5)
    sec.add(
        "imports (python -X importtime, tui.cli + tui.app)",
        imp / 1000,
        "s",
        target="≤ 0.5",
        limit=0.5,
    )
    speedups = importlib.util.find_spec("textual_speedups") is not None
    sec.notes.append(
        f"{n} warm launches of `python -m tui.cli --config …` under a 120×40 pty"
        + (", first dropped (cold page cache)" if n > 2 else "")
        + f", then {n_cold} cold one(s). Warm = the run's fresh data directory holds a copy "
        "of the invocation's warm history database (the target, T7 'warm cache'); cold = "
        "an empty data directory, the first run ever, which starts the history backfill. "
        "The market streams 100 msg/s before launch. A launch whose BTC price never "
        "appears (the app scrolled it out of view) counts as ∞ for the first-price figure. "
        f"textual-speedups {'installed' if speedups else 'not installed'}."
    )
    sec.notes.append(f"The {cache.describe()}.")
    return sec
