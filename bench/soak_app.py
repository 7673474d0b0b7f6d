"""The real ``lockstep`` for the soak, with an in-process report on SIGUSR1 / SIGUSR2.

``python -m bench.soak_app REPORT_DIR -- <lockstep arguments>``

Every report signal writes ``REPORT_DIR/report-N.json`` (N counts both signals) with, in
this order: the resident set size (read first, so no tracemalloc snapshot inflates it),
the open file descriptors (count and kinds), the asyncio tasks (count and coroutine
names), the objects the garbage collector tracks (count and count by type) and the
sizes of the larger ``functools.lru_cache`` caches. SIGUSR1 also dumps a tracemalloc
snapshot ``snapshot-N.bin`` when ``BENCH_TRACEMALLOC=1`` (tracing slows the app and, at
each snapshot, leaves pymalloc holding arenas: RSS is judged in a run without it);
SIGUSR2 never does, so a report around the forced disconnect stays light.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import os
import signal
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from types import FrameType

LRU_MIN = 50
"""lru_cache caches at least this full are listed (the small ones are noise)."""


def rss_bytes() -> int:
    """This process's resident set size, from /proc (no psutil inside the app)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def fd_kinds() -> dict[str, int]:
    """Open descriptors by kind (``socket``, ``pipe``, ``anon_inode``, a path's ``/``)."""
    kinds: Counter[str] = Counter()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the listing's own descriptor, already closed
        kinds[target.split(":", 1)[0] if ":" in target else "/" + target.split("/")[1]] += 1
    return dict(kinds)


def task_names() -> dict[str, int] | None:
    """Running-loop tasks by coroutine name; None when no loop runs in this thread."""
    loop = asyncio._get_running_loop()
    if loop is None:
        return None
    names: Counter[str] = Counter()
    for task in asyncio.all_tasks(loop):
        coro = task.get_coro()
        names[getattr(coro, "__qualname__", type(coro).__name__)] += 1
    return dict(names)


def type_name(obj: object) -> str:
    """``module.Qualname`` of an object's type."""
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def measure() -> dict[str, object]:
    """One report (RSS first)."""
    doc: dict[str, object] = {"t": time.monotonic(), "rss_mb": rss_bytes() / 1e6}
    # The listing itself holds one descriptor while it runs: the same +1 in every report.
    doc["fds"] = len(os.listdir("/proc/self/fd"))
    doc["fd_kinds"] = fd_kinds()
    names = task_names()
    doc["tasks"] = -1 if names is None else sum(names.values())
    doc["task_names"] = names or {}
    objs = gc.get_objects()
    doc["gc_objects"] = len(objs)
    doc["types"] = dict(Counter(type_name(o) for o in objs))
    lru: dict[str, list[int | None]] = {}
    for o in objs:
        # type(), not isinstance(): isinstance asks a weakref.proxy for its __class__, and
        # a dead one (websockets gives each connection's logger one) raises ReferenceError.
        if type(o) is functools._lru_cache_wrapper:
            info = o.cache_info()
            if info.currsize >= LRU_MIN:
                key = f"{getattr(o, '__module__', '?')}.{getattr(o, '__qualname__', '?')}"
                lru[key] = [info.currsize, info.maxsize]
    doc["lru"] = lru
    del objs  # the list holds every object alive: drop it before any snapshot
    return doc


def main() -> None:
    """Entry point."""
    out = Path(sys.argv[1])
    rest = sys.argv[2:]
    if rest and rest[0] == "--":
        rest = rest[1:]
    out.mkdir(parents=True, exist_ok=True)
    if os.environ.get("BENCH_TRACEMALLOC") == "1":
        tracemalloc.start(6)
    count = [0]

    def report(signum: int, frame: FrameType | None) -> None:
        count[0] += 1
        n = count[0]
        t0 = time.monotonic()
        doc: dict[str, object] = {}
        try:
            doc = measure()
            if signum == signal.SIGUSR1 and tracemalloc.is_tracing():
                doc["traced_mb"] = tracemalloc.get_traced_memory()[0] / 1e6
                tracemalloc.take_snapshot().dump(str(out / f"snapshot-{n}.bin"))
        except Exception as exc:  # noqa: BLE001 - a report must never take the app down
            doc["error"] = repr(exc)
        doc["took_s"] = time.monotonic() - t0
        tmp = out / f"report-{n}.tmp"
        tmp.write_text(json.dumps(doc))
        tmp.replace(out / f"report-{n}.json")  # the harness never reads half a file

    signal.signal(signal.SIGUSR1, report)
    signal.signal(signal.SIGUSR2, report)
    from tui.cli import main as lockstep

    sys.exit(lockstep(rest))


if __name__ == "__main__":
    main()
