"""The hub's wire format: every model event a feed puts into the store, as strict JSON.

An entry is one JSON object ``{"v": 1, "t": "Tick", "w": <wall>, "d": {...}}``: the schema
version, the type tag, the hub's wall time at publication and the event's fields. Values
are written by their declared type (``Decimal`` as a string, dates as ISO text, enums as
their value, tuples as lists, nested model types as objects), so decoding is driven by the
same declarations and checks every field: JSON only (never a code-executing format), the schema
checked, prices finite and positive, text sanitised. A bad entry becomes a counted
:class:`BadMessage`; decoding never raises.

Monotonic receipt times mean nothing in another process. An entry carries the ORIGINAL
receipt as wall-clock time, and the subscriber turns it back into its own monotonic clock,
so a relayed value's age counts from the first receipt: it never looks fresher than it
is (a receipt is never later than the publication, and never in the subscriber's future).
"""

from __future__ import annotations

import dataclasses
import math
import time
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

import orjson

from feeds.core.clock import Clock, ShiftedClock
from feeds.core.text import clean_text
from feeds.history.ath_state import HistoryNotice
from feeds.model.btc import Heartbeat, Tick, VenueNotice
from feeds.model.core import BadMessage, FeedStatus
from feeds.model.fed import MeetingOdds, RateLadder, TargetRange, ZqProbe, ZqQuote
from feeds.model.history import BackfillProgress, CachedAth, DailySeries, HistoryBars
from feeds.model.quotes import Quote, QuoteMiss
from feeds.model.tbills import FredSeries, SchedulePage, ScheduleUnavailable, TsyOperations

SCHEMA = 1
"""The entry format's version; an entry of another version is rejected, not guessed at."""

SOURCE = "hub"
"""The hub's own source name (status bar, bad-message counter)."""

MAX_ENTRY = 8_000_000
"""Bytes. The S&P 500's daily history since 1927 (about 25,000 bars) is near 3 MB."""

MAX_ITEMS = 100_000
"""Items in any one list."""

MAX_TEXT = 1_000
"""Characters kept of any text field (feeds' own texts are shorter)."""

MAX_NUMBER_TEXT = 64
"""Characters of a decimal or date written as text."""

EVENT_TYPES: tuple[type, ...] = (
    Tick,
    Heartbeat,
    VenueNotice,
    FeedStatus,
    BadMessage,
    Quote,
    QuoteMiss,
    TargetRange,
    MeetingOdds,
    RateLadder,
    ZqQuote,
    ZqProbe,
    HistoryBars,
    DailySeries,
    CachedAth,
    BackfillProgress,
    HistoryNotice,
    TsyOperations,
    SchedulePage,
    ScheduleUnavailable,
    FredSeries,
)
"""Every event type the hub relays: what the slices' ``accepts`` take from feeds. Not the
runtime's own (``DivergenceComputed``: each terminal runs the analysis) nor the UI's
(``SetChartWindow``)."""

BY_NAME: dict[str, type] = {t.__name__: t for t in EVENT_TYPES}

MONO_FIELDS = frozenset({"received", "since", "at"})
"""Float fields holding a monotonic receipt time (``QuoteMiss.at``, ``FeedStatus.since``):
written as wall time, read back never later than now."""

FUTURE_FIELDS = frozenset({"retry_at"})
"""Monotonic times in the future (a scheduled retry): converted, not clamped."""

POSITIVE: dict[str, frozenset[str]] = {
    "Tick": frozenset({"price", "bid", "ask", "open_24h", "high_24h", "low_24h"}),
    "Quote": frozenset({"price", "prev_close", "day_high", "day_low", "year_high"}),
    "Bar": frozenset({"open", "high", "low", "close"}),
    "ZqQuote": frozenset({"price"}),
    "AthRecord": frozenset({"high", "close"}),
    "CachedAth": frozenset({"last_price"}),
}
"""Prices that must be above zero, by type name (every decimal must be finite)."""

_MAX_DEPTH = 8


class EntryError(ValueError):
    """Why an entry was rejected (becomes a :class:`BadMessage` reason)."""


# -- encoding ---------------------------------------------------------------------------


