"""The CI smoke gate's rule (bench/ci_gate.py): fail only beyond 2× a target."""

from __future__ import annotations

import dataclasses
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


# -- comparisons with the peer (bench/peer_compare.py) ---------------------------------


def _below_peer(value: float, peer: float) -> Figure:
    return Figure(
        "PEER",
        "CPU at 0 msg/s, lockstep below crypto-terminal",
        value,
        "%",
        target="< peer (same run)",
        limit=peer,
        strict=True,
        vs_peer=True,
        peer=f"{peer} %",
    )


@pytest.mark.parametrize(
    ("value", "peer", "verdict"),
    [(0.6, 0.85, "pass"), (0.85, 0.85, "MISS"), (0.9, 0.85, "MISS"), (math.nan, 0.85, "n/a")],
)
def test_below_the_peer_is_strict(value: float, peer: float, verdict: str) -> None:
    assert _below_peer(value, peer).verdict == verdict


def test_a_peer_figure_that_was_not_measured_is_not_a_pass() -> None:
    assert _below_peer(0.1, math.nan).verdict == "n/a"


def test_no_slower_than_the_peer_allows_a_tie() -> None:
    fig = Figure("PEER", "first paint", 0.37, "s", "≤ peer (same run)", 0.37, vs_peer=True)
    assert fig.verdict == "pass"
    assert dataclasses.replace(fig, value=0.371).verdict == "MISS"


@pytest.mark.parametrize(
    ("value", "expected"),
    # Twice the peer's 0.85 % is 1.70 %: a strict target is not strict at its CI bound.
    [(0.85, PASS), (1.7, PASS), (1.71, FAIL), (math.nan, FAIL)],
)
def test_ci_gates_a_peer_comparison_at_twice_the_peers_figure(value: float, expected: str) -> None:
    (row,) = rows([_below_peer(value, 0.85)])
    assert row.verdict == expected
    assert row.bound == pytest.approx(1.7)
    assert "CI bound ≤ 1.70 (2× the peer's figure in this run)" in row.line()


def test_ci_fails_a_peer_comparison_whose_peer_figure_is_missing() -> None:
    (row,) = rows([_below_peer(0.1, math.nan)])
    assert row.verdict == FAIL


def test_ci_gates_a_ratio_to_the_peer_at_twice_the_ratio() -> None:
    fig = Figure("PEER", "CPU ratio lockstep / crypto-terminal at 50 msg/s", 0.2, "×")
    fig.target, fig.limit = "≤ 0.15", 0.15
    (row,) = rows([fig])
    assert fig.verdict == "MISS"  # against the target
    assert row.verdict == PASS and row.bound == pytest.approx(0.3)  # within 2× in CI
    assert "the peer's figure" not in row.line()  # a fixed ratio, not the peer's figure
    (row,) = rows([dataclasses.replace(fig, value=0.31)])
    assert row.verdict == FAIL
