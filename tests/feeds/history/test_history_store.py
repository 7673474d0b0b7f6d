"""The SQLite history store: schema, migrations, CHECKs, crash safety, corruption, two
instances and the batched writer (reliability.md §5, S rows of §8)."""

from __future__ import annotations

import asyncio
import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from feeds.history.db import (
    MIGRATIONS,
    SCHEMA_VERSION,
    HistoryStore,
    HistoryWriteError,
    HistoryWriter,
    PutAth,
    PutBars,
    PutLast,
    SetSeries,
)
from feeds.model.history import AthRecord, Bar

ROOT = Path(__file__).resolve().parents[3]


def bar(day: date, close: float, symbol: str = "BTC-USD", high: float | None = None) -> Bar:
    c = Decimal(str(close))
    h = Decimal(str(high if high is not None else close * 1.01))
    return Bar(symbol, day, c, h, c * Decimal("0.98"), c, "test")


def tables(store: HistoryStore) -> set[str]:
    with store._lock:
        rows = store._db().execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return {r[0] for r in rows}


def test_schema_is_current_with_wal(tmp_path: Path) -> None:
    store, warning = HistoryStore.open(tmp_path / "h.sqlite3")
    assert warning is None
    assert store.version() == SCHEMA_VERSION == 2
    assert {"bars", "ath", "series", "last_price"} <= tables(store)
    with store._lock:
        assert store._db().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store._db().execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert store._db().execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    store.close()


def test_migration_from_v1_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    for sql in MIGRATIONS[0][1]:
        conn.execute(sql)
    conn.execute(
        "INSERT INTO bars VALUES ('^RUT', '2021-11-08', 2400.0, 2459.0, 2390.0, 2442.0, 'yahoo')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    store, warning = HistoryStore.open(path)
    assert warning is None
    assert store.version() == 2
    assert [b.close for b in store.bars("^RUT")] == [Decimal("2442.0")]
    store.write_batch([SetSeries("^RUT", first_trade=date(1987, 9, 10), complete=True)])
    info = store.series("^RUT")
    assert info.first_trade == date(1987, 9, 10) and info.complete and info.count == 1
    store.close()


def test_newer_schema_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    store, warning = HistoryStore.open(path)
    assert store.memory and warning is not None and "newer" in warning
    assert path.exists()  # not moved, not rewritten
    store.close()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 0.0, -1.0, "abc", None, 1e13])
def test_d3_checks_reject_bad_prices_on_direct_insert(tmp_path: Path, bad: object) -> None:
    store, _ = HistoryStore.open(tmp_path / "h.sqlite3")
    conn = store._db()
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO bars VALUES ('X', '2025-01-02', 1.0, ?, 1.0, 1.0, 't')", (bad,))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO ath VALUES ('X', 'intraday', ?, '2025-01-02', 't')", (bad,))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO last_price VALUES ('X', ?, 't', '2025')", (bad,))
    conn.execute("INSERT INTO bars VALUES ('X', '2025-01-02', 1.0, 2.0, 1.0, 1.5, 't')")
    assert store.ath("X") is None  # direct insert bypasses the ATH upkeep, as intended
    assert len(store.bars("X")) == 1
    store.close()


def test_check_rejects_high_below_low_and_bad_day(tmp_path: Path) -> None:
    store, _ = HistoryStore.open(tmp_path / "h.sqlite3")
    with pytest.raises(sqlite3.IntegrityError):
        store._db().execute("INSERT INTO bars VALUES ('X', '2025-01-02', 1, 1, 2, 1, 't')")
    with pytest.raises(sqlite3.IntegrityError):
        store._db().execute("INSERT INTO bars VALUES ('X', 'yesterday', 1, 2, 1, 1, 't')")
    store.close()


def test_ath_only_moves_up(tmp_path: Path) -> None:
    store, _ = HistoryStore.open(tmp_path / "h.sqlite3")
    store.put_bars([bar(date(2021, 11, 10), 68_500, high=69_000), bar(date(2022, 1, 1), 47_000)])
    rec = store.ath("BTC-USD")
    assert rec is not None
    assert (rec.high, rec.high_day) == (Decimal("69000.0"), date(2021, 11, 10))
    assert (rec.close, rec.close_day) == (Decimal("68500.0"), date(2021, 11, 10))
    lower = AthRecord(
        "BTC-USD", Decimal(1), date(2023, 1, 1), "x", Decimal(1), date(2023, 1, 1), "x"
    )
    store.write_batch([PutAth(lower)])
    assert store.ath("BTC-USD") == rec
    higher = AthRecord(
        "BTC-USD",
        Decimal(70_000),
        date(2024, 3, 5),
        "live:kraken",
        Decimal(1),
        date(2023, 1, 1),
        "x",
    )
    store.write_batch([PutAth(higher)])
    now = store.ath("BTC-USD")
    assert now is not None and now.high == Decimal("70000.0") and now.high_source == "live:kraken"
    assert now.close == Decimal("68500.0")
    store.close()


