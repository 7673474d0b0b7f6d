"""B7 soak: 2,000 msg/s under the pty with a forced server-side disconnect in the
middle; RSS series, slope after warm-up, object counts, reconnect time.

Short mode (default suite): 1 min warm-up + 3 min. ``--soak-long``: 5 min warm-up +
60 min, with tracemalloc on inside the app for the top growth sites unless
``--no-tracemalloc`` (then RSS is judged without tracing's own footprint).

Reports from inside the app (bench/soak_app.py): at warm-up end (the baseline, with a
tracemalloc snapshot), just before the forced disconnect, 60 s after it, and at the end
(snapshot again). RSS for the growth figure is read before each snapshot is taken. The
section asserts that asyncio tasks and open descriptors are back to the baseline after
the disconnect and at the end, and lists the GC types that grew most.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
import tracemalloc
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench import analysis
from bench.common import ROOT, Section, fmt, log
from bench.scenarios import Session

RATE = 2000.0
AFTER_CUT = 60.0
"""Seconds after the forced disconnect at which tasks and descriptors are counted again."""
MID_FLIGHT = 5.0
"""A report this close to a (re)connection may catch its task mid-flight: ±2 tasks."""
TOP = 10
"""Rows of each growth list."""
REPORT_TIMEOUT = 180.0
"""A snapshot of a traced hour-long app takes tens of seconds on a loaded box."""

# The four in-app reports, in the order they are taken (the app numbers them 1-4).
WARM_END, PRE_CUT, POST_CUT, END = 1, 2, 3, 4


def _report(prog_pid: int, out: Path, n: int, snapshot: bool) -> dict[str, Any]:
    """Ask the app for report ``n`` (SIGUSR1 with a tracemalloc snapshot, else SIGUSR2)."""
    os.kill(prog_pid, signal.SIGUSR1 if snapshot else signal.SIGUSR2)
    path = out / f"report-{n}.json"
    deadline = time.monotonic() + REPORT_TIMEOUT
    while time.monotonic() < deadline:
        if path.exists():
            try:
                doc: dict[str, Any] = json.loads(path.read_text())
                return doc
            except ValueError:
                pass
        time.sleep(0.1)
    return {}


def _ours(filename: str) -> bool:
    """True for a frame in lockstep's own code (not bench, not an installed package)."""
    try:
        rel = Path(filename).resolve().relative_to(ROOT)
    except ValueError:
        return False
    return rel.parts[0] in ("feeds", "widgets", "tui")


def _where(tb: tracemalloc.Traceback) -> str:
    """The allocating frame and, when it is not ours, the innermost frame in lockstep's
    code that led to it."""
    # A Traceback runs from the oldest frame to the allocating one (Python >= 3.7).
    frames = list(reversed(tb))
    top = frames[0]
    text = f"{_short(top.filename)}:{top.lineno}"
    if not _ours(top.filename):
        mine = next((f for f in frames if _ours(f.filename)), None)
        text += f" via {_short(mine.filename)}:{mine.lineno}" if mine else " (no lockstep frame)"
    return text


