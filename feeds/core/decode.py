"""Strict decoding of network payloads: JSON only, bounded, finite numbers only."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

import orjson

MAX_DEPTH_HINT = 64


class DecodeError(ValueError):
    """A payload that is not acceptable JSON."""


def loads(data: bytes | str) -> Any:
    """Parse JSON strictly. orjson rejects NaN, Infinity and overflowing numbers, and
    caps nesting, so nothing non-finite or pathologically deep gets through."""
    try:
        return orjson.loads(data)
    except (orjson.JSONDecodeError, RecursionError) as exc:
        raise DecodeError(str(exc)[:120]) from exc


_ZERO = Decimal(0)
_PRICE_MAX = Decimal("1e12")
_MAX_TEXT = 32
"""Longest numeric string accepted: prices and sizes are far shorter, and the cap keeps
a hostile 10 MB digit string from reaching Decimal."""

# ``[+-]digits.digits`` with the sign, the dot and the digits on either side of the dot
# optional (but not both). Decimal() alone would also take exponents, underscores,
# surrounding spaces, "NaN", "Infinity" and non-ASCII digits; exchanges never send any of
# those, so they are refused. [0-9] rather than \d, which matches every Unicode digit.
_signed_number = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)").fullmatch


def _plain_number(text: str) -> bool:
    """True for a plain decimal string (see ``_signed_number``) of at most 32 characters."""
    if len(text) > _MAX_TEXT:
        return False
    # Unsigned ASCII digits with at most one dot, what venues send, pass on two C string
    # methods, half the cost of the regex; signs and anything odd are left to the regex.
    # Both cost a fraction of a per-character loop, at thousands of numbers a second.
    if text.isascii() and text.replace(".", "", 1).isdigit():
        return True
    return _signed_number(text) is not None


def price(value: object) -> Decimal | None:
    """A finite positive price below 10^12 from a JSON string or number, else None.

    Strings with spaces, underscores or exponents that Decimal would accept
    (``" 1 "``, ``"6_4000"``, ``"1e3"``) are rejected: exchanges never send them.
    """
    if type(value) is str:
        # The hot path (venues send prices as strings), without number()'s type checks.
        if not _plain_number(value):
            return None
        d = Decimal(value)
    else:
        n = number(value)
        if n is None:
            return None
        d = n
    return d if _ZERO < d < _PRICE_MAX else None


def number(value: object) -> Decimal | None:
    """A finite number (any sign) from a JSON string or number, else None."""
    if isinstance(value, str):
        # A plain decimal string always makes a finite Decimal, so no InvalidOperation.
        return Decimal(value) if _plain_number(value) else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr() gives the shortest string that round-trips, so 0.1 becomes 0.1 and not
        # 0.1000000000000000055511151231257827...
        return Decimal(repr(value)) if math.isfinite(value) else None
    return None
