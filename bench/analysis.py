"""From raw observations to figures: latency, staleness, bytes, frames, CPU, memory."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.common import percentile
from bench.pty_run import Frame, PtyProgram, Sample

SendTime = Callable[[int], float | None]


@dataclass(slots=True)
class Latency:
    """Latency figures over one window, milliseconds.

    Attributes:
        age_p50/age_p99: Age of the displayed value when it appeared on screen.
        stale_p50/stale_p99/stale_max: Per-message staleness: for every message sent
            in the window, the time until it or a newer one was on screen.
        unresolved: Messages never shown or superseded by the end of the run (their
            staleness is counted up to the end, so a backlog shows as a large p99).
        messages: Messages sent in the window.
        updates: Price changes seen on screen in the window.
    """

    age_p50: float
    age_p99: float
    stale_p50: float
    stale_p99: float
    stale_max: float
    unresolved: int
    messages: int
    updates: int


def latency(
    events: Sequence[tuple[float, int]],
    base: int,
    times: Sequence[float],
    w0: float,
    w1: float,
    end: float,
) -> Latency:
    """Latency of the messages sent in [w0, w1]; ``end`` is when watching stopped."""

    def send(seq: int) -> float | None:
        i = seq - base - 1
        return times[i] if 0 <= i < len(times) else None

    ages = []
    for t, seq in events:
        if w0 <= t <= w1:
            s = send(seq)
            if s is not None:
                ages.append((t - s) * 1000)
    # First time each message number (or a newer one) was on screen: the running max.
    ev_t: list[float] = []
    ev_max: list[int] = []
    top = -1
    for t, seq in events:
        if send(seq) is None:
            continue  # not a recorded sequence price (e.g. the other venue's snapshot)
        if seq > top:
            top = seq
            ev_t.append(t)
            ev_max.append(seq)
    lo = bisect.bisect_left(times, w0)
    hi = bisect.bisect_right(times, w1)
    stale: list[float] = []
    unresolved = 0
    for i in range(lo, hi):
        seq = base + i + 1
        s = times[i]
        j = bisect.bisect_left(ev_max, seq)
        if j >= len(ev_max):
            unresolved += 1
            stale.append((end - s) * 1000)
            continue
        stale.append(max(0.0, ev_t[j] - s) * 1000)
    return Latency(
        age_p50=percentile(ages, 50),
        age_p99=percentile(ages, 99),
        stale_p50=percentile(stale, 50),
        stale_p99=percentile(stale, 99),
        stale_max=max(stale) if stale else math.nan,
        unresolved=unresolved,
        messages=hi - lo,
        updates=sum(1 for t, _ in events if w0 <= t <= w1),
    )


@dataclass(slots=True)
class Output:
    """Terminal output over one window.

    Attributes:
        rate: Mean bytes/s.
        p50/p95/peak: Bytes in 1-second windows.
        frames_per_s: Output bursts per second.
        bytes_per_frame: Mean bytes per burst.
        full_repaints: Bursts that touched at least 90 % of the rows.
        changed_chars: Screen cells whose character changed.
        changed_cells: Screen cells whose character or style changed.
        per_char: Bytes per changed character (the performance.md §2.4b metric).
        per_cell: Bytes per changed cell (character or style).
    """

    rate: float
    p50: float
    p95: float
    peak: float
    frames_per_s: float
    bytes_per_frame: float
    full_repaints: int
    changed_chars: int
    changed_cells: int
    per_char: float
    per_cell: float


def output(
    chunks: Sequence[tuple[float, int]], frames: Sequence[Frame], w0: float, w1: float
) -> Output:
    """Bytes and frames in [w0, w1]."""
    span = max(w1 - w0, 1e-9)
    secs = max(1, int(span))
    buckets = [0.0] * secs
    total = 0
    for t, n in chunks:
        if w0 <= t < w1:
            total += n
            k = int(t - w0)
            if k < secs:
                buckets[k] += n
    inside = [f for f in frames if w0 <= f.t0 < w1]
    chars = sum(f.changed_chars for f in inside)
    cells = sum(f.changed_cells for f in inside)
    fbytes = sum(f.nbytes for f in inside)
    return Output(
        rate=total / span,
        p50=percentile(buckets, 50),
        p95=percentile(buckets, 95),
        peak=max(buckets) if buckets else math.nan,
        frames_per_s=len(inside) / span,
        bytes_per_frame=fbytes / len(inside) if inside else math.nan,
        full_repaints=sum(1 for f in inside if f.full),
        changed_chars=chars,
        changed_cells=cells,
        per_char=fbytes / chars if chars else math.nan,
        per_cell=fbytes / cells if cells else math.nan,
    )


def rss_slope(samples: Sequence[Sample], t0: float, t1: float) -> float:
    """Least-squares RSS slope in MB per hour over [t0, t1]."""
    pts = [(s.t, s.rss / 1e6) for s in samples if t0 <= s.t <= t1 and s.rss]
    if len(pts) < 3:
        return math.nan
    n = len(pts)
    mx = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    den = sum((p[0] - mx) ** 2 for p in pts)
    if den == 0:
        return math.nan
    slope = sum((p[0] - mx) * (p[1] - my) for p in pts) / den
    return slope * 3600


def rss_at(samples: Sequence[Sample], t: float) -> float:
    """RSS (MB) of the sample nearest ``t``."""
    if not samples:
        return math.nan
    best = min(samples, key=lambda s: abs(s.t - t))
    return best.rss / 1e6


@dataclass(slots=True)
class Window:
    """CPU and memory of a program over a steady window."""

    t0: float
    t1: float
    cpu0: float
    cpu1: float
    rss_end: float

    @property
    def cpu_pct(self) -> float:
        """Percent of one core."""
        return (self.cpu1 - self.cpu0) / max(self.t1 - self.t0, 1e-9) * 100


def measure_window(
    prog: PtyProgram, seconds: float, tick: Callable[[], None] | None = None
) -> Window:
    """Sleep through a steady window and read the program's CPU time at both ends."""
    import time

    t0 = time.monotonic()
    c0 = prog.cpu_seconds()
    end = t0 + seconds
    while time.monotonic() < end:
        if tick is not None:
            tick()
        time.sleep(min(0.1, max(0.0, end - time.monotonic())))
    t1 = time.monotonic()
    c1 = prog.cpu_seconds()
    return Window(t0, t1, c0, c1, prog.rss() / 1e6)
