"""B12 resize storm: 10 resizes a second for 5 s via TIOCSWINSZ (the kernel sends
SIGWINCH), ending at 120×40; time to settle, CPU, and the final screen's layout."""

from __future__ import annotations

import time

from bench.common import Section, log
from bench.scenarios import Session

SIZES = [(100, 30), (80, 24), (140, 50), (120, 40), (90, 35)]
BOX = set("╭╮╰╯─│┌┐└┘")
QUIET = 1.0
"""Seconds without a layout change that count as settled."""
SETTLE_LIMIT = 6.0
"""Seconds after the last resize to wait for the layout to settle."""


def skeleton(texts: list[str]) -> list[str]:
    """The layout without the data: box-drawing characters kept, the rest blanked."""
    return ["".join(c if c in BOX else " " for c in line) for line in texts]


def run(quick: bool) -> Section:
    """Resize storm at 1,000 msg/s."""
    sec = Section("B12", "Resize storm (pty)", "python -m bench --only B12")
    seconds = 2.0 if quick else 5.0
    log(f"  B12 10 resizes/s for {seconds:g} s")
    with Session("app") as ses:
        prog, sim = ses.prog, ses.sim
        assert prog is not None
        if not ses.ok:
            sec.broken = ses.note
            return sec
        sim.set_rate(1000.0)
        time.sleep(1.0 if quick else 2.0)
        ses.in_view()
        time.sleep(0.5 if quick else 1.0)
        before = skeleton(prog.texts)
        c0 = prog.cpu_seconds()
        t0 = time.monotonic()
        i = 0
        while time.monotonic() - t0 < seconds:
            cols, rows = SIZES[i % len(SIZES)]
            prog.resize(cols, rows)
            i += 1
            time.sleep(0.1)
        prog.resize(120, 40)
        t_last = time.monotonic()
        c1 = prog.cpu_seconds()
        storm_cpu = (c1 - c0) / (t_last - t0) * 100
        # Settled: the layout (box skeleton) has stopped changing for QUIET seconds; the
        # settle time is that of its last change after the last resize. The layout it
        # settled on must be the pre-storm one at once: no second look. (A "full
        # repaint" burst is no sign of settling: pyte marks every row dirty on its own
        # resize, so the first burst after any resize counts as full.)
        settle = float("inf")
        shown = skeleton(prog.texts)
        changed = t_last
        deadline = t_last + SETTLE_LIMIT
        while time.monotonic() < deadline:
            now_shown = skeleton(prog.texts)
            now = time.monotonic()
            if now_shown != shown:
                shown, changed = now_shown, now
            elif now - changed >= QUIET:
                settle = changed - t_last
                break
            time.sleep(0.01)
        settled = settle != float("inf")
        after = shown
        fresh = after
        if settled and after != before:
            # The dashboard's content may have changed shape during the storm (a source
            # turning STALE lengthens the status bar; an operation or a meeting row comes
            # or goes): compare with a calm resize to the same size, planned from that
            # content. A storm that left a wrong plan matches neither.
            log("  B12 layout differs from the pre-storm one: checking against a calm resize")
            for row, (a, b) in enumerate(zip(before, after, strict=False)):
                if a != b:
                    log(f"    row {row}: before {a.rstrip()!r}")
                    log(f"    row {row}: after  {b.rstrip()!r}")
                    break
            prog.resize(100, 30)
            time.sleep(1.0)
            prog.resize(120, 40)
            time.sleep(2.0)
            fresh = skeleton(prog.texts)
        alive = prog.alive()
        full_during = sum(1 for f in prog.frames if t0 <= f.t0 <= t_last and f.full)
        log_text = ""
        try:
            log_text = (ses.tmp / "lockstep.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            pass
    same = settled and (before == after or fresh == after)
    errors = log_text.count("Traceback") + log_text.count(" ERROR ")
    sec.add("time to settle after the last resize", settle, "s", target="≤ 0.5", limit=0.5)
    sec.add(
        "final layout equals the pre-storm layout (1 = yes)",
        1.0 if same else 0.0,
        "",
        target="1",
        limit=1.0,
        higher_is_better=True,
    )
    sec.add(
        "app alive, no traceback/ERROR in its log (1 = yes)",
        1.0 if alive and not errors else 0.0,
        "",
        target="1",
        limit=1.0,
        higher_is_better=True,
    )
    sec.add("app CPU during the storm", storm_cpu, "%", note="informational")
    sec.notes.append(
        f"{i} resizes cycling {', '.join(f'{c}×{r}' for c, r in SIZES)}, then 120×40; "
        f"{full_during} full repaints during the storm; pyte is resized in step with the byte "
        "stream. Layout compared as box-drawing skeletons (data blanked); settled = no "
        f"layout change for {QUIET:g} s, and the settled layout must equal the pre-storm "
        "one, or (when the content changed shape meanwhile) the layout a calm resize to "
        "120×40 plans from the same content." + (f" {ses.note}." if ses.note else "")
    )
    return sec