WRITER = r"""
import asyncio, sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from feeds.history.db import HistoryStore, PutBars
from feeds.model.history import Bar

async def main():
    store, _ = HistoryStore.open(Path(sys.argv[1]))
    writer = store.writer()
    day = date(2015, 1, 1)
    i = 0
    while True:
        px = Decimal(1000 + i)
        await writer.write(PutBars((Bar("BTC-USD", day, px, px + 1, px - 1, px, "t"),)))
        sys.stdout.write(day.isoformat() + "\n")
        sys.stdout.flush()
        day += timedelta(days=1)
        i += 1

asyncio.run(main())
"""


def test_s1_sigkill_during_writes_loses_no_acknowledged_row(tmp_path: Path) -> None:
    rng = random.Random(7)
    path = tmp_path / "kill.sqlite3"
    acked: list[str] = []
    for _trial in range(4):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            text=True,
        )
        assert proc.stdout is not None
        want = rng.randint(5, 60)
        # The writer restarts at 2015-01-01 each trial; REPLACE keeps one row per day.
        seen: list[str] = []
        while len(seen) < want:
            line = proc.stdout.readline()
            assert line, "writer died"
            seen.append(line.strip())
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        acked = sorted(set(acked) | set(seen))
        store, warning = HistoryStore.open(path)
        assert warning is None
        assert store.integrity_check() == "ok"
        stored = {b.day.isoformat() for b in store.bars("BTC-USD")}
        assert set(acked) <= stored
        rec = store.ath("BTC-USD")
        assert rec is not None and rec.high == max(b.high for b in store.bars("BTC-USD"))
        store.close()


def test_s4_corrupt_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store, _ = HistoryStore.open(path)
    store.put_bars([bar(date(2020, 1, 1) + timedelta(days=i), 100 + i) for i in range(300)])
    store.close()
    with open(path, "r+b") as f:
        f.write(b"garbage!" * 16)  # the header
    store, warning = HistoryStore.open(path)
    assert warning is not None and "corrupt" in warning
    assert store.bars("BTC-USD") == [] and store.version() == 2
    aside = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1
    store.put_bars([bar(date(2021, 1, 1), 5)])
    store.close()
    again, warning2 = HistoryStore.open(path)  # no crash loop: the fresh file is fine
    assert warning2 is None and len(again.bars("BTC-USD")) == 1
    again.close()


