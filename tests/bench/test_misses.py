"""The miss notes RESULTS.md is rendered with must be self-consistent."""

from __future__ import annotations

from bench.common import ROOT, Figure
from bench.misses import CAUSES, NOTES
from bench.results import miss_note


def test_every_cause_a_note_names_is_written_down() -> None:
    named = {c for _, causes in NOTES.values() for c in causes}
    assert named <= CAUSES.keys(), named - CAUSES.keys()


def test_the_idle_cpu_miss_gets_its_own_note_not_the_per_frame_one() -> None:
    idle = Figure("B5", "CPU, P0 0 msg/s", 1.8, "%", "≤ 1", 1.0, False)
    busy = Figure("B5", "CPU, P1 100 msg/s", 7.3, "%", "≤ 5", 5.0, False)
    assert miss_note(idle)[1] == ("D2",)
    assert miss_note(busy)[1] == ("D1",)


def test_results_md_states_each_root_cause_as_misses_py_does() -> None:
    # RESULTS.md is partly edited by hand (the long soak): its cause list must not drift.
    text = (ROOT / "bench" / "RESULTS.md").read_text(encoding="utf-8")
    stale = [key for key, cause in CAUSES.items() if f"- {key}: {cause}\n" not in text]
    assert stale == []


def test_the_long_soak_the_soak_cause_cites_is_in_results_md() -> None:
    text = (ROOT / "bench" / "RESULTS.md").read_text(encoding="utf-8")
    assert "'B7 long soak'" in CAUSES["D6"]
    assert "\n### B7 long soak (65 min, 2 runs)\n" in text
