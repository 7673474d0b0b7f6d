"""``python -m bench.ab``: the same benchmarks for two or more checkouts, alternated in
one invocation (A B A B ..., or A B C A B C ...), with the medians side by side.

    python -m bench.ab old=/work/wt-old new=. --n 3
    python -m bench.ab old=/work/wt-old new=. --n 3 --bench="--only B12 --quick --no-write"

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


def table(runs: dict[str, list[dict[str, tuple[float, str]]]]) -> str:
    """Markdown: each figure's median per checkout, the change from the first, and every
    run's value."""
    labels = list(runs)
    first = labels[0]
    names: list[str] = []
    for label in labels:
        for figures in runs[label]:
            names.extend(n for n in figures if n not in names)
    head = ["figure", *(f"{x} median" for x in labels)]
    head += [f"{x} − {first}" for x in labels[1:]]
    head += [f"{x} runs" for x in labels]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in names:
        unit = next((f[name][1] for x in labels for f in runs[x] if name in f), "")
        vals = {x: [f[name][0] if name in f else math.nan for f in runs[x]] for x in labels}
        meds = {x: _median(vals[x]) for x in labels}
        row = [f"{name} ({unit})" if unit else name, *(_fmt(meds[x]) for x in labels)]
        row += [_fmt(meds[x] - meds[first]) for x in labels[1:]]
        row += [", ".join(_fmt(v) for v in vals[x]) for x in labels]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    p.add_argument("checkouts", nargs="+", help="LABEL=PATH, two or more (e.g. old=/work/wt-old)")
    p.add_argument("--n", type=int, default=3, help="invocations of each (default 3)")
    p.add_argument(
        "--bench", default=" ".join(DEFAULT_BENCH), help="the bench flags, as one string"
    )
    p.add_argument("--json", type=Path, default=None, help="write every run's figures here")
    args = p.parse_args(argv)
    bench_args = args.bench.split()
    roots: dict[str, Path] = {}
    for item in args.checkouts:
        label, sep, path = item.partition("=")
        if not sep or not label:
            p.error(f"expected LABEL=PATH, got {item!r}")
        roots[label] = Path(path).resolve()
    if len(roots) < 2:
        p.error("two or more checkouts")
    runs: dict[str, list[dict[str, tuple[float, str]]]] = {x: [] for x in roots}
    started = time.monotonic()
    for i in range(args.n):
        for label, root in roots.items():
            print(f"ab: {label} run {i + 1}/{args.n} ({root})", file=sys.stderr, flush=True)
            figures, took = run_once(root, bench_args)
            print(f"ab:   {len(figures)} figures in {took:.0f} s", file=sys.stderr, flush=True)
            runs[label].append(figures)
            if args.json is not None:
                args.json.write_text(json.dumps(runs, indent=1))
    order = " ".join(roots)
    print(
        f"A/B: `python -m bench {' '.join(bench_args)}`, "
        + ", ".join(f"{x} = {r}" for x, r in roots.items())
        + f"; alternated {order} {order} ..., n={args.n} each, "
        f"{time.monotonic() - started:.0f} s in all\n"
    )
    print(table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
