"""dev.py: two commands started at once on a new clone set up ``.venv`` one at a time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import dev

pytest.importorskip("fcntl")

_TRY_LOCK = """
import fcntl, sys
with open(sys.argv[1], "a") as handle:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("busy")
    else:
        print("free")
"""


def _other_process_sees(path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _TRY_LOCK, str(path)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_a_second_dev_py_waits_while_the_first_sets_up(tmp_path: Path) -> None:
    path = tmp_path / ".venv.lock"
    with dev._setup_lock(path):
        assert _other_process_sees(path) == "busy"
    assert _other_process_sees(path) == "free"


def test_the_lock_is_let_go_when_the_setup_fails(tmp_path: Path) -> None:
    path = tmp_path / ".venv.lock"
    with pytest.raises(RuntimeError), dev._setup_lock(path):
        raise RuntimeError("pip failed")
    assert _other_process_sees(path) == "free"


def test_the_lock_file_lies_outside_the_venv_it_guards() -> None:
    # .venv may not exist yet when the lock is taken, and a rebuilt .venv must not
    # drop the lock of a command waiting on it.
    assert dev.VENV not in dev.SETUP_LOCK.parents
    assert dev.SETUP_LOCK.parent == dev.ROOT
