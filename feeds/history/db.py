"""The SQLite history: daily OHLC bars per symbol, all-time highs and the last known prices.

The store is synchronous and thread-safe (one connection, one lock); nothing here runs on
the event loop, opening included (:meth:`HistoryStore.ready` opens and checks the file in
a worker thread). All writes go through one :class:`HistoryWriter` per store, which
batches them and commits in a worker thread (``asyncio.to_thread``).

Durability (reliability.md §5, finding 10): WAL with ``synchronous=NORMAL`` survives
application crashes, and may lose the last commits on power loss. Two instances on one file
share it through WAL and a busy timeout; a writer that still finds the file locked retries
later rather than raising. A file that fails ``PRAGMA quick_check`` is moved aside and
replaced by a fresh one, with a warning for the screen.

Poisoned prices are refused twice: once by the parsers, and again by the schema. NaN is
stored as NULL and slips past a bare ``CHECK (px > 0)``, so every price column is
``NOT NULL`` with a ``CHECK`` on type, sign and range.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from feeds.model.history import AthRecord, Bar

SCHEMA_VERSION = 2
"""The schema this code writes. Older files are migrated; newer ones are left alone."""

_PRICE_MAX = 1e12

CACHE_KIB = 512
"""SQLite's page cache for the history connection, KiB (the default is 2,000)."""

WAL_LIMIT_BYTES = 8 << 20
"""The write-ahead log is cut back to this size once it has been checkpointed
(``journal_size_limit``): without it the file stays as large as it ever grew."""

WAL_ALERT_BYTES = 64 << 20
"""A log this large after a commit means something holds a read open and starves the
checkpoint (reliability.md S6): the ATH panel says so until it shrinks."""


def _px(col: str) -> str:
    # typeof() catches text that REAL affinity could not convert; < 1e12 catches inf;
    # NOT NULL catches NaN, which SQLite stores as NULL.
    return (
        f"{col} REAL NOT NULL CHECK (typeof({col}) = 'real' AND {col} > 0 "
        f"AND {col} < {_PRICE_MAX:.0e})"
    )


_DAY = "CHECK ({0} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]')"

MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            f"""CREATE TABLE bars (
                symbol TEXT NOT NULL,
                day TEXT NOT NULL {_DAY.format("day")},
                {_px("open")}, {_px("high")}, {_px("low")}, {_px("close")},
                source TEXT NOT NULL,
                CHECK (high >= low),
                PRIMARY KEY (symbol, day)
            ) WITHOUT ROWID""",
            f"""CREATE TABLE ath (
                symbol TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('intraday', 'close')),
                {_px("value")},
                day TEXT NOT NULL {_DAY.format("day")},
                source TEXT NOT NULL,
                PRIMARY KEY (symbol, kind)
            ) WITHOUT ROWID""",
        ),
    ),
    (
        2,
        (
            f"""CREATE TABLE series (
                symbol TEXT PRIMARY KEY,
                first_trade TEXT {_DAY.format("first_trade")},
                complete INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
                source TEXT NOT NULL DEFAULT ''
            ) WITHOUT ROWID""",
            f"""CREATE TABLE last_price (
                symbol TEXT PRIMARY KEY,
                {_px("price")},
                source TEXT NOT NULL,
                at TEXT NOT NULL
            ) WITHOUT ROWID""",
        ),
    ),
)
"""Schema steps in order: ``(version, statements)``. Each runs in one transaction."""

_NETWORK_FS = {"nfs", "nfs4", "cifs", "smbfs", "smb3", "fuse.sshfs", "9p", "afs", "ceph"}


class HistoryError(Exception):
    """The history file cannot be used (newer schema, unreadable, unwritable)."""


class HistoryWriteError(Exception):
    """A batch could not be committed; ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- write operations (what the writer queues) ----------------------------------------


@dataclass(frozen=True, slots=True)
class PutBars:
    """Insert or replace daily bars, and raise the stored all-time highs to match."""

    bars: tuple[Bar, ...]


@dataclass(frozen=True, slots=True)
class PutAth:
    """Raise a symbol's stored all-time highs to ``record`` where it is higher."""

    record: AthRecord


