"""TLS on loopback with a throwaway CA (trustme): a certificate nobody vouches for is
refused with a visible reason and never retried without verification; the configured
CA file adds trust (reliability.md X4)."""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from websockets.asyncio.server import serve

from feeds.btc.coinbase import CoinbaseTickerFeed
from feeds.core.clock import SystemClock
from feeds.core.poll import LazyTransport, make_client
from feeds.model import FeedState, FeedStatus, Tick
from feeds.sim.exchanges import CoinbaseSim, PricePath
from feeds.sim.http import SimHttpServer, SimRequest, SimResponse, json_response
from tests.conftest import FAST_WS, collect
from tests.feeds.core.test_poll import TIMING, CounterFeed


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_ctx(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
async def wss_url(server_ctx: ssl.SSLContext) -> AsyncIterator[str]:
    sim = CoinbaseSim(PricePath())
    sim.set_script(rate=20)
    server = await serve(sim._handler, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    yield f"wss://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


async def test_x4_websocket_self_signed_is_refused_visibly(wss_url: str) -> None:
    feed = CoinbaseTickerFeed(wss_url, clock=SystemClock(), timing=FAST_WS)
    events = feed.events()
    seen = await collect(
        events, lambda s: any(isinstance(e, FeedStatus) and e.state is FeedState.DOWN for e in s)
    )
    down = [e for e in seen if isinstance(e, FeedStatus) and e.state is FeedState.DOWN][0]
    assert down.reason == "TLS verification failed"
    assert down.retry_at is not None and down.retry_at - down.since >= FAST_WS.fatal_retry
    assert not [e for e in seen if isinstance(e, Tick)]
    await feed.aclose()


async def test_x4_websocket_with_the_configured_ca_works(wss_url: str, ca_file: str) -> None:
    ctx = ssl.create_default_context()
    ctx.load_verify_locations(cafile=ca_file)
    feed = CoinbaseTickerFeed(
        wss_url, clock=SystemClock(), timing=dataclasses.replace(FAST_WS), ssl_context=ctx
    )
    events = feed.events()
    await collect(events, lambda s: any(isinstance(e, Tick) for e in s))
    await feed.aclose()


async def test_x4_https_self_signed_refused_and_ca_file_trusted(
    server_ctx: ssl.SSLContext, ca_file: str
) -> None:
    srv = SimHttpServer("tls")

    async def value(req: SimRequest) -> SimResponse:
        return json_response(b'{"v": 7}')

    srv.route(r"/value", value)
    await srv.start(0, tls=server_ctx)
    try:
        refused = CounterFeed(srv.url)
        seen = await collect(
            refused.events(),
            lambda s: any(isinstance(e, FeedStatus) and e.state is FeedState.DOWN for e in s),
        )
        down = [e for e in seen if isinstance(e, FeedStatus) and e.state is FeedState.DOWN][0]
        assert down.reason == "TLS verification failed"
        await refused.aclose()
        await refused.client.aclose()

        trusted = CounterFeed(srv.url)
        await trusted.client.aclose()
        trusted.client = make_client(ca_file=ca_file, timing=TIMING)
        seen = await collect(trusted.events(), lambda s: any(hasattr(e, "value") for e in s))
        await trusted.aclose()
        await trusted.client.aclose()
    finally:
        await srv.stop()
    await asyncio.sleep(0)


def test_x4_ca_file_adds_to_the_default_trust(ca_file: str) -> None:
    default = LazyTransport()._build()._pool._ssl_context
    added = LazyTransport(ca_file=ca_file)._build()._pool._ssl_context
    assert default is not None and added is not None
    assert default.verify_mode is ssl.CERT_REQUIRED and default.check_hostname
    n = default.cert_store_stats()["x509_ca"]
    assert n > 0 and added.cert_store_stats()["x509_ca"] == n + 1
