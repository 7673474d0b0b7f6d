"""Write intents out of the store: a bounded outbox the ATH slice appends to, and the
feed that drains it into the history writer on its own task.

The store stays a pure reducer: ``AthSlice.apply`` only appends a :data:`WriteOp` (a new
confirmed high, a last price) to its :class:`Outbox`. :class:`HistoryPersister` waits on
the outbox's event, takes everything queued and hands it to the writer, which batches
and commits it in a worker thread (``feeds.history.db``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Protocol

from feeds.history.db import WriteOp

OUTBOX_SIZE = 1024
"""Write intents kept while nothing drains them. A confirmed high or a last price per
symbol per minute is a handful a minute, so a full outbox means the persister stopped."""


class Outbox:
    """A bounded queue of write intents. Full, it drops the oldest and counts it.

    ``put`` costs an append and an event set: no I/O, no await, safe inside a slice's
    ``apply``."""

    def __init__(self, maxlen: int = OUTBOX_SIZE) -> None:
        self._items: deque[WriteOp] = deque(maxlen=maxlen)
        self.dropped = 0
        """Intents dropped because the outbox was full (the oldest goes first)."""
        self.ready = asyncio.Event()
        """Set when an intent is queued; the persister waits on it (it binds to a loop
        only when awaited, so a slice built outside one can still put)."""

    @property
    def maxlen(self) -> int:
        """The bound."""
        return self._items.maxlen or 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, op: WriteOp) -> None:
        """Queue one intent (dropping the oldest when full)."""
        items = self._items
        if len(items) == items.maxlen:
            self.dropped += 1
        items.append(op)
        self.ready.set()

    def take(self) -> list[WriteOp]:
        """Everything queued, oldest first; the outbox is empty afterwards."""
        out = list(self._items)
        self._items.clear()
        self.ready.clear()
        return out


class Writer(Protocol):
    """What the persister hands intents to (``HistoryWriter.submit``)."""

    def submit(self, op: WriteOp) -> None:
        """Queue ``op`` without waiting."""
        ...


class HistoryPersister:
    """A feed (``events()``/``aclose()``) that drains an :class:`Outbox` into the history
    writer. It yields no events: the supervisor runs it like any other feed, and a crash
    restarts it with the usual backoff."""

    source = "history-persist"

    def __init__(self, outbox: Outbox, writer: Writer) -> None:
        self.outbox = outbox
        self.writer = writer
        self.handed = 0
        """Intents handed to the writer so far."""
        self._closed = False

    def drain(self) -> int:
        """Hand everything queued to the writer now; how many were handed."""
        ops = self.outbox.take()
        for op in ops:
            self.writer.submit(op)
        self.handed += len(ops)
        return len(ops)

    async def events(self) -> AsyncIterator[object]:
        """Wait for intents and hand them over until closed; yields nothing."""
        while not self._closed:
            await self.outbox.ready.wait()
            self.drain()
        self.drain()
        return
        yield  # pragma: no cover - makes this an async generator

    async def aclose(self) -> None:
        """Stop, handing over what is queued first (the writer's close flushes it)."""
        self._closed = True
        self.drain()
        self.outbox.ready.set()  # wake the loop so it sees _closed
