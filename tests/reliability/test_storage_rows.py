"""Storage rows not covered next to the history store: S2 disk full (a file-size limit
in a subprocess), S6 the write-ahead log under a long-lived reader, and the reasons S3/S7
are tested only in part here."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from feeds.history.db import HistoryStore
from feeds.model.history import Bar
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
# S7 network filesystem: detected from /proc/mounts (feeds.history.db.network_filesystem);
# no NFS mount can be made in this sandbox, so only the detection function is testable.


def _bars(symbol: str, days: int) -> tuple[Bar, ...]:
    start = date(2000, 1, 1)
    one, two, half = Decimal(1), Decimal(2), Decimal("0.5")
    return tuple(
        Bar(symbol, start + timedelta(days=i), one, two, half, one, "test") for i in range(days)
    )


def test_s6_a_reader_held_open_grows_the_log_which_is_said_and_cut_back_once_it_ends(
    tmp_path: Path,
) -> None:
    """S6: another connection holds a read open while 10^5 rows are written. The log
    cannot be checkpointed past that reader, so it grows; the store says so (the ATH
    panel's notice) instead of growing silently. Once the reader lets go, the next commit
    checkpoints and cuts the log back below its cap, and the notice goes."""
    path = tmp_path / "history.sqlite"
    store = HistoryStore(path)
    store.wal_limit, store.wal_alert = 1 << 20, 4 << 20  # small caps: a short test
    store.put_bars(_bars("FIRST", 10))
    reader = sqlite3.connect(path)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM bars").fetchone()[0] == 10  # a snapshot
        for n in range(20):  # 10^5 rows, 5,000 a commit
            store.put_bars(_bars(f"SYM{n}", 5_000))
        assert store.wal_bytes() > store.wal_alert
        assert store.wal_note is not None and "holds the history open" in store.wal_note
        reader.execute("COMMIT")
    finally:
        reader.close()
    store.put_bars(_bars("LAST", 1))
    assert store.wal_bytes() <= store.wal_limit
    assert store.wal_note is None
    assert store.integrity_check() == "ok"
    store.close()


def test_s6_the_ath_panel_notice_carries_the_store_s_log_warning(tmp_path: Path) -> None:
    """The warning reaches the screen through the ATH view's notices (one owner: the
    store says it, the slice carries it, the panel shows it)."""
    from feeds.core.clock import ManualClock
    from feeds.history.factory import make_ath_slice
    from feeds.history.settings import HistorySettings

    store = HistoryStore(tmp_path / "history.sqlite")
    ath = make_ath_slice(HistorySettings(), store, ["^RUT"], ManualClock())
    assert not any("journal" in n for n in ath.view().notices)
    store.wal_note = "history journal is 80 MB: something holds the history open"
    assert ath.refresh(1.0)  # the store's health is looked at with the time-driven state
    assert store.wal_note in ath.view().notices
    store.wal_note = None
    assert ath.refresh(2.0) and not any("journal" in n for n in ath.view().notices)
