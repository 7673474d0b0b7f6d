"""The CI smoke gate's rule (bench/ci_gate.py): fail only beyond 2× a target."""

from __future__ import annotations

import math

import pytest

from bench.ci_gate import FAIL, PASS, UNGATED, bound, gate, report, rows
from bench.common import Figure, Section


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0, PASS), (15.0, PASS), (29.9, PASS), (30.0, PASS), (30.1, FAIL), (math.inf, FAIL)],
)
def test_at_most_target_fails_only_above_twice_the_target(value: float, expected: str) -> None:
    assert gate(value, 15.0, higher_is_better=False) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(20_000.0, PASS), (10_000.0, PASS), (9_999.0, FAIL), (0.0, FAIL), (math.inf, PASS)],
)
def test_at_least_target_fails_only_below_half_the_target(value: float, expected: str) -> None:
    assert gate(value, 20_000.0, higher_is_better=True) == expected


def test_a_zero_target_allows_nothing_above_zero() -> None:
    # "0 disconnects" / "0 full repaints": twice zero is still zero.
    assert gate(0.0, 0.0, higher_is_better=False) == PASS
    assert gate(1.0, 0.0, higher_is_better=False) == FAIL


def test_info_rows_and_ungated_figures_never_fail() -> None:
    assert gate(1e9, None, higher_is_better=False) == UNGATED
    assert gate(math.nan, None, higher_is_better=False) == UNGATED
    assert gate(1e9, 1.0, higher_is_better=False, gated=False) == UNGATED


def test_a_gated_figure_that_was_not_measured_fails() -> None:
    assert gate(math.nan, 1.0, higher_is_better=False) == FAIL


def test_bound_and_factor() -> None:
    assert bound(15.0, higher_is_better=False) == 30.0
    assert bound(950.0, higher_is_better=True) == 475.0
    assert gate(40.0, 15.0, higher_is_better=False, factor=3.0) == PASS


def _section(*figures: Figure, broken: str = "") -> Section:
    return Section("B5", "CPU", "python -m bench --only B5", list(figures), broken=broken)


def test_rows_carry_target_bound_and_verdict() -> None:
    figs = [
        Figure("B5", "CPU, P2", 45.7, "%", target="≤ 15", limit=15.0),
        Figure("B2", "applied", 12_000.0, "msg/s", "≥ 20,000", 20_000.0, True),
        Figure("B8", "cold first paint", 3.0, "s"),
    ]
    out = rows(figs)
    assert [r.verdict for r in out] == [FAIL, PASS, UNGATED]
    assert out[0].bound == 30.0 and out[1].bound == 10_000.0 and out[2].bound is None
    assert "FAIL" in out[0].line() and "≤ 15" in out[0].line() and "≤ 30" in out[0].line()
    assert "≥ 10,000" in out[1].line()
    assert "not gated" in out[2].line()


def test_report_passes_when_every_gated_figure_is_within_twice_its_target() -> None:
    lines, ok = report([_section(Figure("B5", "CPU, P2", 29.0, "%", "≤ 15", 15.0))])
    assert ok
    assert lines[-1].endswith("PASS")


def test_report_names_every_failing_figure() -> None:
    sec = _section(
        Figure("B5", "CPU, P0", 3.0, "%", "≤ 1", 1.0),
        Figure("B5", "CPU, P2", 10.0, "%", "≤ 15", 15.0),
    )
    lines, ok = report([sec])
    assert not ok
    assert "CPU, P0" in lines[-1] and "CPU, P2" not in lines[-1]
    assert any(line.startswith("FAIL  B5 CPU, P0: 3.00 %") for line in lines)


def test_a_broken_harness_fails_even_with_good_figures() -> None:
    lines, ok = report([_section(broken="the app showed no price")])
    assert not ok
    assert any("harness broken" in line for line in lines)
