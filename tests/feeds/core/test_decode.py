"""feeds.core.decode's number parsing: the fast paths accept exactly the plain decimal strings
of the grammar ``[+-] digits [. digits]`` (digits on at least one side of the dot, ASCII
only, at most 32 characters), and nothing else Decimal() would take."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from feeds.core.decode import number, price

ASCII_DIGITS = frozenset("0123456789")


def plain(text: str) -> bool:
    """The accepted grammar, stated independently of the implementation."""
    if len(text) > 32:
        return False
    body = text[1:] if text[:1] in ("+", "-") else text
    whole, _, frac = body.partition(".")
    digits = whole + frac
    return bool(digits) and set(digits) <= ASCII_DIGITS


# Text that is mostly number-like, with the characters Decimal() treats specially.
NUMBERISH = st.text(
    alphabet=st.sampled_from(list("0123456789+-.eE_ \t\nNaInfity١２²xX,")), max_size=36
)


@given(st.one_of(NUMBERISH, st.text(max_size=40)))
@example("1" * 32)
@example("1" * 33)
@example("+.5")
@example("5.")
@example("-0")
def test_number_accepts_exactly_the_plain_grammar(text: str) -> None:
    got = number(text)
    if plain(text):
        assert got == Decimal(text)
    else:
        assert got is None, text


@given(st.one_of(NUMBERISH, st.text(max_size=40)))
@example("999999999999.99")
@example("1000000000000")
@example("0.000")
def test_price_is_a_plain_number_strictly_between_zero_and_a_trillion(text: str) -> None:
    got = price(text)
    if plain(text) and 0 < Decimal(text) < 10**12:
        assert got == Decimal(text)
    else:
        assert got is None, text


@given(st.from_regex(r"[+-]?[0-9]{0,12}\.?[0-9]{0,12}", fullmatch=True))
def test_well_formed_numbers_round_trip(text: str) -> None:
    want = Decimal(text) if plain(text) else None
    assert number(text) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (5, Decimal(5)),
        (-5, Decimal(-5)),
        (10**20, Decimal(10**20)),
        (0.1, Decimal("0.1")),
        (-2.5, Decimal("-2.5")),
        (True, None),
        (False, None),
        (None, None),
        (float("nan"), None),
        (float("inf"), None),
        (float("-inf"), None),
        ([], None),
        ({}, None),
        (b"5", None),
        (Decimal(5), None),  # not a JSON value
    ],
)
def test_number_from_json_values(value: object, want: Decimal | None) -> None:
    assert number(value) == want


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (5, Decimal(5)),
        (0.01, Decimal("0.01")),
        (0, None),
        (-5, None),
        (-0.0, None),
        (10**12, None),
        (1e12, None),
        (999999999999.5, Decimal("999999999999.5")),
        (True, None),
        (None, None),
    ],
)
def test_price_from_json_values(value: object, want: Decimal | None) -> None:
    assert price(value) == want


class Text(str):
    """A str subclass (not what orjson returns, but number() takes any str)."""


def test_str_subclasses_take_the_general_path() -> None:
    assert number(Text("1.5")) == Decimal("1.5")
    assert price(Text("1.5")) == Decimal("1.5")
    assert price(Text("1e3")) is None
