"""RESULTS.md's render (bench/results.py): the peer column, the saved long soak merged
into the summary and details, and the hand-written notes included verbatim."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pytest

from bench.common import Figure, Section
from bench.misses import CAUSES
from bench.results import NOTES_MD, SOAK_LONG, SavedSoak, load_soak, render, save_soak

STARTED = dt.datetime(2026, 12, 5, 5, 0, tzinfo=dt.UTC)


def _render(
    sections: list[Section],
    soak: SavedSoak | None | Path = None,
    notes: str | None | Path = None,
) -> str:
    return render(
        sections,
        command="python -m bench --write-results",
        machine="test box",
        rev="abc1234",
        started=STARTED,
        seconds=60.0,
        load="idle",
        soak=soak,
        notes=notes,
    )


def _sections() -> list[Section]:
    b7 = Section("B7", "Soak (1 min warm-up + 3 min)", "python -m bench --only B7")
    b7.add("RSS slope after warm-up", 0.5, "MB/h", target="≤ 1", limit=1.0)
    b13 = Section("B13", "Desk hub", "python -m bench --only B13")
    b13.add("hub CPU, N = 100", 3.0, "% of a core")
    return [b7, b13]


def _soak() -> SavedSoak:
    sec = Section("B7", "Soak (5 min warm-up + 60 min)", "python -m bench --only B7 --soak-long")
    sec.add("RSS slope after warm-up", 0.414, "MB/h", target="≤ 1", limit=1.0)
    sec.add(
        "objects tracked by the GC, change after warm-up",
        9.45,
        "%",
        target="within ±2",
        limit=2.0,
    )
    sec.table = [["grew most", "growth"], ["GC type tuple", "+2,103"]]
    sec.notes.append("tracemalloc off.")
    return SavedSoak(sec, "2026-12-04", "778ca66", "run without tracemalloc")


def _summary(text: str) -> list[str]:
    start = text.index("## Summary against the targets")
    return text[start : text.index("## Misses")].splitlines()


def test_the_saved_long_soak_has_labelled_rows_after_the_short_soak() -> None:
    text = _render(_sections(), soak=_soak())
    rows = [r for r in _summary(text) if r.startswith("| B")]
    names = [r.split(" | ")[1] for r in rows]
    assert names == [
        "RSS slope after warm-up",
        "long soak: RSS slope after warm-up (run of 2026-12-04, tree 778ca66)",
        "long soak: objects tracked by the GC, change after warm-up "
        "(run of 2026-12-04, tree 778ca66)",
        "hub CPU, N = 100",
    ]
    assert "0.414 MB/h" in rows[1] and "✔ pass" in rows[1]
    assert "9.45 %" in rows[2] and "MISS" in rows[2]
    assert "not from this invocation" in "\n".join(_summary(text))


def test_a_missed_long_soak_figure_is_listed_with_its_cause() -> None:
    text = _render(_sections(), soak=_soak())
    misses = text[text.index("## Misses") : text.index("## Details")]
    assert "B7 long soak: objects tracked by the GC" in misses
    assert "not growth" in misses
    assert f"- D6: {CAUSES['D6']}" in misses


def test_the_saved_long_soak_has_its_own_details() -> None:
    text = _render(_sections(), soak=_soak())
    details = text[text.index("## Details") :]
    head = "### B7 long soak — Soak (5 min warm-up + 60 min)"
    assert head in details
    part = details[details.index(head) :]
    assert "run of 2026-12-04, tree 778ca66; run without tracemalloc" in part
    assert "| GC type tuple | +2,103 |" in part and "- tracemalloc off." in part


def test_hand_written_detail_replaces_the_table_and_heading() -> None:
    soak = _soak()
    soak.heading, soak.detail = "B7 long soak (65 min, 2 runs)", "Edited by hand.\n\n| a |\n"
    text = _render(_sections(), soak=soak)
    assert "\n### B7 long soak (65 min, 2 runs)\n" in text
    assert "Edited by hand.\n\n| a |\n" in text
    assert "GC type tuple" not in text


def test_without_a_saved_soak_there_are_no_long_soak_rows() -> None:
    text = _render(_sections(), soak=None)
    assert "long soak" not in text


def test_an_invocation_that_ran_a_long_soak_shows_its_own_not_the_saved_one() -> None:
    secs = _sections()
    secs[0].command = "python -m bench --only B7 --soak-long --no-tracemalloc"
    text = _render(secs, soak=_soak())
    assert "778ca66" not in text


def test_a_missing_soak_file_is_no_soak(tmp_path: Path) -> None:
    assert "long soak" not in _render(_sections(), soak=tmp_path / "none.json")


def test_save_and_load_soak_round_trip(tmp_path: Path) -> None:
    soak = _soak()
    soak.section.add("CPU below the peer", 0.5, "%", target="< peer", limit=math.nan, vs_peer=True)
    soak.section.add("never", math.inf, "s", target="≤ 5", limit=5.0)
    back = load_soak(save_soak(soak, tmp_path / "soak.json"))
    assert back.date == "2026-12-04" and back.tree == "778ca66"
    assert back.note == soak.note
    assert [f.name for f in back.section.figures] == [f.name for f in soak.section.figures]
    assert back.section.figures[1].value == 9.45
    assert back.section.figures[2].vs_peer and math.isnan(back.section.figures[2].limit or 0)
    assert back.section.figures[3].value == math.inf
    assert back.section.table == soak.section.table


def test_notes_are_included_verbatim_between_the_misses_and_the_details() -> None:
    notes = "## 2026-12-05: an A/B\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nText *as is*.\n"
    text = _render(_sections(), notes=notes)
    at = text.index("## Hand-written analyses (bench/NOTES.md)")
    assert text.index("## Misses") < at < text.index(notes) < text.index("## Details")


def test_without_notes_there_is_no_hand_written_heading(tmp_path: Path) -> None:
    assert "Hand-written analyses" not in _render(_sections(), notes=None)
    assert "Hand-written analyses" not in _render(_sections(), notes=tmp_path / "no.md")


def test_the_peer_column_shows_the_peers_figure() -> None:
    sec = Section("PEER", "Side by side", "python -m bench --only PEER")
    sec.figures.append(
        Figure(
            "PEER",
            "CPU at 0 msg/s, lockstep below crypto-terminal",
            0.6,
            "%",
            "< peer (same run)",
            0.85,
            strict=True,
            vs_peer=True,
            peer="0.850 %",
        )
    )
    (row,) = [r for r in _summary(_render([sec])) if r.startswith("| PEER")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2:6] == ["0.600 %", "0.850 %", "< peer (same run)", "✔ pass"]


# -- the committed files ----------------------------------------------------------------


def test_the_committed_long_soak_is_an_untraced_run_with_its_provenance() -> None:
    # The run that judges RSS (without tracemalloc), with the date and tree it ran on,
    # and every figure B7 reports, by the names B7 gives them.
    soak = load_soak(SOAK_LONG)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", soak.date)
    assert re.fullmatch(r"[0-9a-f]{7,40}", soak.tree)
    assert "--no-tracemalloc" in soak.section.command
    names = [f.name for f in soak.section.figures]
    for wanted in (
        "RSS growth after warm-up (end − start)",
        "RSS slope after warm-up",
        "objects tracked by the GC, change after warm-up",
        "per-message staleness p99 in the last 30 s",
        "reconnect after a forced server-side disconnect",
    ):
        assert any(name.startswith(wanted) for name in names), wanted
    assert all(f.target for f in soak.section.figures if f.verdict != "info")


@pytest.mark.parametrize("heading", ["### B7 long soak (65 min, without tracemalloc)"])
def test_a_render_with_the_committed_files_keeps_the_soak_and_the_notes(heading: str) -> None:
    text = _render(_sections(), soak=SOAK_LONG, notes=NOTES_MD)
    # D6 cites the long soak's details by this name.
    assert "'B7 long soak'" in CAUSES["D6"]
    assert f"\n{heading}\n" in text
    notes = NOTES_MD.read_text(encoding="utf-8")
    assert notes.startswith("## ")
    assert notes.strip("\n") in text


# -- python -m bench --soak-long --save-soak (bench/__main__.py) -------------------------


def test_save_soak_needs_the_long_soak() -> None:
    from bench.__main__ import main

    with pytest.raises(SystemExit, match="--soak-long"):
        main(["--only", "B7", "--save-soak", "--no-write"])


def test_a_long_soak_is_saved_with_its_date_and_tree_and_rendered(tmp_path: Path) -> None:
    from bench.__main__ import parse_args, save_long_soak

    args = parse_args(["--only", "B7", "--soak-long", "--no-tracemalloc", "--save-soak"])
    b7 = _soak().section
    out = save_long_soak([b7], args, STARTED, tmp_path / "soak.json")
    assert out is not None
    back = load_soak(out)
    assert back.date == "2026-12-05" and back.tree  # git_rev of this checkout
    assert "tracemalloc off" in back.note
    text = _render(_sections(), soak=out)
    assert f"long soak: RSS slope after warm-up (run of 2026-12-05, tree {back.tree})" in text


def test_a_broken_long_soak_is_not_saved(tmp_path: Path) -> None:
    from bench.__main__ import parse_args, save_long_soak

    args = parse_args(["--only", "B7", "--soak-long", "--save-soak"])
    broken = Section("B7", "Soak", "c", broken="no price")
    assert save_long_soak([broken], args, STARTED, tmp_path / "soak.json") is None
    assert not (tmp_path / "soak.json").exists()