def wall_time(clock: Clock) -> float:
    """The wall time receipts are written in: the real one for the demo's
    :class:`~feeds.core.clock.ShiftedClock` (each process shifts by its own start, so two
    processes' shifted times disagree; their monotonic clocks are the system's), else
    ``clock.now()`` (an injected clock in tests)."""
    if isinstance(clock, ShiftedClock):
        return time.time()
    return clock.now().timestamp()


def wall_offset(clock: Clock) -> float:
    """Wall seconds minus monotonic seconds on ``clock``: monotonic + offset = wall."""
    return wall_time(clock) - clock.monotonic()


def encode(event: object, clock: Clock) -> bytes:
    """One entry for ``event`` (one of :data:`EVENT_TYPES`), stamped with the wall time
    of ``clock``; its monotonic times are written as wall times on the same clock."""
    name = type(event).__name__
    if BY_NAME.get(name) is not type(event):
        raise TypeError(f"the hub does not relay {name}")
    offset = wall_offset(clock)
    doc = {"v": SCHEMA, "t": name, "w": clock.monotonic() + offset, "d": _out(event, offset)}
    return orjson.dumps(doc)


def _out(value: object, offset: float, name: str = "") -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, object] = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if f.name in MONO_FIELDS or f.name in FUTURE_FIELDS:
                out[f.name] = None if v is None else float(v) + offset
            else:
                out[f.name] = _out(v, offset, f.name)
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_out(v, offset) for v in value]
    raise TypeError(f"cannot encode {type(value).__name__} in {name or 'entry'}")


# -- decoding ---------------------------------------------------------------------------


