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


def test_serve_arguments_and_defaults() -> None:
    import pytest

    from tui.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["serve"])
    assert (args.command, args.host, args.port) == ("serve", "127.0.0.1", 8000)
    assert (args.demo, args.hub, args.config, args.read_only) == (False, None, None, False)
    args = parser.parse_args(
        ["serve", "--host", "0.0.0.0", "--port", "9000", "--demo", "--config", "c.toml"]
        + ["--hub", "redis://127.0.0.1:6379/0"]
    )
    assert (args.host, args.port, args.demo, args.config) == ("0.0.0.0", 9000, True, "c.toml")
    assert args.hub == "redis://127.0.0.1:6379/0"
    assert parser.parse_args(["--read-only", "--demo"]).read_only is True
    for bad in (["serve", "--port", "70000"], ["serve", "--port", "web"], ["serve", "--nope"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)
    assert "serve" in parser.format_help()


def test_serve_refuses_a_port_in_use_with_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tui.cli", "serve", "--demo", "--port", str(port)],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
            | {"LOCKSTEP_DATA_DIR": str(tmp_path / "data")},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"lockstep serve: cannot listen on 127.0.0.1:{port}" in done.stderr
