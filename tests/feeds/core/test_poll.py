"""The shared HTTP polling engine against a simulated server on loopback, named after
the reliability.md §8 H rows it covers."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from feeds.core.clock import SystemClock
from feeds.core.poll import LazyTransport, PolledFeed, PollTiming, make_client, parse_retry_after
from feeds.model.core import BadMessage, FeedState, FeedStatus
from feeds.sim.http import HttpFault, SimHttpServer, SimRequest, SimResponse, json_response
from tests.conftest import collect

TIMING = PollTiming(
    connect=0.5, read=0.5, deadline=0.8, max_body=100_000, attempts=3, retry_base=0.02,
    no_retry_after_base=0.3, no_retry_after_cap=0.6, retry_after_cap=2.0,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Value:
    source: str
    value: int
    received: float


class CounterFeed(PolledFeed):
    source = "counter"

    def __init__(self, url: str, every: float = 0.05, **kw: object) -> None:
        super().__init__(client=make_client(timing=TIMING), clock=SystemClock(), timing=TIMING)
        self.url = url
        self.every = every

    def interval(self) -> float:
        return self.every

    async def poll(self) -> Sequence[object]:
        resp = await self.get(self.url + "/value")
        data = resp.json()
        if not isinstance(data, dict) or not isinstance(data.get("v"), int):
            return [BadMessage(self.source, "no value")]
        return [Value(self.source, data["v"], self.clock.monotonic())]


@pytest.fixture
async def server() -> AsyncIterator[SimHttpServer]:
    srv = SimHttpServer("counter")
    n = {"v": 0}

    async def value(req: SimRequest) -> SimResponse:
        n["v"] += 1
        return json_response(b'{"v": %d}' % n["v"])

    srv.route(r"/value", value)
    await srv.start(0)
    yield srv
    await srv.stop()


@contextlib.asynccontextmanager
async def feed_events(feed: CounterFeed) -> AsyncIterator[AsyncIterator[object]]:
    events = feed.events()
    try:
        yield events
    finally:
        await feed.aclose()
        await events.aclose()  # type: ignore[attr-defined]
        await feed.client.aclose()


def states(seen: list[object]) -> list[FeedStatus]:
    return [e for e in seen if isinstance(e, FeedStatus)]


def values(seen: list[object]) -> list[Value]:
    return [e for e in seen if isinstance(e, Value)]


async def test_polls_in_sequence_never_overlapping(server: SimHttpServer) -> None:
    feed = CounterFeed(server.url)
    async with feed_events(feed) as events:
        seen = await collect(events, lambda s: len(values(s)) >= 4)
    assert [v.value for v in values(seen)] == [1, 2, 3, 4]
    assert states(seen)[0].state is FeedState.CONNECTING
    assert any(s.state is FeedState.LIVE for s in states(seen))


async def test_h1_refused_then_down_with_reason() -> None:
    feed = CounterFeed("http://127.0.0.1:9")
    async with feed_events(feed) as events:
        seen = await collect(events, lambda s: any(x.state is FeedState.DOWN for x in states(s)))
    down = [s for s in states(seen) if s.state is FeedState.DOWN][0]
    assert down.reason == "connection refused"
    assert feed.requests == TIMING.attempts  # retried inside the cycle, then gave up


async def test_h2_hang_is_cut_at_the_deadline(server: SimHttpServer) -> None:
    server.set_fault(HttpFault("hang", seconds=30))
    feed = CounterFeed(server.url, every=5.0)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    async with feed_events(feed) as events:
        seen = await collect(events, lambda s: any(x.state is FeedState.DOWN for x in states(s)), 6)
    assert loop.time() - t0 < TIMING.deadline * TIMING.attempts + 1.0
    reason = [s for s in states(seen) if s.state is FeedState.DOWN][0].reason
    assert "timed out" in reason or "within" in reason


async def test_h3_slow_trickle_is_cut_by_the_overall_deadline(server: SimHttpServer) -> None:
    server.set_fault(HttpFault("trickle", seconds=0.3))  # each byte well inside read=0.5
    feed = CounterFeed(server.url, every=5.0)
    async with feed_events(feed) as events:
        seen = await collect(events, lambda s: any(x.state is FeedState.DOWN for x in states(s)), 6)
    assert "no complete answer" in [s for s in states(seen) if s.state is FeedState.DOWN][0].reason


@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_h4_retry_after_is_honoured(server: SimHttpServer, form: str) -> None:
    if form == "seconds":
        header = "1"
    else:
        header = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    server.set_fault(HttpFault("status", status=429, retry_after=header, count=1))
    feed = CounterFeed(server.url, every=0.02)
    async with feed_events(feed) as events:
        seen = await collect(events, lambda s: len(values(s)) >= 1, 6)
    limited = [s for s in states(seen) if s.state is FeedState.RATE_LIMITED]
    assert limited and limited[0].retry_at is not None
    times = [t for t, _ in server.log]
    gap = times[1] - times[0]
    assert gap >= (0.95 if form == "seconds" else 0.9)  # nothing inside the window
    assert len(times) == 2


def test_h5_retry_after_parsing_and_caps() -> None:
    now = datetime(2025, 12, 12, 15, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Fri, 12 Dec 2025 15:02:00 GMT", now) == 120
    assert parse_retry_after("Fri, 12 Dec 2025 14:00:00 GMT", now) == 0
    for junk in ("soon", "-5", "", None, "1.5"):
        assert parse_retry_after(junk, now) is None


async def test_h5_absurd_retry_after_is_capped(server: SimHttpServer) -> None:
    server.set_fault(HttpFault("status", status=429, retry_after="86400", count=1))
    feed = CounterFeed(server.url, every=0.02)
    async with feed_events(feed) as events:
        seen = await collect(events, lambda s: bool(values(s)), 6)
    limited = [s for s in states(seen) if s.state is FeedState.RATE_LIMITED][0]
    assert limited.retry_at is not None
    assert limited.retry_at - limited.since <= TIMING.retry_after_cap + 0.1


async def test_h5_429_without_retry_after_backs_off_exponentially(server: SimHttpServer) -> None:
    server.set_fault(HttpFault("status", status=429, count=2))
    feed = CounterFeed(server.url, every=0.02)
    async with feed_events(feed) as events:
        seen = await collect(events, lambda s: bool(values(s)), 6)
    waits = [
        s.retry_at - s.since
        for s in states(seen)
        if s.state is FeedState.RATE_LIMITED and s.retry_at
    ]
    assert waits == pytest.approx([0.3, 0.6], abs=0.05)


async def test_h6_5xx_retried_within_the_cycle(server: SimHttpServer) -> None:
    server.set_fault(HttpFault("status", status=503, count=2))
    feed = CounterFeed(server.url)
    async with feed_events(feed) as events:
        seen = await collect(events, lambda s: bool(values(s)))
    assert values(seen)[0].value == 1
    assert len(server.log) == 3  # two 503s, then the answer, all in one cycle


async def test_h8_html_200_is_degraded_not_a_crash(server: SimHttpServer) -> None:
    server.set_fault(HttpFault("html"))
    feed = CounterFeed(server.url)
    async with feed_events(feed) as events:
        seen = await collect(
            events, lambda s: any(x.state is FeedState.DEGRADED for x in states(s))
        )
    reason = [s for s in states(seen) if s.state is FeedState.DEGRADED][0].reason
    assert "HTML" in reason


async def test_h9_truncated_body_is_degraded(server: SimHttpServer) -> None:
    async def truncated(req: SimRequest) -> SimResponse:
        return SimResponse(200, b'{"v": 12345, "pad": "' + b"x" * 500 + b'"}', truncate_to=40)

    server.routes.clear()
    server.route(r"/value", truncated)
    feed = CounterFeed(server.url)
    async with feed_events(feed) as events:
        seen = await collect(
            events,
            lambda s: any(x.state in (FeedState.DEGRADED, FeedState.DOWN) for x in states(s)),
        )
    assert not values(seen)


async def test_h10_huge_body_is_aborted_at_the_cap(server: SimHttpServer) -> None:
    server.set_fault(HttpFault("huge", size=50_000_000))
    feed = CounterFeed(server.url)
    async with feed_events(feed) as events:
        seen = await collect(
            events, lambda s: any(x.state is FeedState.DEGRADED for x in states(s))
        )
    assert "read aborted" in [s for s in states(seen) if s.state is FeedState.DEGRADED][0].reason


async def test_h11_redirect_to_another_host_is_not_followed(server: SimHttpServer) -> None:
    server.set_fault(HttpFault("redirect", location="http://127.0.0.2:1/steal"))
    feed = CounterFeed(server.url)
    async with feed_events(feed) as events:
        seen = await collect(
            events, lambda s: any(x.state is FeedState.DEGRADED for x in states(s))
        )
    reason = [s for s in states(seen) if s.state is FeedState.DEGRADED][0].reason
    assert "not followed" in reason and "127.0.0.2" in reason
    assert len(server.log) == 1


async def test_bad_payload_everywhere_is_degraded_and_keeps_polling(server: SimHttpServer) -> None:
    async def junk(req: SimRequest) -> SimResponse:
        return json_response(b'{"v": "NaN"}')

    server.routes.clear()
    server.route(r"/value", junk)
    feed = CounterFeed(server.url)
    async with feed_events(feed) as events:
        seen = await collect(
            events, lambda s: sum(x.state is FeedState.DEGRADED for x in states(s)) >= 2
        )
    assert any(isinstance(e, BadMessage) for e in seen)


async def test_h12_etag_and_304_reuse_the_cached_answer() -> None:
    srv = SimHttpServer("etag")
    seen_headers: list[dict[str, str]] = []

    async def value(req: SimRequest) -> SimResponse:
        seen_headers.append(req.headers)
        if req.headers.get("if-none-match") == '"v1"':
            return SimResponse(304, b"", headers={"ETag": '"v1"'})
        return json_response(b'{"v": 41}', ETag='"v1"')

    srv.route(r"/value", value)
    await srv.start(0)
    feed = CounterFeed(srv.url)
    try:
        async with feed_events(feed) as events:
            seen = await collect(events, lambda s: len(values(s)) >= 3)
        assert [v.value for v in values(seen)] == [41, 41, 41]  # fresh, from the cache
        assert "if-none-match" not in seen_headers[0]
        assert seen_headers[1]["if-none-match"] == '"v1"'
        assert feed.not_modified >= 2
        assert all(s.state is not FeedState.DEGRADED for s in states(seen))
    finally:
        await srv.stop()


async def test_the_client_builds_its_tls_context_on_the_first_request(
    server: SimHttpServer,
) -> None:
    # Loading a CA bundle costs ~25 ms: not at start-up, before the first frame.
    client = make_client(timing=TIMING)
    transport = client._transport
    assert isinstance(transport, LazyTransport) and transport._inner is None
    first, second = await asyncio.gather(
        client.get(server.url + "/value"), client.get(server.url + "/value")
    )
    assert first.status_code == second.status_code == 200
    assert transport._inner is not None
    await client.aclose()
