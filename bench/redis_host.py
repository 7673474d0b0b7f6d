"""A real ``redis-server`` for a benchmark run: a free 127.0.0.1 port, a temporary
directory, no persistence, stopped afterwards. :func:`launch` also starts the tests'
servers (tests/feeds/hub/redis_server.py)."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INSTALL = "apt-get update && apt-get install -y redis-server"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class RedisHost:
    """A running server and a synchronous client for the harness's own looks at it."""

    port: int
    proc: subprocess.Popen[bytes]
    directory: tempfile.TemporaryDirectory[str]
    _client: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The ``redis://`` URL (loopback, database 0, no password)."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def client(self) -> Any:
        """A redis-py synchronous client (the harness samples INFO with it)."""
        if self._client is None:
            import redis

            self._client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5.0)
        return self._client

    def memory(self) -> tuple[float, float]:
        """``(used_memory, used_memory_dataset)`` in MB from ``INFO memory``: everything
        Redis allocated, and the part holding keys and values (without client buffers
        and Redis's own overhead)."""
        info = self.client.info("memory")
        return (
            float(info.get("used_memory", 0)) / 1e6,
            float(info.get("used_memory_dataset", 0)) / 1e6,
        )

    def stop(self) -> None:
        """Stop the server (its data goes with it) and remove its directory."""
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001 - best effort at the end of a run
                pass
        stop_process(self.proc)
        self.directory.cleanup()

    def __enter__(self) -> RedisHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def binary() -> str:
    """The ``redis-server`` path; RuntimeError (with the install command) without one."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found is None:
        raise RuntimeError(f"redis-server is not installed; run: {INSTALL}")
    return found


def launch(
    directory: Path,
    port: int,
    *,
    listen: Sequence[str] | None = None,
    extra: Sequence[str] = (),
    context: ssl.SSLContext | None = None,
    timeout: float = 10.0,
) -> subprocess.Popen[bytes]:
    """Start ``redis-server`` on 127.0.0.1 (nothing saved, its files in ``directory``) and
    wait until it answers PING on ``port`` (through ``context`` for a TLS server).
    ``listen`` replaces ``--port PORT`` (a TLS port); ``extra`` adds options. Raises
    RuntimeError when it is missing, exits or does not answer (the process stopped).
    The one launcher for the bench and the tests."""
    args = [binary(), *(listen if listen is not None else ["--port", str(port)])]
    args += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--dir", str(directory), *extra]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as raw:
                s = (
                    raw
                    if context is None
                    else context.wrap_socket(raw, server_hostname="127.0.0.1")
                )
                s.sendall(b"PING\r\n")
                if s.recv(64):
                    return proc
        except OSError:
            time.sleep(0.05)
    stop_process(proc)
    raise RuntimeError("redis-server did not start")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a server (kill it if it does not stop within 10 s)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def start_redis(timeout: float = 10.0) -> RedisHost:
    """Start ``redis-server`` on 127.0.0.1 and wait until it answers PING. Raises
    RuntimeError (with the install command) when it is not installed."""
    directory = tempfile.TemporaryDirectory(prefix="lsbench-redis-")
    port = free_port()
    try:
        proc = launch(Path(directory.name), port, timeout=timeout)
    except BaseException:
        directory.cleanup()
        raise
    return RedisHost(port, proc, directory)
