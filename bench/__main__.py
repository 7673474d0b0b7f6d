"""``python -m bench``: run the benchmark suite and report against the targets.

    python -m bench                   the full suite (~27 min on 2 cores), writes RESULTS.md
    python -m bench --quick           a smoke pass (~2 min): B1, B2+B9, B4-B6 at P2, B8, B12, B13
    python -m bench --quick --ci      the same as the CI gate: exit 1 on a broken harness or
                                      on any figure worse than 2× its target
    python -m bench --only B4,B10     selected benchmarks (B4, B5, B6 share their runs)
    python -m bench --soak-long       B7 as specified: 5 min warm-up + 60 min at 2,000 msg/s
                                      (tracemalloc on inside the app: growth sites)
    python -m bench --soak-long --no-tracemalloc
                                      the same without tracemalloc: the run that judges
                                      RSS (each snapshot leaves pymalloc holding arenas)
    python -m bench --only B7 --soak-long --no-write > /work/tmp/soak.log 2>&1
                                      a long soak that leaves RESULTS.md alone (two such
                                      runs may share a box: temp dirs and 127.0.0.1:0
                                      ports are their own)
    python -m bench --only B7 --soak-long --no-tracemalloc --save-soak --no-write
                                      the long soak that judges RSS, saved to
                                      bench/soak-long.json (commit it): every later
                                      RESULTS.md shows its rows, with its date and tree
    python -m bench --list            what each benchmark measures

The app under test is the real ``lockstep`` against the simulated market on 127.0.0.1.

Warm data directory: a trader leaves the monitor open all day, so its history database
was filled long ago. Each invocation therefore starts the app once, cold, waits until the
history backfill is complete (the store's ``series`` table; bench/warm.py), and every
steady-state run (B2-B7, B9-B12, PEER's lockstep runs) starts from its own copy of that
directory: copied, never shared, so runs stay independent. Without it every window would
include the first-run backfill (years of daily bars fetched, parsed and written to
SQLite). B8 reports the warm start against the targets and a cold first run (empty data
directory) for information. The simulated Yahoo honours ``period1``/``period2`` as Yahoo
does, so a warm start fetches only the missing days.

Long soak: the full suite runs B7's short soak only. A long soak is saved for RESULTS.md
only when asked (``--save-soak``, with ``--soak-long``), so that the traced run, which
does not judge RSS, or a trial run never replaces the recorded one by accident; the
render (bench/results.py) merges bench/soak-long.json into every RESULTS.md it writes.
Hand-written analyses live in bench/NOTES.md, which every render includes verbatim.

CI (``--ci``): the real targets are tracked in RESULTS.md, not asserted; the quick pass
fails only beyond 2× a target ("≤ T": above 2T; "≥ T": below T/2), or when the harness
breaks. Every figure is printed with its target, the 2× bound and pass/FAIL
(bench/ci_gate.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench.common import HARNESS_CORE, Section, can_pin, git_rev, log, machine, pin

ORDER = ["B1", "B8", "B4", "B5", "B6", "B2", "B9", "B3", "B10", "B11", "B12", "PEER", "B7", "B13"]
QUICK = {"B1", "B2", "B4", "B5", "B6", "B8", "B9", "B12", "B13"}
DESCRIBE = {
    "B1": "parse: decoder µs/msg vs stdlib json",
    "B2": "ingest: headless at 5k/20k msg/s, applied rate, end lag, CPU/msg, widget calls",
    "B3": "spike: 20k msg/s × 2 s on 1k steady under the pty; recovery, disconnects, RSS",
    "B4": "latency: displayed age and per-message staleness at P1-P3 (pty + pyte)",
    "B5": "CPU at P0-P3 and ratio to the raw-ANSI floor",
    "B6": "terminal bytes/s, B/changed cell, full repaints",
    "B7": "soak: RSS slope at 2k msg/s with a forced disconnect (short; --soak-long for 65 min)",
    "B8": "startup: first paint, first live price (warm; cold first run as info), imports",
    "B9": "event-loop lag probe at P2/P3 (headless)",
    "B10": "slow link: pty drained at 16 KB/s and 4 KB/s",
    "B11": "polling: CPU and loop lag with a polled source, and with it hung",
    "B12": "resize storm: 10 resizes/s for 5 s",
    "PEER": "side by side with crypto-terminal 2.5.1 at 0/50/500/2,000 msg/s",
    "B13": "desk hub: 1 hub + N subscribers via Redis; requests, latency, CPU, memory, takeover",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line."""
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="short smoke pass (~90 s)")
    p.add_argument(
        "--ci",
        action="store_true",
        help="exit 1 on a broken harness or a figure worse than 2× its target",
    )
    p.add_argument("--only", default="", help="comma-separated ids, e.g. B1,B4,PEER")
    p.add_argument("--skip", default="", help="comma-separated ids to leave out")
    p.add_argument("--runs", type=int, default=None, help="runs per cell for B4-B6 / PEER")
    p.add_argument("--soak-long", action="store_true", help="B7 for 65 minutes")
    p.add_argument(
        "--no-tracemalloc",
        action="store_true",
        help="B7 without tracemalloc in the app (the long soak traces by default)",
    )
    p.add_argument(
        "--write-results",
        action="store_true",
        help="write bench/RESULTS.md (the default for a full, unfiltered run)",
    )
    p.add_argument("--no-write", action="store_true", help="never write bench/RESULTS.md")
    p.add_argument(
        "--save-soak",
        action="store_true",
        help="with --soak-long: save the B7 section to bench/soak-long.json (every later "
        "RESULTS.md shows it, with this run's date and tree)",
    )
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    p.add_argument(
        "--render",
        action="store_true",
        help="re-render bench/RESULTS.md from bench/results.json (after editing the notes)",
    )
    return p.parse_args(argv)


