"""Storage rows not covered next to the history store: S2 disk full (a file-size limit
in a subprocess), and the reasons S3/S6/S7 are tested only in part here."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.ptyharness import ROOT

DISK_FULL = textwrap.dedent(
    """
    import asyncio, resource, signal, sys
    from datetime import date, timedelta
    from decimal import Decimal
    from pathlib import Path
    from feeds.history.db import HistoryStore, PutBars
    from feeds.model.history import Bar

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    path = Path(sys.argv[1])
    store, warning = HistoryStore.open(path)
    resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))

    async def main():
        writer = store.writer()
        day = date(2000, 1, 1)
        for chunk in range(60):
            bars = tuple(
                Bar(f"SYM{chunk}", day + timedelta(days=i), Decimal(1), Decimal(2),
                    Decimal("0.5"), Decimal("1.5"), "test")
                for i in range(500)
            )
            writer.submit(PutBars(bars))
            await asyncio.sleep(0)
        for _ in range(100):  # the writer lingers ~1 s per batch
            await asyncio.sleep(0.1)
            if writer.last_error or (writer.batches and writer.pending == 0):
                break
        print("ERROR:", writer.last_error, writer.dropped, writer.batches)
        await writer.aclose()
        store.close()
        print("ALIVE")

    asyncio.run(main())
    """
)


def test_s2_disk_full_is_reported_and_the_process_keeps_running(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", DISK_FULL, str(tmp_path / "history.sqlite3")],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "ALIVE" in done.stdout, done.stderr[-2000:]
    assert "history not being saved" in done.stdout


# S3 read-only database: the tests run as root here, and root ignores file modes, so a
# chmod cannot make the file read-only; tests/feeds/history/test_history_store.py covers the
# nearest case (an unusable directory at start-up falls back to memory with a warning).
# S6 WAL growth under a long-lived reader: SQLite's automatic checkpoint runs every 1000
# pages; the store checkpoints (TRUNCATE) at close. A test needs 1e5 writes against a held
# reader and is left to the long soak in bench/.
# S7 network filesystem: detected from /proc/mounts (feeds.history.db.network_filesystem);
# no NFS mount can be made in this sandbox, so only the detection function is testable.
