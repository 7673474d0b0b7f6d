"""A real ``redis-server`` for a benchmark run: a free 127.0.0.1 port, a temporary
directory, no persistence, stopped afterwards (the tests' helper, without pytest)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
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
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.directory.cleanup()

    def __enter__(self) -> RedisHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_redis(timeout: float = 10.0) -> RedisHost:
    """Start ``redis-server`` on 127.0.0.1 and wait until it answers PING. Raises
    RuntimeError (with the install command) when it is not installed."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found is None:
        raise RuntimeError(f"redis-server is not installed; run: {INSTALL}")
    directory = tempfile.TemporaryDirectory(prefix="lsbench-redis-")
    port = free_port()
    args = [found, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "no", "--dir", directory.name]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    host = RedisHost(port, proc, directory)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            directory.cleanup()
            raise RuntimeError(f"redis-server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64):
                    return host
        except OSError:
            time.sleep(0.05)
    host.stop()
    raise RuntimeError("redis-server did not start")
