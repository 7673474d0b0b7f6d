"""One warm data directory per invocation, copied into every steady-state run.

A trader who leaves lockstep open all day has a history database that was filled on the
first start. A fresh, empty data directory makes every run a first run: the backfill
(years of daily bars fetched, parsed and written to SQLite) lands in the measured window
and dominates the idle figures. So the harness starts the real app once, cold, against
the simulated market, waits until the backfill is complete, stops the app (which flushes
and checkpoints the store), and keeps that directory. Every run then gets its own *copy*
(never a shared file, so runs stay independent and a run's writes cannot leak into the
next) with :func:`seed`.

A warm restart is not idle at once either: the backfill asks for the days since its
newest stored bar, one symbol every 0.5 s (polite pacing), and the panels take in the
answers. :func:`wait_caught_up` waits until the simulated market has answered that round
for every backfilled symbol, so a steady-state window starts after it, as a trader's
day does.

Completion signal: the store's ``series`` table. A backfill feed writes a symbol's
``series`` row in the same transaction as its bars, and sets ``complete = 1`` once the
source's history is in (Coinbase paged back to the start, or Yahoo's ``range=max``
answer stored). The app logs nothing about the backfill and the ATH panel's progress
line can be scrolled out of view, so the file is the one signal that cannot be missed.

The preparing run turns the backfill's polite request pacing off (``[history]
page_delay_s = 0``; the pacing protects real servers, not the local simulator) and keeps
the Coinbase stream at 0 msg/s, so the only BTC price it can persist as the "last price"
is the venues' subscribe snapshot at the simulator's walk level (about $92,000), which
maps to no message number a run sends: a cached price on screen is never mistaken for
a live sequence price.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from bench.common import child_env, log
from bench.pty_run import PtyProgram, python_argv
from bench.simhost import SimHost

CATCH_UP_TIMEOUT = 20.0
"""Seconds a warm run waits for its restart catch-up round (about 6 s after launch today)."""

TIMEOUT = 120.0
"""Seconds the cold backfill may take before the harness gives up (about 10 s today)."""

HISTORY_FILE = "history.sqlite3"
"""The store's file name (the app's default ``[history] file_name``)."""

PER_RUN = ("lockstep.log", "config.toml")
"""Files every run writes for itself: never copied (B12 reads its own run's log)."""


@dataclass(frozen=True, slots=True)
class WarmCache:
    """The prepared directory and what went into it.

    Attributes:
        path: The directory to copy from.
        btc: The bitcoin symbol (backfilled from Coinbase candles, the rest from Yahoo).
        symbols: Symbols whose backfill completed.
        bars: Daily bars stored, all symbols.
        empty: Complete symbols without a single bar (the source had none in range).
        seconds: Launch to a complete backfill, cold.
        first_paint: Launch to the title on screen, cold (NaN if not seen).
        size: Bytes copied into each run.
    """

    path: Path
    btc: str
    symbols: tuple[str, ...]
    bars: int
    empty: tuple[str, ...]
    seconds: float
    first_paint: float
    size: int

    def describe(self) -> str:
        """One sentence for the notes in RESULTS.md."""
        empty = (
            f"; {', '.join(self.empty)} complete with no bars (the simulated history ends "
            "more than one 300-day page before today, so the first page back is empty)"
            if self.empty
            else ""
        )
        return (
            f"warm data directory prepared once per invocation by a cold start of the app: "
            f"backfill of {len(self.symbols)} symbols ({self.bars:,} daily bars, "
            f"{self.size / 1e6:.1f} MB) complete {self.seconds:.1f} s after launch{empty}"
        )


def expected_symbols(config: Path) -> tuple[str, ...]:
    """The symbols the app backfills with this config, as ``tui.runtime`` wires it:
    the divergence pair (BTC first) plus the watchlist and the futures."""
    from tui.config import load_settings

    settings, _ = load_settings(str(config), env={})
    q, h = settings.quotes, settings.history
    return tuple(dict.fromkeys([*h.pair, *q.watchlist, *q.futures]))


def backfill_state(db: Path) -> dict[str, tuple[bool, int]]:
    """``symbol -> (complete, bars)`` from the store; empty while it cannot be read.

    Opened read-only (``mode=ro``): it never takes the app's write lock, and a store that
    is still being created reads as "nothing yet" rather than an error.
    """
    if not db.exists():
        return {}
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return {}
    try:
        rows = con.execute(
            "SELECT s.symbol, s.complete, (SELECT count(*) FROM bars b WHERE b.symbol = s.symbol)"
            " FROM series s"
        ).fetchall()
    except sqlite3.Error:
        return {}
    finally:
        con.close()
    return {str(sym): (bool(done), int(n)) for sym, done, n in rows}


def fold_wal(db: Path) -> None:
    """Checkpoint the store into its main file and let SQLite drop the ``-wal``/``-shm``
    files (the last connection to close does), so each run gets one self-contained file.
    Call only once the app has exited; if it had to be killed, this also keeps the
    commits still in its WAL."""
    if not db.exists():
        return
    try:
        con = sqlite3.connect(db, timeout=5.0)
    except sqlite3.Error:
        return
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error:
        pass
    finally:
        con.close()


def incomplete(state: dict[str, tuple[bool, int]], expected: tuple[str, ...]) -> list[str]:
    """The expected symbols whose backfill is not complete yet."""
    return [s for s in expected if not state.get(s, (False, 0))[0]]


def prepare(timeout: float = TIMEOUT) -> WarmCache:
    """Start the app cold, wait for a complete backfill, stop it; keep the directory.

    Raises RuntimeError (with the symbols still missing and the screen) when the backfill
    does not complete within ``timeout``, or the app dies first.
    """
    holder = tempfile.TemporaryDirectory(prefix="lsbench-warm-")
    atexit.register(holder.cleanup)
    tmp = Path(holder.name)
    db = tmp / HISTORY_FILE
    with SimHost(rate=0.0) as sim:
        config = sim.write_config(tmp / "config.toml", tables={"history": {"page_delay_s": 0.0}})
        expected = expected_symbols(config)
        prog = PtyProgram(
            python_argv("-m", "tui.cli", "--config", str(config)),
            child_env(tmp),
            seq_limit=lambda: sim.sent,
        ).start()
        missing: list[str] = list(expected)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and prog.alive():
                missing = incomplete(backfill_state(db), expected)
                if not missing:
                    break
                time.sleep(0.25)
            seconds = time.monotonic() - prog.t_launch
        finally:
            # SIGTERM: the app flushes the store's writer and checkpoints the WAL on exit.
            prog.stop(grace=10.0)
    first_paint = prog.first_paint - prog.t_launch if prog.first_paint else float("nan")
    fold_wal(db)
    state = backfill_state(db)
    missing = incomplete(state, expected)
    if missing:
        screen = " | ".join(x.strip() for x in prog.texts if x.strip())[:400]
        raise RuntimeError(
            f"warm cache: backfill not complete {seconds:.0f} s after launch "
            f"(exit status {prog.exit_status}); missing {', '.join(missing)}; screen: {screen}"
        )
    size = sum(f.stat().st_size for f in tmp.iterdir() if f.is_file() and f.name not in PER_RUN)
    cache = WarmCache(
        path=tmp,
        btc=expected[0],
        symbols=tuple(sorted(state)),
        bars=sum(n for _, n in state.values()),
        empty=tuple(sorted(s for s, (_, n) in state.items() if n == 0)),
        seconds=seconds,
        first_paint=first_paint,
        size=size,
    )
    _holders.append(holder)
    return cache


_holders: list[tempfile.TemporaryDirectory[str]] = []
"""Keeps the prepared directory alive for the whole invocation."""
_cache: WarmCache | None = None
_failure: RuntimeError | None = None


def warm_cache() -> WarmCache:
    """The invocation's warm directory, prepared on first use.

    A failed preparation is remembered and raised again at once, so one broken backfill
    marks every steady-state benchmark broken instead of retrying for minutes each time.
    """
    global _cache, _failure
    if _cache is not None:
        return _cache
    if _failure is not None:
        raise _failure
    log("  warm cache: starting the app once, cold, until its history backfill is complete")
    try:
        _cache = prepare()
    except RuntimeError as exc:
        _failure = exc
        raise
    log(f"  warm cache: {_cache.describe()}")
    return _cache


def seed(dest: Path) -> WarmCache:
    """Copy the warm directory into a run's fresh data directory ``dest``."""
    cache = warm_cache()
    shutil.copytree(
        cache.path,
        dest,
        dirs_exist_ok=True,
        ignore=lambda _d, names: [n for n in names if n.startswith(PER_RUN)],
    )
    return cache


def caught_up(sim: SimHost, since: float, cache: WarmCache) -> bool:
    """True once, since monotonic ``since``, the simulated market has been asked for the
    history of every backfilled symbol: a Yahoo daily chart (``period1`` or ``range=max``)
    for each non-BTC symbol and a Coinbase candles page for BTC. True at once for a
    market without HTTP sources (nothing to catch up with)."""
    extras = sim.market.extras if sim.market is not None else {}
    yahoo, candles = extras.get("yahoo"), extras.get("coinbase_rest")
    if yahoo is None or candles is None:
        return True
    asked: set[str] = set()
    for _, target in yahoo.server.requests_since(since):
        path, _, query = target.partition("?")
        if "period1=" in query or "range=max" in query:
            asked.add(unquote(path.rsplit("/", 1)[-1]))
    others = [s for s in cache.symbols if s != cache.btc]
    return all(s in asked for s in others) and bool(candles.server.requests_since(since))


def wait_caught_up(sim: SimHost, since: float, timeout: float = CATCH_UP_TIMEOUT) -> float | None:
    """Wait until :func:`caught_up`; the seconds since ``since`` it took, or None when it
    did not happen within ``timeout`` (the run goes on; the caller notes it)."""
    cache = warm_cache()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if caught_up(sim, since, cache):
            return time.monotonic() - since
        time.sleep(0.1)
    return None