class Decoder:
    """Turns entries into model events on the subscriber's clock; counts what it drops."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.bad = 0
        """Entries rejected so far."""
        self.decoded = 0
        """Entries accepted so far."""
        self.published: float | None = None
        """The publication wall time of the last entry accepted."""

    def decode(self, raw: object) -> object:
        """The event in ``raw`` (bytes or text), or a :class:`BadMessage` saying why not.
        Never raises."""
        try:
            event = self._decode(raw)
        except EntryError as exc:
            self.bad += 1
            return BadMessage(SOURCE, clean_text(str(exc), 120))
        except Exception as exc:  # noqa: BLE001 - hostile input must never crash a terminal
            self.bad += 1
            return BadMessage(SOURCE, clean_text(f"bad entry ({type(exc).__name__})", 120))
        self.decoded += 1
        return event

    def _decode(self, raw: object) -> object:
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "replace")
        if not isinstance(raw, bytes | bytearray | memoryview):
            raise EntryError("entry is not text")
        if len(raw) > MAX_ENTRY:
            raise EntryError(f"entry too large ({len(raw)} bytes)")
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise EntryError("entry is not JSON") from exc
        if not isinstance(doc, dict) or set(doc) != {"v", "t", "w", "d"}:
            raise EntryError("entry is not a hub entry")
        if doc["v"] != SCHEMA or isinstance(doc["v"], bool):
            raise EntryError(f"unknown schema version {clean_text(doc['v'], 20)!r}")
        cls = BY_NAME.get(doc["t"]) if isinstance(doc["t"], str) else None
        if cls is None:
            raise EntryError(f"unknown event type {clean_text(doc['t'], 40)!r}")
        published = _finite(doc["w"], "w")
        self.published = published
        now_mono = self._clock.monotonic()
        now_wall = wall_time(self._clock)

        def to_mono(wall: float, future: bool) -> float:
            if not future:
                # Never later than the publication, and never in our future: a relayed
                # value is at least as old as the entry that carried it.
                wall = min(wall, published, now_wall)
            return now_mono + (wall - now_wall)

        return _build(cls, doc["d"], to_mono, 0)


def _finite(raw: object, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise EntryError(f"{where}: expected a number")
    value = float(raw)
    if not math.isfinite(value):
        raise EntryError(f"{where}: not finite")
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _build(cls: type, raw: object, to_mono: Callable[[float, bool], float], depth: int) -> Any:
    name = cls.__name__
    if depth > _MAX_DEPTH:
        raise EntryError(f"{name}: nested too deep")
    if not isinstance(raw, dict):
        raise EntryError(f"{name}: expected an object")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    extra = set(raw) - set(fields)
    if extra:
        raise EntryError(f"{name}: unknown field {clean_text(sorted(map(str, extra))[0], 40)!r}")
    hints = _hints(cls)
    positive = POSITIVE.get(name, frozenset())
    values: dict[str, object] = {}
    for key, f in fields.items():
        if key not in raw:
            no_default = f.default is dataclasses.MISSING
            if no_default and f.default_factory is dataclasses.MISSING:
                raise EntryError(f"{name}.{key}: missing")
            continue
        where = f"{name}.{key}"
        value = raw[key]
        if key in MONO_FIELDS or key in FUTURE_FIELDS:
            if value is None and _optional(hints[key]):
                values[key] = None
            else:
                values[key] = to_mono(_finite(value, where), key in FUTURE_FIELDS)
            continue
        out = _value(hints[key], value, where, to_mono, depth)
        if key in positive and isinstance(out, Decimal) and not out > 0:
            raise EntryError(f"{where}: not positive")
        values[key] = out
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise EntryError(f"{name}: rejected ({type(exc).__name__})") from exc


def _optional(hint: Any) -> bool:
    return typing.get_origin(hint) in (types.UnionType, typing.Union) and type(None) in (
        typing.get_args(hint)
    )


def _value(
    hint: Any, raw: object, where: str, to_mono: Callable[[float, bool], float], depth: int
) -> object:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        kinds = [a for a in typing.get_args(hint) if a is not type(None)]
        if raw is None and len(kinds) < len(typing.get_args(hint)):
            return None
        if len(kinds) != 1:
            raise EntryError(f"{where}: unsupported type")  # no such field in the model
        return _value(kinds[0], raw, where, to_mono, depth)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(raw, list):
            raise EntryError(f"{where}: expected a list")
        if len(raw) > MAX_ITEMS:
            raise EntryError(f"{where}: too many items")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], v, where, to_mono, depth + 1) for v in raw)
        if len(raw) != len(args):
            raise EntryError(f"{where}: expected {len(args)} items")
        return tuple(
            _value(a, v, where, to_mono, depth + 1) for a, v in zip(args, raw, strict=True)
        )
    if hint is bool:
        if not isinstance(raw, bool):
            raise EntryError(f"{where}: expected true or false")
        return raw
    if hint is int:
        if isinstance(raw, bool) or not isinstance(raw, int) or abs(raw) > 2**63:
            raise EntryError(f"{where}: expected a whole number")
        return raw
    if hint is float:
        return _finite(raw, where)
    if hint is str:
        if not isinstance(raw, str):
            raise EntryError(f"{where}: expected text")
        return clean_text(raw, MAX_TEXT)
    if hint is Decimal:
        if not isinstance(raw, str) or len(raw) > MAX_NUMBER_TEXT:
            raise EntryError(f"{where}: expected a decimal")
        try:
            number = Decimal(raw)
        except InvalidOperation as exc:
            raise EntryError(f"{where}: not a decimal") from exc
        if not number.is_finite():
            raise EntryError(f"{where}: not finite")
        return number
    if hint is datetime or hint is date:
        if not isinstance(raw, str) or len(raw) > MAX_NUMBER_TEXT:
            raise EntryError(f"{where}: expected a date")
        try:
            return hint.fromisoformat(raw)
        except ValueError as exc:
            raise EntryError(f"{where}: not a date") from exc
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(raw)
        except ValueError as exc:
            raise EntryError(f"{where}: unknown value") from exc
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, raw, to_mono, depth + 1)
    raise EntryError(f"{where}: unsupported type")  # no such field in the model


# -- topics -----------------------------------------------------------------------------

LATEST_SKIP: tuple[type, ...] = (BadMessage,)
"""Events that are not state: relayed on the stream only, never kept as a latest value."""

_KEY_FIELDS = ("symbol", "series_id", "channel", "meeting")


def topic_key(event: object) -> str | None:
    """The latest-value key of ``event`` (type, source, and the symbol, series, channel
    or meeting it is about), or None when it is not state (:data:`LATEST_SKIP`)."""
    if isinstance(event, LATEST_SKIP):
        return None
    parts = [type(event).__name__, str(getattr(event, "source", ""))]
    for name in _KEY_FIELDS:
        value = getattr(event, name, None)
        if value is not None:
            parts.append(str(value))
    return "|".join(parts)
