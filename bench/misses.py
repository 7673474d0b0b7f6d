"""Cause and plan for misses, written after analysing a run.

``NOTES`` maps a prefix of ``"<bench>:<figure name>"`` to a short explanation and the
root causes (``CAUSES``) behind it. RESULTS.md shows a note only while its figure
misses, and lists each root cause once, so a fixed miss drops out on its own. Update
the text when a re-run shows a different cause.

Evidence (2-core box, full default dashboard, warm data directory): py-spy of the app
under the pty at 0, 100 and 1,000 msg/s; per-function thread CPU (``time.thread_time``
around Textual's compositor refresh, the app's paint and tick); pyte row statistics
(the 'rows re-sent' notes in B5); RSS by import. The first causes found (C1-C7 of the
2026-11-21 morning run: per-tick ATH work, whole rows re-sent, history parsed on the
loop, pandas/exchange_calendars in the process, per-message Decimal parsing, no frame
shedding) are fixed; see the git log.
"""

from __future__ import annotations

CAUSES: dict[str, str] = {
    "D1": (
        "**A fixed cost per frame.** At 100 msg/s the app paints 10 frames a second and "
        "spends ≈ 6-7 ms per frame (thread CPU): ≈ 2.1 ms in Textual's compositor refresh "
        "(the changed cells' widgets re-render their line from the styles cache, the "
        "containers behind them are skipped), ≈ 1.3 ms in the app's paint (formatting the BTC "
        "rows, the Cell diffs, the store's refresh of every slice), and the rest in Textual's "
        "message pump (each `refresh()` posts an update through the screen) and the hand-off "
        "of each frame to Textual's writer thread. *Plan:* paint the BTC price row from one "
        "pre-formatted line per frame instead of five cells; refresh only the slices whose "
        "inputs changed (the store polls all of them every frame); write frames from the "
        "event loop when the terminal is not blocking (no thread hand-off per frame)."
    ),
    "D2": (
        "**Timers at idle.** With no BTC messages the app still wakes 10 times a second "
        "(the paint timer drains an empty store), runs every panel's 1 Hz tick (ages, "
        "countdowns) including panels below the fold, and handles heartbeats and polls. "
        "*Plan:* arm the paint timer from the store when a topic becomes dirty instead of "
        "polling; tick only visible panels; stop the ticks of panels whose ages have reached "
        "minute steps until the next minute."
    ),
    "D3": (
        "**Ages that count.** The BTC price's own age counts by the second (a streamed "
        "price; by design), and each polled source's age moves every 5 s in the status bar "
        "and its quote row: at idle that is most of the bytes, ≈ 40-60 B per change (a "
        "cursor move, the colour, the digits). *Plan:* send the age digits without "
        "re-sending the colour when it is unchanged (a writer that tracks the terminal's "
        "current style); show 'LIVE' instead of '<5s' for streamed sources."
    ),
    "D4": (
        "**The interpreter, Textual and the dashboard's widgets.** `import tui.app` alone is "
        "≈ 45 MB (Python ≈ 8, Textual + Rich ≈ 23, httpx, websockets, sqlite3 ≈ 9); the "
        "running dashboard (≈ 150 widgets with their style caches), the history kept for the "
        "divergence and ATH panels (≈ 100k daily bars as Python objects) and SQLite's page "
        "cache make up the rest. pandas and exchange_calendars (≈ 55 MB) are no longer "
        "loaded. *Plan:* tracemalloc the warm app and take the top sites; keep the daily "
        "bars as `array('d')` columns instead of dicts of tuples; cap SQLite's cache; mount "
        "the panels below the fold only when first scrolled to or zoomed."
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
}

NOTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "B4:": ("Render period plus the per-frame cost (D1).", ("D1",)),
    "B5:CPU, P0": ("Wake-ups and ticks with nothing to show (D2).", ("D2",)),
    "B5:CPU": ("The per-frame cost dominates below ~1,000 msg/s (D1).", ("D1",)),
    "B5:RSS": ("The interpreter, Textual and the dashboard's own state (D4).", ("D4",)),
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
    "B7:per-message": ("See B4.", ("D1",)),
    "B8:": ("Start-up on a loaded box; see the cold-start rows.", ()),
    "B9:": ("The per-frame cost (D1).", ("D1",)),
    "B10:": ("Multi-KB bursts when polls land on a 4 KB/s link (D7).", ("D7",)),
    "B11:CPU": ("What polled data triggers: parsing and the quote rows' repaints.", ("D1",)),
    "B11:loop lag": ("See B9.", ("D1",)),
    "B12:": ("Not analysed yet.", ()),
}