def test_s4_corrupt_page_found_by_quick_check(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store, _ = HistoryStore.open(path)
    store.put_bars([bar(date(2000, 1, 1) + timedelta(days=i), 100 + i) for i in range(3000)])
    store.close()
    data = bytearray(path.read_bytes())
    for off in range(4096 * 3, len(data) - 4096, 4096):
        data[off + 100 : off + 400] = b"\xff" * 300
    path.write_bytes(bytes(data))
    store, warning = HistoryStore.open(path)
    assert warning is not None and "corrupt" in warning
    assert store.quick_check() == "ok"
    store.close()


def test_s3_unwritable_directory_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store, warning = HistoryStore.open(blocker / "sub" / "h.sqlite3")
    assert store.memory and warning is not None and "not saved" in warning
    store.close()


def test_s5_two_instances_write_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    one, w1 = HistoryStore.open(path, busy_ms=5000)
    two, w2 = HistoryStore.open(path, busy_ms=5000)
    assert w1 is None and w2 is None
    errors: list[BaseException] = []

    def work(store: HistoryStore, symbol: str) -> None:
        try:
            for i in range(200):
                store.put_bars([bar(date(2020, 1, 1) + timedelta(days=i), 10 + i, symbol)])
        except BaseException as exc:  # pragma: no cover - the failure being tested
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(one, "A")),
        threading.Thread(target=work, args=(two, "B")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(one.bars("B")) == 200 and len(two.bars("A")) == 200
    assert one.integrity_check() == "ok"
    one.close()
    two.close()


async def test_s5_writer_waits_out_a_lock_held_by_another_instance(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    mine, _ = HistoryStore.open(path, busy_ms=50)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another instance holds the write lock
    writer = HistoryWriter(mine, retry_delay=0.05, locked_retries=10)
    task = asyncio.create_task(writer.write(PutBars((bar(date(2025, 1, 1), 1),))))
    await asyncio.sleep(0.2)
    assert not task.done()
    other.execute("COMMIT")
    await asyncio.wait_for(task, 5)
    assert len(mine.bars("BTC-USD")) == 1 and writer.last_error is None
    await writer.aclose()
    other.close()
    mine.close()


async def test_writer_batches_fire_and_forget_writes(tmp_path: Path) -> None:
    store, _ = HistoryStore.open(tmp_path / "h.sqlite3")
    writer = HistoryWriter(store, linger=0.05)
    at = datetime(2025, 12, 12, tzinfo=UTC)
    for i in range(50):
        writer.submit(PutLast(f"S{i}", Decimal(i + 1), "yahoo", at))
    await writer.flush()
    assert len(store.last_prices()) == 50
    assert writer.batches == 1  # one transaction for the lot
    await writer.aclose()
    store.close()


async def test_writer_queue_is_bounded_and_drops_oldest(tmp_path: Path) -> None:
    store, _ = HistoryStore.open(tmp_path / "h.sqlite3")
    writer = HistoryWriter(store, max_pending=10, linger=0.2)
    at = datetime(2025, 12, 12, tzinfo=UTC)
    for i in range(25):
        writer.submit(PutLast("BTC-USD", Decimal(i + 1), "kraken", at))
    assert writer.pending <= 10
    assert writer.dropped == 15
    await writer.flush()
    assert store.last_prices()["BTC-USD"].price == Decimal("25.0")
    await writer.aclose()
    store.close()


async def test_writer_isolates_a_refused_write(tmp_path: Path) -> None:
    store, _ = HistoryStore.open(tmp_path / "h.sqlite3")
    writer = HistoryWriter(store, linger=0.05)
    at = datetime(2025, 12, 12, tzinfo=UTC)
    # Bypass the model's validation to reach the CHECK: a NaN that slipped through.
    bad = Bar("X", date(2025, 1, 1), Decimal("NaN"), Decimal(2), Decimal(1), Decimal(1), "t")
    writer.submit(PutLast("A", Decimal(1), "yahoo", at))
    with pytest.raises(HistoryWriteError):
        await writer.write(PutBars((bad,)))
    assert "A" in store.last_prices()
    assert store.bars("X") == []
    await writer.aclose()
    store.close()


# -- opening off the path to the first frame ---------------------------------------------


async def test_a_store_opens_on_first_need_in_a_worker_thread(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "h.sqlite3"
    store = HistoryStore(path)
    assert not store.is_open and not path.exists()  # constructing it touches nothing
    opened_in: list[str] = []
    real = store._open_checked

    def spy() -> tuple[sqlite3.Connection, str | None]:
        opened_in.append(threading.current_thread().name)
        return real()

    store._open_checked = spy  # type: ignore[method-assign]
    warnings = await asyncio.gather(store.ready(), store.ready())
    assert list(warnings) == [None, None]
    assert store.is_open and path.exists()
    assert len(opened_in) == 1 and opened_in[0] != threading.current_thread().name
    store.close()


async def test_ready_moves_a_corrupt_file_aside_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"garbage!" * 512)
    store = HistoryStore(path)
    warning = await store.ready()
    assert warning is not None and "corrupt" in warning and store.warning == warning
    assert store.quick_check() == "ok" and store.bars("BTC-USD") == []
    store.close()


async def test_writes_before_the_store_is_open_are_kept(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3")
    writer = store.writer()
    writer.submit(
        PutLast("BTC-USD", Decimal("92000"), "coinbase", datetime(2025, 12, 12, tzinfo=UTC))
    )
    await writer.aclose()  # the first commit opens the store
    assert store.is_open and store.last_prices()["BTC-USD"].price == Decimal("92000.0")
    store.close()


def test_closing_a_store_never_opened_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = HistoryStore(path)
    store.close()
    assert not path.exists()
    with pytest.raises(sqlite3.ProgrammingError):
        store.bars("BTC-USD")


def test_newest_bars_one_per_symbol(tmp_path: Path) -> None:
    store, _ = HistoryStore.open(tmp_path / "h.sqlite3")
    store.put_bars([bar(date(2025, 1, 1) + timedelta(days=i), 100 + i) for i in range(5)])
    store.put_bars([bar(date(2025, 3, 1), 7, "^RUT")])
    newest = store.newest_bars(["BTC-USD", "^RUT", "NOPE"])
    assert set(newest) == {"BTC-USD", "^RUT"}
    assert newest["BTC-USD"] == store.bars("BTC-USD")[-1] and newest["^RUT"].day == date(2025, 3, 1)
    store.close()
