"""``rediss://`` for real: a redis-server speaking only TLS with a throwaway CA made in
the test. With ``[hub] ca_file`` naming that CA the hub publishes and a terminal reads;
without it the certificate does not verify (verification is never turned off) and the
error is one clear line naming the URL without its password. Loopback only."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from feeds.core.clock import SystemClock
from feeds.hub.publish import Publisher, stop_task
from feeds.hub.settings import HubSettings
from feeds.hub.subscribe import HubFeed
from feeds.model.btc import Tick
from feeds.model.core import FeedState, FeedStatus
from tests.feeds.hub.redis_server import RedisServer, TlsFiles, make_tls, start
from tests.feeds.hub.samples import tick
from tests.feeds.hub.test_relay import Reader, is_tick, status
from tests.ptyharness import ROOT
from tui.hub import probe_hub

pytestmark = pytest.mark.timeout(60)

PASSWORD = "tls-secret-31"


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return make_tls(tmp_path / "pki")


@pytest.fixture
def tls_server(tmp_path: Path, tls: TlsFiles) -> Iterator[RedisServer]:
    server = start(tmp_path / "redis", password=PASSWORD, tls=tls)
    try:
        yield server
    finally:
        server.stop()


async def test_hub_and_terminal_work_over_rediss_with_the_desks_ca(
    tls_server: RedisServer, tls: TlsFiles
) -> None:
    assert tls_server.url.startswith("rediss://")
    settings = HubSettings(heartbeat_s=0.2, ca_file=str(tls.ca))
    probe = await probe_hub(tls_server.url, settings)
    assert probe.problem is None
    pub = Publisher(settings, tls_server.url, SystemClock())
    task = asyncio.create_task(pub.run())
    reader = Reader(HubFeed(settings, tls_server.url, SystemClock()))
    try:
        pub.offer(tick("4242.5"))
        reader.start()
        await reader.until(status(FeedState.LIVE))
        got = await reader.until(is_tick("4242.5"))
        assert isinstance(got, Tick) and got.price == Decimal("4242.5")
        assert got.source == "coinbase"
    finally:
        await reader.stop()
        pub.close_soon()
        await stop_task(task)


async def test_without_the_ca_the_certificate_does_not_verify_one_line_no_password(
    tls_server: RedisServer,
) -> None:
    settings = HubSettings(heartbeat_s=0.2)  # no ca_file: the system's trust store
    probe = await probe_hub(tls_server.url, settings)
    assert probe.problem is not None
    assert probe.fatal  # configuration: retrying cannot fix it
    assert "certificate verify failed" in probe.problem
    assert f"rediss://:***@127.0.0.1:{tls_server.port}/0" in probe.problem
    assert PASSWORD not in probe.problem and "\n" not in probe.problem
    # A terminal that keeps trying says the same, as the hub's status.
    reader = Reader(HubFeed(settings, tls_server.url, SystemClock()))
    reader.start()
    try:
        down = await reader.until(status(FeedState.DOWN))
        assert isinstance(down, FeedStatus) and "certificate verify failed" in down.reason
        assert all(PASSWORD not in str(e) for e in reader.events)
    finally:
        await reader.stop()


def test_the_cli_refuses_an_unverified_rediss_hub_with_one_line(
    tls_server: RedisServer, tmp_path: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env["LOCKSTEP_DATA_DIR"] = str(tmp_path / "data")
    for args in (["snapshot", "--json"], ["hub"]):
        done = subprocess.run(
            [sys.executable, "-m", "tui.cli", *args, "--hub", tls_server.url],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "certificate verify failed" in lines[0], done.stderr
        assert "rediss://:***@127.0.0.1" in lines[0]
        assert PASSWORD not in done.stdout + done.stderr
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert PASSWORD not in path.read_text(errors="replace"), path


def test_the_cli_uses_the_configured_ca_for_a_rediss_snapshot(
    tls_server: RedisServer, tls: TlsFiles, tmp_path: Path
) -> None:
    cfg = tmp_path / "desk.toml"
    cfg.write_text(f'[hub]\nca_file = "{tls.ca}"\nfallback = "none"\n')
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env["LOCKSTEP_DATA_DIR"] = str(tmp_path / "data")
    args = ["snapshot", "--config", str(cfg), "--json", "--timeout", "2"]
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", *args, "--hub", tls_server.url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Reached and verified: no hub publishes there, so the hub is DOWN, never an error.
    doc = json.loads(done.stdout)
    assert doc["sources"]["hub"]["state"] in ("DOWN", "CONNECTING", "STALE")
    assert "certificate" not in (doc["sources"]["hub"]["reason"] or "")
    assert PASSWORD not in done.stdout + done.stderr
