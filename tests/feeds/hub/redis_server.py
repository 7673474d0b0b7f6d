"""A real ``redis-server`` for the hub's tests: a free 127.0.0.1 port, a temporary
directory, nothing saved, stopped afterwards. Never a mock broker."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.redis_host import free_port as free_port
from bench.redis_host import launch, stop_process


@dataclass
class RedisServer:
    """A running server: its port, URL and process."""

    port: int
    proc: subprocess.Popen[bytes]
    directory: Path
    password: str | None = None
    tls: bool = False

    @property
    def url(self) -> str:
        """``redis://`` URL, or ``rediss://`` for a TLS server (with the default user's
        password when one is set)."""
        auth = f":{self.password}@" if self.password else ""
        return f"{'rediss' if self.tls else 'redis'}://{auth}127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Stop the server (its data goes with it)."""
        stop_process(self.proc)


@dataclass(frozen=True)
class TlsFiles:
    """A throwaway CA and a server certificate it signed (for 127.0.0.1)."""

    ca: Path
    cert: Path
    key: Path


def start(
    directory: Path,
    *,
    password: str | None = None,
    port: int | None = None,
    tls: TlsFiles | None = None,
    replica_of: int | None = None,
) -> RedisServer:
    """Start ``redis-server`` on 127.0.0.1 and wait until it answers PING. With ``tls``,
    it speaks TLS only (``--port 0 --tls-port``) and does not ask for client
    certificates. With ``replica_of`` (a port), it is a read-only replica of the server
    on 127.0.0.1 there. Missing or broken, the test fails saying why (never skips: the
    README's test command installs it where it can)."""
    port = port or free_port()
    directory.mkdir(parents=True, exist_ok=True)
    listen = None
    context = None
    if tls is not None:
        listen = ["--port", "0", "--tls-port", str(port), "--tls-auth-clients", "no"]
        listen += ["--tls-cert-file", str(tls.cert), "--tls-key-file", str(tls.key)]
        listen += ["--tls-ca-cert-file", str(tls.ca)]
        context = ssl.create_default_context(cafile=str(tls.ca))
    extra = ["--requirepass", password] if password else []
    if replica_of is not None:
        extra += ["--replicaof", "127.0.0.1", str(replica_of)]
    try:
        proc = launch(directory, port, listen=listen, extra=extra, context=context)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    return RedisServer(port, proc, directory, password, tls is not None)


@contextmanager
def running(directory: Path, *, password: str | None = None) -> Iterator[RedisServer]:
    """A server for the duration of the block."""
    server = start(directory, password=password)
    try:
        yield server
    finally:
        server.stop()


def make_tls(directory: Path) -> TlsFiles:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it, made with the
    ``openssl`` command (skips the test, saying why, where there is none)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a throwaway CA for the TLS test")
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key, csr = directory / "server.pem", directory / "server.key", directory / "server.csr"
    ext = directory / "server.ext"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid,issuer\n"
        "subjectKeyIdentifier=hash\n"
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    steps = [
        [openssl, "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", "/CN=lockstep test CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        [openssl, "req", "-new", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        [openssl, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
         "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext],
    ]  # fmt: skip
    for step in steps:
        subprocess.run([str(a) for a in step], check=True, capture_output=True, timeout=30)
    return TlsFiles(ca, cert, key)
