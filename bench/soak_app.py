"""The real ``lockstep`` for the soak, with an in-process memory report on SIGUSR1.

``python -m bench.soak_app REPORT_DIR -- <lockstep arguments>``

On every SIGUSR1 it writes ``REPORT_DIR/report-N.json`` with the count of objects the
garbage collector tracks and, when ``BENCH_TRACEMALLOC=1`` (long soak only: tracing
slows the app and costs memory), a tracemalloc snapshot ``snapshot-N.bin``.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import time
import tracemalloc
from pathlib import Path
from types import FrameType


def main() -> None:
    """Entry point."""
    out = Path(sys.argv[1])
    rest = sys.argv[2:]
    if rest and rest[0] == "--":
        rest = rest[1:]
    out.mkdir(parents=True, exist_ok=True)
    if os.environ.get("BENCH_TRACEMALLOC") == "1":
        tracemalloc.start(5)
    count = [0]

    def report(signum: int, frame: FrameType | None) -> None:
        count[0] += 1
        n = count[0]
        doc = {"t": time.monotonic(), "gc_objects": len(gc.get_objects())}
        if tracemalloc.is_tracing():
            tracemalloc.take_snapshot().dump(str(out / f"snapshot-{n}.bin"))
            doc["traced_mb"] = tracemalloc.get_traced_memory()[0] / 1e6
        (out / f"report-{n}.json").write_text(json.dumps(doc))

    signal.signal(signal.SIGUSR1, report)
    from tui.cli import main as lockstep

    sys.exit(lockstep(rest))


if __name__ == "__main__":
    main()
