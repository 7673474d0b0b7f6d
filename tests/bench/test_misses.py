"""The miss notes RESULTS.md is rendered with must be self-consistent, and every figure
that can miss must map to an analysed cause."""

from __future__ import annotations

import pytest

from bench.common import Figure
from bench.misses import CAUSES, NOTES
from bench.results import SavedSoak, load_soak, miss_note, soak_figures


def test_every_cause_a_note_names_is_written_down() -> None:
    named = {c for _, causes in NOTES.values() for c in causes}
    assert named <= CAUSES.keys(), named - CAUSES.keys()


def test_every_cause_is_named_by_some_note() -> None:
    named = {c for _, causes in NOTES.values() for c in causes}
    assert CAUSES.keys() <= named, CAUSES.keys() - named


def test_the_idle_cpu_miss_gets_its_own_note_not_the_per_frame_one() -> None:
    idle = Figure("B5", "CPU, P0 0 msg/s", 1.8, "%", "≤ 0.5", 0.5, False)
    busy = Figure("B5", "CPU, P1 100 msg/s", 7.3, "%", "≤ 5", 5.0, False)
    assert miss_note(idle)[1] == ("D2",)
    assert miss_note(busy)[1] == ("D1",)


# Figures with a target, as the benches name them (bench/b*.py, bench/peer_compare.py),
# and the root cause each one's miss is put down to.
CAN_MISS = [
    ("B4", "displayed value age p99, P2 1,000 msg/s", "D1"),
    ("B4", "per-message staleness p99, P1 100 msg/s", "D1"),
    ("B5", "CPU, P0 0 msg/s", "D2"),
    ("B5", "CPU, P1 100 msg/s", "D1"),
    ("B5", "CPU ratio to the raw-ANSI floor, P2 1,000 msg/s", "D1"),
    ("B5", "RSS after warm-up, P2 1,000 msg/s", "D4"),
    ("B6", "bytes/s, P0 0 msg/s (idle)", "D3"),
    ("B6", "bytes/s, P0 0 msg/s, every polled source failing (idle)", "D3"),
    ("B6", "bytes/s p95 of 1-s windows, P2 1,000 msg/s", "D3"),
    ("B6", "bytes per changed screen cell, P2 1,000 msg/s", "D3"),
    ("B2", "app CPU per applied message, 21,000 msg/s for 60 s", "D5"),
    ("B2", "messages applied per second, sender at 21,000 msg/s for 60 s", "D5"),
    ("B3", "time until staleness < 150 ms again after the spike", "D5"),
    ("B7", "RSS after warm-up", "D4"),
    ("B7", "RSS slope after warm-up", "D6"),
    ("B7", "objects tracked by the GC, change after warm-up", "D6"),
    ("B7", "asyncio tasks: difference from the warm-up-end baseline, at the end", "D6"),
    ("B7", "open file descriptors: difference from the warm-up-end baseline, at the end", "D6"),
    ("B7", "per-message staleness p99 in the last 30 s", "D1"),
    ("B8", "first paint p50 (title on screen), warm data directory", "D8"),
    ("B8", "imports (python -X importtime, tui.cli + tui.app)", "D8"),
    ("B9", "loop lag p99, P2 1,000 msg/s", "D1"),
    ("B10", "per-message staleness p99, 1,000 msg/s, link 4 KB/s", "D7"),
    ("B11", "CPU added by polled sources (answering minus refused; fetch, parse)", "D1"),
    ("B11", "loop lag p99 with every polled endpoint hung", "D1"),
    ("B13", "subscribing terminal's CPU ÷ a direct terminal's (headless App, same load)", "D9"),
    ("PEER", "CPU at 0 msg/s, lockstep below crypto-terminal", "D2"),
    ("PEER", "first paint, lockstep no slower than crypto-terminal", "D8"),
    ("PEER", "CPU ratio lockstep / crypto-terminal at 50 msg/s", "D1"),
    ("PEER", "terminal bytes ratio lockstep / crypto-terminal at 2,000 msg/s", "D3"),
]


@pytest.mark.parametrize(("bench", "name", "cause"), CAN_MISS)
def test_a_figure_that_can_miss_maps_to_its_cause(bench: str, name: str, cause: str) -> None:
    note, causes = miss_note(Figure(bench, name, 1.0, "", "≤ 0", 0.0))
    assert causes == (cause,), (note, causes)
    assert note != "Not analysed yet."


def _soak() -> SavedSoak:
    return load_soak()


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("objects tracked by the GC", "bounded caches"),
        ("asyncio tasks", "session edge"),
        ("RSS slope", "long soak"),
    ],
)
def test_the_long_soaks_rows_get_the_long_soaks_notes(name: str, says: str) -> None:
    fig = next(f for f in soak_figures(_soak()) if name in f.name)
    note, causes = miss_note(fig)
    assert says in note and causes == ("D6",)
