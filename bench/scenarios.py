"""Building blocks the benchmarks share: launch a program under the pty against a
fresh simulated market, hold a rate, measure a steady window.

lockstep runs start from a copy of the invocation's warm data directory
(:mod:`bench.warm`): the steady state of a monitor left open all day, not its first run.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench import analysis
from bench.common import child_env
from bench.pty_run import PtyProgram, lockstep_price, peer_price, python_argv
from bench.simhost import SimHost
from bench.warm import seed, wait_caught_up

KINDS = ("app", "baseline", "peer", "soak")
WARM_KINDS = ("app", "soak")
"""The kinds that are lockstep, hence start from the warm data directory by default."""
TITLES = {"app": "lockstep", "baseline": "baseline", "peer": "CRYPTO TERMINAL", "soak": "lockstep"}


def argv_for(kind: str, sim: SimHost, config: Path, fps: float | None = None) -> list[str]:
    """The command line for one kind of program under test."""
    url = sim.endpoints["coinbase_ws"]
    if kind == "app":
        args = ["-m", "tui.cli", "--config", str(config)]
        if fps is not None:
            args += ["--fps", str(fps)]
        return python_argv(*args)
    if kind == "soak":
        report = config.parent / "soak"
        return python_argv("-m", "bench.soak_app", str(report), "--", "--config", str(config))
    if kind == "baseline":
        return python_argv("-m", "bench.baseline", "--url", url, "--fps", str(fps or 10.0))
    if kind == "peer":
        return python_argv("-m", "bench.peer", "--url", url)
    raise ValueError(kind)


def launch(
    kind: str,
    sim: SimHost,
    tmp: Path,
    *,
    read_limit: float | None = None,
    fps: float | None = None,
    cols: int = 120,
    rows: int = 40,
    env: dict[str, str] | None = None,
    failing_http: bool = False,
    tables: Mapping[str, Mapping[str, float | int | str]] | None = None,
) -> PtyProgram:
    """Start ``kind`` under a 120×40 pty against ``sim``; ``failing_http`` points every
    polled endpoint at a closed loopback port (:meth:`SimHost.write_config`)."""
    config = sim.write_config(tmp / "config.toml", failing_http=failing_http, tables=tables)
    reader = peer_price if kind == "peer" else lockstep_price
    prog = PtyProgram(
        argv_for(kind, sim, config, fps),
        child_env(tmp, env),
        cols=cols,
        rows=rows,
        read_limit=read_limit,
        price_reader=reader,
        title=TITLES[kind],
        seq_limit=lambda: sim.sent,
    )
    return prog.start()


class LoadMeter:
    """CPU used on the box by processes other than the harness and the program under
    test (other work on a shared machine), as a share of all cores."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = [p for p in pids if p]
        self._t0 = 0.0
        self._busy0 = 0.0
        self._ours0 = 0.0

    def _busy(self) -> float:
        t = psutil.cpu_times()
        return float(t.user + t.system + getattr(t, "softirq", 0.0) + getattr(t, "irq", 0.0))

    def _ours(self) -> float:
        total = 0.0
        for pid in self.pids:
            try:
                c = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            total += float(c.user + c.system)
        return total

    def start(self) -> LoadMeter:
        """Begin the window."""
        self._t0 = time.monotonic()
        self._busy0 = self._busy()
        self._ours0 = self._ours()
        return self

    def foreign_pct(self) -> float:
        """Percent of the whole box (all cores) used by others since :meth:`start`."""
        span = time.monotonic() - self._t0
        if span <= 0:
            return math.nan
        other = (self._busy() - self._busy0) - (self._ours() - self._ours0)
        cores = psutil.cpu_count() or 1
        return max(0.0, other / span / cores * 100)


@dataclass(slots=True)
class ScreenRun:
    """One pty run's figures."""

    kind: str
    rate: float
    ok: bool
    cpu_pct: float = math.nan
    rss_mb: float = math.nan
    lat: analysis.Latency | None = None
    out: analysis.Output | None = None
    foreign_pct: float = math.nan
    first_paint: float = math.nan
    first_price: float = math.nan
    sent_rate: float = math.nan
    note: str = ""
    hot: str = ""
    extra: dict[str, float] = field(default_factory=dict)


