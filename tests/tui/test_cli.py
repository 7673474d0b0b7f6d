"""The ``lockstep`` entry point: what importing it costs and leaves behind (bench B8)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("full", [True, False], ids=["full parser", "lean parser"])
@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["--config", "desk.toml", "--demo", "--hub", "redis://h", "hub"], "hub"),
        (["hub", "--config", "desk.toml", "--demo", "--hub", "redis://h"], "hub"),
        (
            ["--config", "desk.toml", "--demo", "--hub", "redis://h", "snapshot", "--json"],
            "snapshot",
        ),
        (
            ["snapshot", "--json", "--config", "desk.toml", "--demo", "--hub", "redis://h"],
            "snapshot",
        ),
        (["--config", "desk.toml", "--demo", "--hub", "redis://h"], None),
    ],
)
def test_common_options_count_before_and_after_the_command(
    full: bool, argv: list[str], command: str | None
) -> None:
    # `lockstep --config X hub` used to run the hub on the default config: the command's
    # own copy of --config overwrote the one given before it with None.
    from tui.cli import build_parser

    args = build_parser(full).parse_args(argv)
    assert (args.command, args.config, args.demo, args.hub) == (
        command,
        "desk.toml",
        True,
        "redis://h",
    )


@pytest.mark.parametrize("argv", [["hub"], ["snapshot"], []])
def test_common_options_default_when_not_given(argv: list[str]) -> None:
    from tui.cli import build_parser

    args = build_parser().parse_args(argv)
    assert (args.config, args.demo, args.hub) == (None, False, None)


def test_watch_and_serve_take_config_before_their_name() -> None:
    from tui.cli import build_parser

    for name in ("watch", "serve"):
        args = build_parser().parse_args(["--config", "desk.toml", name])
        assert (args.command, args.config) == (name, "desk.toml")
