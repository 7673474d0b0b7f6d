"""Strict decoding of network payloads: JSON only, bounded, finite numbers only."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
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


_PRICE_MAX = Decimal("1e12")


def price(value: object) -> Decimal | None:
    """A finite positive price from a JSON string or number, else None.

    Strings with spaces, underscores or exponents that Decimal would accept
    (``" 1 "``, ``"6_4000"``, ``"1e3"``) are rejected: exchanges never send them.
    """
    d = number(value)
    if d is None or d <= 0 or d >= _PRICE_MAX:
        return None
    return d


def number(value: object) -> Decimal | None:
    """A finite number (any sign) from a JSON string or number, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        if not value or len(value) > 32 or not _plain_number(value):
            return None
        try:
            d = Decimal(value)
        except InvalidOperation:
            return None
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        d = Decimal(repr(value))
    else:
        return None
    return d if d.is_finite() else None


def _plain_number(s: str) -> bool:
    """True for ``-?digits(.digits)?`` only."""
    i = 1 if s[0] in "+-" else 0
    if i == len(s):
        return False
    seen_dot = False
    seen_digit = False
    for ch in s[i:]:
        if "0" <= ch <= "9":
            seen_digit = True
        elif ch == "." and not seen_dot:
            seen_dot = True
        else:
            return False
    return seen_digit
