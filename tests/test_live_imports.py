"""The running app never loads pandas or exchange_calendars.

Together they cost about 55 MB of RSS and 0.8 s before the first paint (bench C4), and
the memory target is 60 MB. They stay in the test suite as oracles only. Lazy imports
hide them from a plain ``import tui.app``, so the check runs the demo the way
``lockstep --demo`` does (simulated market, runtime, app), in a fresh interpreter, until
the quote panel has painted and the divergence analysis has run on the backfilled
history, then looks at ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
FORBIDDEN = ("pandas", "exchange_calendars")

# Runs in a child interpreter (cwd = the repository). argv[1] is "app" for the real check,
# "canary" to prove the probe notices a forbidden import.
_PROBE = r"""
import asyncio, importlib, json, pkgutil, sys, tempfile
from pathlib import Path

FORBIDDEN = ("pandas", "exchange_calendars")


def import_everything():
    # Every module the app could reach, except the simulated market's (the demo below
    # runs the parts of it that the CLI runs).
    for package in ("feeds", "tui", "widgets"):
        importlib.import_module(package)
        for info in pkgutil.walk_packages([package], prefix=package + "."):
            if not info.name.startswith("feeds.sim"):
                importlib.import_module(info.name)


async def run_demo(runtime, market):
    from feeds.history.divergence_state import DivergenceSlice
    from feeds.quotes.state import QuotesSlice
    from tui.app import LockstepApp

    app = LockstepApp(runtime, sim_toggle=market.toggle, watch_terminal=False)
    divergence = runtime.store.slice("divergence", DivergenceSlice)
    quotes = runtime.store.slice("quotes", QuotesSlice)
    loop = asyncio.get_running_loop()
    async with app.run_test(size=(160, 50)) as pilot:
        end = loop.time() + 60.0
        while loop.time() < end:
            await pilot.pause(0.1)
            analysed = divergence.view().history_days > 0 and not divergence.needs_analysis()
            if analysed and any(r.quote is not None for r in quotes.view().rows):
                break
        await app.action_quit()
    return divergence.view().history_days


def main(mode):
    if mode == "canary":
        import pandas  # noqa: F401
        return {"loaded": [m for m in FORBIDDEN if m in sys.modules]}
    import_everything()
    from tui.cli import _demo_market, _seed_demo_sparkline
    from tui.config import Settings
    from tui.runtime import build_runtime

    settings, clock, market = _demo_market(Settings())
    try:
        with tempfile.TemporaryDirectory() as data:
            runtime = build_runtime(settings, clock, demo=True, data=Path(data))
            _seed_demo_sparkline(runtime, clock)
            days = asyncio.run(run_demo(runtime, market))
    finally:
        market.stop()
    return {"loaded": [m for m in FORBIDDEN if m in sys.modules], "history_days": days}


print(json.dumps(main(sys.argv[1])))
"""


def probe(mode: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_probe_notices_a_forbidden_import() -> None:
    assert probe("canary")["loaded"] == ["pandas"]


def test_demo_app_never_loads_pandas_or_exchange_calendars() -> None:
    result = probe("app")
    # The analysis must have run, or the check proves nothing about its imports.
    assert isinstance(result["history_days"], int) and result["history_days"] > 0, result
    assert result["loaded"] == [], f"the running app loaded {result['loaded']}"