@dataclass(frozen=True, slots=True)
class PutLast:
    """Remember a symbol's last live price, for the next start-up's first paint."""

    symbol: str
    price: Decimal
    source: str
    at: datetime


@dataclass(frozen=True, slots=True)
class SetSeries:
    """Record facts about a symbol's stored history. ``None`` leaves a field as it is."""

    symbol: str
    first_trade: date | None = None
    complete: bool | None = None
    source: str | None = None


WriteOp = PutBars | PutAth | PutLast | SetSeries


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """What is stored for one symbol.

    Attributes:
        symbol: Yahoo-style symbol.
        first_day: Oldest stored bar, if any.
        last_day: Newest stored bar, if any.
        count: Number of stored bars.
        first_trade: Where the source says its history starts, if it said.
        complete: True once a backfill reached the start of the source's history.
        source: The source that filled it last.
    """

    symbol: str
    first_day: date | None
    last_day: date | None
    count: int
    first_trade: date | None
    complete: bool
    source: str


@dataclass(frozen=True, slots=True)
class DailyColumns:
    """A symbol's stored daily highs and closes as columns (:meth:`HistoryStore.daily`).

    Attributes:
        days: Every stored day, ascending.
        high: Each day's high.
        close: Each day's close.
        marks: The bars that decide the all-time highs, ascending, without repeats: the
            oldest, the first with the highest high, the first with the highest close and
            the newest. Merged into a record (``feeds.history.ath.merge_bars``, which keeps
            the earliest of equal highs) they give what all the bars would.
    """

    days: tuple[date, ...]
    high: tuple[float, ...]
    close: tuple[float, ...]
    marks: tuple[Bar, ...]


@dataclass(frozen=True, slots=True)
class LastPrice:
    """A persisted last price."""

    symbol: str
    price: Decimal
    source: str
    at: datetime


def _dec(x: float) -> Decimal:
    return Decimal(repr(x))


def _bar(symbol: str, row: tuple[Any, ...]) -> Bar:
    d, o, h, lo, c, s = row
    return Bar(symbol, date.fromisoformat(d), _dec(o), _dec(h), _dec(lo), _dec(c), s)


def _day(s: str | None) -> date | None:
    return None if s is None else date.fromisoformat(s)


def network_filesystem(path: Path) -> str | None:
    """The filesystem type if ``path`` lives on a network mount (Linux ``/proc/mounts``)."""
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    target = str(path.resolve())
    best, kind = "", ""
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        mnt = parts[1].replace("\\040", " ")
        if (target == mnt or target.startswith(mnt.rstrip("/") + "/")) and len(mnt) > len(best):
            best, kind = mnt, parts[2]
    return kind if kind in _NETWORK_FS else None


