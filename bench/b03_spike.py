"""B3 spike: 20,000 msg/s for 2 s on top of 1,000 msg/s steady, under the pty."""

from __future__ import annotations

import bisect
import math
import time

from bench.common import Section, fmt, log
from bench.scenarios import Session

STALE_OK_MS = 150.0


def recovery_time(
    events: list[tuple[float, int]], base: int, times: list[float], spike_end: float, end: float
) -> tuple[float, float]:
    """(seconds after the spike until per-message staleness stays below 150 ms, worst
    staleness in ms during and after the spike)."""
    ev_t: list[float] = []
    ev_max: list[int] = []
    top = -1
    for t, seq in events:
        if 0 < seq - base <= len(times) and seq > top:
            top = seq
            ev_t.append(t)
            ev_max.append(seq)
    first = bisect.bisect_left(times, spike_end - 2.0)
    last_bad = spike_end
    worst = 0.0
    for i in range(first, len(times)):
        s = times[i]
        if s > end - 0.5:
            break
        j = bisect.bisect_left(ev_max, base + i + 1)
        stale = (ev_t[j] - s) if j < len(ev_max) else (end - s)
        worst = max(worst, stale * 1000)
        if stale * 1000 >= STALE_OK_MS:
            last_bad = max(last_bad, s)
    return max(0.0, last_bad - spike_end), worst


def run(quick: bool) -> Section:
    """Steady 1k, spike, steady 1k; read the screen throughout."""
    sec = Section("B3", "Burst recovery (pty)", "python -m bench --only B3")
    log("  B3 1k steady + 20k × 2 s spike")
    with Session("app") as ses:
        prog, sim = ses.prog, ses.sim
        assert prog is not None
        if not ses.ok:
            sec.broken = ses.note
            return sec
        sim.set_rate(1000.0)
        time.sleep(3.0)
        ses.in_view()
        time.sleep(2.0)
        rss_before = prog.rss() / 1e6
        connects = len(sim.btc.coinbase.connect_times)
        n0 = sim.sent
        spike_start = time.monotonic()
        sim.set_rate(20_000.0)
        time.sleep(2.0)
        sim.set_rate(1000.0)
        spike_end = time.monotonic()
        spike_sent = sim.sent - n0
        time.sleep(6.0)
        rss_after = prog.rss() / 1e6
        end = time.monotonic()
        disconnects = len(sim.btc.coinbase.connect_times) - connects
        note = ses.note
    base, times = sim.recorded()
    rec, worst = recovery_time(prog.events, base, times, spike_end, end)
    sec.add(
        "time until staleness < 150 ms again after the spike",
        rec,
        "s",
        target="≤ 1",
        limit=1.0,
        note=f"worst staleness {fmt(worst)} ms",
    )
    sec.add("disconnects", float(disconnects), "", target="0", limit=0.0)
    sec.add(
        "RSS after recovery minus before the spike",
        rss_after - rss_before,
        "MB",
        target="≤ 5",
        limit=5.0,
        note=f"{fmt(rss_before)} → {fmt(rss_after)} MB",
    )
    sec.notes.append(
        f"The spike sent {spike_sent:,} messages in {spike_end - spike_start:.1f} s "
        f"({spike_sent / (spike_end - spike_start):,.0f} msg/s achieved by the simulated market "
        "in the harness). Recovery = from the end of the spike to the send time after which "
        "every message was on screen (or superseded) within 150 ms." + (f" {note}." if note else "")
    )
    if math.isnan(rec):
        sec.broken = "no recovery figure"
    return sec
