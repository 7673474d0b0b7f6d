"""The monitor's command line does not import the modules of the commands it does not
run (``tui.serve``, ``tui.watch``, ``tui.fedwatch_cli``): they would stay in its resident
memory all day (issue 17). The lean parser must read every other command line exactly
as the full one does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import OWN_MODULES, build_parser, needs_full_parser

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
from tui.cli import build_parser, needs_full_parser
argv = json.loads(sys.argv[1])
args = build_parser(full=needs_full_parser(argv)).parse_args(argv)
mods = ("tui.serve", "tui.watch", "tui.fedwatch_cli")
print(json.dumps([args.command, [m for m in mods if m in sys.modules]]))
"""


def _loaded(argv: list[str]) -> tuple[str | None, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argv)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    command, mods = json.loads(out.stdout.strip().splitlines()[-1])
    return command, mods


@pytest.mark.parametrize(
    ("argv", "full"),
    [
        ([], False),
        (["--demo", "--fps", "5"], False),
        (["snapshot", "--json", "--timeout", "3"], False),
        (["hub", "--hub", "redis://127.0.0.1:6379/0"], False),
        (["config"], False),
        (["watch", "--demo"], True),
        (["serve", "--port", "9000"], True),
        (["fedwatch", "--help"], True),
        (["--help"], True),
        (["-h"], True),
        (["--config", "watch"], True),  # looks like a command: only costs the memory
    ],
)
def test_needs_full_parser(argv: list[str], full: bool) -> None:
    assert needs_full_parser(argv) is full


def test_the_monitor_does_not_import_the_other_commands_modules() -> None:
    assert _loaded(["--demo", "--low-bandwidth"]) == (None, [])
    assert _loaded(["snapshot", "--json"]) == ("snapshot", [])
    command, mods = _loaded(["watch", "--demo"])
    assert command == "watch" and "tui.watch" in mods


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--demo", "--fps", "5", "--low-bandwidth", "--read-only"],
        ["--config", "c.toml", "--hub", "redis://127.0.0.1:6379/0"],
        ["snapshot", "--json", "--timeout", "3", "--demo"],
        ["hub", "--config", "c.toml"],
        ["config"],
    ],
)
def test_the_lean_parser_reads_what_the_full_one_reads(argv: list[str]) -> None:
    assert not needs_full_parser(argv)
    assert vars(build_parser(full=False).parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_a_mistyped_command_lists_every_command_either_way(
    capsys: pytest.CaptureFixture[str],
) -> None:
    errors = []
    for full in (True, False):
        with pytest.raises(SystemExit):
            build_parser(full=full).parse_args(["wacth"])
        errors.append(capsys.readouterr().err.splitlines()[-1])
    assert errors[0] == errors[1]
    assert all(name in errors[0] for name in (*OWN_MODULES, "snapshot", "hub", "config"))