class HistoryStore:
    """Daily bars, all-time highs and last prices in one SQLite file (or in memory).

    Constructing a store opens nothing: the file is opened, migrated and checked with
    ``PRAGMA quick_check`` on first use, which takes tens of milliseconds on a file of a
    few megabytes (and grows with it). :meth:`ready` does it in a worker thread, so an
    app can paint its first frame and connect its streams meanwhile; :meth:`open` does
    it at once. A bad file never raises: it is moved aside or the store falls back to
    memory, and :attr:`warning` says so.
    """

    def __init__(self, path: Path | str, *, busy_ms: int = 5000) -> None:
        self.path = str(path)
        self.memory = self.path == ":memory:"
        self.busy_ms = busy_ms
        self.warning: str | None = None
        """What went wrong opening the file (moved aside, memory only ...), once open."""
        self.wal_limit = WAL_LIMIT_BYTES
        self.wal_alert = WAL_ALERT_BYTES
        self.wal_note: str | None = None
        """Set while the write-ahead log stays above :attr:`wal_alert` (a starved
        checkpoint), in plain words; None otherwise."""
        self._lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self._writer: HistoryWriter | None = None

    # -- opening ------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, busy_ms: int = 5000) -> tuple[HistoryStore, str | None]:
        """Open (creating) the history at ``path`` now; never raises for a bad file.

        Returns the store and a warning to show, or None. A corrupt file is moved aside
        to ``<name>.corrupt-<UTC time>`` and a fresh one made; a file from a newer
        version, or one that cannot be written, leaves the history in memory only.
        """
        store = cls(path, busy_ms=busy_ms)
        store._db()
        return store, store.warning

    async def ready(self) -> str | None:
        """Open the store in a worker thread if it is not open yet (as :meth:`open`
        would); returns :attr:`warning`. Concurrent callers share the one opening."""
        if self._conn is None:
            await asyncio.to_thread(self._db)
        return self.warning

    @property
    def is_open(self) -> bool:
        """True once the file has been opened (and checked)."""
        return self._conn is not None

    def _db(self) -> sqlite3.Connection:
        """The connection, opening the store first if needed (blocking: call it from a
        worker thread, or where a short wait is acceptable)."""
        conn = self._conn
        if conn is not None:
            return conn
        with self._open_lock:
            conn = self._conn
            if conn is None:
                if self._closed:
                    raise sqlite3.ProgrammingError("the history store is closed")
                conn, self.warning = self._open_checked()
                self._conn = conn
            return conn

    def _open_checked(self) -> tuple[sqlite3.Connection, str | None]:
        if self.memory:
            return self._connect(None), None
        path = Path(self.path)
        warning: str | None = None
        nfs = network_filesystem(path.parent) if path.parent.exists() else None
        if nfs:
            warning = f"history database is on a network filesystem ({nfs}); WAL is off"
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _create_private(path)
            conn = self._connect(nfs)
            result = _quick_check(conn)
            if result == "ok":
                return conn, warning
            conn.close()
            reason = f"quick_check: {result[:60]}"
        except HistoryError as exc:
            return self._in_memory(), f"{exc}; history is not saved this session"
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and not _looks_corrupt(exc):
                return self._in_memory(), (
                    f"history database unusable ({str(exc)[:60]}); not saved this session"
                )
            reason = str(exc)[:60]
        except OSError as exc:
            return self._in_memory(), (
                f"history directory unusable ({exc.strerror}); not saved this session"
            )
        moved = _move_aside(path)
        try:
            conn = self._connect(nfs)
        except (sqlite3.DatabaseError, HistoryError, OSError) as exc:
            return self._in_memory(), f"history database unusable ({str(exc)[:60]})"
        return conn, (
            f"history database was corrupt ({reason}); moved to {moved.name}, starting fresh"
        )

    def _in_memory(self) -> sqlite3.Connection:
        self.path, self.memory = ":memory:", True
        return self._connect(None)

    def _connect(self, nfs: str | None) -> sqlite3.Connection:
        """Connect to :attr:`path` and migrate it; raises HistoryError or
        ``sqlite3.DatabaseError`` for a bad file."""
        conn = sqlite3.connect(
            self.path, timeout=self.busy_ms / 1000, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_ms)}")
            # WAL needs shared memory on one host (sqlite.org/wal.html).
            journal = "DELETE" if nfs else "WAL"
            conn.execute(f"PRAGMA journal_mode = {journal}")
            conn.execute(f"PRAGMA journal_size_limit = {int(self.wal_limit)}")
            conn.execute("PRAGMA synchronous = NORMAL")
            # SQLite's default page cache is 2 MB per connection, and the start-up
            # quick_check reads every page: it would fill and stay in the resident size
            # all day. Reads after start-up are a few indexed rows; 512 KiB holds them.
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            _migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def version(self) -> int:
        """The schema version of the open file."""
        conn = self._db()
        with self._lock:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def quick_check(self) -> str:
        """``PRAGMA quick_check``: ``"ok"`` or the first problem found."""
        conn = self._db()
        with self._lock:
            return _quick_check(conn)

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check`` (slow; for tests and diagnostics)."""
        conn = self._db()
        with self._lock:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        return "ok" if rows == [("ok",)] else "; ".join(str(r[0]) for r in rows[:3])

    def close(self) -> None:
        """Checkpoint and close. Flush the writer first (:meth:`HistoryWriter.aclose`).
        A store that was never opened stays unopened."""
        with self._open_lock:
            self._closed = True
            conn = self._conn
        if conn is None:
            return
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()

    def writer(self) -> HistoryWriter:
        """The store's single writer (made on first use). It takes writes at once; the
        first commit opens the store if nothing else has."""
        if self._writer is None:
            self._writer = HistoryWriter(self)
        return self._writer

    # -- writes (call from a worker thread; the writer does) -----------------------------

    def write_batch(self, ops: Sequence[WriteOp]) -> None:
        """Apply ``ops`` in one transaction. Raises ``sqlite3.Error`` and rolls back."""
        if not ops:
            return
        conn = self._db()
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for op in ops:
                    self._apply(conn, op)
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
            self._keep_wal_small(conn)

    def wal_bytes(self) -> int:
        """The write-ahead log's size on disk (0 in memory, or when there is none)."""
        if self.memory:
            return 0
        try:
            return os.stat(self.path + "-wal").st_size
        except OSError:
            return 0

    def _keep_wal_small(self, conn: sqlite3.Connection) -> None:
        """After a commit (reliability.md S6): a log grown past :attr:`wal_limit` is
        checkpointed and cut back when no reader is in the way; while it stays past
        :attr:`wal_alert`, :attr:`wal_note` says why. SQLite's own checkpoint (every
        1,000 pages) copies pages back but never shrinks the file, and it cannot get
        past a reader that holds an old snapshot: another process reading the history
        all day would make the log grow without bound."""
        size = self.wal_bytes()
        if size <= self.wal_limit:
            self.wal_note = None
            return
        with contextlib.suppress(sqlite3.Error):
            # PASSIVE never waits; TRUNCATE only once nothing is left to copy (no reader
            # pins an old snapshot), so it does not wait either.
            _, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if log >= 0 and done == log:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                size = self.wal_bytes()
        if size > self.wal_alert:
            self.wal_note = (
                f"history journal is {size / 1e6:.0f} MB: something holds the history "
                "open for reading (another program?); it shrinks once that ends"
            )
        else:
            self.wal_note = None

    def put_bars(self, bars: Iterable[Bar]) -> None:
        """Store bars now (one transaction). For tests and tools; the app uses the writer."""
        self.write_batch([PutBars(tuple(bars))])

    def _apply(self, c: sqlite3.Connection, op: WriteOp) -> None:
        if isinstance(op, PutBars):
            c.executemany(
                "INSERT OR REPLACE INTO bars VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        b.symbol,
                        b.day.isoformat(),
                        float(b.open),
                        float(b.high),
                        float(b.low),
                        float(b.close),
                        b.source,
                    )
                    for b in op.bars
                ],
            )
            by_symbol: dict[str, list[Bar]] = {}
            for b in op.bars:
                by_symbol.setdefault(b.symbol, []).append(b)
            for symbol, bars in by_symbol.items():
                hi = max(bars, key=lambda b: (b.high, -b.day.toordinal()))
                cl = max(bars, key=lambda b: (b.close, -b.day.toordinal()))
                _raise_ath(c, symbol, "intraday", hi.high, hi.day, hi.source)
                _raise_ath(c, symbol, "close", cl.close, cl.day, cl.source)
        elif isinstance(op, PutAth):
            r = op.record
            _raise_ath(c, r.symbol, "intraday", r.high, r.high_day, r.high_source)
            _raise_ath(c, r.symbol, "close", r.close, r.close_day, r.close_source)
        elif isinstance(op, PutLast):
            c.execute(
                "INSERT OR REPLACE INTO last_price VALUES (?, ?, ?, ?)",
                (op.symbol, float(op.price), op.source, op.at.astimezone(UTC).isoformat()),
            )
        else:
            c.execute("INSERT OR IGNORE INTO series (symbol) VALUES (?)", (op.symbol,))
            if op.first_trade is not None:
                c.execute(
                    "UPDATE series SET first_trade = ? WHERE symbol = ?",
                    (op.first_trade.isoformat(), op.symbol),
                )
            if op.complete is not None:
                c.execute(
                    "UPDATE series SET complete = ? WHERE symbol = ?",
                    (int(op.complete), op.symbol),
                )
            if op.source is not None:
                c.execute("UPDATE series SET source = ? WHERE symbol = ?", (op.source, op.symbol))

    # -- reads ---------------------------------------------------------------------------

    def bars(self, symbol: str, since: date | None = None) -> list[Bar]:
        """Stored bars for ``symbol``, oldest first, from ``since`` on."""
        conn = self._db()
        with self._lock:
            rows = conn.execute(
                "SELECT day, open, high, low, close, source FROM bars "
                "WHERE symbol = ? AND day >= ? ORDER BY day",
                (symbol, (since or date.min).isoformat()),
            ).fetchall()
        return [
            Bar(symbol, date.fromisoformat(d), _dec(o), _dec(h), _dec(lo), _dec(c), s)
            for d, o, h, lo, c, s in rows
        ]

    def daily(self, symbol: str) -> DailyColumns:
        """Every stored day of ``symbol`` as columns, without a :class:`Bar` per day: the
        rows are read one at a time, so only the columns and four bars stay."""
        conn = self._db()
        days: list[date] = []
        high: list[float] = []
        close: list[float] = []
        first: tuple[Any, ...] | None = None
        top_high: tuple[Any, ...] | None = None
        top_close: tuple[Any, ...] | None = None
        last: tuple[Any, ...] | None = None
        with self._lock:
            for row in conn.execute(
                "SELECT day, open, high, low, close, source FROM bars "
                "WHERE symbol = ? ORDER BY day",
                (symbol,),
            ):
                day, _, h, _, c, _ = row
                days.append(date.fromisoformat(day))
                high.append(h)
                close.append(c)
                if first is None:
                    first = row
                # Strictly greater: the earliest of equal values stays, as in merge_bars.
                if top_high is None or h > top_high[2]:
                    top_high = row
                if top_close is None or c > top_close[4]:
                    top_close = row
                last = row
        marks = {r[0]: r for r in (first, top_high, top_close, last) if r is not None}
        return DailyColumns(
            tuple(days),
            tuple(high),
            tuple(close),
            tuple(_bar(symbol, marks[d]) for d in sorted(marks)),
        )

    def newest_bars(self, symbols: Iterable[str]) -> dict[str, Bar]:
        """The newest stored bar of each of ``symbols`` that has any (one indexed read
        each)."""
        conn = self._db()
        with self._lock:
            rows = [
                (symbol, row)
                for symbol in dict.fromkeys(symbols)
                if (
                    row := conn.execute(
                        "SELECT day, open, high, low, close, source FROM bars "
                        "WHERE symbol = ? ORDER BY day DESC LIMIT 1",
                        (symbol,),
                    ).fetchone()
                )
                is not None
            ]
        return {
            symbol: Bar(symbol, date.fromisoformat(d), _dec(o), _dec(h), _dec(lo), _dec(c), s)
            for symbol, (d, o, h, lo, c, s) in rows
        }

    def series(self, symbol: str) -> SeriesInfo:
        """What is stored for ``symbol`` (empty info if nothing)."""
        conn = self._db()
        with self._lock:
            first, last, count = conn.execute(
                "SELECT MIN(day), MAX(day), COUNT(*) FROM bars WHERE symbol = ?", (symbol,)
            ).fetchone()
            meta = conn.execute(
                "SELECT first_trade, complete, source FROM series WHERE symbol = ?", (symbol,)
            ).fetchone()
        ft, complete, source = meta if meta else (None, 0, "")
        return SeriesInfo(
            symbol, _day(first), _day(last), int(count), _day(ft), bool(complete), source
        )

    def ath(self, symbol: str) -> AthRecord | None:
        """The stored all-time highs for ``symbol``, or None if none."""
        return self.aths([symbol]).get(symbol)

    def aths(self, symbols: Iterable[str] | None = None) -> dict[str, AthRecord]:
        """Stored all-time highs (for ``symbols``, or all), with each series' start."""
        want = None if symbols is None else set(symbols)
        conn = self._db()
        with self._lock:
            rows = conn.execute("SELECT symbol, kind, value, day, source FROM ath").fetchall()
            parts: dict[str, dict[str, tuple[float, str, str]]] = {}
            for symbol, kind, value, day, source in rows:
                if want is None or symbol in want:
                    parts.setdefault(symbol, {})[kind] = (value, day, source)
            # One indexed MIN per symbol: a GROUP BY would read every stored bar (tens of
            # milliseconds at start-up for a few years of a dozen symbols).
            starts = {
                symbol: conn.execute(
                    "SELECT MIN(day) FROM bars WHERE symbol = ?", (symbol,)
                ).fetchone()[0]
                for symbol in parts
            }
            starts.update(
                conn.execute(
                    "SELECT symbol, first_trade FROM series WHERE first_trade IS NOT NULL"
                ).fetchall()
            )
        out: dict[str, AthRecord] = {}
        for symbol, kinds in parts.items():
            if "intraday" not in kinds or "close" not in kinds:
                continue
            hv, hd, hs = kinds["intraday"]
            cv, cd, cs = kinds["close"]
            out[symbol] = AthRecord(
                symbol,
                _dec(hv),
                date.fromisoformat(hd),
                hs,
                _dec(cv),
                date.fromisoformat(cd),
                cs,
                _day(starts.get(symbol)),
            )
        return out

    def last_prices(self) -> dict[str, LastPrice]:
        """Every persisted last price."""
        conn = self._db()
        with self._lock:
            rows = conn.execute("SELECT symbol, price, source, at FROM last_price").fetchall()
        return {s: LastPrice(s, _dec(p), src, datetime.fromisoformat(at)) for s, p, src, at in rows}

    def symbols(self) -> list[str]:
        """Every symbol with stored bars."""
        conn = self._db()
        with self._lock:
            rows = conn.execute("SELECT DISTINCT symbol FROM bars ORDER BY symbol").fetchall()
        return [r[0] for r in rows]