def selected(args: argparse.Namespace) -> list[str]:
    """The benchmark ids to run, in suite order."""
    only = {x.strip().upper() for x in args.only.split(",") if x.strip()}
    skip = {x.strip().upper() for x in args.skip.split(",") if x.strip()}
    unknown = (only | skip) - set(ORDER)
    if unknown:
        raise SystemExit(f"unknown benchmark ids: {', '.join(sorted(unknown))}")
    if args.soak_long and not only:
        only = {"B7"}
    if only:
        ids = [b for b in ORDER if b in only]
    elif args.quick:
        ids = [b for b in ORDER if b in QUICK]
    else:
        ids = list(ORDER)
    return [b for b in ids if b not in skip]


def run_all(ids: list[str], args: argparse.Namespace) -> list[Section]:
    """Run the benchmarks; a failing benchmark becomes a broken section, not a crash."""
    quick = args.quick
    sections: list[Section] = []
    done: dict[str, Section] = {}
    state: dict[str, object] = {}

    def guard(bench: str, fn: Callable[[], list[Section]]) -> None:
        t0 = time.monotonic()
        log(f"[{bench}] {DESCRIBE.get(bench, '')}")
        try:
            out = fn()
        except Exception as exc:  # noqa: BLE001 - report, keep going
            traceback.print_exc()
            out = [Section(bench, DESCRIBE.get(bench, bench), "", broken=repr(exc)[:500])]
        took = time.monotonic() - t0
        for s in out:
            s.seconds = took / max(len(out), 1)
            if s.bench in ids or bench == s.bench:
                sections.append(s)
                done[s.bench] = s

    for bench in ids:
        if bench in done:
            continue
        if bench == "B1":
            from bench import b01_parse

            guard("B1", lambda: [b01_parse.run(quick)])
        elif bench in ("B4", "B5", "B6"):
            from bench import b04_screen

            def matrix() -> list[Section]:
                m = b04_screen.run_matrix(quick, args.runs)
                return [s for s in b04_screen.sections(m, quick) if s.bench in ids]

            guard(bench, matrix)
        elif bench == "B8":
            from bench import b08_startup

            guard("B8", lambda: [b08_startup.run(quick)])
        elif bench == "B2":
            from bench import b02_ingest

            def b2() -> list[Section]:
                sec, runs = b02_ingest.run_b2(quick)
                state["b2"] = runs
                return [sec]

            guard("B2", b2)
        elif bench == "B9":
            from bench import b02_ingest

            def b9() -> list[Section]:
                runs = state.get("b2", [])
                assert isinstance(runs, list)
                return [b02_ingest.run_b9(quick, runs)]

            guard("B9", b9)
        elif bench == "B3":
            from bench import b03_spike

            guard("B3", lambda: [b03_spike.run(quick)])
        elif bench == "B7":
            from bench import b07_soak

            guard(
                "B7",
                lambda: [
                    b07_soak.run(
                        quick,
                        long=args.soak_long,
                        traced=False if args.no_tracemalloc else None,
                    )
                ],
            )
        elif bench == "B10":
            from bench import b10_slowlink

            guard("B10", lambda: [b10_slowlink.run(quick)])
        elif bench == "B11":
            from bench import b11_polling

            guard("B11", lambda: [b11_polling.run(quick)])
        elif bench == "B12":
            from bench import b12_resize

            guard("B12", lambda: [b12_resize.run(quick)])
        elif bench == "B13":
            from bench import b13_hub

            guard("B13", lambda: [b13_hub.run(quick)])
        elif bench == "PEER":
            from bench import peer_compare

            guard("PEER", lambda: [peer_compare.run(quick, args.runs)])
    order = {b: i for i, b in enumerate(ORDER)}
    sections.sort(key=lambda s: order.get(s.bench, 99))
    return sections


