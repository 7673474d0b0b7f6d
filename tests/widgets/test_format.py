"""Ages and numbers as the panels print them."""

from __future__ import annotations

import pytest

from widgets.format import age, coarse_age, step_age


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (-3, "0s"),
        (0, "0s"),
        (9.9, "9s"),
        (10, "10s"),
        (14, "10s"),
        (59, "55s"),
        (60, "1m"),
        (3599, "59m"),
        (3600, "1h00m"),
        (3 * 86400 + 7200, "3d02h"),
    ],
)
def test_age(seconds: float | None, text: str) -> None:
    assert age(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0, "<5s"),
        (4.99, "<5s"),
        (5, "5s"),
        (9, "5s"),
        (10, "10s"),
        (59, "55s"),
        (60, "1m"),
        (3725, "1h02m"),
    ],
)
def test_step_age_never_looks_younger_than_the_truth(seconds: float | None, text: str) -> None:
    assert step_age(seconds) == text


def test_step_age_changes_at_most_every_five_seconds_in_the_first_minute() -> None:
    texts = [step_age(s / 10) for s in range(600)]
    changes = sum(a != b for a, b in zip(texts, texts[1:], strict=False))
    assert changes == 11  # <5s, 5s, 10s ... 55s


def test_coarse_age() -> None:
    assert coarse_age(59) == "<1m" and coarse_age(61) == "1m" and coarse_age(None) == "—"