def _migrate(conn: sqlite3.Connection) -> None:
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise HistoryError(
            f"history database has schema {current}, newer than this version's {SCHEMA_VERSION}"
        )
    if current == SCHEMA_VERSION:
        return
    # IMMEDIATE: two instances starting together migrate once, the other waits.
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        for version, statements in MIGRATIONS:
            if version <= current:
                continue
            for sql in statements:
                conn.execute(sql)
            conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _quick_check(conn: sqlite3.Connection) -> str:
    rows = conn.execute("PRAGMA quick_check").fetchall()
    return "ok" if rows == [("ok",)] else "; ".join(str(r[0]) for r in rows[:3])


def _raise_ath(
    c: sqlite3.Connection, symbol: str, kind: str, value: Decimal, day: date, source: str
) -> None:
    c.execute(
        """INSERT INTO ath VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (symbol, kind) DO UPDATE SET
             value = excluded.value, day = excluded.day, source = excluded.source
           WHERE excluded.value > ath.value""",
        (symbol, kind, float(value), day.isoformat(), source),
    )


def _looks_corrupt(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text


def _move_aside(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            os.replace(src, Path(str(target) + suffix))
    return target


# -- the single writer -------------------------------------------------------------------


@dataclass(slots=True)
class _Pending:
    op: WriteOp
    done: asyncio.Future[None] | None


class HistoryWriter:
    """Batches writes and commits them in a worker thread, one batch at a time.

    ``submit`` is for fire-and-forget writes from the store slices (a new all-time high,
    a last price): it never blocks, and when ``max_pending`` operations wait it drops the
    oldest fire-and-forget one and counts it. ``write`` is for the backfill, which must
    know its page is on disk before it moves on: it waits for room, then for the commit.
    """

    def __init__(
        self,
        store: HistoryStore,
        *,
        max_pending: int = 2000,
        linger: float = 1.0,
        max_batch: int = 500,
        locked_retries: int = 5,
        retry_delay: float = 0.5,
    ) -> None:
        self.store = store
        self.max_pending = max_pending
        self.linger = linger
        self.max_batch = max_batch
        self.locked_retries = locked_retries
        self.retry_delay = retry_delay
        self._queue: deque[_Pending] = deque()
        self._wake: asyncio.Event | None = None
        self._room: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.dropped = 0
        """Fire-and-forget operations dropped because the queue was full or a write failed."""
        self.batches = 0
        """Batches committed."""
        self.last_error: str | None = None
        """The last write failure, in plain words, until a batch succeeds again."""

    def _ensure(self) -> None:
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._room = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="history-writer")

    @property
    def pending(self) -> int:
        """Operations waiting to be committed."""
        return len(self._queue)

    def submit(self, op: WriteOp) -> None:
        """Queue ``op`` without waiting. Must be called on the event loop."""
        if self._closing:
            self.dropped += 1
            return
        self._ensure()
        if len(self._queue) >= self.max_pending:
            for i, p in enumerate(self._queue):
                if p.done is None:
                    del self._queue[i]
                    self.dropped += 1
                    break
            else:
                self.dropped += 1
                return
        self._queue.append(_Pending(op, None))
        assert self._wake is not None
        self._wake.set()

    async def write(self, *ops: WriteOp) -> None:
        """Queue ``ops`` and wait until they are committed (raises HistoryWriteError)."""
        if self._closing:
            raise HistoryWriteError("history is closing")
        self._ensure()
        assert self._wake is not None and self._room is not None
        while len(self._queue) >= self.max_pending:
            self._room.clear()
            await self._room.wait()
        loop = asyncio.get_running_loop()
        futures = []
        for op in ops:
            fut: asyncio.Future[None] = loop.create_future()
            self._queue.append(_Pending(op, fut))
            futures.append(fut)
        self._wake.set()
        for fut in futures:
            await fut

    async def flush(self) -> None:
        """Wait until everything queued so far is committed (or has failed)."""
        if not self._queue:
            return
        marker = SetSeries("", None, None, None)
        with contextlib.suppress(HistoryWriteError):
            await self.write(marker)

    async def aclose(self) -> None:
        """Commit what is queued, then stop the writer task."""
        if self._task is not None and not self._task.done():
            await self.flush()
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        assert self._wake is not None and self._room is not None
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
            if not any(p.done is not None for p in self._queue):
                # Fire-and-forget writes linger so they share one commit.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.linger):
                        while not any(p.done is not None for p in self._queue):
                            self._wake.clear()
                            await self._wake.wait()
            batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
            self._room.set()
            batch = [p for p in batch if not _is_marker(p.op) or p.done is not None]
            error = await self._commit([p.op for p in batch if not _is_marker(p.op)])
            if error == _INTEGRITY and len(batch) > 1:
                # One refused value must not sink the unrelated writes batched with it.
                for p in batch:
                    one = None if _is_marker(p.op) else await self._commit([p.op])
                    self._settle(p, None if one is None else "history write refused: invalid value")
                continue
            for p in batch:
                self._settle(
                    p, None if error is None else error.replace(_INTEGRITY, _INTEGRITY_TEXT)
                )

    def _settle(self, p: _Pending, error: str | None) -> None:
        if p.done is not None:
            if not p.done.done():
                if error is None:
                    p.done.set_result(None)
                else:
                    p.done.set_exception(HistoryWriteError(error))
        elif error is not None:
            self.dropped += 1

    async def _commit(self, ops: list[WriteOp]) -> str | None:
        if not ops:
            return None
        for attempt in range(self.locked_retries + 1):
            try:
                await asyncio.to_thread(self.store.write_batch, ops)
            except sqlite3.IntegrityError:
                return _INTEGRITY
            except sqlite3.OperationalError as exc:
                text = str(exc).lower()
                if ("locked" in text or "busy" in text) and attempt < self.locked_retries:
                    # Another instance holds the write lock past our busy timeout.
                    await asyncio.sleep(self.retry_delay * (attempt + 1))
                    continue
                self.last_error = _write_reason(exc)
                return self.last_error
            except sqlite3.Error as exc:
                self.last_error = _write_reason(exc)
                return self.last_error
            self.batches += 1
            self.last_error = None
            return None
        return self.last_error  # pragma: no cover - loop always returns


_INTEGRITY = "integrity"
_INTEGRITY_TEXT = "history write refused: invalid value"


def _is_marker(op: WriteOp) -> bool:
    return isinstance(op, SetSeries) and not op.symbol


def _write_reason(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "full" in text:
        return "history not being saved: disk full"
    if "readonly" in text or "read-only" in text:
        return "history not being saved: database is read-only"
    if "locked" in text or "busy" in text:
        return "history not being saved: database busy (another instance?)"
    if "constraint" in text:
        return "history write refused: invalid value"
    return f"history not being saved: {str(exc)[:60]}"


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (SQLite gives its -wal and
    -shm files the same mode). An existing file is left as it is."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)