def _short(filename: str) -> str:
    """A path relative to the repository or to site-packages."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    try:
        return str(Path(filename).resolve().relative_to(ROOT))
    except ValueError:
        return filename


def top_growth(out: Path, first: int = WARM_END, last: int = END) -> list[list[str]]:
    """Rows (site, kB, blocks): the tracemalloc sites that grew most between two
    snapshots, grouped by allocating line and first lockstep frame."""
    a, b = out / f"snapshot-{first}.bin", out / f"snapshot-{last}.bin"
    if not (a.exists() and b.exists()):
        return []
    old, new = tracemalloc.Snapshot.load(str(a)), tracemalloc.Snapshot.load(str(b))
    sites: dict[str, list[int]] = {}
    for stat in new.compare_to(old, "traceback"):
        acc = sites.setdefault(_where(stat.traceback), [0, 0])
        acc[0] += stat.size_diff
        acc[1] += stat.count_diff
    ranked = sorted(sites.items(), key=lambda kv: -kv[1][0])[:TOP]
    return [[site, f"{size / 1e3:+,.0f} kB", f"{count:+,}"] for site, (size, count) in ranked]


def type_growth(before: Mapping[str, int], after: Mapping[str, int]) -> list[tuple[str, int]]:
    """The GC-tracked types whose count grew most (name, delta), largest first."""
    deltas = ((k, after.get(k, 0) - before.get(k, 0)) for k in set(before) | set(after))
    return sorted((kv for kv in deltas if kv[1] > 0), key=lambda kv: (-kv[1], kv[0]))[:TOP]


def back_to_baseline(base: int, now: int, mid_flight: bool) -> tuple[float, float]:
    """(|now − base|, allowance): the count must equal the baseline, ±2 when a reconnect
    may be mid-flight. NaN when either report is missing (-1 or absent)."""
    if base < 0 or now < 0:
        return math.nan, 0.0
    return float(abs(now - base)), 2.0 if mid_flight else 0.0


def run(quick: bool, long: bool = False, traced: bool | None = None) -> Section:
    """Soak; ``quick`` shortens it further (for --only B7 --quick). ``traced``: tracemalloc
    inside the app (default: on for the long soak only)."""
    warm, meas = (300.0, 3600.0) if long else ((20.0, 40.0) if quick else (60.0, 180.0))
    traced = long if traced is None else traced
    name = ("--soak-long" if long else "") + ("" if traced or not long else " --no-tracemalloc")
    sec = Section(
        "B7",
        f"Soak ({warm / 60:g} min warm-up + {meas / 60:g} min at 2,000 msg/s"
        f"{', tracemalloc on' if traced else ''})",
        f"python -m bench --only B7 {name}".strip(),
    )
    env = {"BENCH_TRACEMALLOC": "1" if traced else "0"}
    log(f"  B7 soak {warm:g} s + {meas:g} s")
    with Session("soak", env=env, start_timeout=30.0) as ses:
        prog, sim = ses.prog, ses.sim
        assert prog is not None
        if not ses.ok:
            sec.broken = ses.note
            return sec
        out = ses.tmp / "soak"
        sim.stop_recording()
        sim.set_rate(RATE)
        t0 = time.monotonic()
        while time.monotonic() - t0 < warm:
            time.sleep(5.0)
            ses.in_view()
        t_w = time.monotonic()
        rss_w = prog.rss() / 1e6  # before the snapshot: pymalloc keeps what it builds
        rep1 = _report(prog.pid, out, WARM_END, snapshot=True)
        t_fit = time.monotonic()  # the slope is fitted after the snapshot's own step
        reps = {WARM_END: rep1}
        t_rep = {WARM_END: t_w}
        cut_at = t_w + meas / 2
        rec_from = t_w + meas - 30.0
        t_restore = math.nan
        seq_cut = -1
        recorded = False
        last_view = time.monotonic()
        while time.monotonic() - t_w < meas:
            time.sleep(1.0)
            now = time.monotonic()
            if math.isnan(t_restore) and now >= cut_at:
                t_rep[PRE_CUT] = time.monotonic()
                reps[PRE_CUT] = _report(prog.pid, out, PRE_CUT, snapshot=False)
                sent = sim.sent
                seq_cut = max((s for _, s in prog.events if s <= sent), default=-1)
                t_restore = sim.cut_coinbase(0.3)
            if POST_CUT not in reps and now >= t_restore + AFTER_CUT:
                t_rep[POST_CUT] = time.monotonic()
                reps[POST_CUT] = _report(prog.pid, out, POST_CUT, snapshot=False)
            if not recorded and now >= rec_from:
                sim.record()
                recorded = True
            if now - last_view >= 10.0:
                last_view = now
                ses.in_view()
        t_end = time.monotonic()
        rss_end = prog.rss() / 1e6  # before the snapshot, as at warm-up end
        t_rep[END] = time.monotonic()
        rep2 = reps[END] = _report(prog.pid, out, END, snapshot=True)
        time.sleep(0.5)
        end = time.monotonic()
        top = top_growth(out) if traced else []
        connect_times = list(sim.btc.coinbase.connect_times)
        connects = len(connect_times)
    base, times = sim.recorded()
    lat = analysis.latency(prog.events, base, times, rec_from, t_end - 0.5, end)
    slope = analysis.rss_slope(prog.samples, t_fit, t_end)
    peak = max((s.rss for s in prog.samples if s.t >= t_w), default=0) / 1e6
    reconnect = next((t - t_restore for t in connect_times if t > t_restore), math.inf)
    primary_back = next(
        (t - t_restore for t, s in prog.events if t > t_restore and s > seq_cut), math.inf
    )
    sec.add("RSS after warm-up", rss_w, "MB", target="≤ 60", limit=60.0)
    sec.add(
        "RSS slope after warm-up",
        slope,
        "MB/h",
        target="≤ 1",
        limit=1.0,
        note="short soak: a slope over minutes extrapolates noise; the long soak is the real test"
        if not long
        else "",
    )
    sec.add(
        "RSS growth after warm-up (end − start)",
        rss_end - rss_w,
        "MB",
        target="≤ 10",
        limit=10.0,
        note=f"peak {fmt(peak)} MB; in-app reading {fmt(rep1.get('rss_mb', math.nan))} → "
        f"{fmt(rep2.get('rss_mb', math.nan))} MB"
        + (
            "; tracemalloc on: includes the arenas pymalloc kept after the warm-up-end "
            "snapshot (judge RSS in the run without tracemalloc)"
            if traced
            else ""
        ),
    )
    g1, g2 = rep1.get("gc_objects", math.nan), rep2.get("gc_objects", math.nan)
    sec.add(
        "objects tracked by the GC, change after warm-up",
        (g2 - g1) / g1 * 100 if g1 else math.nan,
        "%",
        target="within ±2",
        limit=2.0,
        note=f"{fmt(g1)} → {fmt(g2)}",
    )
    sec.add(
        "reconnect after a forced server-side disconnect (venue back → new handshake)",
        reconnect,
        "s",
        target="≤ 5",
        limit=5.0,
        note=f"{connects} connections in all",
    )
    sec.add(
        "Coinbase prices back on screen after the venue returned",
        primary_back,
        "s",
        note="includes the 30 s failback hold-down (btc.failback_after) by design; meanwhile "
        "the panel shows Kraken, which sends heartbeats only in the bench",
    )
    _tasks_and_fds(sec, reps, t_rep, connect_times, t_restore)
    if traced:
        t1, t2 = rep1.get("traced_mb", math.nan), rep2.get("traced_mb", math.nan)
        sec.add(
            "memory traced by tracemalloc, change after warm-up",
            t2 - t1,
            "MB",
            note=f"{fmt(t1)} → {fmt(t2)} MB",
        )
    sec.add(
        "per-message staleness p99 in the last 30 s",
        lat.stale_p99,
        "ms",
        target="≤ 150",
        limit=150.0,
        gate=False,
    )
    sec.notes.append(
        "RSS sampled every second with psutil; slope = least squares after warm-up. The app "
        "runs through bench/soak_app.py (the real tui.cli.main plus a SIGUSR1 memory report)."
        + (" tracemalloc on (6 frames)." if traced else " tracemalloc off.")
        + (f" {ses.note}." if ses.note else "")
    )
    grew = type_growth(rep1.get("types", {}), rep2.get("types", {}))
    table = [["grew most, warm-up end → end", "growth", "count"]]
    table += [[f"GC type {k}", f"{v:+,}", ""] for k, v in grew]
    table += [[f"tracemalloc {site}", kb, n] for site, kb, n in top]
    lru = rep2.get("lru", {})
    table += [
        [f"lru_cache {k} (full at end / cap)", f"{v[0]:,} / {v[1] or '∞'}", ""]
        for k, v in sorted(lru.items(), key=lambda kv: -kv[1][0])[:TOP]
    ]
    if len(table) > 1:
        sec.table = table
    return sec


def _tasks_and_fds(
    sec: Section,
    reps: Mapping[int, Mapping[str, Any]],
    t_rep: Mapping[int, float],
    connect_times: list[float],
    t_restore: float,
) -> None:
    """Assert tasks and descriptors back to the warm-up-end baseline after the forced
    disconnect and at the end: failing rows, not a crash."""
    base = reps.get(WARM_END, {})

    def mid_flight(n: int) -> bool:
        t = t_rep.get(n, math.nan)
        near = any(abs(c - t) < MID_FLIGHT for c in connect_times)
        return near or 0 <= t - t_restore < MID_FLIGHT

    kinds = " / ".join(
        str(reps.get(n, {}).get("fd_kinds", "—")) for n in (WARM_END, PRE_CUT, POST_CUT, END)
    )
    errors = [f"report {n}: {r['error']}" for n, r in reps.items() if "error" in r]
    missing = [str(n) for n in (WARM_END, PRE_CUT, POST_CUT, END) if not reps.get(n)]
    if errors or missing:
        sec.notes.append(
            "in-app reports: " + "; ".join(errors + [f"report {m} missing" for m in missing])
        )
    for key, what in (("tasks", "asyncio tasks"), ("fds", "open file descriptors")):
        series = " / ".join(
            str(reps.get(n, {}).get(key, "—")) for n in (WARM_END, PRE_CUT, POST_CUT, END)
        )
        checks = ((POST_CUT, f"{AFTER_CUT:g} s after the forced disconnect"), (END, "at the end"))
        for n, when in checks:
            rep = reps.get(n, {})
            flight = key == "tasks" and mid_flight(n)
            value, allow = back_to_baseline(int(base.get(key, -1)), int(rep.get(key, -1)), flight)
            sec.add(
                f"{what}: difference from the warm-up-end baseline, {when}",
                value,
                "",
                target=f"= baseline{' ± 2 (a reconnect was in flight)' if allow else ''}",
                limit=allow,
                gate=False,
                note=f"warm-up end / before the cut / after it / end: {series}"
                + (f"; kinds {kinds}" if key == "fds" else ""),
            )
