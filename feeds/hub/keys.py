"""The Redis keys of one desk hub, all under its ``prefix``, and the hub's heartbeat."""

from __future__ import annotations

from dataclasses import dataclass

import orjson


@dataclass(frozen=True, slots=True)
class HubKeys:
    """Key names: the stream, the latest-value hash, the heartbeat and the subscribers."""

    prefix: str

    @property
    def stream(self) -> str:
        """The bounded stream of every event (``XADD MAXLEN ~``)."""
        return f"{self.prefix}:events"

    @property
    def latest(self) -> str:
        """Hash: topic key -> the latest entry of that topic."""
        return f"{self.prefix}:latest"

    @property
    def history(self) -> str:
        """Hash: symbol -> that symbol's whole daily series (one ``HistoryBars`` entry),
        so a terminal that starts after the backfill gets the hub's full history."""
        return f"{self.prefix}:history"

    @property
    def heartbeat(self) -> str:
        """The hub's heartbeat (expires when the hub stops writing it)."""
        return f"{self.prefix}:heartbeat"

    @property
    def lease(self) -> str:
        """The leading hub's lease: ``holder:token``, with a TTL."""
        return f"{self.prefix}:lease"

    @property
    def fence(self) -> str:
        """The fencing-token counter (``INCR``: every new leader's token is larger)."""
        return f"{self.prefix}:fence"

    @property
    def subscribers(self) -> str:
        """Sorted set: subscriber id -> wall time it last said it is there."""
        return f"{self.prefix}:subscribers"


@dataclass(frozen=True, slots=True)
class HubBeat:
    """The hub's heartbeat as a terminal sees it: a data event of the ``hub`` source, so
    the status bar shows the hub's age from its last heartbeat.

    Attributes:
        source: ``"hub"``.
        published: Entries the hub has published since it started.
        subscribers: Terminals the hub counts as connected.
        received: The heartbeat's time on this process's monotonic clock.
    """

    source: str
    published: int
    subscribers: int
    received: float


def beat_bytes(
    wall: float, published: int, subscribers: int, pid: int, shift: float, generation: str = ""
) -> bytes:
    """The heartbeat value the hub writes. ``shift`` is how far the hub's displayed
    clock is moved from real time (the demo replays a past day; 0 otherwise).
    ``generation`` changes whenever the hub rewrites its hashes (after a Redis restart):
    a terminal that read them before then reads them again."""
    doc = {"w": wall, "n": published, "s": subscribers, "pid": pid, "shift": shift, "g": generation}
    return orjson.dumps(doc)


def _beat_doc(raw: object) -> dict[str, object] | None:
    if not isinstance(raw, bytes) or len(raw) > 1_000:
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else None


def read_shift(raw: object) -> float:
    """The ``shift`` of a heartbeat value (0.0 when absent or not a finite number)."""
    doc = _beat_doc(raw)
    shift = doc.get("shift") if doc is not None else None
    if isinstance(shift, bool) or not isinstance(shift, int | float):
        return 0.0
    return float(shift) if abs(shift) < 1e10 else 0.0


def read_generation(raw: object) -> str | None:
    """The ``generation`` of a heartbeat value (None when there is none: no heartbeat,
    or not a valid one)."""
    doc = _beat_doc(raw)
    generation = doc.get("g") if doc is not None else None
    return generation[:100] if isinstance(generation, str) else None


def read_beat(raw: object) -> tuple[float, int, int] | None:
    """``(wall, published, subscribers)`` from a heartbeat value, or None if it is not
    one (strictly: JSON object, finite numbers, small)."""
    if not isinstance(raw, bytes) or len(raw) > 1_000:
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict):
        return None
    wall, n, s = doc.get("w"), doc.get("n"), doc.get("s")
    if isinstance(wall, bool) or not isinstance(wall, int | float) or wall != wall:
        return None
    if wall in (float("inf"), float("-inf")):
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (n, s)):
        return None
    assert isinstance(n, int) and isinstance(s, int)  # for mypy: checked just above
    return float(wall), n, s
