"""B7 soak: 2,000 msg/s under the pty with a forced server-side disconnect in the
middle; RSS series, slope after warm-up, object counts, reconnect time.

Short mode (default suite): 1 min warm-up + 3 min. ``--soak-long``: 5 min warm-up +
60 min, with tracemalloc on inside the app for the top growth sites.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
import tracemalloc
from pathlib import Path

from bench import analysis
from bench.common import Section, fmt, log
from bench.scenarios import Session

RATE = 2000.0


def _report(prog_pid: int, out: Path, n: int, timeout: float = 10.0) -> dict[str, float]:
    os.kill(prog_pid, signal.SIGUSR1)
    path = out / f"report-{n}.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            try:
                doc: dict[str, float] = json.loads(path.read_text())
                return doc
            except ValueError:
                pass
        time.sleep(0.1)
    return {}


def _top_growth(out: Path) -> list[str]:
    a, b = out / "snapshot-1.bin", out / "snapshot-2.bin"
    if not (a.exists() and b.exists()):
        return []
    diff = tracemalloc.Snapshot.load(str(b)).compare_to(tracemalloc.Snapshot.load(str(a)), "lineno")
    lines = []
    for stat in diff[:10]:
        frame = stat.traceback[0]
        lines.append(f"{frame.filename}:{frame.lineno} {stat.size_diff / 1e3:+,.0f} kB")
    return lines


def run(quick: bool, long: bool = False) -> Section:
    """Soak; ``quick`` shortens it further (for --only B7 --quick)."""
    warm, meas = (300.0, 3600.0) if long else ((20.0, 40.0) if quick else (60.0, 180.0))
    name = "--soak-long" if long else ""
    sec = Section(
        "B7",
        f"Soak ({warm / 60:g} min warm-up + {meas / 60:g} min at 2,000 msg/s)",
        f"python -m bench --only B7 {name}".strip(),
    )
    env = {"BENCH_TRACEMALLOC": "1"} if long else None
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
        rep1 = _report(prog.pid, out, 1)
        rss_w = prog.rss() / 1e6
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
                sent = sim.sent
                seq_cut = max((s for _, s in prog.events if s <= sent), default=-1)
                t_restore = sim.cut_coinbase(0.3)
            if not recorded and now >= rec_from:
                sim.record()
                recorded = True
            if now - last_view >= 10.0:
                last_view = now
                ses.in_view()
        t_end = time.monotonic()
        rep2 = _report(prog.pid, out, 2)
        rss_end = prog.rss() / 1e6
        time.sleep(0.5)
        end = time.monotonic()
        top = _top_growth(out) if long else []
        connect_times = list(sim.btc.coinbase.connect_times)
        connects = len(connect_times)
    base, times = sim.recorded()
    lat = analysis.latency(prog.events, base, times, rec_from, t_end - 0.5, end)
    slope = analysis.rss_slope(prog.samples, t_w, t_end)
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
        note=f"peak {fmt(peak)} MB",
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
        + (" tracemalloc on (long soak)." if long else " tracemalloc off (short soak).")
        + (f" {ses.note}." if ses.note else "")
    )
    if top:
        sec.table = [["top growth sites (tracemalloc, warm-up end → end)"]] + [[x] for x in top]
    return sec
