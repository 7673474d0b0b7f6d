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
from dataclasses import dataclass
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
        if type(doc) is not dict or doc.keys() != _TOP_KEYS:
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


_TOP_KEYS = frozenset({"v", "t", "w", "d"})


def _finite(raw: object, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise EntryError(f"{where}: expected a number")
    value = float(raw)
    if not math.isfinite(value):
        raise EntryError(f"{where}: not finite")
    return value


# Decoding is driven by each type's declarations. They are read once per type into a
# plan (one converter per field, built from its type hint), so an entry costs a dict
# walk and one call per field rather than a fresh look at the type hints for every
# field of every entry (a subscriber decodes about a thousand ticks a second).

ToMono = Callable[[float, bool], float]
Convert = Callable[[object, str, ToMono, int], object]


@dataclass(frozen=True, slots=True)
class _Field:
    key: str
    where: str
    """``Type.field``, for the rejection reason."""
    convert: Convert | None
    """None for the monotonic-time fields (converted with the entry's ``to_mono``)."""
    required: bool
    optional: bool
    future: bool
    positive: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    name: str
    keys: frozenset[str]
    fields: tuple[_Field, ...]


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    name = cls.__name__
    hints = typing.get_type_hints(cls)
    positive = POSITIVE.get(name, frozenset())
    out = []
    for f in dataclasses.fields(cls):
        timed = f.name in MONO_FIELDS or f.name in FUTURE_FIELDS
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        out.append(
            _Field(
                f.name,
                f"{name}.{f.name}",
                None if timed else _converter(hints[f.name]),
                required,
                _optional(hints[f.name]),
                f.name in FUTURE_FIELDS,
                f.name in positive,
            )
        )
    plan = _PLANS[cls] = _Plan(name, frozenset(f.key for f in out), tuple(out))
    return plan


def _build(cls: type, raw: object, to_mono: ToMono, depth: int) -> Any:
    plan = _plan(cls)
    if depth > _MAX_DEPTH:
        raise EntryError(f"{plan.name}: nested too deep")
    if type(raw) is not dict:
        raise EntryError(f"{plan.name}: expected an object")
    if not raw.keys() <= plan.keys:
        extra = set(raw) - plan.keys
        raise EntryError(
            f"{plan.name}: unknown field {clean_text(sorted(map(str, extra))[0], 40)!r}"
        )
    values: dict[str, object] = {}
    for f in plan.fields:
        key = f.key
        if key not in raw:
            if f.required:
                raise EntryError(f"{f.where}: missing")
            continue
        value = raw[key]
        if f.convert is None:
            if value is None and f.optional:
                values[key] = None
            else:
                values[key] = to_mono(_finite(value, f.where), f.future)
            continue
        out = f.convert(value, f.where, to_mono, depth)
        if f.positive and isinstance(out, Decimal) and not out > 0:
            raise EntryError(f"{f.where}: not positive")
        values[key] = out
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise EntryError(f"{plan.name}: rejected ({type(exc).__name__})") from exc


def _optional(hint: Any) -> bool:
    return typing.get_origin(hint) in (types.UnionType, typing.Union) and type(None) in (
        typing.get_args(hint)
    )


def _converter(hint: Any) -> Convert:
    """The converter of one declared type: checks the JSON value and returns the model's
    value, or raises :class:`EntryError`."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        args = typing.get_args(hint)
        kinds = [a for a in args if a is not type(None)]
        nullable = len(kinds) < len(args)
        if len(kinds) != 1:
            return _unsupported_union(nullable)  # no such field in the model
        inner = _converter(kinds[0])
        if not nullable:
            return inner

        def nullable_value(raw: object, where: str, to_mono: ToMono, depth: int) -> object:
            return None if raw is None else inner(raw, where, to_mono, depth)

        return nullable_value
    if origin is tuple:
        return _tuple_converter(typing.get_args(hint))
    simple = _SIMPLE.get(hint)
    if simple is not None:
        return simple
    if hint is datetime or hint is date:
        return _date_converter(hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum_converter(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        cls = hint

        def nested(raw: object, where: str, to_mono: ToMono, depth: int) -> object:
            return _build(cls, raw, to_mono, depth + 1)

        return nested
    return _unsupported  # no such field in the model


def _unsupported(raw: object, where: str, to_mono: ToMono, depth: int) -> object:
    raise EntryError(f"{where}: unsupported type")


def _unsupported_union(nullable: bool) -> Convert:
    def convert(raw: object, where: str, to_mono: ToMono, depth: int) -> object:
        if raw is None and nullable:
            return None
        raise EntryError(f"{where}: unsupported type")

    return convert


def _tuple_converter(args: tuple[Any, ...]) -> Convert:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _converter(args[0])

        def many(raw: object, where: str, to_mono: ToMono, depth: int) -> object:
            if type(raw) is not list:
                raise EntryError(f"{where}: expected a list")
            if len(raw) > MAX_ITEMS:
                raise EntryError(f"{where}: too many items")
            return tuple([item(v, where, to_mono, depth + 1) for v in raw])

        return many
    items = tuple(_converter(a) for a in args)

    def fixed(raw: object, where: str, to_mono: ToMono, depth: int) -> object:
        if type(raw) is not list:
            raise EntryError(f"{where}: expected a list")
        if len(raw) > MAX_ITEMS:
            raise EntryError(f"{where}: too many items")
        if len(raw) != len(items):
            raise EntryError(f"{where}: expected {len(items)} items")
        return tuple([c(v, where, to_mono, depth + 1) for c, v in zip(items, raw, strict=True)])

    return fixed


def _bool(raw: object, where: str, to_mono: ToMono, depth: int) -> object:
    if not isinstance(raw, bool):
        raise EntryError(f"{where}: expected true or false")
    return raw


def _int(raw: object, where: str, to_mono: ToMono, depth: int) -> object:
    if isinstance(raw, bool) or not isinstance(raw, int) or abs(raw) > 2**63:
        raise EntryError(f"{where}: expected a whole number")
    return raw


def _float(raw: object, where: str, to_mono: ToMono, depth: int) -> object:
    return _finite(raw, where)


def _str(raw: object, where: str, to_mono: ToMono, depth: int) -> object:
    if not isinstance(raw, str):
        raise EntryError(f"{where}: expected text")
    # Plain printable ASCII with no space at either end is what clean_text would return
    # unchanged (no control, escape, bidi or zero-width character; NFC is the identity;
    # nothing to strip): skip the sanitiser's regex and normalisation for it. Every
    # other text goes through clean_text as before.
    if (
        len(raw) <= MAX_TEXT
        and raw.isascii()
        and raw.isprintable()
        and not raw.startswith(" ")
        and not raw.endswith(" ")
    ):
        return raw
    return clean_text(raw, MAX_TEXT)


def _decimal(raw: object, where: str, to_mono: ToMono, depth: int) -> object:
    if not isinstance(raw, str) or len(raw) > MAX_NUMBER_TEXT:
        raise EntryError(f"{where}: expected a decimal")
    try:
        number = Decimal(raw)
    except InvalidOperation as exc:
        raise EntryError(f"{where}: not a decimal") from exc
    if not number.is_finite():
        raise EntryError(f"{where}: not finite")
    return number


_SIMPLE: dict[Any, Convert] = {
    bool: _bool,
    int: _int,
    float: _float,
    str: _str,
    Decimal: _decimal,
}


def _date_converter(hint: type[date]) -> Convert:
    def convert(raw: object, where: str, to_mono: ToMono, depth: int) -> object:
        if not isinstance(raw, str) or len(raw) > MAX_NUMBER_TEXT:
            raise EntryError(f"{where}: expected a date")
        try:
            return hint.fromisoformat(raw)
        except ValueError as exc:
            raise EntryError(f"{where}: not a date") from exc

    return convert


def _enum_converter(hint: type[Enum]) -> Convert:
    def convert(raw: object, where: str, to_mono: ToMono, depth: int) -> object:
        try:
            return hint(raw)
        except ValueError as exc:
            raise EntryError(f"{where}: unknown value") from exc

    return convert


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
