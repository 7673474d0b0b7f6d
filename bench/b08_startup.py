"""B8 startup: time to first paint and to the first live price under the pty, and the
import time of the app's modules."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ROOT, Section, child_env, log, median, percentile
from bench.scenarios import launch
from bench.simhost import SimHost


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


def run(quick: bool, launches: int | None = None) -> Section:
    """Launch the app repeatedly against a market already streaming 100 msg/s."""
    n = launches or (2 if quick else 10)
    sec = Section("B8", "Startup", "python -m bench --only B8" + (" --quick" if quick else ""))
    paints: list[float] = []
    prices: list[float] = []
    hidden = 0
    failures = 0
    for i in range(n):
        log(f"  B8 launch {i + 1}/{n}")
        with SimHost(rate=100.0) as sim, tempfile.TemporaryDirectory(prefix="lsbench-") as d:
            prog = launch("app", sim, Path(d))
            try:
                prog.wait_for(lambda p=prog: p.first_paint is not None, 15.0)  # type: ignore[misc]
                prog.wait_for(lambda p=prog: p.first_price is not None, 4.0)  # type: ignore[misc]
            finally:
                prog.stop()
        if prog.first_paint is None:
            failures += 1
            continue
        if i == 0 and n > 2:
            continue  # cold-ish: the first launch warms the page cache
        paints.append(prog.first_paint - prog.t_launch)
        if prog.first_price is None:
            hidden += 1
            prices.append(float("inf"))
        else:
            prices.append(prog.first_price - prog.t_launch)
    if failures:
        sec.broken = f"{failures} of {n} launches never painted"
    sec.add(
        "first paint p50 (title on screen)",
        median(paints),
        "s",
        target="≤ 0.8",
        limit=0.8,
        spread=f"n={len(paints)}",
    )
    sec.add("first paint p95", percentile(paints, 95), "s", target="≤ 1.2", limit=1.2)
    sec.add(
        "first live price p50 (BTC price on screen without scrolling)",
        median(prices),
        "s",
        target="≤ 1.5",
        limit=1.5,
        spread=f"{hidden} of {len(prices)} launches never showed it within 4 s of first paint"
        if hidden
        else f"p95 {percentile(prices, 95):.2f} s",
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
        f"{n} launches of `python -m tui.cli --config …` under a 120×40 pty"
        + (", first dropped (cold-ish)" if n > 2 else "")
        + "; the market streams 100 msg/s before launch. A launch whose BTC price never "
        "appears (the app scrolled it out of view) counts as ∞ for the first-price figure. "
        f"textual-speedups {'installed' if speedups else 'not installed'}."
    )
    return sec
