"""The desk hub end to end with a real redis-server: the hub runs every feed against the
simulated market; two subscribing terminals show the same values as the hub's direct run
and never reach a source themselves; the command line's hub and ``--hub`` paths."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from feeds.core.clock import DEMO_START, ShiftedClock
from feeds.history.divergence_state import DivergenceSlice
from feeds.hub.keys import HubKeys
from feeds.hub.publish import Publisher
from feeds.hub.settings import HubSettings
from feeds.hub.subscribe import HubFeed
from feeds.sim.market import MarketThread
from tests.feeds.hub.redis_server import RedisServer, free_port, running
from tests.ptyharness import ROOT
from tui.config import Settings, with_endpoints
from tui.hub import serve
from tui.runtime import Runtime, build_runtime
from tui.snapshot import answered, document

pytestmark = pytest.mark.timeout(120)

HUB = HubSettings(heartbeat_s=0.2)
POLLED = {"coinbase", "kraken", "yahoo", "kalshi", "polymarket", "nyfed", "nyfed_web", "fred"}
"""The sources that answer in the simulated market (Cboe is the quotes' fallback)."""
SECTIONS = ("btc", "quotes", "fed_odds", "tbills")
"""What a terminal shows that the hub relays (the history panel is compared by
``test_a_terminal_started_after_the_backfill_shows_the_hubs_whole_history``: the backfill
progress there is each process's own)."""


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with running(tmp_path / "redis") as server:
        yield server


@pytest.fixture(scope="module")
def markets() -> Iterator[tuple[MarketThread, MarketThread]]:
    """Market A feeds the hub; market B is where the terminals' own (direct) endpoints
    point, so any request a terminal made itself would show in B's logs."""
    a, b = MarketThread(ShiftedClock(DEMO_START)), MarketThread(ShiftedClock(DEMO_START))
    a.start()
    b.start()
    yield a, b
    a.stop()
    b.stop()


def _endpoints(m: MarketThread) -> dict[str, str]:
    assert m.market is not None
    endpoints: dict[str, str] = m.market.endpoints
    return endpoints


def _strip(value: Any) -> Any:
    """``value`` with the ages (which keep moving) taken out."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.endswith("age_s")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _shown(doc: dict[str, Any]) -> dict[str, Any]:
    """The relayed sections with the ages taken out."""
    return {k: _strip(doc.get(k)) for k in SECTIONS}


def _has_everything(doc: dict[str, Any]) -> bool:
    quotes = doc.get("quotes") or []
    odds = doc.get("fed_odds") or {}
    return (
        doc.get("btc") is not None
        and bool(quotes)
        and all(q.get("price") is not None for q in quotes if not q.get("is_future"))
        and bool(odds.get("meetings"))
    )


async def test_two_terminals_show_the_hubs_values_and_never_poll_a_source(
    markets: tuple[MarketThread, MarketThread], redis_server: RedisServer
) -> None:
    a, b = markets
    clock = ShiftedClock(DEMO_START)  # one clock in one process: the ages agree
    url = redis_server.url
    hub_rt = build_runtime(
        with_endpoints(Settings(hub=HUB), **_endpoints(a)), clock, demo=True, data=None
    )
    stop = asyncio.Event()
    ready: list[Publisher] = []
    out = io.StringIO()
    hub_task = asyncio.create_task(serve(hub_rt, url, out=out, stop=stop, on_ready=ready.append))
    b_settings = with_endpoints(Settings(hub=HUB), **_endpoints(b))
    terminals: list[Runtime] = [
        build_runtime(b_settings, clock, demo=True, data=None, hub=url) for _ in range(2)
    ]
    for t in terminals:
        assert [type(f) for f in t.feeds] == [HubFeed]
        t.start()
    try:
        async with asyncio.timeout(60):
            # Every source has answered the hub, and the terminals hold a full frame.
            while not (
                ready
                and answered(hub_rt) >= POLLED
                and all(_has_everything(document(t)) for t in terminals)
            ):
                for rt in (hub_rt, *terminals):
                    rt.drain(clock.monotonic())
                await asyncio.sleep(0.1)
        # Freeze the hub's sources, let the last entries through, then compare.
        hub_rt.replace_feeds(list(hub_rt.feeds), [])
        publisher = ready[0]
        async with asyncio.timeout(30):
            while publisher.pending:
                await asyncio.sleep(0.05)
        want: dict[str, Any] = {}
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(15):
                while True:
                    hub_rt.drain(clock.monotonic())
                    want = _shown(document(hub_rt))
                    for rt in terminals:
                        rt.drain(clock.monotonic())
                    if all(_shown(document(t)) == want for t in terminals):
                        break
                    await asyncio.sleep(0.1)
        assert want["btc"]["price"] and want["quotes"] and want["fed_odds"]["meetings"]
        assert want["tbills"]
        for t in terminals:
            got = _shown(document(t))
            for section in SECTIONS:
                assert got[section] == want[section], section
        hub_doc, term_doc = document(hub_rt), document(terminals[0])
        # The relayed value keeps its source and is at least as old as at the hub.
        assert term_doc["btc"]["source"] == hub_doc["btc"]["source"]
        assert term_doc["btc"]["age_s"] >= hub_doc["btc"]["age_s"] - 0.01
        assert term_doc["sources"]["hub"]["state"] == "LIVE"
        # One poller: the terminals' own endpoints (market B) never saw a request.
        assert b.market is not None
        for name, extra in b.market.extras.items():
            assert not extra.server.log, name
        assert publisher.subscribers == 2
    finally:
        stop.set()
        for t in terminals:
            await t.aclose()
        assert await hub_task == 0
    assert "stopped" in out.getvalue()


def _run(
    args: list[str], tmp: Path, timeout: float = 90
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        env=_env(tmp),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _env(tmp: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp),
        "PYTHONPATH": str(ROOT),
        "LOCKSTEP_DATA_DIR": str(tmp / "data"),
    }


def test_a_wrong_password_is_one_clear_line_naming_the_url_without_it(tmp_path: Path) -> None:
    with running(tmp_path / "redis", password="the-right-one") as server:
        url = f"redis://desk:WRONG-pw-42@127.0.0.1:{server.port}/3"
        # Configuration, not an outage: no fallback to direct feeds, whatever the
        # [hub] fallback, for every kind of terminal and the hub.
        for args in (
            ["snapshot", "--json", "--hub", url],
            ["watch", "--hub", url],
            ["hub", "--hub", url],
        ):
            done = _run(args, tmp_path)
            assert done.returncode == 1, (args, done.stderr)
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1, done.stderr
            assert f"redis://desk:***@127.0.0.1:{server.port}/3" in lines[0]
            assert "authentication failed" in lines[0]
            assert "WRONG-pw-42" not in done.stderr + done.stdout
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert "WRONG-pw-42" not in path.read_text(errors="replace"), path


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_the_demo_hub_serves_a_snapshot_and_stops_cleanly_on_a_signal(
    tmp_path: Path, redis_server: RedisServer, sig: signal.Signals
) -> None:
    url = redis_server.url
    hub = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "hub", "--demo", "--hub", url],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        r = redis.Redis(port=redis_server.port)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            r.exists(HubKeys("lockstep").heartbeat)
            and r.hexists(HubKeys("lockstep").latest, "Quote|yahoo|^RUT")
        ):
            time.sleep(0.2)
        done = _run(["snapshot", "--json", "--timeout", "20", "--hub", url], tmp_path)
        assert done.returncode == 0, done.stderr
        doc = json.loads(done.stdout)
        assert doc["demo"] is True  # a demo hub's values are labelled simulated
        assert doc["sources"]["hub"]["state"] == "LIVE"
        assert doc["btc"]["source"] in ("coinbase", "kraken") and doc["btc"]["price"] > 0
        rut = next(q for q in doc["quotes"] if q["symbol"] == "^RUT")
        assert rut["source"] == "yahoo" and rut["price"] > 0
        # A third kind of terminal: watch, its alert rules fed by the hub.
        cfg = tmp_path / "watch.toml"
        cfg.write_text('[alerts]\nrules = ["btc below 999999"]\nbell = false\n')
        args = ["watch", "--config", str(cfg), "--hub", url, "--json", "--count", "1"]
        watched = _run([*args, "--duration", "40"], tmp_path)
        assert watched.returncode == 0, watched.stderr
        alert = json.loads(watched.stdout.splitlines()[0])
        assert alert["rule"] == "btc below 999999" and alert["demo"] is True
        assert alert["source"] in ("coinbase", "kraken")
        hub.send_signal(sig)
        out, err = hub.communicate(timeout=30)
        assert hub.returncode == 0, err
        assert "lockstep hub: stopped" in out
        assert "1 subscriber(s)" in out or "published" in out
        assert not r.exists(HubKeys("lockstep").heartbeat)  # taken down on the way out
        r.close()
    finally:
        if hub.poll() is None:
            hub.kill()
            hub.communicate()


def _history(doc: dict[str, Any]) -> dict[str, Any]:
    """The history panel (ATH rows, divergence) with the ages taken out, and left out:
    the backfill's progress (each process's own) and the live-print guard's judgement
    of a print above the high (``pending`` until it persists or another source agrees,
    and ``record`` with it), which depends on the prints a process saw since when. A
    terminal that started late judges the next prints against the hub's high (a high
    the hub confirmed is relayed); its ``ath`` values are compared."""
    section = dict(doc.get("history") or {})
    section.pop("backfill", None)
    out = _strip(section)
    for row in out.get("ath") or []:
        row.pop("pending", None)
        row.pop("record", None)
    return {"history": out}


def _backfilled(rt: Runtime) -> bool:
    section = document(rt).get("history") or {}
    fills = section.get("backfill") or []
    rows = section.get("ath") or []
    return (
        bool(fills)
        and all(f["finished"] for f in fills)
        and bool(rows)
        and all(r["ath"] is not None for r in rows)
    )


async def test_a_terminal_started_after_the_backfill_shows_the_hubs_whole_history(
    markets: tuple[MarketThread, MarketThread], redis_server: RedisServer
) -> None:
    a, b = markets
    clock = ShiftedClock(DEMO_START)
    url = redis_server.url
    hub_rt = build_runtime(
        with_endpoints(Settings(hub=HUB), **_endpoints(a)), clock, demo=True, data=None
    )
    stop = asyncio.Event()
    ready: list[Publisher] = []
    hub_task = asyncio.create_task(
        serve(hub_rt, url, out=io.StringIO(), stop=stop, on_ready=ready.append)
    )
    late: Runtime | None = None
    try:
        async with asyncio.timeout(60):
            while not (ready and _backfilled(hub_rt)):
                hub_rt.drain(clock.monotonic())
                await asyncio.sleep(0.1)
        # Only now does the terminal start: every history page is long gone by.
        hub_rt.replace_feeds(list(hub_rt.feeds), [])
        async with asyncio.timeout(30):
            while ready[0].pending:
                await asyncio.sleep(0.05)
        b_settings = with_endpoints(Settings(hub=HUB), **_endpoints(b))
        late = build_runtime(b_settings, clock, demo=True, data=None, hub=url)
        late.start()
        want: dict[str, Any] = {}
        got: dict[str, Any] = {}
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(20):
                while True:
                    for rt in (hub_rt, late):
                        rt.drain(clock.monotonic())
                    want, got = _history(document(hub_rt)), _history(document(late))
                    if got == want and want["history"]["divergence"]["corr_90d"] is not None:
                        break
                    await asyncio.sleep(0.1)
        rows = want["history"]["ath"]
        assert rows and all(r["ath"] is not None for r in rows)
        assert want["history"]["divergence"]["corr_90d"] is not None  # the whole series
        assert got["history"]["ath"] == rows
        assert got["history"]["divergence"] == want["history"]["divergence"]
        assert got == want
        # The hub's whole series, not its latest page: the drawdown chart matches too.
        hub_div = hub_rt.store.slice("divergence", DivergenceSlice)
        late_div = late.store.slice("divergence", DivergenceSlice)
        for symbol in (hub_div.a_symbol, hub_div.b_symbol):
            hub_cols, late_cols = (
                hub_div._bars[symbol].snapshot(),
                late_div._bars[symbol].snapshot(),
            )
            for which in (0, 1):  # the highs, then the closes, by day
                assert late_cols.series(which) == hub_cols.series(which)
            assert len(hub_cols.series(1)) > 300  # more than one backfill page
    finally:
        stop.set()
        if late is not None:
            await late.aclose()
        assert await hub_task == 0


def test_snapshot_with_redis_down_is_a_direct_snapshot_saying_the_hub_is_down(
    tmp_path: Path,
) -> None:
    url = f"redis://desk:pw-not-shown-7@127.0.0.1:{free_port()}/0"  # nothing listens
    args = ["snapshot", "--json", "--demo", "--timeout", "20", "--hub", url]
    done = _run(args, tmp_path)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    hub = doc["sources"]["hub"]
    assert list(doc["sources"])[0] == "hub"
    assert hub["state"] == "DOWN"
    assert "cannot connect" in hub["reason"] and "using this terminal's own feeds" in hub["reason"]
    assert "redis://desk:***@127.0.0.1" in hub["reason"]
    assert doc["demo"] is True  # the terminal's own --demo: the simulated market
    assert doc["btc"]["price"] > 0 and doc["btc"]["source"] in ("coinbase", "kraken")
    assert "pw-not-shown-7" not in done.stdout + done.stderr


def test_snapshot_with_redis_down_and_fallback_none_is_one_clear_line(tmp_path: Path) -> None:
    cfg = tmp_path / "none.toml"
    cfg.write_text('[hub]\nfallback = "none"\n')
    url = f"redis://:pw-not-shown-8@127.0.0.1:{free_port()}/0"
    done = _run(["snapshot", "--config", str(cfg), "--json", "--hub", url], tmp_path)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot connect" in lines[0], done.stderr
    assert "redis://:***@127.0.0.1" in lines[0]
    assert "pw-not-shown-8" not in done.stdout + done.stderr
    assert not done.stdout
