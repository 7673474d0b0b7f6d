"""B13 the desk hub: one ``lockstep hub`` and N subscribing terminals through a real
Redis, against the simulated market at 1,000 BTC msg/s with every polled source
answering (issue 15, item 7).

What runs (everything on 127.0.0.1):

* ``redis-server`` on a free port with a temporary directory (bench/redis_host.py);
* the simulated market in the harness (bench/simhost.py), every polled source on its
  shortest allowed interval (:data:`TABLES`), so a minute holds enough requests to count;
* the hub: the real ``python -m tui.cli hub`` in a child process, from a copy of the warm
  data directory (bench/warm.py), as a hub left running all day;
* N subscribers (1, 10, 50, 100, 200; quick: 1 and 5), each the runtime ``snapshot --hub``
  and ``watch --hub`` build (the hub's feed, the whole store; no fallback to direct feeds:
  :data:`SUBSCRIBER_TABLES`), drained at 10 Hz like a terminal's paint loop, several to
  a process (bench/hub_subscribers.py): two hundred whole app processes do not fit on two
  cores, and the point is to find where the box saturates, not to measure the scheduler;
* full mode only: a headless App on ``--hub`` (bench/hub_app.py) next to a direct headless
  App on a second simulated market at the same load, both pinned to the app core, for the
  CPU comparison and one direct terminal's requests per minute;
* a standby hub at the end; the leader is killed with SIGKILL and the time until the
  standby publishes is measured.

Redis ``INFO memory`` is sampled through the whole run (full mode: at least 10 minutes).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.common import CORES, ROOT, Section, child_env, fmt, log, median
from bench.headless_run import Headless
from bench.hub_subscribers import BUCKET_S
from bench.redis_host import RedisHost, start_redis
from bench.simhost import SHORTEST_POLLS, SimHost
from bench.warm import seed, wait_caught_up, warm_cache

RATE = 1_000.0
"""Coinbase messages per second (the issue's load)."""

TABLES = SHORTEST_POLLS
"""Every polled source at its shortest allowed interval (hub, subscribers and the direct
terminal share these settings)."""

FULL_N = (1, 10, 50, 100, 200)
SHIPPED_N = 100
"""The latency target's N, measured again with every poll at its shipped interval."""
QUICK_N = (1, 5)
FULL_WINDOW_S = 40.0
"""Each N's measured window in full mode (after a settle of 5 s)."""
CPU_WINDOW_S = 60.0
"""The hub App beside the direct App (full mode)."""
MAX_PROCS = 4
"""Subscriber processes at most (N is spread over them): two cores gain nothing from more."""

MEMORY_RUN_S = 600.0
"""Full mode samples Redis memory for at least this long (the issue's 10 minutes)."""

KEEPS_UP = 0.95
"""A subscriber keeps up when it decoded at least this share of the ticks sent in the
window, never skipped ahead, and its last tick was fresher than :data:`FRESH_S`."""

FRESH_S = 0.5

TAKEOVER_TARGET = 10.0
LATENCY_TARGET = 50.0
CPU_RATIO_TARGET = 0.5
COALESCED_RATE = 20.0
"""Ticks per second a hub would publish if it coalesced each venue's ticks to the latest
every 50 ms (half a frame at 10 Hz): the full mode measures N = 200 at this rate."""

REQ_RATIO_TARGET = 1.25

SUBSCRIBER_TABLES: dict[str, dict[str, float | int | str]] = {
    **TABLES,
    "hub": {"fallback": "none"},
}
"""The N subscribers wait for the hub rather than fall back to direct feeds: on this box
a subscriber that cannot keep up goes STALE, and with the default fallback it starts its
own feeds against the same simulated market, whose load then starves the hub (a first
full run showed it; see RESULTS). The hub App of the CPU comparison keeps the default."""
"""Requests per minute may differ by poll phase alone (a 5 s poll lands 11 or 12 times a
minute); more than this would mean a subscriber polled."""


def _spread(pid: int) -> None:
    """Let a child use every core (children inherit the harness's pin to core 0)."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(pid, set(CORES))


def _cpu(pid: int) -> float:
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return math.nan
    return float(t.user + t.system)


class Lines:
    """A child's stdout, read by a thread: every line with its monotonic time."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[tuple[float, str]] = []
        self._proc = proc
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            if len(self.lines) < 5_000:
                self.lines.append((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, text: str, timeout: float) -> float | None:
        """The time of the first line holding ``text`` (waiting up to ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, line in list(self.lines):
                if text in line:
                    return t
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        return None

    def json(self, key: str, timeout: float) -> dict[str, Any] | None:
        """The first JSON line holding ``key``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, line in list(self.lines):
                if line.startswith("{") and f'"{key}"' in line:
                    with contextlib.suppress(ValueError):
                        doc = json.loads(line)
                        if isinstance(doc, dict) and key in doc:
                            return doc
            if self._proc.poll() is not None and not self._thread.is_alive():
                break
            time.sleep(0.05)
        return None

    def tail(self, n: int = 5) -> str:
        """The last lines, for an error message."""
        return " | ".join(line for _, line in self.lines[-n:])


@dataclass
class HubProc:
    """``python -m tui.cli hub`` in a child process."""

    config: Path
    data_dir: Path
    url: str
    proc: subprocess.Popen[str] | None = None
    out: Lines | None = None
    caught_up: float | None = None
    """Seconds from launch until its restart catch-up round was answered (None: not seen)."""

    def start(self) -> HubProc:
        """Launch it (it leads, or waits as the standby)."""
        argv = [sys.executable, "-m", "tui.cli", "hub", "--config", str(self.config)]
        argv += ["--hub", self.url]
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=child_env(self.data_dir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        _spread(self.proc.pid)
        self.out = Lines(self.proc)
        return self

    @property
    def pid(self) -> int:
        """The process id."""
        assert self.proc is not None
        return self.proc.pid

    def wait_for(self, text: str, timeout: float = 30.0) -> float:
        """When it printed ``text``; RuntimeError if it did not."""
        assert self.out is not None
        t = self.out.wait_for(text, timeout)
        if t is None:
            raise RuntimeError(f"hub never said {text!r}: {self.out.tail()}")
        return t

    def cpu_seconds(self) -> float:
        """User + system CPU so far."""
        return _cpu(self.pid)

    def kill9(self) -> None:
        """SIGKILL: no lease given up, no heartbeat taken down."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM (a clean stop), SIGKILL if it does not exit."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.kill9()


@dataclass
class Workers:
    """N subscribers spread over a few :mod:`bench.hub_subscribers` processes."""

    n: int
    config: Path
    url: str
    read_every: float | None = None
    """Overrides ``feeds.hub.subscribe.READ_EVERY_S`` in the subscribers (None: as shipped)."""
    procs: list[subprocess.Popen[str]] = field(default_factory=list)
    outs: list[Lines] = field(default_factory=list)
    ready: list[dict[str, Any]] = field(default_factory=list)

    def start(self, timeout: float = 90.0) -> Workers:
        """Launch the processes and wait until each says its instances are LIVE."""
        k = min(self.n, MAX_PROCS)
        sizes = [self.n // k + (1 if i < self.n % k else 0) for i in range(k)]
        for i, size in enumerate(sizes):
            argv = [sys.executable, "-m", "bench.hub_subscribers", "--config", str(self.config)]
            argv += ["--hub", self.url, "--count", str(size), "--name", f"w{i}"]
            argv += ["--ready-timeout", str(timeout - 10)]
            if self.read_every is not None:
                argv += ["--read-every", str(self.read_every)]
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=child_env(self.config.parent),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                bufsize=1,
            )
            _spread(proc.pid)
            self.procs.append(proc)
            self.outs.append(Lines(proc))
        for out in self.outs:
            doc = out.json("ready", timeout)
            if doc is None:
                self.kill()
                raise RuntimeError(f"subscriber process did not start: {out.tail()}")
            self.ready.append(doc)
        return self

    @property
    def live(self) -> int:
        """Instances LIVE on the hub when the processes said they were ready."""
        return sum(int(d.get("live", 0)) for d in self.ready)

    def _send(self, word: str) -> None:
        for proc in self.procs:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None
                proc.stdin.write(word + "\n")
                proc.stdin.flush()

    def mark(self) -> None:
        """Start the measured window."""
        self._send("mark")

    def cpu_seconds(self) -> float:
        """CPU of all the processes so far."""
        return sum(_cpu(p.pid) for p in self.procs)

    def rss_mb(self) -> float:
        """RSS of all the processes, MB."""
        total = 0.0
        for p in self.procs:
            with contextlib.suppress(psutil.Error):
                total += psutil.Process(p.pid).memory_info().rss / 1e6
        return total

    def stop(self) -> list[dict[str, Any]]:
        """End the window; every process's result."""
        self._send("stop")
        results = []
        for out in self.outs:
            doc = out.json("result", 30.0)
            if doc is not None:
                results.append(doc["result"])
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        return results

    def kill(self) -> None:
        """Kill every process."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@dataclass(slots=True)
class HubHeadless(Headless):
    """:class:`bench.headless_run.Headless` running :mod:`bench.hub_app` on ``hub``."""

    hub: str = ""

    def argv(self) -> list[str]:
        """:mod:`bench.hub_app` on the hub, with the same config."""
        return [
            sys.executable,
            "-m",
            "bench.hub_app",
            "--hub",
            self.hub,
            "--config",
            str(self.config),
        ]


class MemorySampler:
    """Redis ``used_memory`` (and what its clients hold), the stream's length, Redis's
    and the hub's CPU, every ``every`` seconds, from a thread."""

    def __init__(self, redis: RedisHost, every: float) -> None:
        self.redis = redis
        self.every = every
        self.samples: list[tuple[float, float, float, int]] = []
        """(monotonic time, used_memory MB, used_memory_dataset MB, stream length)."""
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = 0.0

    def start(self) -> MemorySampler:
        """Begin sampling."""
        self.t0 = time.monotonic()
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                used, clients = self.redis.memory()
                xlen = int(self.redis.client.xlen("lockstep:events"))
                self.samples.append((time.monotonic(), used, clients, xlen))
            except Exception:  # noqa: BLE001 - counted; a sample missed is not a failure
                self.errors += 1
            self._stop.wait(self.every)

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join(5)


def requests_by_source(sim: SimHost, t0: float, t1: float) -> dict[str, int]:
    """Requests each polled source of ``sim`` logged within [t0, t1]."""
    return sim.requests_between(t0, t1)


def hist_percentiles(results: Sequence[dict[str, Any]]) -> tuple[float, float, float, int]:
    """(p50, p99, max) in ms and the count, over the merged latency histograms."""
    merged: dict[int, int] = {}
    worst = 0.0
    for r in results:
        for k, n in r.get("hist", {}).items():
            merged[int(k)] = merged.get(int(k), 0) + int(n)
        worst = max(worst, float(r.get("max", 0.0)))
    total = sum(merged.values())
    if not total:
        return math.nan, math.nan, math.nan, 0
    out = []
    for q in (0.50, 0.99):
        want, seen = q * total, 0
        for k in sorted(merged):
            seen += merged[k]
            if seen >= want:
                out.append((k + 0.5) * BUCKET_S * 1000)
                break
    return out[0], out[1], worst * 1000, total


@dataclass(slots=True)
class Phase:
    """One window with N subscribers."""

    n: int
    procs: int
    seconds: float
    kind: str = "sweep"
    """``sweep`` (N = 1 ... 200 as shipped), ``unpaced`` (the subscribers read again at
    once: READ_EVERY_S = 0), ``coalesced`` (the market at :data:`COALESCED_RATE`: what a
    hub publishing each venue's latest tick every 50 ms would send) or ``hold``."""
    rate: float = RATE
    sent: int = 0
    relayed: int = 0
    """Coinbase ticks the hub put on the stream in the window (coalesced: fewer than
    ``sent``); 0 when they could not be counted (then ``sent`` is the reference)."""
    live: int = 0
    keeping_up: int = 0
    ticks_share: float = math.nan
    decoded: int = 0
    ready_s: float = math.nan
    """Launch of the subscriber processes to every instance LIVE (its first full frame
    read from the latest-value hash), or to the ready timeout."""
    skips: int = 0
    bad: int = 0
    fallback: int = 0
    p50: float = math.nan
    p99: float = math.nan
    worst: float = math.nan
    hub_cpu: float = math.nan
    redis_cpu: float = math.nan
    subs_cpu: float = math.nan
    subs_rss: float = math.nan
    requests: dict[str, int] = field(default_factory=dict)
    t0: float = math.nan
    t1: float = math.nan

    @property
    def req_per_min(self) -> float:
        """All polled sources' requests per minute."""
        return sum(self.requests.values()) / self.seconds * 60


def relayed_ticks(redis: RedisHost, w0: float, w1: float) -> int:
    """Coinbase ticks on the hub's stream with entry ids between wall times ``w0`` and
    ``w1`` (0 if the stream no longer holds the start of the window: MAXLEN trimmed it)."""
    try:
        entries = redis.client.xrange(
            "lockstep:events", min=str(int(w0 * 1000)), max=str(int(w1 * 1000))
        )
        oldest = redis.client.xrange("lockstep:events", count=1)
    except Exception:  # noqa: BLE001 - a bench figure, never a crash
        return 0
    if not oldest or int(oldest[0][0].split(b"-")[0]) > w0 * 1000:
        return 0
    count = 0
    for _, fields in entries:
        raw = fields.get(b"e", b"")
        if b'"t":"Tick"' in raw and b'"source":"coinbase"' in raw:
            count += 1
    return count


def _env_set(name: str) -> set[str]:
    return {w.strip() for w in os.environ.get(name, "").split(",") if w.strip()}


def run_phase(
    n: int,
    window: float,
    settle: float,
    *,
    sim: SimHost,
    hub: HubProc,
    redis: RedisHost,
    cfg: Path,
    kind: str = "sweep",
) -> Phase:
    """N subscribers: launch, let them settle, measure a window, stop them."""
    log(f"  B13 N = {n} ({kind})")
    subs_cfg = cfg.parent / "subscribers.toml"
    workers = Workers(n, subs_cfg, redis.url, read_every=0.0 if kind == "unpaced" else None)
    launched = time.monotonic()
    workers.start(timeout=60.0 + n)
    ready_s = time.monotonic() - launched
    try:
        time.sleep(settle)
        ph = Phase(n, len(workers.procs), window, kind, sim.rate, live=workers.live)
        ph.ready_s = ready_s
        sent0, hub0, red0, sub0 = sim.sent, hub.cpu_seconds(), _cpu(redis.proc.pid), 0.0
        sub0 = workers.cpu_seconds()
        t0, w0 = time.monotonic(), time.time()
        workers.mark()
        time.sleep(window)
        t1, w1 = time.monotonic(), time.time()
        ph.relayed = relayed_ticks(redis, w0, w1)
        span = t1 - t0
        ph.sent = sim.sent - sent0
        ph.hub_cpu = (hub.cpu_seconds() - hub0) / span * 100
        ph.redis_cpu = (_cpu(redis.proc.pid) - red0) / span * 100
        ph.subs_cpu = (workers.cpu_seconds() - sub0) / span * 100
        ph.subs_rss = workers.rss_mb()
        ph.t0, ph.t1 = t0, t1
        ph.seconds = span
        results = workers.stop()
    except BaseException:
        workers.kill()
        raise
    ph.requests = requests_by_source(sim, t0, t1)
    ticks = [t for r in results for t in r.get("ticks", [])]
    skips = [s for r in results for s in r.get("skips", [])]
    lags = [x for r in results for x in r.get("last_lag", [])]
    ph.skips = sum(skips)
    ph.decoded = sum(ticks)
    ph.bad = sum(sum(r.get("bad", [])) for r in results)
    ph.fallback = sum(int(r.get("fallback", 0)) for r in results)
    # The hub coalesces ticks: a subscriber is judged against what was relayed in the
    # window (counted on the stream), not what the market sent the hub.
    ref = ph.relayed if ph.relayed > 0 else ph.sent
    if ref and ticks:
        ph.ticks_share = median(t / ref for t in ticks)
        ph.keeping_up = sum(
            1
            for t, s, lag in zip(ticks, skips, lags, strict=False)
            if t >= KEEPS_UP * ref and s == 0 and lag <= FRESH_S
        )
    ph.p50, ph.p99, ph.worst, _ = hist_percentiles(results)
    return ph


@dataclass(slots=True)
class CpuCompare:
    """A hub App and a direct App at the same load, at the same time."""

    hub_pct: float = math.nan
    direct_pct: float = math.nan
    hub_applied: float = math.nan
    direct_applied: float = math.nan
    hub_coalesced_pct: float = math.nan
    """The hub App's CPU with the hub's market at :data:`COALESCED_RATE` (the direct App
    still at :data:`RATE`): what a coalescing hub would cost a terminal."""
    direct_requests: dict[str, int] = field(default_factory=dict)
    hub_requests: dict[str, int] = field(default_factory=dict)
    seconds: float = math.nan
    note: str = ""


def cpu_compare(sim: SimHost, url: str, cfg: Path, tmp: Path, window: float) -> CpuCompare:
    """The subscribing App's CPU against a direct App's; the direct App has a simulated
    market of its own (B), so its requests are counted apart from the hub's (A)."""
    from bench.headless_run import applied_between

    out = CpuCompare()
    log("  B13 a hub App and a direct App side by side")
    with SimHost(rate=10.0) as sim_b:
        cfg_b = sim_b.write_config(tmp / "direct.toml", fps=10.0, tables=TABLES)
        seed(tmp / "direct")
        (tmp / "hubapp").mkdir()
        launched = time.monotonic()
        direct = Headless(cfg_b, tmp / "direct").start()
        try:
            hub_app = HubHeadless(cfg, tmp / "hubapp", hub=url).start()
        except BaseException:
            direct.kill()
            raise
        try:
            if wait_caught_up(sim_b, launched) is None:
                out.note = "the direct App's restart catch-up was not seen; "
            sim_b.set_rate(RATE)
            time.sleep(4.0)
            t0, h0, d0 = time.monotonic(), hub_app.cpu_seconds(), direct.cpu_seconds()
            time.sleep(window)
            t1, h1, d1 = time.monotonic(), hub_app.cpu_seconds(), direct.cpu_seconds()
            sim.set_rate(COALESCED_RATE)
            try:
                time.sleep(3.0)
                t2, h2 = time.monotonic(), hub_app.cpu_seconds()
                time.sleep(window / 2)
                t3, h3 = time.monotonic(), hub_app.cpu_seconds()
            finally:
                sim.set_rate(RATE)
            out.hub_coalesced_pct = (h3 - h2) / (t3 - t2) * 100
            sim_b.set_rate(0.0)
            hres, dres = hub_app.stop(), direct.stop()
        except BaseException:
            hub_app.kill()
            direct.kill()
            raise
        out.seconds = t1 - t0
        out.hub_pct = (h1 - h0) / out.seconds * 100
        out.direct_pct = (d1 - d0) / out.seconds * 100
        out.hub_applied = applied_between(hres, t0, t1) / out.seconds
        out.direct_applied = applied_between(dres, t0, t1) / out.seconds
        out.direct_requests = requests_by_source(sim_b, t0, t1)
        out.hub_requests = requests_by_source(sim, t0, t1)
    return out


def takeover(hub: HubProc, redis: RedisHost, cfg: Path, tmp: Path) -> tuple[float, str]:
    """Start a standby, kill -9 the leader, and time until the standby publishes: its
    heartbeat is up and a stream entry newer than the kill is in."""
    log("  B13 standby takeover (kill -9 the leader)")
    seed(tmp / "standby")
    standby = HubProc(cfg, tmp / "standby", redis.url).start()
    try:
        standby.wait_for("standby", 30.0)
        time.sleep(1.5)
        r = redis.client
        newest = r.xrevrange("lockstep:events", count=1)
        last = newest[0][0] if newest else b"0-0"
        t_kill = time.monotonic()
        hub.kill9()
        took = math.inf
        deadline = t_kill + 60.0
        while time.monotonic() < deadline:
            beat = r.get("lockstep:heartbeat")
            pid = None
            if beat:
                with contextlib.suppress(ValueError):
                    pid = json.loads(beat).get("pid")
            if pid == standby.pid:
                newest = r.xrevrange("lockstep:events", count=1)
                if newest and newest[0][0] != last:
                    took = time.monotonic() - t_kill
                    break
            time.sleep(0.01)
        said = standby.out.wait_for("leading", 1.0) if standby.out else None
        note = "" if said is None else f"it printed 'leading' {said - t_kill:.2f} s after the kill"
    finally:
        standby.stop()
    return took, note


def _req_table(columns: list[tuple[str, dict[str, int], float]]) -> list[list[str]]:
    sources = sorted({s for _, reqs, _ in columns for s in reqs})
    rows = [["requests/min", *[name for name, _, _ in columns]]]
    for s in sources:
        rows.append([s, *[fmt(reqs.get(s, 0) / secs * 60) for _, reqs, secs in columns]])
    rows.append(["all", *[fmt(sum(reqs.values()) / secs * 60) for _, reqs, secs in columns]])
    return rows


@contextlib.contextmanager
def _market_and_hub(
    tmp: Path, tables: dict[str, dict[str, float | int | str]] | None = None
) -> Iterator[tuple[RedisHost, SimHost, HubProc, Path]]:
    """Redis, the market and a hub polling at ``tables`` (default :data:`TABLES`; ``{}``:
    the shipped poll intervals)."""
    redis = start_redis()
    _spread(redis.proc.pid)
    sim = SimHost(rate=10.0).start()
    hub: HubProc | None = None
    try:
        cfg = sim.write_config(
            tmp / "config.toml", fps=10.0, tables=TABLES if tables is None else tables
        )
        sim.write_config(tmp / "subscribers.toml", fps=10.0, tables=SUBSCRIBER_TABLES)
        seed(tmp / "hub")
        launched = time.monotonic()
        hub = HubProc(cfg, tmp / "hub", redis.url).start()
        hub.wait_for("leading", 30.0)
        hub.caught_up = wait_caught_up(sim, launched)
        sim.set_rate(RATE)
        yield redis, sim, hub, cfg
    finally:
        if hub is not None:
            hub.stop()
        sim.stop()
        redis.stop()


def run(quick: bool) -> Section:
    """The whole benchmark (quick: N = 1 and 5 and the takeover, about 35 s)."""
    sec = Section(
        "B13",
        "Desk hub: one hub, N subscribers through Redis (1,000 BTC msg/s, every poll answering)",
        "python -m bench --only B13" + (" --quick" if quick else ""),
    )
    warm_cache()
    plan: tuple[int, ...] = QUICK_N if quick else FULL_N
    # A subset (a short run on a busy box): B13_N="1,10,100" and
    # B13_SKIP="compare,unpaced,coalesced,hold,takeover" (any of them).
    if os.environ.get("B13_N"):
        plan = tuple(sorted(int(n) for n in _env_set("B13_N")))
    skip = _env_set("B13_SKIP")
    window, settle = (7.0, 1.5) if quick else (FULL_WINDOW_S, 5.0)
    with (
        tempfile.TemporaryDirectory(prefix="lsbench-hub-") as d,
        _market_and_hub(Path(d)) as (redis, sim, hub, cfg),
    ):
        tmp = Path(d)
        sampler = MemorySampler(redis, 1.0 if quick else 5.0).start()
        try:
            time.sleep(1.0)
            compare = (
                None
                if quick or "compare" in skip
                else cpu_compare(sim, redis.url, cfg, tmp, CPU_WINDOW_S)
            )
            kw: dict[str, Any] = {"sim": sim, "hub": hub, "redis": redis, "cfg": cfg}
            phases: list[Phase] = []

            def phase(n: int, seconds: float, wait: float, kind: str = "sweep") -> None:
                # One phase failing (a subscriber process that never came up on a
                # saturated box) is reported; the others and the takeover still run.
                try:
                    ph = run_phase(n, seconds, wait, kind=kind, **kw)
                except RuntimeError as exc:
                    sec.notes.append(f"N = {n} ({kind}) not measured: {exc}")
                    log(f"    N = {n} ({kind}) not measured: {exc}")
                    return
                phases.append(ph)
                log(f"    {_row(ph)}")

            for n in plan:
                phase(n, window, settle)
            if not quick:
                if "unpaced" not in skip:
                    phase(10, window, settle, "unpaced")
                if "coalesced" not in skip:
                    sim.set_rate(COALESCED_RATE)
                    try:
                        phase(max(FULL_N), window, settle, "coalesced")
                    finally:
                        sim.set_rate(RATE)
                left = MEMORY_RUN_S - (time.monotonic() - sampler.t0)
                if left > 0 and "hold" not in skip:
                    log(f"  B13 holding at N = 10 for {left:.0f} s more (Redis memory)")
                    phase(10, left, 2.0, "hold")
            took, take_note = (
                (math.nan, "not measured (B13_SKIP)")
                if "takeover" in skip
                else takeover(hub, redis, cfg, tmp)
            )
        finally:
            sampler.stop()
    if not quick and "shipped" not in skip:
        # The latency target at N = 100 with the polls at their shipped intervals (a Fed
        # odds burst a minute, not every 5 s): a hub of its own, the same market load.
        with (
            tempfile.TemporaryDirectory(prefix="lsbench-hub-") as d,
            _market_and_hub(Path(d), tables={}) as (redis, sim, hub, cfg),
        ):
            time.sleep(1.0)
            kw = {"sim": sim, "hub": hub, "redis": redis, "cfg": cfg}
            phase(SHIPPED_N, window, settle, "shipped")
    if not any(p.kind == "sweep" for p in phases):
        raise RuntimeError("no subscriber phase could be measured: " + "; ".join(sec.notes))
    report(sec, quick, phases, compare, sampler, took, take_note)
    sec.notes.append(
        "The hub starts from a copy of the warm data directory; its restart catch-up round "
        + (
            f"was answered {hub.caught_up:.1f} s after launch, before any window"
            if hub.caught_up is not None
            else "was NOT seen within the timeout (windows may include it)"
        )
        + f". Redis memory sampled {len(sampler.samples)} times ({sampler.errors} failed)."
    )
    return sec


def report(
    sec: Section,
    quick: bool,
    phases: list[Phase],
    compare: CpuCompare | None,
    sampler: MemorySampler,
    took: float,
    take_note: str,
) -> None:
    """Figures, tables and notes."""
    sweep = [p for p in phases if p.kind == "sweep"]
    last = sweep[-1]
    rates = [p.req_per_min for p in sweep]
    spread = max(rates) / min(rates) if min(rates) > 0 else math.nan
    sec.add(
        f"requests/min to the polled sources, highest ÷ lowest over N = "
        f"{', '.join(str(p.n) for p in sweep)}",
        spread,
        "×",
        target=f"≤ {REQ_RATIO_TARGET} (= 1: independent of N)",
        limit=REQ_RATIO_TARGET,
        note=" / ".join(f"N={p.n}: {fmt(p.req_per_min)}" for p in sweep) + " requests/min",
    )
    if compare is not None:
        d_rate = sum(compare.direct_requests.values()) / compare.seconds * 60
        h_rate = sum(compare.hub_requests.values()) / compare.seconds * 60
        sec.add(
            "requests/min: the hub's ÷ one direct terminal's (same minute, same settings)",
            h_rate / d_rate if d_rate else math.nan,
            "×",
            target=f"≤ {REQ_RATIO_TARGET} (= 1)",
            limit=REQ_RATIO_TARGET,
            note=f"hub {fmt(h_rate)}, direct {fmt(d_rate)} requests/min",
        )
    by_n = {p.n: p for p in sweep}
    focus = by_n.get(100, last)
    shipped = next((p for p in phases if p.kind == "shipped"), None)
    if shipped is not None:
        sec.add(
            f"added latency hub → terminal (hub receipt → decode), p99, N = {shipped.n}, "
            "every poll at its shipped interval",
            shipped.p99,
            "ms",
            target=f"≤ {LATENCY_TARGET:g} at N = 100",
            limit=LATENCY_TARGET,
            gate=True,
            note=f"p50 {fmt(shipped.p50)} ms, max {fmt(shipped.worst)} ms; "
            f"{shipped.keeping_up} of {shipped.n} subscribers kept up",
        )
    sec.add(
        f"added latency hub → terminal (hub receipt → decode), p99, N = {focus.n}"
        + (", every poll at its shortest allowed interval (5 s)" if shipped else ""),
        focus.p99,
        "ms",
        target=f"≤ {LATENCY_TARGET:g} at N = 100" + (" (info here)" if shipped else ""),
        limit=None if shipped else LATENCY_TARGET,
        gate=not quick and shipped is None,
        note=f"p50 {fmt(focus.p50)} ms; {focus.keeping_up} of {focus.n} subscribers kept up"
        + (
            "; the tail is the 5-s poll bursts (a dozen Fed odds entries each), which all "
            f"{focus.n} terminals decode and apply on this box's 2 cores at once"
            if shipped
            else ""
        ),
    )
    if quick:
        sec.figures[-1].limit = None  # a 2-core CI box at N = 5 is not the N = 100 target
        sec.figures[-1].target = f"≤ {LATENCY_TARGET:g} at N = 100 (info here)"
    kept = [p.n for p in sweep if p.keeping_up == p.n]
    sec.add(
        "largest N at which every subscriber kept up (this 2-core box)",
        float(max(kept)) if kept else 0.0,
        "subscribers",
        note=" / ".join(f"N={p.n}: {p.keeping_up}" for p in sweep) + " kept up",
    )
    per_tick_n = [
        (p.n, (p.subs_cpu / 100 * p.seconds) / p.decoded * 1e6) for p in sweep if p.decoded > 0
    ]
    sec.add(
        "subscriber CPU per tick relayed (decode, store, its share of the reads), median",
        median(x for _, x in per_tick_n),
        "µs",
        note="× 1,000 ticks/s = the share of a core one subscriber needs; "
        + " / ".join(f"N={n}: {fmt(x)}" for n, x in per_tick_n),
    )
    for p in phases:
        if p.kind in ("unpaced", "coalesced") and p.decoded:
            label = (
                "subscribers reading again at once (READ_EVERY_S = 0)"
                if p.kind == "unpaced"
                else f"market at {p.rate:g} msg/s (a hub coalescing ticks to 50 ms)"
            )
            sec.add(
                f"N = {p.n}, {label}: kept up / CPU per tick / latency p99",
                float(p.keeping_up),
                "subscribers",
                note=f"{fmt((p.subs_cpu / 100 * p.seconds) / p.decoded * 1e6)} µs per tick, "
                f"subscribers {fmt(p.subs_cpu)} % in all, p99 {fmt(p.p99)} ms, hub "
                f"{fmt(p.hub_cpu)} %, Redis {fmt(p.redis_cpu)} %",
            )
    sec.add(
        f"hub CPU, N = {focus.n}",
        focus.hub_cpu,
        "% of a core",
        note=" / ".join(f"N={p.n}: {fmt(p.hub_cpu)}" for p in sweep),
    )
    if compare is not None:
        sec.add(
            "subscribing terminal's CPU ÷ a direct terminal's (headless App, same load)",
            compare.hub_pct / compare.direct_pct if compare.direct_pct else math.nan,
            "×",
            target=f"≤ {CPU_RATIO_TARGET}",
            limit=CPU_RATIO_TARGET,
            note=f"{fmt(compare.hub_pct)} % vs {fmt(compare.direct_pct)} % of a core; "
            f"applied {fmt(compare.hub_applied)} vs {fmt(compare.direct_applied)} events/s",
        )
        sec.add(
            f"the same with the hub's market at {COALESCED_RATE:g} msg/s (what a hub "
            "coalescing ticks to 50 ms would send the terminal)",
            compare.hub_coalesced_pct / compare.direct_pct if compare.direct_pct else math.nan,
            "×",
            target=f"≤ {CPU_RATIO_TARGET} (info)",
            note=f"{fmt(compare.hub_coalesced_pct)} % vs the direct App's "
            f"{fmt(compare.direct_pct)} %",
        )
    s = sampler.samples
    if s:
        used = [x[1] for x in s]
        data = [x[2] for x in s]
        span = s[-1][0] - s[0][0]
        half = s[0][0] + span / 2
        # used_memory_dataset came out near zero in a full run (not understood yet), so
        # the figure is the total, clients included; the stream's length is the bound.
        early = [x[1] for x in s if x[0] <= half and x[0] >= s[0][0] + min(60, span / 4)]
        late = [x[1] for x in s if x[0] > half]
        growth = (max(late) / max(early)) if early and late and max(early) > 0 else math.nan
        sec.add(
            f"Redis used_memory (clients' buffers included: they grow with N), max of the "
            f"second half ÷ first half "
            f"({span / 60:.1f} min sampled)",
            growth,
            "×",
            target="bounded (info: N changes during the run; the stream's MAXLEN is the bound)",
            note=f"used_memory {fmt(min(used))}-{fmt(max(used))} MB (with client buffers, "
            f"which grow with N); dataset {fmt(min(data))}-{fmt(max(data))} MB; stream "
            f"{min(x[3] for x in s):,}-{max(x[3] for x in s):,} entries",
        )
    sec.add(
        "standby takeover: kill -9 the leader → the standby publishes",
        took,
        "s",
        target=f"≤ {TAKEOVER_TARGET:g}",
        limit=TAKEOVER_TARGET,
        note=take_note,
    )
    rows = [
        [
            "N",
            "procs",
            "kept up",
            "ticks decoded (median share)",
            "latency p50 / p99 / max ms",
            "hub CPU %",
            "Redis CPU %",
            "subscribers CPU % (total / each)",
            "subscribers RSS MB",
            "launch → all LIVE s",
            "skips",
            "fell back",
            "requests/min",
        ]
    ]
    rows += [_row(p) for p in phases]
    sec.table = rows
    columns = [(f"N={p.n}", p.requests, p.seconds) for p in sweep]
    if compare is not None:
        columns = [
            ("direct App", compare.direct_requests, compare.seconds),
            ("hub (hub App on it)", compare.hub_requests, compare.seconds),
            *columns,
        ]
    req_rows = _req_table(columns)
    sec.notes.append(
        "Requests per minute by source: "
        + "; ".join(
            f"{r[0]}: " + ", ".join(f"{h} {v}" for h, v in zip(req_rows[0][1:], r[1:], strict=True))
            for r in req_rows[1:]
        )
    )
    sec.notes.append(
        f"Subscribers: N runtimes as `snapshot --hub`/`watch --hub` build them (HubFeed, "
        f'the whole store, drained at 10 Hz; `[hub] fallback = "none"`, see '
        f"SUBSCRIBER_TABLES), spread over at most {MAX_PROCS} processes "
        "(bench/hub_subscribers.py). A subscriber keeps up when it decoded ≥ "
        f"{KEEPS_UP:.0%} of the Coinbase ticks the hub relayed in the window (counted on the "
        "stream; the hub coalesces them, `[hub] tick_every_ms`), never skipped ahead and its "
        f"last tick was under {FRESH_S * 1000:g} ms old. Latency: the hub's receipt of the "
        "tick (its `received`, relayed as wall time) to the subscriber's decode, same "
        "machine, all subscribers' ticks merged; a tick held to coalesce counts its hold. "
        "Windows of "
        f"{fmt(median(p.seconds for p in sweep))} s after a settle."
    )
    if compare is not None:
        sec.notes.append(
            f"CPU comparison: a headless App on `--hub` and a direct headless App on a second "
            f"simulated market at {RATE:,.0f} msg/s, side by side for "
            f"{fmt(compare.seconds)} s, both pinned to the app core. {compare.note}"
        )
    sec.notes.append(
        "The machine has 2 cores shared by the hub, Redis, the simulated market, the "
        "harness and every subscriber (and other engineers' work): figures at high N "
        "measure where this box saturates, not a desk's Redis server."
    )


def _row(p: Phase) -> list[str]:
    """One phase as a table row."""
    return [
        f"{p.n}" + ("" if p.kind == "sweep" else f" ({p.kind}, {p.rate:g} msg/s)"),
        str(p.procs),
        f"{p.keeping_up} / {p.n}",
        fmt(p.ticks_share * 100)
        + " %"
        + (f" of {fmt(p.relayed / p.seconds)}/s relayed" if p.relayed else " of those sent"),
        f"{fmt(p.p50)} / {fmt(p.p99)} / {fmt(p.worst)}",
        fmt(p.hub_cpu),
        fmt(p.redis_cpu),
        f"{fmt(p.subs_cpu)} / {fmt(p.subs_cpu / p.n)}",
        fmt(p.subs_rss),
        f"{fmt(p.ready_s)} ({p.live} LIVE)",
        str(p.skips),
        str(p.fallback),
        fmt(p.req_per_min),
    ]
