"""``python -m bench.ab``: the same benchmarks for two checkouts, alternated in one
invocation (A B A B ...), with the medians side by side.

    python -m bench.ab --a /work/wt-old --b . --n 3
    python -m bench.ab --a /work/wt-old --b . --n 3 -- --only B4,B5,B6 --runs 1 --no-write

Figures from runs on different days compare the box as much as the code: this box is
shared, and its load moves by whole percents of a core from hour to hour. Alternating
the two checkouts in one invocation gives both the same share of that noise, so the
difference of the medians is the code's. Each checkout runs its own ``bench`` (its
``.venv/bin/python -m bench`` from its own root, so the app under test is that
checkout's code) and its summary lines are parsed from stdout. ``--json`` keeps every
run's figures.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_BENCH = ["--only", "B4,B5,B6", "--runs", "1", "--no-write"]
"""One run per cell and invocation: the alternation supplies the repeats."""

_FIGURE = re.compile(r"^  (?:pass|MISS|n/a|info)  (.+?): (\S+) (.*?)\s+\(target .*\)$")
"""A summary line: two spaces, the verdict right-aligned in four, two spaces, the figure."""


def parse_summary(text: str) -> dict[str, tuple[float, str]]:
    """Figures from ``python -m bench``'s plain summary: ``{"B4 name": (value, unit)}``."""
    out: dict[str, tuple[float, str]] = {}
    bench = ""
    for line in text.splitlines():
        if line and not line[0].isspace():
            bench = line.split(" ", 1)[0]
            continue
        m = _FIGURE.match(line)
        if m is None:
            continue
        name, value, unit = m.groups()
        try:
            number = float(value.replace(",", ""))
        except ValueError:
            number = math.nan
        out[f"{bench} {name}"] = (number, unit.strip())
    return out


def run_once(root: Path, bench_args: list[str]) -> tuple[dict[str, tuple[float, str]], float]:
    """One ``python -m bench`` in checkout ``root``: its figures and wall seconds."""
    py = root / ".venv" / "bin" / "python"
    t0 = time.monotonic()
    done = subprocess.run(
        [str(py), "-m", "bench", *bench_args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.monotonic() - t0
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
    return parse_summary(done.stdout), took


def _median(values: list[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "—"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def table(runs: dict[str, list[dict[str, tuple[float, str]]]], labels: tuple[str, str]) -> str:
    """Markdown: each figure's median for A and B, the change, and every run's value."""
    a, b = labels
    names: list[str] = []
    for side in (a, b):
        for figures in runs[side]:
            names.extend(n for n in figures if n not in names)
    lines = [
        f"| figure | {a} median | {b} median | {b} − {a} | {a} runs | {b} runs |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        unit = next((f[name][1] for side in (a, b) for f in runs[side] if name in f), "")
        vals = {
            side: [f[name][0] if name in f else math.nan for f in runs[side]] for side in (a, b)
        }
        ma, mb = _median(vals[a]), _median(vals[b])
        lines.append(
            f"| {name} ({unit}) | {_fmt(ma)} | {_fmt(mb)} | {_fmt(mb - ma)} | "
            f"{', '.join(_fmt(v) for v in vals[a])} | {', '.join(_fmt(v) for v in vals[b])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    p.add_argument("--a", type=Path, required=True, help="checkout A (e.g. the old commit)")
    p.add_argument("--b", type=Path, required=True, help="checkout B (e.g. this one)")
    p.add_argument("--n", type=int, default=3, help="invocations of each (default 3)")
    p.add_argument("--labels", default="old,new", help="names of A and B in the table")
    p.add_argument("--json", type=Path, default=None, help="write every run's figures here")
    p.add_argument("bench_args", nargs="*", help=f"after --: bench flags ({DEFAULT_BENCH})")
    args = p.parse_args(argv)
    bench_args = args.bench_args or DEFAULT_BENCH
    la, lb = (args.labels.split(",") + ["old", "new"])[:2]
    roots = {la: args.a.resolve(), lb: args.b.resolve()}
    runs: dict[str, list[dict[str, tuple[float, str]]]] = {la: [], lb: []}
    started = time.monotonic()
    for i in range(args.n):
        for label in (la, lb):
            print(f"ab: {label} run {i + 1}/{args.n} ({roots[label]})", file=sys.stderr, flush=True)
            figures, took = run_once(roots[label], bench_args)
            print(f"ab:   {len(figures)} figures in {took:.0f} s", file=sys.stderr, flush=True)
            runs[label].append(figures)
            if args.json is not None:
                args.json.write_text(json.dumps(runs, indent=1))
    print(
        f"A/B: `python -m bench {' '.join(bench_args)}`, {la} = {roots[la]}, "
        f"{lb} = {roots[lb]}, alternated {la} {lb} {la} {lb} ..., n={args.n} each, "
        f"{time.monotonic() - started:.0f} s in all\n"
    )
    print(table(runs, (la, lb)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
