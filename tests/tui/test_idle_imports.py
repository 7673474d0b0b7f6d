"""The running monitor does not import the modules of its rare paths until they are
taken: a module once imported stays in its resident memory all day (issue 17).

The check runs the demo the way ``lockstep --demo`` does (simulated market, runtime,
app) in a fresh interpreter, until the dashboard has painted, and reads
``sys.modules``; then it opens the help screen, to prove the probe sees an import made
on the way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

RARE = (
    "tui.help",  # the help screen: only when asked for
    "tui.serve",  # other commands
    "tui.watch",
    "tui.fedwatch_cli",
    "tui.hub",  # the desk hub: only with a hub configured
    "tui.snapshot",
    "feeds.hub.publish",
    "feeds.hub.subscribe",
)

# Runs in a child interpreter (cwd = the repository).
_PROBE = r"""
import asyncio, json, sys, tempfile
from pathlib import Path

RARE = json.loads(sys.argv[1])


async def run_demo(runtime):
    from feeds.quotes.state import QuotesSlice
    from tui.app import LockstepApp

    app = LockstepApp(runtime, watch_terminal=False)
    quotes = runtime.store.slice("quotes", QuotesSlice)
    loop = asyncio.get_running_loop()
    async with app.run_test(size=(160, 50)) as pilot:
        end = loop.time() + 60.0
        while loop.time() < end:
            await pilot.pause(0.1)
            if any(r.quote is not None for r in quotes.view().rows):
                break
        idle = [m for m in RARE if m in sys.modules]
        await pilot.press("question_mark")
        await pilot.pause()
        after_help = [m for m in RARE if m in sys.modules]
        await app.action_quit()
    return idle, after_help


def main():
    from tui.cli import _demo_market, _seed_demo_sparkline
    from tui.config import Settings
    from tui.runtime import build_runtime

    settings, clock, market = _demo_market(Settings())
    try:
        with tempfile.TemporaryDirectory() as data:
            runtime = build_runtime(settings, clock, demo=True, data=Path(data))
            _seed_demo_sparkline(runtime, clock)
            idle, after_help = asyncio.run(run_demo(runtime))
    finally:
        market.stop()
    return {"idle": idle, "after_help": after_help}


print(json.dumps(main()))
"""


def test_the_monitor_imports_rare_paths_only_when_taken() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(RARE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["idle"] == [], f"the idle monitor holds {result['idle']}"
    # The probe sees a lazy import when it happens (or the check above proves nothing).
    assert result["after_help"] == ["tui.help"]
