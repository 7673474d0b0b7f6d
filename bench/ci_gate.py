"""The CI smoke gate: a quick-pass figure fails only when it is worse than twice its target.

The quick pass is short and the CI box is shared, so its figures are noisy; the real
targets are tracked in RESULTS.md by the full suite. What CI guards against is a
regression far beyond noise: for a "≤ T" target it fails when the measured value is
above 2T, for a "≥ T" target when it is below T/2. Informational figures (no numeric
bound) and figures marked ``gate=False`` are printed but never fail; a gated figure that
could not be measured (NaN) fails, since a smoke run that measured nothing proves nothing.

Comparisons with the peer (crypto-terminal, bench/peer_compare.py) are gated the same
way, at 2× the comparison: a "< peer" or "≤ peer" figure (the limit is the peer's figure
in the same run, ``Figure.vs_peer``) fails above twice the peer's figure, a ratio
lockstep / peer "≤ 0.15" fails above 0.30. A strict target ("< peer") is not strict at
its CI bound: the bound is "at most 2×" like every other. The line says when the bound
comes from the peer's figure in this run; if the peer's figure was not measured (NaN)
the figure fails, as any unmeasured gated figure does. The quick pass does not run the
peer today (PEER is not in ``QUICK``), so these rows reach CI only in a run that asks
for PEER.

Everything here is pure (no I/O) so the rule is unit-tested (tests/bench/test_ci_gate.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.common import Figure, Section, fmt

FACTOR = 2.0
"""How far past its target a quick-pass figure may be before CI fails."""

PASS = "pass"
FAIL = "FAIL"
UNGATED = "info"


def bound(limit: float, higher_is_better: bool, factor: float = FACTOR) -> float:
    """The CI bound for a target: ``limit / factor`` for "≥" targets, else ``limit × factor``."""
    return limit / factor if higher_is_better else limit * factor


def gate(
    value: float,
    limit: float | None,
    higher_is_better: bool,
    *,
    gated: bool = True,
    factor: float = FACTOR,
) -> str:
    """``pass``, ``FAIL`` or ``info`` (not gated) for one figure.

    A value exactly at the bound passes (the bound is "at most 2×"), strict targets
    included. NaN fails when gated (not measured), and so does a NaN limit (a peer's
    figure that was not measured); ∞ fails a "≤" target and passes a "≥" one, like any
    number.
    """
    if limit is None or not gated:
        return UNGATED
    if math.isnan(value) or math.isnan(limit):
        return FAIL
    b = bound(limit, higher_is_better, factor)
    ok = value >= b if higher_is_better else value <= b
    return PASS if ok else FAIL


@dataclass(frozen=True, slots=True)
class GateRow:
    """One figure's gate outcome, for the CI log."""

    bench: str
    name: str
    value: float
    unit: str
    target: str
    bound: float | None
    higher_is_better: bool
    verdict: str
    vs_peer: bool = False
    """The bound is a multiple of the peer's figure measured in the same run."""
    factor: float = FACTOR

    def line(self) -> str:
        """``FAIL  B5 CPU, P2 …: 45.7 % (target ≤ 15; CI bound ≤ 30)``."""
        value = "not measured" if math.isnan(self.value) else fmt(self.value, self.unit)
        if math.isinf(self.value):
            value = "never (∞)"
        if self.bound is None:
            limits = f"target {self.target or '—'}; not gated"
        else:
            op = "≥" if self.higher_is_better else "≤"
            limits = f"target {self.target}; CI bound {op} {fmt(self.bound)}"
            if self.vs_peer:
                limits += f" ({self.factor:g}× the peer's figure in this run)"
        return f"{self.verdict:>4}  {self.bench} {self.name}: {value} ({limits})"


def rows(figures: Iterable[Figure], factor: float = FACTOR) -> list[GateRow]:
    """The gate outcome of every figure, in order."""
    out = []
    for f in figures:
        verdict = gate(f.value, f.limit, f.higher_is_better, gated=f.gate, factor=factor)
        out.append(
            GateRow(
                f.bench,
                f.name,
                f.value,
                f.unit,
                f.target,
                None
                if verdict == UNGATED or f.limit is None
                else bound(f.limit, f.higher_is_better, factor),
                f.higher_is_better,
                verdict,
                f.vs_peer,
                factor,
            )
        )
    return out


def report(sections: Sequence[Section], factor: float = FACTOR) -> tuple[list[str], bool]:
    """The CI log lines and whether CI passes (no broken section, no figure failing)."""
    lines = [f"CI gate: each figure against {factor:g}× its target"]
    ok = True
    for s in sections:
        if s.broken:
            ok = False
            lines.append(f"FAIL  {s.bench} harness broken: {s.broken}")
    gated = rows((f for s in sections for f in s.figures), factor)
    lines += [r.line() for r in gated]
    failed = [r for r in gated if r.verdict == FAIL]
    broken = [s.bench for s in sections if s.broken]
    if failed or broken:
        ok = False
    n_gated = sum(1 for r in gated if r.verdict != UNGATED)
    summary = f"CI gate: {n_gated - len(failed)} of {n_gated} gated figures within {factor:g}×"
    if failed:
        summary += "; failing: " + "; ".join(f"{r.bench} {r.name}" for r in failed)
    if broken:
        summary += "; broken: " + ", ".join(broken)
    lines.append(summary + (" — PASS" if ok else " — FAIL"))
    return lines, ok
