"""Cause and plan for misses, written after analysing a run.

``NOTES`` maps a prefix of ``"<bench>:<figure name>"`` to a short explanation and the
root causes (``CAUSES``) behind it. RESULTS.md shows a note only while its figure
misses, and lists each root cause once, so a fixed miss drops out on its own. Update
the text when a re-run shows a different cause.

Evidence (2-core box, full default dashboard, warm data directory): py-spy of the app
under the pty at 0, 100 and 1,000 msg/s; per-function thread CPU (``time.thread_time``
around Textual's compositor refresh, the app's paint and tick); pyte row statistics
(the 'rows re-sent' notes in B6); ``python -m bench.memprobe`` for RSS. The dated
figures below are from the hand-written analyses in bench/NOTES.md (2026-12-04/05); the
lead updates them after a full run. The first causes found (C1-C7 of the 2026-11-21
morning run: per-tick ATH work, whole rows re-sent, history parsed on the loop,
pandas/exchange_calendars in the process, per-message Decimal parsing, no frame
shedding) are fixed; see the git log.
"""

from __future__ import annotations

CAUSES: dict[str, str] = {
    "D1": (
        "**A fixed cost per frame.** Each frame costs the same few milliseconds whatever "
        "the rate: Textual's compositor re-rendering the changed widgets' lines, the app's "
        "paint (formatting the BTC rows, the Cell diffs, the store's refresh of the slices), "
        "Textual's message pump and the hand-off of each frame to its writer thread "
        "(thread CPU of 2026-11-21: ≈ 6-7 ms a frame at 100 msg/s, ≈ 2.1 ms of it the "
        "compositor). Measured since: CPU 5.3 % at 100 msg/s and 10.0 % at 1,000 msg/s "
        "(2026-12-04, one run each); in B13 the hub-fed App spends 39 % of its samples in "
        "the compositor, painting the same 10 Hz as a direct one. *Plan:* paint the BTC "
        "price row from one pre-formatted line per frame instead of five cells; one widget "
        "per panel drawing its own rows (D4); refresh only the slices whose inputs changed."
    ),
    "D2": (
        "**What is left at idle.** The paint timer is armed by the store (`Store.on_change`) "
        "and pauses after an empty paint; hidden panels are not ticked; the Fed odds, "
        "quotes and T-bill slices rebuild only when what they show changes. Idle CPU with "
        "every source answering went 0.93 → 0.63 % of a core (2026-12-05, medians of 3, "
        "old/new alternated); with every polled source refused 1.05-1.07 % (two single runs). What "
        "remains (py-spy, `--gil`, 1 kHz): Textual's compositor rendering the few changed "
        "widgets (≈ 18 %), the 1 Hz tick of the visible panels (≈ 17 %, the T-bill panel's "
        "the largest), Textual's input thread waking (≈ 8 %), the polls (httpx, ≈ 8 %), "
        "message pumps and timers: no single part closes the gap alone. *Plan:* a tick "
        "that sleeps until the next displayed age or countdown changes, instead of every "
        "second."
    ),
    "D3": (
        "**Ages that count.** The BTC price's own age counts by the second (a streamed "
        "price, by design) and the quote rows carry the polled sources' finer ages; the "
        "status bar's LIVE ages and the divergence panel's are in whole minutes since "
        "2026-12-05. Idle bytes: 173-181 B/s with every source answering (302 before), "
        "33-36 B/s with every polled source refused, when the status bar shows terse "
        "words (no countdowns). A change costs ≈ 40-60 B (a cursor move, the colour, the "
        "digits). *Plan:* send the age digits without re-sending an unchanged colour (a "
        "writer that tracks the terminal's current style)."
    ),
    "D4": (
        "**The interpreter, Textual, the imports and one widget per field.** "
        "`python -m bench.memprobe` (2026-12-05) puts the ≈ 71 MB at: pymalloc arenas "
        "36.7 MB, the glibc heap 12.0 MB (large objects, SQLite, the HTTP client's CA "
        "store), shared libraries 14.5 MB, stacks ≈ 1.5 MB. Of the ≈ 41 MB of Python heap, "
        "28.9 MB is live from imports (15.8 MB of code objects for 692 modules): about "
        "47 MB before the first widget. Run time adds 12.1 MB, 10.1 MB of it the widget "
        "tree: 225 widgets, 151 of them one-line `Cell`s at ≈ 36 KB each with Textual's "
        "caches. The history is ≈ 0.5 MB. *Plan:* one widget per panel drawing its own "
        "rows (keeping the per-line partial repaint), ≈ 5 MB; an asyncio network backend "
        "for httpcore instead of anyio, ≈ 1.5 MB."
    ),
    "D5": (
        "**websockets' receive path.** Of ≈ 28 µs per message at 21k msg/s, ≈ 12-15 µs is "
        "the websockets library (frame parsing, its message queue, one asyncio wake-up per "
        "message), ≈ 5 µs decode + parse and ≈ 2 µs the store. *Plan:* drain every message "
        "already buffered per wake-up (one `recv` loop iteration per batch), and parse only "
        "the last ticker of a batch fully (the others only for sequence checks)."
    ),
    "D6": (
        "**Soak length and the market clock.** B7's default is a few minutes: a slope "
        "over minutes extrapolates start-up noise (the RSS grew < 1 MB over the window; "
        "the GC object count includes caches still filling). The long soak has been run "
        "(65 min at 2,000 msg/s, 2026-12-04, twice concurrently: with and without "
        "tracemalloc; see 'B7 long soak'): after the `Strip.crop` fix (3ab01e0) RSS grew "
        "1.0 MB (0.41 MB/h) without tracemalloc, staleness p99 137 ms, reconnect 0.12 s, "
        "fds back to baseline, and no growth site in lockstep's code (every lru_cache at "
        "or under its cap). The GC objects (+9.45 %) and tasks (+48) at the end are the "
        "16:00 ET close mounting the quotes panel's 4 futures rows (48 widgets, each with "
        "its message-pump task), once per symbol: a bounded step (−1.3 % at 30 min, "
        "before the close). *Plan:* run the soak under an injected wall clock held inside "
        "one market session (or compare the reports either side of a session change) so "
        "that a step is not read as growth."
    ),
    "D7": (
        "**Bursts on a very slow link.** The steady demand at 1,000 msg/s (≈ 3 KB/s) is "
        "under 4 KB/s, but a poll that changes every quote row and the ATH rows at once "
        "writes several KB in one frame; on a 4 KB/s link that takes seconds to drain, and "
        "frames shed meanwhile (the run shows p50 80 ms but a tail of seconds; an isolated "
        "re-run gave p99 0.63 s, so it depends on when the polls land). *Plan:* cap the "
        "bytes written per frame while Textual's writer queue is backed up and carry the "
        "rest to the next frames, BTC rows first; time each frame's write to lower the "
        "paint rate before the pty buffer fills."
    ),
    "D8": (
        "**Imports and a 225-widget first layout before the first frame.** Timestamps "
        "taken inside the app under the bench's pty (2026-12-05, an instrumented throwaway "
        "copy, 3 runs; the run with first paint 0.61 s): interpreter start to `main()` "
        "0.06 s; importing `tui.config` 0.13 s (it reaches httpx through the quote "
        "sources' settings); importing `tui.app` 0.13 s (Textual); building the runtime "
        "0.05 s; the App's start to `compose` 0.035 s, to `on_mount` 0.035 s, `on_mount` "
        "0.04 s; the first layout and render of ~225 widgets 0.11 s. The peer (one small "
        "Textual screen) paints in 0.33-0.35 s; lockstep in 0.44-0.48 s in the same "
        "alternated runs. *Plan:* draw the first frame before the network stack is "
        "imported (build the runtime after the first refresh: httpx, httpcore, anyio and "
        "websockets are ~0.13 s), and one widget per quote row instead of a Cell per "
        "field (fewer widgets to lay out and to keep in memory, D4)."
    ),
}

NOTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "B4:": ("Render period plus the per-frame cost (D1).", ("D1",)),
    "B5:CPU, P0": ("What is left of the wake-ups and ticks at idle (D2).", ("D2",)),
    "B5:CPU": ("The per-frame cost dominates below ~1,000 msg/s (D1).", ("D1",)),
    "B5:RSS": ("Imports (~47 MB before the first widget) and ~150 one-line widgets (D4).", ("D4",)),
    "B6:bytes/s, P0": ("Counting ages (D3).", ("D3",)),
    "B6:": ("A cursor move and colour per changed run of cells (D3).", ("D3",)),
    "B2:app CPU": ("websockets' per-message receive cost (D5).", ("D5",)),
    "B2:": ("See the CPU per message (D5).", ("D5",)),
    "B3:": ("See B2 (D5).", ("D5",)),
    "B7:RSS after": ("See B5 RSS (D4).", ("D4",)),
    "B7:RSS slope": ("A slope over minutes extrapolates noise (D6).", ("D6",)),
    "B7:objects": (
        "Caches still filling after a short warm-up; in the long soak, the 16:00 ET close "
        "mounting the futures rows (D6).",
        ("D6",),
    ),
    "B7:asyncio tasks": (
        "A reconnect in flight, or rows mounted at a session edge (the long soak's +48: the "
        "futures rows' message pumps at the 16:00 ET close) (D6).",
        ("D6",),
    ),
    "B7:per-message": ("See B4.", ("D1",)),
    "B7:long soak: RSS after": ("See B5 RSS (D4).", ("D4",)),
    "B7:long soak: objects": (
        "The 16:00 ET close mounted the futures rows mid-soak: a bounded step, not growth (D6).",
        ("D6",),
    ),
    "B7:long soak: asyncio tasks": (
        "The futures rows' 48 message pumps, mounted at the 16:00 ET close (D6).",
        ("D6",),
    ),
    "B7:long soak": ("See the long soak's details (D6).", ("D6",)),
    "B7:": ("See the soak's details (D6).", ("D6",)),
    "B8:imports": ("Imports before the first frame (D8).", ("D8",)),
    "B8:": ("Imports before the first frame, on a loaded box (D8).", ("D8",)),
    "B9:": ("The per-frame cost (D1).", ("D1",)),
    "B10:": ("Multi-KB bursts when polls land on a 4 KB/s link (D7).", ("D7",)),
    "B11:CPU": ("What polled data triggers: parsing and the quote rows' repaints.", ("D1",)),
    "B11:loop lag": ("See B9.", ("D1",)),
    "B12:": ("Not analysed yet.", ()),
    "B13:subscribing terminal's CPU": (
        "The hub-fed App paints the same 10 Hz as a direct one (39 % of its samples in "
        "Textual's compositor); the ingest it saves is ≈ 1.5 % of a core (D1).",
        ("D1",),
    ),
    "PEER:CPU at 0 msg/s": ("What is left at idle (D2).", ("D2",)),
    "PEER:CPU ratio": ("The per-frame cost (D1).", ("D1",)),
    "PEER:terminal bytes": ("A cursor move and colour per changed run of cells (D3).", ("D3",)),
    "PEER:first paint": ("Imports before the first frame (D8).", ("D8",)),
}
