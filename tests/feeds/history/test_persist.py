"""The store stays pure: the ATH slice's writes are intents in a bounded outbox, and the
:class:`HistoryPersister` feed hands them to the history writer on its own task."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal as D
from pathlib import Path

from feeds.core.clock import ManualClock
from feeds.core.store import Store
from feeds.history.ath import AthGuard
from feeds.history.ath_state import AthSlice
from feeds.history.db import PutAth, PutLast, WriteOp
from feeds.history.factory import (
    close_history,
    make_ath_slice,
    make_history_persister,
    open_history,
)
from feeds.history.persist import HistoryPersister, Outbox
from feeds.history.settings import HistorySettings
from feeds.model.btc import Tick
from feeds.model.history import Bar, HistoryBars
from feeds.model.quotes import MarketState, Quote

WALL = datetime(2025, 12, 12, 15, 25, tzinfo=UTC)


def quote(price: str, t: float, source: str) -> Quote:
    return Quote(
        source, "^RUT", "Russell 2000", D(price), None, None, None, None, "USD",
        MarketState.REGULAR, False, 0, None, None, t,
    )  # fmt: skip


def rut_history() -> HistoryBars:
    b = Bar("^RUT", date(2025, 12, 11), D("2541"), D("2547"), D("2530"), D("2541"), "yahoo")
    return HistoryBars("yahoo", "^RUT", (b,), None, 1.0)


class RaisingWriter:
    """A history writer that fails the test if anything writes during ``apply``."""

    def __init__(self) -> None:
        self.armed = True
        self.ops: list[WriteOp] = []

    def submit(self, op: WriteOp) -> None:
        if self.armed:
            raise AssertionError("I/O during apply")
        self.ops.append(op)


def test_apply_does_no_io_and_queues_intents() -> None:
    # No event loop runs here: the old slice handed writes to the writer, which needs one.
    clock = ManualClock(WALL, mono=1000.0)
    s = AthSlice(["^RUT"], clock=clock, guard=AthGuard(persist_s=60), last_every=60)
    writer = RaisingWriter()
    persister = HistoryPersister(s.outbox, writer)
    store = Store([s])
    store.apply(rut_history())
    store.apply(quote("2558", 1000.0, "yahoo"))
    store.apply(quote("2557", 1001.0, "cboe"))  # confirms a new high
    store.apply(
        Tick("coinbase", D("92100"), None, None, None, None, None, None, None, None, 1002.0)
    )
    assert s.view().row("^RUT").new_ath  # type: ignore[union-attr]
    kinds = [type(op) for op in list(s.outbox._items)]
    assert kinds == [PutLast, PutAth, PutLast]
    writer.armed = False
    assert persister.drain() == 3 and len(s.outbox) == 0
    assert isinstance(writer.ops[1], PutAth) and writer.ops[1].record.high == D("2557")


def test_the_outbox_is_bounded_and_counts_drops() -> None:
    box = Outbox(maxlen=8)
    ops = [PutLast("^RUT", D(n), "yahoo", WALL) for n in range(1, 8 * 5 + 1)]
    for op in ops:
        box.put(op)
        assert len(box) <= 8
    assert len(box) == 8 and box.dropped == 8 * 4
    assert box.take() == ops[-8:]  # the newest, oldest first
    assert len(box) == 0 and not box.ready.is_set()


def test_a_slice_nobody_drains_stays_bounded() -> None:
    clock = ManualClock(WALL, mono=0.0)
    s = AthSlice(["^RUT"], clock=clock, last_every=0.0, outbox=Outbox(maxlen=16))
    s.apply(rut_history())
    for i in range(200):
        s.apply(quote("2540", float(i), "yahoo"))
    assert len(s.outbox) == 16 and s.outbox.dropped == 200 - 16


async def test_the_persister_drains_on_its_own_task() -> None:
    box = Outbox()
    writer = RaisingWriter()
    writer.armed = False
    persister = HistoryPersister(box, writer)

    async def run() -> None:
        async for _ in persister.events():
            raise AssertionError("the persister yields no events")

    task = asyncio.create_task(run())
    await asyncio.sleep(0)
    op = PutLast("^RUT", D("2540"), "yahoo", WALL)
    box.put(op)
    for _ in range(10):
        await asyncio.sleep(0)
        if writer.ops:
            break
    assert writer.ops == [op] and persister.handed == 1
    late = PutLast("^RUT", D("2541"), "yahoo", WALL)
    box.put(late)
    await persister.aclose()  # hands over what is queued, then stops
    await asyncio.wait_for(task, 1.0)
    assert writer.ops == [op, late]


async def test_a_confirmed_high_reaches_the_database(tmp_path: Path) -> None:
    settings = HistorySettings()
    store, _ = open_history(tmp_path, settings)
    clock = ManualClock(WALL, mono=1000.0)
    ath = make_ath_slice(settings, store, ["^RUT"], clock)
    persister = make_history_persister(ath, store)
    task = asyncio.create_task(_pump(persister))
    ath.apply(rut_history())
    ath.apply(quote("2558", 1000.0, "yahoo"))
    ath.apply(quote("2557", 1001.0, "cboe"))
    await asyncio.sleep(0)
    await persister.aclose()
    await task
    await close_history(store)
    store, _ = open_history(tmp_path, settings)
    rec = store.ath("^RUT")
    assert rec is not None and rec.high == D("2557")
    assert store.last_prices()["^RUT"].price == D("2558")
    store.close()


async def _pump(persister: HistoryPersister) -> None:
    async for _ in persister.events():
        pass
