"""The one JSON encoding of numbers for everything lockstep prints as JSON
(``snapshot --json``, ``watch --json``, the alert hook's stdin).

The rule: **every number is a JSON number**. A value as a source sent it (a price, a
dollar amount, a rate, a spread: a ``Decimal`` once parsed) is written with exactly its
own digits, never through a float. A value lockstep worked out (a probability, a
percentage, basis points, a correlation, an age) is a float and is written rounded to
:data:`FLOAT_PLACES` decimal places. Nothing numeric is ever a string; a non-finite
number (which parsers never let through) is written as ``null``.

Encoders put ``Decimal`` (via :func:`exact`) or ``float`` (via :func:`num`) into plain
dicts and lists; :func:`dumps` applies the rule. Nothing else decides how a number looks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal

import orjson

SCHEMA_VERSION = 1
"""Bumped whenever a key is renamed or removed, or a value changes its meaning."""

FLOAT_PLACES = 4
"""Decimal places of a computed value: 0.1 ms of age, 0.01 pp of probability."""


def exact(value: Decimal | None) -> Decimal | None:
    """A value as its source sent it: written with its own digits."""
    return value


def num(value: float | Decimal | None) -> float | None:
    """A value lockstep computed: written rounded to :data:`FLOAT_PLACES` places.
    A computed ``Decimal`` (a division can carry 28 digits) becomes a float here."""
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def age(now_mono: float, received: float | None) -> float | None:
    """Seconds since ``received`` (monotonic), never negative; None when never received."""
    return None if received is None else max(0.0, now_mono - received)


def dumps(doc: object, *, indent: bool = False) -> str:
    """``doc`` (dicts, lists, tuples, str, bool, None, int, float, Decimal) as JSON text,
    numbers by the rule above. ``indent`` writes two-space indented lines."""
    out: list[str] = []
    _write(doc, out, "\n" if indent else "", 0)
    return "".join(out)


def _number(value: float | Decimal) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            return "null"
        return format(value, "f")
    if not math.isfinite(value):
        return "null"
    return orjson.dumps(round(value, FLOAT_PLACES)).decode()


def _write(value: object, out: list[str], nl: str, depth: int) -> None:
    pad = nl + "  " * (depth + 1) if nl else ""
    end = nl + "  " * depth if nl else ""
    sep = ": " if nl else ":"
    if value is None or isinstance(value, bool | str):
        out.append(orjson.dumps(value).decode())
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float | Decimal):
        out.append(_number(value))
    elif isinstance(value, Mapping):
        if not value:
            out.append("{}")
            return
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append(("," if i else "") + pad + orjson.dumps(str(key)).decode() + sep)
            _write(item, out, nl, depth + 1)
        out.append(end + "}")
    elif isinstance(value, Sequence):
        if not value:
            out.append("[]")
            return
        out.append("[")
        for i, item in enumerate(value):
            out.append(("," if i else "") + pad)
            _write(item, out, nl, depth + 1)
        out.append(end + "]")
    else:
        raise TypeError(f"not JSON data: {type(value).__name__}")