def box_load() -> str:
    """Load average and a warning about other work on a shared box."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return (
        f"load average {one:.1f} (1 min) / {five:.1f} (5 min) at the end of the run; "
        "each run's CPU used by other processes is in the tables ('others' load')"
    )


def print_summary(sections: list[Section]) -> None:
    """A plain-text summary on stdout."""
    for s in sections:
        flag = f"  BROKEN: {s.broken}" if s.broken else ""
        print(f"{s.bench} {s.title}{flag}")
        for f in s.figures:
            value = "—" if math.isnan(f.value) else f"{f.value:,.3g}"
            peer = f"; crypto-terminal {f.peer}" if f.peer else ""
            print(f"  {f.verdict:>4}  {f.name}: {value} {f.unit}  (target {f.target or '—'}{peer})")


def save_long_soak(
    sections: list[Section],
    args: argparse.Namespace,
    started: dt.datetime,
    path: Path | None = None,
) -> Path | None:
    """Save this invocation's long soak to ``path`` (default bench/soak-long.json;
    ``--save-soak``); None when there is no B7 section to save or it broke."""
    from bench.results import SOAK_LONG, SavedSoak, save_soak

    b7 = next((s for s in sections if s.bench == "B7"), None)
    if b7 is None or b7.broken:
        log(f"bench: long soak not saved: {b7.broken if b7 else 'B7 did not run'}")
        return None
    how = "tracemalloc off" if args.no_tracemalloc else "tracemalloc on (RSS figures include it)"
    note = f"saved by --save-soak; {how}; {box_load()}"
    saved = SavedSoak(b7, started.strftime("%Y-%m-%d"), git_rev(), note)
    out = save_soak(saved, path or SOAK_LONG)
    log(f"bench: saved the long soak to {out}")
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    if args.list:
        for b in ORDER:
            print(f"{b:5} {DESCRIBE[b]}{'  [quick]' if b in QUICK else ''}")
        return 0
    if args.render:
        from bench.results import load, render, write

        old, saved = load()
        text = render(
            old,
            command=str(saved["command"]),
            machine=str(saved["machine"]),
            rev=str(saved["rev"]),
            started=dt.datetime.fromisoformat(str(saved["started"])),
            seconds=float(str(saved["seconds"])),
            load=str(saved["load"]),
        )
        log(f"bench: re-rendered {write(text)}")
        return 0
    if args.save_soak and not args.soak_long:
        raise SystemExit("--save-soak saves a long soak: use it with --soak-long")
    ids = selected(args)
    if can_pin():
        pin(0, HARNESS_CORE)
    else:
        log("bench: fewer than 2 usable cores; app and harness share the CPU (noisier)")
    sys.setswitchinterval(0.001)  # the pty reader thread timestamps promptly
    started = dt.datetime.now().astimezone()
    t0 = time.monotonic()
    sections = run_all(ids, args)
    seconds = time.monotonic() - t0
    print_summary(sections)
    if args.save_soak:
        save_long_soak(sections, args, started)
    full = not args.only and not args.quick and not args.skip
    if (args.write_results or full) and not args.no_write:
        from bench.results import render, save, write

        cmd = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
        meta: dict[str, object] = {
            "command": cmd.strip(),
            "machine": machine(),
            "rev": git_rev(),
            "started": started.isoformat(),
            "seconds": seconds,
            "load": box_load(),
        }
        text = render(
            sections,
            command=cmd.strip(),
            machine=str(meta["machine"]),
            rev=str(meta["rev"]),
            started=started,
            seconds=seconds,
            load=str(meta["load"]),
        )
        save(sections, meta)
        log(f"bench: wrote {write(text)}")
    log(f"bench: {len(sections)} sections in {seconds:.0f} s")
    if args.ci:
        from bench.ci_gate import report

        lines, ok = report(sections)
        print("\n".join(lines), flush=True)
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
