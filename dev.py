#!/usr/bin/env python3
"""The one way to set up, run, test and benchmark lockstep.

Needs only ``python3`` (3.11+). Each command creates or refreshes ``.venv`` first:
the environment is rebuilt whenever ``pyproject.toml`` changes.

    python3 dev.py run        # the live monitor (extra arguments go to ``lockstep``)
    python3 dev.py demo       # the monitor against the simulated market on 127.0.0.1
    python3 dev.py test       # lint, types, import contracts and the whole test suite
    python3 dev.py bench      # the benchmark suite; ``bench --quick`` for a smoke run
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".lockstep-stamp"


LOCK = ROOT / "requirements.lock"
SETUP_LOCK = ROOT / ".venv.lock"
"""Held while ``.venv`` is created or installed into (outside ``.venv``, which may not
exist yet): two ``dev.py`` commands started at once on a new clone must not both
install, or one runs ``lockstep`` while the other is halfway through reinstalling it."""


def _want_stamp(extras: str) -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    if LOCK.exists():
        digest.update(LOCK.read_bytes())
    return f"{digest.hexdigest()}:{extras}"


@contextmanager
def _setup_lock(path: Path = SETUP_LOCK) -> Iterator[None]:
    """One ``dev.py`` at a time sets up the environment; the others wait, then find it
    ready. Where ``fcntl`` is missing (Windows) there is no lock."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_venv(extras: str = "dev") -> None:
    """Create ``.venv`` if missing and install the project when pyproject.toml changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit(f"lockstep needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    with _setup_lock():
        _ensure_venv(extras)


def _ensure_venv(extras: str) -> None:
    if not PY.exists():
        print(f"dev.py: creating {VENV}", flush=True)
        try:
            venv.EnvBuilder(with_pip=True, upgrade_deps=False).create(VENV)
        except Exception as exc:  # ensurepip missing on some distributions
            sys.exit(
                f"dev.py: could not create a virtual environment ({exc}).\n"
                "On Debian/Ubuntu install the venv module: apt-get install python3-venv"
            )
    want = _want_stamp(extras)
    if STAMP.exists() and STAMP.read_text() == want:
        return
    print(f"dev.py: installing lockstep-monitor[{extras}] into {VENV}", flush=True)
    subprocess.run(
        [str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=False, cwd=ROOT
    )
    pip = [str(PY), "-m", "pip", "install", "--quiet"]
    if LOCK.exists():
        # The monitor's runtime dependencies come only from the hash-locked list
        # (reliability.md X10); the project itself is then installed without resolving
        # anything, and the dev/bench extras (tools, not the monitor) on top, unlocked.
        subprocess.run([*pip, "--require-hashes", "-r", str(LOCK)], check=True, cwd=ROOT)
        subprocess.run([*pip, "--no-deps", "-e", "."], check=True, cwd=ROOT)
        if extras:
            subprocess.run([*pip, "-e", f".[{extras}]"], check=True, cwd=ROOT)
    else:
        subprocess.run([*pip, "-e", f".[{extras}]"], check=True, cwd=ROOT)
    STAMP.write_text(want)


def _run(args: list[str], env: dict[str, str] | None = None) -> int:
    merged = dict(os.environ)
    if env:
        merged.update(env)
    return subprocess.run(args, cwd=ROOT, env=merged).returncode


def cmd_run(extra: list[str]) -> int:
    ensure_venv()
    return _run([str(BIN / "lockstep"), *extra])


def cmd_demo(extra: list[str]) -> int:
    ensure_venv()
    return _run([str(BIN / "lockstep"), "--demo", *extra])


def cmd_lint(_: list[str]) -> int:
    ensure_venv()
    steps = [
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "mypy")],
        [str(BIN / "lint-imports")],
    ]
    for step in steps:
        print("dev.py:", " ".join(Path(step[0]).name if i == 0 else a for i, a in enumerate(step)))
        rc = _run(step)
        if rc:
            return rc
    return 0


REDIS_INSTALL = "apt-get update && apt-get install -y redis-server"
"""What the hub's tests need beyond Python: a real ``redis-server`` (Debian's package)."""
CHROMIUM_INSTALL = "apt-get update && apt-get install -y chromium"
"""What the browser tests (tests/web) need: a real headless Chromium (Debian's package)."""
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _ensure_package(names: tuple[str, ...], package: str, why: str, elsewhere: str) -> int:
    """Make sure one of ``names`` is on PATH: install Debian's ``package`` with apt-get
    when running as root on a machine that has apt-get, else say exactly what to run."""
    if any(shutil.which(name) for name in names):
        return 0
    install = f"apt-get update && apt-get install -y {package}"
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if is_root and shutil.which("apt-get"):
        print(f"dev.py: {names[0]} not found; installing it: {install}", flush=True)
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        rc = _run(["apt-get", "update"], env=env) or _run(
            ["apt-get", "install", "-y", package], env=env
        )
        if rc == 0 and any(shutil.which(name) for name in names):
            return 0
    print(
        f"dev.py: the tests need {names[0]} ({why}). Install it, then run the tests "
        f"again:\n    sudo sh -c '{install}'\n({elsewhere})",
        file=sys.stderr,
    )
    return 1


def ensure_redis_server() -> int:
    """Make sure ``redis-server`` is on PATH for the hub's tests (installed, or the
    command to run printed)."""
    return _ensure_package(
        ("redis-server",),
        "redis-server",
        "the desk hub's tests run a real one on 127.0.0.1",
        "or your system's redis-server package, e.g. `brew install redis`",
    )


def ensure_chromium() -> int:
    """Make sure a Chromium is on PATH for ``lockstep serve``'s browser tests (installed,
    or the command to run printed)."""
    return _ensure_package(
        CHROMIUM_NAMES,
        "chromium",
        "the browser tests drive a headless one on 127.0.0.1",
        "or your system's chromium package",
    )


def cmd_test(extra: list[str]) -> int:
    rc = cmd_lint([])
    if rc:
        return rc
    rc = ensure_redis_server() or ensure_chromium()
    if rc:
        return rc
    # asyncio debug surfaces slow callbacks and never-awaited coroutines in the feeds.
    env = {"PYTHONASYNCIODEBUG": "1", "TEXTUAL_ANIMATIONS": "none", "NO_COLOR": ""}
    env_clean = {k: v for k, v in env.items() if v}
    os.environ.pop("NO_COLOR", None)
    return _run([str(PY), "-m", "pytest", "-n", "2", "-q", *extra], env=env_clean)


def cmd_bench(extra: list[str]) -> int:
    ensure_venv("dev,bench")
    return _run([str(PY), "-m", "bench", *extra])


def cmd_snapshot_update(extra: list[str]) -> int:
    ensure_venv()
    return _run(
        [str(PY), "-m", "pytest", "-q", "tests", "-k", "snapshot", "--snapshot-update", *extra],
        env={"TEXTUAL_ANIMATIONS": "none"},
    )


COMMANDS = {
    "run": cmd_run,
    "demo": cmd_demo,
    "test": cmd_test,
    "lint": cmd_lint,
    "bench": cmd_bench,
    "snapshot-update": cmd_snapshot_update,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        print("commands:", ", ".join(COMMANDS))
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
