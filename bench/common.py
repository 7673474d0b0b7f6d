"""Shared pieces: statistics, figures with targets, machine facts, CPU pinning."""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (the app's modules are imported from here)."""

APP_CORE = 1
"""The core the app under test is pinned to; the harness and the market get core 0."""
HARNESS_CORE = 0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def median(values: Iterable[float]) -> float:
    """Median of the finite values; NaN if there are none."""
    data = [v for v in values if not math.isnan(v)]
    return statistics.median(data) if data else math.nan


def iqr(values: Iterable[float]) -> tuple[float, float]:
    """(25th, 75th) percentiles of the finite values."""
    data = [v for v in values if not math.isnan(v)]
    return percentile(data, 25), percentile(data, 75)


def ratio(a: float, b: float) -> float:
    """a / b, NaN when b is zero or either is NaN."""
    if math.isnan(a) or math.isnan(b) or b == 0:
        return math.nan
    return a / b


@dataclass(slots=True)
class Figure:
    """One reported number, next to its target.

    Attributes:
        bench: Benchmark id (``B4``).
        name: What was measured, with its conditions.
        value: The median (or single) value; NaN when not measurable.
        unit: Display unit.
        target: The target as text (``≤ 100``), empty if informational.
        limit: The numeric bound, or None for informational figures.
        higher_is_better: True for throughput-like figures (``≥`` targets).
        spread: Optional spread text (IQR, min–max, runs).
        note: Free text (cause of a miss, how it was measured).
        gate: False for figures that are reported but never fail the CI smoke run
            (the rule is bench/ci_gate.py: fail beyond 2× the target).
        strict: The target is "<" (or ">" when ``higher_is_better``): a value equal to
            the limit misses ("below the peer's", not "at most").
        vs_peer: The limit is not a fixed number but the peer's figure measured in the
            same run (``< peer``, ``≤ peer``); the CI gate says so in its bound.
        peer: The peer's figure in the same run, as text, shown beside the value in
            the summary ("—" or empty where the peer has no such figure).
    """

    bench: str
    name: str
    value: float
    unit: str = ""
    target: str = ""
    limit: float | None = None
    higher_is_better: bool = False
    spread: str = ""
    note: str = ""
    gate: bool = True
    strict: bool = False
    vs_peer: bool = False
    peer: str = ""

    @property
    def verdict(self) -> str:
        """``pass``, ``MISS``, ``n/a`` (not measurable: the value, or the peer's figure
        it is compared with) or ``info``."""
        if self.limit is None:
            return "info"
        if math.isnan(self.value) or math.isnan(self.limit):
            return "n/a"
        return (
            "pass" if meets(self.value, self.limit, self.higher_is_better, self.strict) else "MISS"
        )


def meets(value: float, limit: float, higher_is_better: bool, strict: bool = False) -> bool:
    """True when ``value`` meets ``limit``: ``≤`` / ``≥``, or ``<`` / ``>`` when strict."""
    if higher_is_better:
        return value > limit if strict else value >= limit
    return value < limit if strict else value <= limit


@dataclass(slots=True)
class Section:
    """The figures and notes one benchmark produced."""

    bench: str
    title: str
    command: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)
    """An optional extra table (first row is the header)."""
    seconds: float = 0.0
    broken: str = ""
    """Set when the harness itself failed (a CI failure regardless of numbers)."""

    def add(self, name: str, value: float, unit: str = "", **kw: object) -> Figure:
        """Append a figure and return it."""
        fig = Figure(self.bench, name, value, unit, **kw)  # type: ignore[arg-type]
        self.figures.append(fig)
        return fig


def fmt(value: float, unit: str = "") -> str:
    """A compact number for tables."""
    if math.isnan(value):
        return "—"
    a = abs(value)
    if a >= 1000:
        text = f"{value:,.0f}"
    elif a >= 100:
        text = f"{value:.0f}"
    elif a >= 10:
        text = f"{value:.1f}"
    elif a >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".rstrip()


def _initial_cores() -> frozenset[int]:
    try:
        return frozenset(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return frozenset(range(os.cpu_count() or 1))


CORES = _initial_cores()
"""The cores this process could use when the harness started (before pinning)."""


def cpu_count() -> int:
    """Usable cores (as at harness start)."""
    return len(CORES)


def can_pin() -> bool:
    """True when app and harness can get a core each."""
    return hasattr(os, "sched_setaffinity") and {APP_CORE, HARNESS_CORE} <= CORES


def pin(pid: int, core: int) -> bool:
    """Pin ``pid`` (0 = this process) to ``core``; False if not possible."""
    if not can_pin() or core not in CORES:
        return False
    try:
        os.sched_setaffinity(pid, {core})
    except OSError:
        return False
    return True


def machine() -> str:
    """One line describing the box the numbers came from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                break
    except OSError:
        pass
    versions = []
    for mod in ("textual", "rich", "websockets", "orjson", "pyte", "psutil"):
        try:
            from importlib.metadata import version

            versions.append(f"{mod} {version(mod)}")
        except Exception:  # noqa: BLE001 - informational
            pass
    return f"{cpu_count()} cores ({cpu}{mem}), Python {platform.python_version()}, " + ", ".join(
        versions
    )


def git_rev() -> str:
    """The commit the tree is on, or a note that there is none yet."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    rev = out.stdout.strip() or "no commit yet"
    try:
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        dirty = ""
    return rev + (" + uncommitted changes in the working tree" if dirty else "")


def child_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a program under test: fixed terminal, isolated dirs."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LOCKSTEP_", "TEXTUAL_"))
        # PYTHONDONTWRITEBYTECODE (set on some machines): an installed app runs from
        # compiled bytecode, so the app under test may cache it (__pycache__, ignored).
        and k
        not in (
            "NO_COLOR",
            "COLUMNS",
            "LINES",
            "PYTHONASYNCIODEBUG",
            "PYTHONDEVMODE",
            "PYTHONDONTWRITEBYTECODE",
        )
    }
    env.update(
        TERM="xterm-256color",
        COLORTERM="truecolor",
        LOCKSTEP_DATA_DIR=str(data_dir),
        HOME=str(data_dir),
        XDG_CONFIG_HOME=str(data_dir / "config"),
        XDG_DATA_HOME=str(data_dir / "data"),
        XDG_CACHE_HOME=str(data_dir / "cache"),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        LANG=os.environ.get("LANG", "C.UTF-8") or "C.UTF-8",
    )
    if extra:
        env.update(extra)
    return env


def log(msg: str) -> None:
    """Progress on stderr (stdout is for the summary)."""
    print(msg, file=sys.stderr, flush=True)