class Session:
    """A program under the pty against a fresh market, with its price in view.

    Use as a context manager: on entry the program is started at 10 msg/s and its BTC
    price is on screen (scrolled home with the wheel if the app scrolled it away); a warm
    lockstep has also been answered its restart catch-up round (bench/warm.py).

    ``warm``: start from a copy of the warm data directory (:mod:`bench.warm`); None
    means yes for lockstep (:data:`WARM_KINDS`), no for the baseline and the peer, which
    keep no history.

    ``failing_http``: every polled source refused at connect from the start (the BTC
    websockets still answer); there is then no history catch-up to wait for.
    ``tables``: more config tables (:meth:`SimHost.write_config`), e.g. poll intervals."""

    def __init__(
        self,
        kind: str,
        *,
        read_limit: float | None = None,
        fps: float | None = None,
        cols: int = 120,
        rows: int = 40,
        env: dict[str, str] | None = None,
        start_timeout: float = 20.0,
        warm: bool | None = None,
        failing_http: bool = False,
        tables: Mapping[str, Mapping[str, float | int | str]] | None = None,
    ) -> None:
        self.kind = kind
        self.failing_http = failing_http
        self.tables = tables
        self.warm = kind in WARM_KINDS if warm is None else warm
        self.env = env
        self.start_timeout = start_timeout
        self.read_limit = read_limit
        self.fps = fps
        self.cols, self.rows = cols, rows
        self.sim = SimHost(rate=10.0)
        self._tmp = tempfile.TemporaryDirectory(prefix="lsbench-")
        self.tmp = Path(self._tmp.name)
        self.prog: PtyProgram | None = None
        self.caught_up: float | None = None
        """Seconds from launch until the warm restart's history catch-up was answered."""
        self.ok = False
        self.scrolled = False
        self.note = ""

    def __enter__(self) -> Session:
        if self.warm:
            seed(self.tmp)  # first: preparing the cache (once) starts its own market
        self.sim.start()
        self.prog = launch(
            self.kind,
            self.sim,
            self.tmp,
            read_limit=self.read_limit,
            fps=self.fps,
            cols=self.cols,
            rows=self.rows,
            env=self.env,
            failing_http=self.failing_http,
            tables=self.tables,
        )
        how = self.prog.show_price(self.start_timeout, patience=min(10.0, self.start_timeout / 3))
        self.ok = how != "none"
        if how == "scrolled":
            self.scrolled = True
            self.note = "BTC price not in view at start; scrolled home with the mouse wheel"
        if not self.ok:
            self.note = (
                "no price on screen within 20 s: "
                + " | ".join(x.strip() for x in self.prog.texts if x.strip())[:300]
            )
        if self.ok and self.warm and not self.failing_http:
            # A warm restart first fetches the days since its newest stored bar (paced
            # requests, then the panels take them in): not part of a steady state.
            self.caught_up = wait_caught_up(self.sim, self.prog.t_launch)
            if self.caught_up is None:
                late = "the warm restart's history catch-up was not seen within 20 s"
                self.note = f"{self.note}; {late}" if self.note else late
        return self

    def in_view(self) -> bool:
        """Bring the price back into view if the app scrolled it away."""
        assert self.prog is not None
        if self.prog.price_in_view():
            return True
        self.scrolled = True
        if self.prog.ensure_in_view():
            self.note = "BTC price scrolled out of view by the app; scrolled home with the wheel"
            time.sleep(1.0)
            return True
        self.note = "BTC price not on screen at one check (the wheel did not bring it back)"
        return False

    def __exit__(self, *exc: object) -> None:
        try:
            if self.prog is not None:
                self.prog.stop()
        finally:
            self.sim.stop()
            self._tmp.cleanup()


def hot_rows(prog: PtyProgram, w0: float, w1: float, top: int = 6) -> str:
    """Which screen rows were re-sent most often in [w0, w1] (where the bytes go)."""
    frames = [f for f in prog.frames if w0 <= f.t0 < w1]
    if not frames:
        return ""
    counts: dict[int, int] = {}
    changed: dict[int, int] = {}
    for f in frames:
        for r in f.rows:
            counts[r] = counts.get(r, 0) + 1
        for r in f.changed_rows:
            changed[r] = changed.get(r, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])[:top]
    parts = []
    for r, n in ranked:
        text = " ".join(prog.texts[r].split()) if r < len(prog.texts) else ""
        parts.append(
            f"row {r} sent in {n / len(frames):.0%} of frames, changed in "
            f"{changed.get(r, 0) / len(frames):.0%} «{text[:60]}»"
        )
    return "; ".join(parts)


def screen_run(
    kind: str,
    rate: float,
    *,
    warmup: float,
    window: float,
    read_limit: float | None = None,
    fps: float | None = None,
    during: Callable[[PtyProgram, SimHost], None] | None = None,
    warm: bool | None = None,
    failing_http: bool = False,
) -> ScreenRun:
    """Start ``kind`` (lockstep from the warm data directory unless ``warm`` is False),
    wait for a price at 10 msg/s, switch to ``rate``, warm up, then measure CPU, memory,
    latency and output over ``window`` seconds. ``failing_http``: every polled source
    refused at connect from the start (:class:`Session`)."""
    with Session(kind, read_limit=read_limit, fps=fps, warm=warm, failing_http=failing_http) as ses:
        prog, sim = ses.prog, ses.sim
        assert prog is not None
        res = ScreenRun(kind, rate, ses.ok, note=ses.note)
        if prog.first_paint is not None:
            res.first_paint = prog.first_paint - prog.t_launch
        if prog.first_price is not None:
            res.first_price = prog.first_price - prog.t_launch
        if not ses.ok:
            return res
        sim.set_rate(rate)
        time.sleep(warmup)
        if not ses.in_view():
            res.ok = False
            res.note = ses.note
            return res
        meter = LoadMeter([prog.pid, psutil.Process().pid]).start()
        n0 = sim.sent

        def tick() -> None:
            if during is not None:
                during(prog, sim)

        w = analysis.measure_window(prog, window, tick if during else None)
        res.foreign_pct = meter.foreign_pct()
        res.sent_rate = (sim.sent - n0) / (w.t1 - w.t0)
        res.cpu_pct = w.cpu_pct
        res.rss_mb = w.rss_end
        res.extra["window"] = w.t1 - w.t0
        res.extra["cpu_s"] = w.cpu1 - w.cpu0
        res.note = ses.note
        if ses.scrolled:
            res.extra["scrolled"] = 1.0
        time.sleep(0.4)  # let the last messages of the window reach the screen
        end = time.monotonic()
        prog.stop()
        base, times = sim.recorded()
        res.lat = analysis.latency(prog.events, base, times, w.t0, w.t1, end)
        res.out = analysis.output(prog.chunks, prog.frames, w.t0, w.t1)
        res.hot = hot_rows(prog, w.t0, w.t1)
        if prog.exit_status not in (None, 0, -1) and kind != "peer":
            res.note += f" exit status {prog.exit_status}"
        return res
