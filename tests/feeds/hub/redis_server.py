"""A real ``redis-server`` for the hub's tests: a free 127.0.0.1 port, a temporary
directory, nothing saved, stopped afterwards. Never a mock broker."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL = "apt-get update && apt-get install -y redis-server"


@dataclass
class RedisServer:
    """A running server: its port, URL and process."""

    port: int
    proc: subprocess.Popen[bytes]
    directory: Path
    password: str | None = None

    @property
    def url(self) -> str:
        """``redis://`` URL (with the default user's password when one is set)."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Stop the server (its data goes with it)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def binary() -> str:
    """The ``redis-server`` path. Missing, the test fails with the command to install it
    (never skips: the README's test command installs it where it can)."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found is None:
        pytest.fail(f"redis-server is not installed; run: {INSTALL}")
    return found


def start(directory: Path, *, password: str | None = None, port: int | None = None) -> RedisServer:
    """Start ``redis-server`` on 127.0.0.1 and wait until it answers PING."""
    port = port or free_port()
    directory.mkdir(parents=True, exist_ok=True)
    args = [
        binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
    ]
    if password:
        args += ["--requirepass", password]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisServer(port, proc, directory, password)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"redis-server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64):
                    return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    pytest.fail("redis-server did not start")


@contextmanager
def running(directory: Path, *, password: str | None = None) -> Iterator[RedisServer]:
    """A server for the duration of the block."""
    server = start(directory, password=password)
    try:
        yield server
    finally:
        server.stop()
