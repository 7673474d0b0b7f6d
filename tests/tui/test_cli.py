"""The ``lockstep`` entry point: what importing it costs and leaves behind (bench B8)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]

_PROBE = r"""
import json, sys
import tui.cli, tui.app
import httpx
print(json.dumps({
    "client": hasattr(httpx, "AsyncClient") and hasattr(httpx, "create_ssl_context"),
    "loaded": sorted(m for m in ("click", "pygments.lexers", "rich.syntax") if m in sys.modules),
}))
"""


def test_importing_the_app_skips_the_httpx_command_line_client() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    # httpx itself is whole; its optional CLI (click, pygments, rich.syntax) never loads.
    assert found["client"] is True
    assert found["loaded"] == []
