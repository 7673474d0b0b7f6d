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
        "**A fixed cost per frame.** Each frame costs the same few milliseconds whatever the "
        "rate: Textual's screen update (the compositor and the styles cache of the changed "
        "widgets), the app's paint (the BTC, divergence and ATH views and their cells), "
        "websocket receive and parse, and Textual's message pump. This stop cut the "
        "compositor's own walk (a row index per map: 370 → 110 µs a frame) and a one-line "
        "cell's render (143 → 37 µs), and a flash timer task per frame. In the full run of "
        "2026-12-05 (third sitting): 4.5 % at 100 msg/s (target 5: met; 4.1 % in the run "
        "before) and 6.6 % at 1,000 msg/s (6.9 % before) against a raw-ANSI floor of 2.6 % "
        "(2.54×, was 2.65×; the floor writes the same changes with no widget tree). A hub-fed "
        "App paints the same 10 Hz (B13, D9). *Plan:* the styles cache's per-widget work is now"
        " the largest part of a frame (~65 µs a cell: background colours, theme, line styles); "
        "one widget per panel drawing its own rows (D4) would pay it once a panel; an ATH view "
        "that rebuilds only the BTC row when only BTC moved."
    ),
    "D2": (
        "**What is left at idle.** One wake-up a second (the store's time-driven state, "
        "the ticks, the hang-up check, the config file) and panels that draw only when a "
        "word reads differently: idle CPU 0.61 → 0.54 % of a core in alternated 45-s "
        "windows (2026-12-05), below the peer's 0.85 %. What remains: Textual's frames "
        "(about one every 3 s, ~3.5 ms each), Textual's input thread (it wakes ten times a "
        "second to time out a lone Escape: ~14 % of idle samples), the polls and the "
        "websocket heartbeats, the one wake-up a second, and two feed watchdogs "
        "(`CboeQuotesFeed._watch` every 0.5 s, `WebSocketFeed._watchdog` every second). A "
        "driver whose input thread sleeps while no key is pressed read 0.42 % but was "
        "reverted: with it the B12 resize storm left the screen one row off in 1 of 4-5 "
        "runs (0 of 12 without). *Plan:* find that interaction and bring the quiet input "
        "thread back; the watchdogs sleep until their next deadline. The full run of the "
        "third sitting read 0.70 % (0.6-0.7, n = 3) and the peer 1.30 % at idle (0.85 % "
        "before): the box was slower that hour; P0 alternated right after between the "
        "stop-15 tree and this one read 1.4-2.8 % for both (medians 2.07 vs 1.47 %), so no "
        "change of this stop added idle work that the box can show."
    ),
    "D3": (
        "**The BTC age's first ten seconds.** In the full run of 2026-12-05 the BTC "
        "price's age still counted by the second for its first ten seconds after the last "
        "tick; B6's P0 window is 10 s long and starts 3 s after the stream stops, so the "
        "BTC line changed every second for 7 of its 10 s: 228 B/s, against 164-169 B/s over "
        "45-s windows of the same idle (21-33 B/s with every polled source failing). A "
        "change costs ≈ 40-60 B (a cursor move, the colour, the digits). Since that run the "
        "BTC age is in 5-s steps like every other age: the same 10-s window reads 199 B/s "
        "(two runs), 163 B/s over 45 s. *Plan:* a writer that sends changed digits without "
        "re-sending an unchanged colour, for margin under the 200 B/s target."
    ),
    "D4": (
        "**The interpreter, Textual, the imports and one widget per field.** "
        "`python -m bench.memprobe` (2026-12-05) puts the ≈ 70 MB at: pymalloc arenas "
        "36.7 MB (≈ 29 MB live from imports: 691 modules, 15.9 MB of code objects; textual "
        "3.8, feeds 1.3, rich 0.8, asyncio 0.8, anyio 0.66, httpx 0.52 MB), the glibc heap "
        "≈ 12 MB (SQLite, the two CA stores), shared libraries 14.6 MB, and 225 widgets "
        "≈ 9.5 MB (a one-line Cell ≈ 31 KB: Textual's ~100 attributes, a message-pump task "
        "with its queue, styles, and 7 small caches per painted line). The history is "
        "≈ 0.5 MB. httpcore has no asyncio backend (anyio stays). *Plan:* one widget per "
        "quote row (the quotes panel holds about half of the widgets, ≈ 2.5-4 MB), then the "
        "ATH and Fed odds panels; below ≈ 62 MB needs a smaller import base than Textual's."
    ),
    "D5": (
        "**websockets' receive path.** Of ≈ 28 µs per message at 21k msg/s, ≈ 12-15 µs is "
        "the websockets library (frame parsing, its message queue, one asyncio wake-up per "
        "message), ≈ 5 µs decode + parse and ≈ 2 µs the store. *Plan:* drain every message "
        "already buffered per wake-up (one `recv` loop iteration per batch), and parse only "
        "the last ticker of a batch fully (the others only for sequence checks)."
    ),
    "D6": (
        "**Soak length, and Textual's bounded caches filling.** B7's default is a few "
        "minutes: a slope over minutes extrapolates start-up noise. The long soak (65 min "
        "at 2,000 msg/s without tracemalloc, 2026-12-05 on b8f0671, wholly inside one "
        "market state, so no session edge mounted rows; see 'B7 long soak'): RSS +1.25 MB "
        "(0.50 MB/h), staleness p99 104 ms, reconnect 0.26 s, asyncio tasks (253) and fds "
        "(15) at baseline at every report. The GC objects grew 6.1 % (133,267 → 141,406), "
        "all in types that Textual's bounded caches hold: Region +3,678 and tuple +2,724 "
        "(the geometry lru_caches, full at their caps at the end: `Region.intersection` "
        "and `Region.union` 4,096 each, `Region.overlaps` 1,024, `cached_cell_len` 4,096), "
        "FIFOCache +651 = 7 per painted `Strip` × Strip +93 (line caches, bounded by the "
        "widgets' sizes), Fraction +159; no lockstep type grew. The soak of 2026-12-04 read "
        "+9.45 % for another reason: the 16:00 ET close mounted 4 futures rows (48 "
        "widgets). *Plan:* count the objects that Textual's caches hold apart from the "
        "rest (or start the window once those caches are full), and add the GC count of "
        "the 30-minute report to the table, so that caches filling are not read as growth."
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
    "D9": (
        "**A hub terminal's CPU has a floor that the relay cannot move.** Measured 2026-12-05 "
        "(`python -m bench.hub_floor`: alternated phases, a hub App and a direct App side by "
        "side, 2 rounds of 15 s, bench/NOTES.md): with every frame changing the BTC price, a "
        "terminal's own fixed cost (the 1 Hz housekeeping and a 10 Hz paint) is F = 4.8-4.9 % "
        "of a core in both Apps (markets at 20 msg/s); the direct App's ingest of 1,000 msg/s "
        "adds d = 2.2 %, the hub App's relayed 40 events/s h = 1.0 % (part of it the paint of "
        "larger changes). The ratio is (F + h) / (F + d); ≤ 0.5 needs F ≤ d - 2h = 0.2 %, and "
        "even with a free relay F ≤ d = 2.2 %: the whole dashboard's paint of a moving price at"
        " 10 Hz below what performance.md §2.3 measures for a minimal Textual app painting one "
        "line (≈ 1.7-2 % over its receive cost), with the idle wake-ups (0.5 %) on top. The "
        "relay removes all it can (1,009 events/s → 40); the per-frame work this stop cut "
        "(compositor 370 → 110 µs, a cell's render 143 → 37 µs) lowered both Apps alike (hub "
        "6.9 → 5.8 %, direct 8.4 → 7.2 %). *Plan:* none that reaches 0.5× at 10 Hz; the issue "
        "is marked blocked with these figures."
    ),
}

NOTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "B4:": ("Render period plus the per-frame cost (D1).", ("D1",)),
    "B5:CPU, P0": ("What is left of the wake-ups and ticks at idle (D2).", ("D2",)),
    "B5:CPU": ("The per-frame cost dominates below ~1,000 msg/s (D1).", ("D1",)),
    "B5:RSS": ("Imports (~47 MB before the first widget) and ~150 one-line widgets (D4).", ("D4",)),
    "B6:bytes/s, P0": (
        "The BTC age by the second in a 10-s window after the stream stops (D3).",
        ("D3",),
    ),
    "B6:": ("A cursor move and colour per changed run of cells (D3).", ("D3",)),
    "B2:app CPU": ("websockets' per-message receive cost (D5).", ("D5",)),
    "B2:": ("See the CPU per message (D5).", ("D5",)),
    "B3:": ("See B2 (D5).", ("D5",)),
    "B7:RSS after": ("See B5 RSS (D4).", ("D4",)),
    "B7:RSS slope": ("A slope over minutes extrapolates noise (D6).", ("D6",)),
    "B7:objects": (
        "Textual's bounded caches still filling after the warm-up (the geometry "
        "lru_caches, the line caches), not growth (D6).",
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
        "Textual's bounded caches filling after the warm-up (the geometry lru_caches full "
        "at their caps, the line caches), no lockstep type growing: not growth (D6).",
        ("D6",),
    ),
    "B7:long soak: asyncio tasks": (
        "A task that outlived its work, or widgets mounted at a session edge (D6).",
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
        "The hub-fed App paints the same 10 Hz as a direct one; the ingest the relay "
        "saves (≈ 2.2 % of a core at 1,000 msg/s) is less than half a terminal's fixed "
        "cost (≈ 4.8 %), so no relay can reach 0.5× (D9).",
        ("D9",),
    ),
    "PEER:CPU at 0 msg/s": ("What is left at idle (D2).", ("D2",)),
    "PEER:CPU ratio": ("The per-frame cost (D1).", ("D1",)),
    "PEER:terminal bytes": ("A cursor move and colour per changed run of cells (D3).", ("D3",)),
    "PEER:first paint": ("Imports and the first layout before the first frame (D8).", ("D8",)),
}
