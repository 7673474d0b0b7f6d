"""The long soak's analysis: GC growth by type, tasks/fds back to baseline, and where
tracemalloc's growth sites enter lockstep's code (bench/b07_soak.py)."""

from __future__ import annotations

import math
import tracemalloc
import weakref
from pathlib import Path

import pytest

from bench import b07_soak
from bench.b07_soak import END, POST_CUT, PRE_CUT, WARM_END, back_to_baseline, type_growth
from bench.common import ROOT, Section

SITE = "/venv/lib/python3.11/site-packages"


def test_type_growth_lists_only_growers_largest_first() -> None:
    before = {"tuple": 100, "dict": 50, "Segment": 10, "gone": 3}
    after = {"tuple": 90, "dict": 80, "Segment": 40, "new": 5}
    assert type_growth(before, after) == [("Segment", 30), ("dict", 30), ("new", 5)]


@pytest.mark.parametrize(
    ("base", "now", "flight", "expected"),
    [
        (205, 205, False, (0.0, 0.0)),
        (205, 206, False, (1.0, 0.0)),
        (15, 14, False, (1.0, 0.0)),
        (205, 207, True, (2.0, 2.0)),
    ],
)
def test_back_to_baseline(base: int, now: int, flight: bool, expected: tuple[float, float]) -> None:
    assert back_to_baseline(base, now, flight) == expected


def test_a_missing_report_is_not_measurable() -> None:
    value, _ = back_to_baseline(205, -1, False)
    assert math.isnan(value)


def _section(tasks: tuple[int, int, int, int], fds: tuple[int, int, int, int]) -> Section:
    sec = Section("B7", "soak", "")
    reps = {
        n: {"tasks": t, "fds": f}
        for n, t, f in zip((WARM_END, PRE_CUT, POST_CUT, END), tasks, fds, strict=True)
    }
    t_rep = {WARM_END: 0.0, PRE_CUT: 100.0, POST_CUT: 160.0, END: 300.0}
    b07_soak._tasks_and_fds(sec, reps, t_rep, [1.0, 100.5], 100.3)
    return sec


def test_tasks_and_fds_back_to_baseline_pass() -> None:
    sec = _section((205, 205, 205, 205), (15, 15, 15, 15))
    assert [f.verdict for f in sec.figures] == ["pass"] * 4


def test_a_task_or_fd_left_behind_is_a_failing_row() -> None:
    sec = _section((205, 205, 206, 205), (15, 15, 15, 16))
    verdicts = {f.name: f.verdict for f in sec.figures}
    assert verdicts == {
        "asyncio tasks: difference from the warm-up-end baseline, 60 s after the forced "
        "disconnect": "MISS",
        "asyncio tasks: difference from the warm-up-end baseline, at the end": "pass",
        "open file descriptors: difference from the warm-up-end baseline, 60 s after the "
        "forced disconnect": "pass",
        "open file descriptors: difference from the warm-up-end baseline, at the end": "MISS",
    }


def test_a_reconnect_in_flight_allows_two_tasks() -> None:
    sec = Section("B7", "soak", "")
    reps = {n: {"tasks": 205, "fds": 15} for n in (WARM_END, PRE_CUT, END)}
    reps[POST_CUT] = {"tasks": 207, "fds": 15}
    t_rep = {WARM_END: 0.0, PRE_CUT: 100.0, POST_CUT: 160.0, END: 300.0}
    b07_soak._tasks_and_fds(sec, reps, t_rep, [158.0], 100.3)
    assert sec.figures[0].verdict == "pass"
    assert "in flight" in sec.figures[0].target


def _tb(*frames: tuple[str, int]) -> tracemalloc.Traceback:
    # The raw frames, allocating frame first, as _tracemalloc stores them.
    return tracemalloc.Traceback(frames)


def test_a_library_site_is_named_with_the_innermost_lockstep_frame() -> None:
    tb = _tb(
        (f"{SITE}/rich/segment.py", 179),
        (f"{SITE}/textual/strip.py", 551),
        (str(ROOT / "tui/partial_render.py"), 203),
        (str(ROOT / "tui/app.py"), 90),
    )
    assert b07_soak._where(tb) == "rich/segment.py:179 via tui/partial_render.py:203"


def test_a_lockstep_site_is_named_alone() -> None:
    tb = _tb((str(ROOT / "feeds/core/store.py"), 81), (f"{SITE}/textual/app.py", 1))
    assert b07_soak._where(tb) == "feeds/core/store.py:81"


def test_bench_and_test_code_is_not_lockstep() -> None:
    tb = _tb((str(ROOT / "bench/soak_app.py"), 5))
    assert b07_soak._where(tb) == "bench/soak_app.py:5 (no lockstep frame)"


def test_top_growth_ranks_the_sites_between_two_snapshots(tmp_path: Path) -> None:
    if tracemalloc.is_tracing():
        pytest.skip("tracemalloc already on in this process")
    tracemalloc.start(4)
    try:
        tracemalloc.take_snapshot().dump(str(tmp_path / f"snapshot-{WARM_END}.bin"))
        kept = [bytearray(1000) for _ in range(500)]
        tracemalloc.take_snapshot().dump(str(tmp_path / f"snapshot-{END}.bin"))
    finally:
        tracemalloc.stop()
    rows = b07_soak.top_growth(tmp_path)
    assert len(kept) == 500
    site, size, count = rows[0]
    assert site.startswith("tests/bench/test_soak_analysis.py:")
    assert size.startswith("+") and size.endswith(" kB")
    assert int(count.replace(",", "")) >= 500


class _Referent:
    pass


def test_a_report_survives_a_dead_weakref_proxy() -> None:
    # websockets keeps a weakref.proxy to each connection in its logger adapter; after a
    # forced disconnect the proxy can outlive the connection until the cyclic GC runs.
    from bench.soak_app import measure

    referent = _Referent()
    held = [weakref.proxy(referent)]
    del referent
    doc = measure()
    assert held
    types = doc["types"]
    assert isinstance(types, dict)
    assert types["weakref.ProxyType"] >= 1
    assert isinstance(doc["rss_mb"], float) and doc["rss_mb"] > 0
    assert isinstance(doc["fds"], int) and doc["fds"] > 0
