"""Backfill against the simulated market: Coinbase candle paging (300 per page), resuming
after an interruption, incremental runs, the Yahoo fallback and Yahoo index history."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest

from feeds.core.clock import ManualClock
from feeds.core.poll import PollTiming
from feeds.history.backfill import BtcHistoryFeed, YahooHistoryFeed, parse_candles
from feeds.history.db import HistoryStore
from feeds.model.core import BadMessage
from feeds.model.history import BackfillProgress, Bar, HistoryBars
from feeds.sim.candles import SimCandles, start_sim_candles
from feeds.sim.history_data import daily_bars
from feeds.sim.http import HttpFault, SimHttpServer, SimRequest, SimResponse, json_response
from feeds.sim.levels import LEVELS

DATA = Path(__file__).parents[2] / "data" / "history"
FAST = PollTiming(connect=2, read=5, deadline=10, attempts=1, retry_base=0.01)
NY = ZoneInfo("America/New_York")


def chart_payload(symbol: str, since: date | None = None) -> bytes:
    bars = [b for b in daily_bars(symbol) if since is None or b.day >= since]
    crypto = symbol == "BTC-USD"
    tz = UTC if crypto else NY
    stamps = [
        int(datetime.combine(b.day, time(0, 0) if crypto else time(9, 30), tz).timestamp())
        for b in bars
    ]
    first = LEVELS[symbol].first_trade
    meta = {
        "symbol": symbol,
        "currency": "USD",
        "exchangeTimezoneName": "UTC" if crypto else "America/New_York",
        "gmtoffset": 0 if crypto else -18000,
        "firstTradeDate": int(datetime.combine(first, time(9, 30), tz).timestamp()),
        "regularMarketPrice": LEVELS[symbol].last,
    }
    quote = {
        "open": [float(b.open) for b in bars],
        "high": [float(b.high) for b in bars],
        "low": [float(b.low) for b in bars],
        "close": [float(b.close) for b in bars],
        "volume": [0 for _ in bars],
    }
    result = {"meta": meta, "timestamp": stamps, "indicators": {"quote": [quote]}}
    return orjson.dumps({"chart": {"result": [result], "error": None}})


async def start_yahoo() -> SimHttpServer:
    server = SimHttpServer("yahoo-history")

    async def chart(req: SimRequest) -> SimResponse:
        symbol = req.path.rsplit("/", 1)[1]
        if symbol not in LEVELS:
            return json_response(b'{"chart":{"result":null,"error":{"code":"Not Found"}}}', 404)
        since = None
        if "period1" in req.query:
            since = datetime.fromtimestamp(int(req.query["period1"]), UTC).date()
        return json_response(chart_payload(symbol, since))

    server.route(r"/v8/finance/chart/[^/]+", chart)
    await server.start(0)
    return server


@pytest.fixture
async def env(
    tmp_path: Path,
) -> AsyncIterator[tuple[SimCandles, SimHttpServer, httpx.AsyncClient, HistoryStore]]:
    candles = await start_sim_candles(daily_bars)
    yahoo = await start_yahoo()
    client = httpx.AsyncClient(trust_env=False, timeout=10)
    store, _ = HistoryStore.open(tmp_path / "history.sqlite3")
    yield candles, yahoo, client, store
    await store.writer().aclose()
    store.close()
    await client.aclose()
    await candles.stop()
    await yahoo.stop()


def btc_feed(
    candles: SimCandles, yahoo: SimHttpServer, client: httpx.AsyncClient, store: HistoryStore
) -> BtcHistoryFeed:
    return BtcHistoryFeed(
        candles.server.url,
        yahoo.url,
        store=store,
        client=client,
        clock=ManualClock(),
        page_delay=0.0,
        refresh=3600.0,
        timing=FAST,
    )


async def drive(feed: object, stop: Callable[[object], bool], timeout: float = 20) -> list[object]:
    out: list[object] = []
    gen = feed.events()  # type: ignore[attr-defined]
    try:
        async with asyncio.timeout(timeout):
            async for ev in gen:
                out.append(ev)
                if stop(ev):
                    break
    finally:
        await gen.aclose()
        await feed.aclose()  # type: ignore[attr-defined]
    return out


def finished(ev: object) -> bool:
    return isinstance(ev, BackfillProgress) and ev.finished


def ranges(server: SimHttpServer) -> list[tuple[date, date]]:
    out = []
    for _, target in server.log:
        q = dict(parse_qsl(urlsplit(target).query))
        out.append(
            (datetime.fromisoformat(q["start"]).date(), datetime.fromisoformat(q["end"]).date())
        )
    return out


def test_parse_candles_rejects_bad_rows() -> None:
    rows = orjson.loads((DATA / "candles_page.json").read_bytes())
    bars = parse_candles(rows, "BTC-USD")
    assert isinstance(bars, list)
    assert [b.day for b in bars] == [date(2025, 12, 8), date(2025, 12, 11)]  # oldest first
    assert (bars[1].low, bars[1].high, bars[1].open, bars[1].close) == (
        Decimal("91012.5"),
        Decimal("93088.01"),
        Decimal("92110.0"),
        Decimal("92800.0"),
    )
    assert isinstance(parse_candles({"message": "boom"}, "BTC-USD"), BadMessage)


async def test_sim_candles_refuses_more_than_300_and_missing_user_agent(
    env: tuple[SimCandles, SimHttpServer, httpx.AsyncClient, HistoryStore],
) -> None:
    candles, _, client, _ = env
    url = candles.server.url + "/products/BTC-USD/candles"
    ok = {
        "granularity": "86400",
        "start": "2025-01-01T00:00:00+00:00",
        "end": "2025-10-27T00:00:00+00:00",
    }
    r = await client.get(url, params=ok, headers={"User-Agent": "t"})
    assert r.status_code == 200 and len(r.json()) == 300
    assert r.json()[0][0] > r.json()[-1][0]  # newest first
    too_many = {**ok, "end": "2025-10-28T00:00:00+00:00"}
    r = await client.get(url, params=too_many, headers={"User-Agent": "t"})
    assert r.status_code == 400 and "exceeds 300" in r.json()["message"]
    r = await client.get(url, params=ok, headers={"User-Agent": ""})
    assert r.status_code == 400


async def test_backfill_pages_back_to_2015_in_300_candle_pages(
    env: tuple[SimCandles, SimHttpServer, httpx.AsyncClient, HistoryStore],
) -> None:
    candles, yahoo, client, store = env
    events = await drive(btc_feed(candles, yahoo, client, store), finished)
    spans = ranges(candles.server)
    assert all((end - start).days + 1 <= 300 for start, end in spans)
    assert len(spans) == len(daily_bars("BTC-USD")) // 300 + 1 == 14
    assert spans[0][1] == date(2025, 12, 12) and spans[-1][0] == date(2015, 1, 1)
    assert max(candles.served) == 300
    # Every user-agent sent is ours, never empty.
    info = store.series("BTC-USD")
    assert (info.first_day, info.last_day, info.complete) == (
        date(2015, 1, 1),
        date(2025, 12, 11),
        True,
    )
    assert info.count == len(daily_bars("BTC-USD"))
    rec = store.ath("BTC-USD")
    assert rec is not None and float(rec.high) == 126_200.0 and rec.high_day == date(2025, 10, 6)
    progress = [e for e in events if isinstance(e, BackfillProgress)]
    assert len(progress) == 14 and progress[-1].finished
    dones = [p.done for p in progress]
    assert dones == sorted(dones)  # the panel sees it move, page by page
    assert sum(len(e.bars) for e in events if isinstance(e, HistoryBars)) == info.count
    assert not yahoo.log


async def test_backfill_resumes_after_an_interruption(
    env: tuple[SimCandles, SimHttpServer, httpx.AsyncClient, HistoryStore],
) -> None:
    candles, yahoo, client, store = env
    pages = 0

    def after_four(ev: object) -> bool:
        nonlocal pages
        pages += isinstance(ev, BackfillProgress)
        return pages == 4

    await drive(btc_feed(candles, yahoo, client, store), after_four)
    first_run = ranges(candles.server)
    assert len(first_run) == 4 and not store.series("BTC-USD").complete
    candles.server.log.clear()
    await drive(btc_feed(candles, yahoo, client, store), finished)
    second = ranges(candles.server)
    # One catch-up page for the newest day, then onward from where the first run stopped.
    assert second[0] == (date(2025, 12, 11), date(2025, 12, 12))
    assert second[1][1] == first_run[-1][0] - timedelta(days=1)
    assert len(second) == 1 + 14 - 4
    info = store.series("BTC-USD")
    assert info.complete and info.count == len(daily_bars("BTC-USD"))


async def test_incremental_run_fetches_only_the_missing_days(
    env: tuple[SimCandles, SimHttpServer, httpx.AsyncClient, HistoryStore],
) -> None:
    candles, yahoo, client, store = env
    await drive(btc_feed(candles, yahoo, client, store), finished)
    candles.server.log.clear()
    batches = store.writer().batches
    events = await drive(btc_feed(candles, yahoo, client, store), finished)
    assert ranges(candles.server) == [(date(2025, 12, 11), date(2025, 12, 12))]
    # The newest stored day came back unchanged: nothing to store or repaint.
    assert not [e for e in events if isinstance(e, HistoryBars)]
    assert store.writer().batches == batches
    assert [e for e in events if isinstance(e, BackfillProgress)][-1].finished


async def test_incremental_run_replaces_a_partial_newest_day(
    env: tuple[SimCandles, SimHttpServer, httpx.AsyncClient, HistoryStore],
) -> None:
    candles, yahoo, client, store = env
    await drive(btc_feed(candles, yahoo, client, store), finished)
    final = store.bars("BTC-USD")[-1]
    # As stored by a run in the middle of that day: a lower close, a narrower range.
    partial = Bar("BTC-USD", final.day, final.open, final.open, final.low, final.low, "coinbase")
    store.put_bars([partial])
    events = await drive(btc_feed(candles, yahoo, client, store), finished)
    bars = [e for e in events if isinstance(e, HistoryBars)]
    assert [b.bars for b in bars] == [(final,)]
    assert store.bars("BTC-USD")[-1] == final


async def test_backfill_waits_for_its_start_gate(
    env: tuple[SimCandles, SimHttpServer, httpx.AsyncClient, HistoryStore],
) -> None:
    candles, yahoo, client, store = env
    gate = asyncio.Event()
    feed = btc_feed(candles, yahoo, client, store)
    feed.start_after = gate.wait
    task = asyncio.create_task(drive(feed, finished))
    await asyncio.sleep(0.2)
    assert not candles.server.log and not task.done()
    gate.set()
    events = await task
    assert candles.server.log and any(finished(e) for e in events)


async def test_coinbase_down_falls_back_to_yahoo_range_max(
    env: tuple[SimCandles, SimHttpServer, httpx.AsyncClient, HistoryStore],
) -> None:
    candles, yahoo, client, store = env
    candles.server.set_fault(HttpFault("status", status=503))
    events = await drive(btc_feed(candles, yahoo, client, store), finished)
    assert len(candles.server.log) == 2  # fallback_after=2 pages
    assert len(yahoo.log) == 1 and "range=max" in yahoo.log[0][1]
    info = store.series("BTC-USD")
    assert info.complete and info.source == "yahoo" and info.count == len(daily_bars("BTC-USD"))
    assert "yahoo" in [e for e in events if isinstance(e, BackfillProgress)][-1].note


async def test_yahoo_history_range_max_then_incremental(
    env: tuple[SimCandles, SimHttpServer, httpx.AsyncClient, HistoryStore],
) -> None:
    _, yahoo, client, store = env

    def feed() -> YahooHistoryFeed:
        return YahooHistoryFeed(
            yahoo.url, ["^RUT", "^DJI", "NOPE"], store=store, client=client,
            clock=ManualClock(), page_delay=0.0, refresh=3600.0, timing=FAST,
        )  # fmt: skip

    events = await drive(feed(), finished)
    targets = [t for _, t in yahoo.log]
    assert len(targets) == 3 and all("range=max" in t for t in targets)
    rut = store.series("^RUT")
    assert rut.first_trade == date(1987, 9, 10) and rut.count == len(daily_bars("^RUT"))
    assert rut.last_day == date(2025, 12, 11)
    rec = store.ath("^DJI")
    assert rec is not None and rec.first_trade == date(1992, 1, 2)
    assert any(isinstance(e, BadMessage) and "NOPE" in e.reason for e in events)
    yahoo.log.clear()
    batches = store.writer().batches
    events = await drive(feed(), finished)
    targets = [t for _, t in yahoo.log]
    assert "period1=" in targets[0] and "period1=" in targets[1]  # only the missing days
    assert "range=max" in targets[2]  # the symbol that never loaded is tried whole again
    # Both answers hold only the newest stored day, unchanged: no write, no repaint.
    assert not [e for e in events if isinstance(e, HistoryBars)]
    assert store.writer().batches == batches


async def test_an_empty_newest_page_is_a_source_failure_not_the_start_of_history(
    tmp_path: Path,
) -> None:
    # Coinbase has candles for every recent day: an empty first page (nothing stored yet)
    # must not mark BTC's history complete with no bars; the Yahoo fallback is asked.
    candles = await start_sim_candles(
        lambda product: [b for b in daily_bars(product) if b.day < date(2023, 1, 1)]
    )
    yahoo = await start_yahoo()
    client = httpx.AsyncClient(trust_env=False, timeout=10)
    store, _ = HistoryStore.open(tmp_path / "history.sqlite3")
    try:
        await drive(btc_feed(candles, yahoo, client, store), finished)
        assert len(candles.server.log) == 1
        assert len(yahoo.log) == 1 and "range=max" in yahoo.log[0][1]
        info = store.series("BTC-USD")
        assert info.source == "yahoo" and info.count == len(daily_bars("BTC-USD"))
    finally:
        await store.writer().aclose()
        store.close()
        await client.aclose()
        await candles.stop()
        await yahoo.stop()


async def test_offline_progress_counts_data_not_attempts(tmp_path: Path) -> None:
    # Nothing listens on the port: every request fails. The progress must not climb
    # (it counted attempts and read "18% · 2/11" offline); it says it is waiting.
    dead = SimHttpServer("dead")
    await dead.start(0)
    url = dead.url
    await dead.stop()
    client = httpx.AsyncClient(trust_env=False, timeout=10)
    store, _ = HistoryStore.open(tmp_path / "history.sqlite3")
    symbols = ["^RUT", "^DJI", "IWM"]
    feed = YahooHistoryFeed(
        url, symbols, store=store, client=client,
        clock=ManualClock(), page_delay=0.0, refresh=3600.0, timing=FAST,
    )  # fmt: skip
    seen: list[BackfillProgress] = []

    def two_rounds(ev: object) -> bool:
        if isinstance(ev, BackfillProgress):
            seen.append(ev)
        return len(seen) >= 2 * len(symbols)

    try:
        await drive(feed, two_rounds)
    finally:
        await store.writer().aclose()
        store.close()
        await client.aclose()
    assert [p.done for p in seen] == [0] * len(seen)
    assert all(p.waiting and not p.finished for p in seen)
    assert all(p.note.startswith("waiting for the network (") for p in seen)
    assert "refused" in seen[0].note
    # The round is tried again soon (here at once), not after the 1 h refresh period.
    assert [p.symbol for p in seen] == symbols * 2


async def test_progress_counts_symbols_received(
    env: tuple[SimCandles, SimHttpServer, httpx.AsyncClient, HistoryStore],
) -> None:
    _, yahoo, client, store = env
    yahoo.set_fault(HttpFault("status", status=503, count=3))  # one symbol, 3 attempts
    feed = YahooHistoryFeed(
        yahoo.url, ["^RUT", "^DJI", "IWM"], store=store, client=client,
        clock=ManualClock(), page_delay=0.0, refresh=3600.0,
        timing=PollTiming(connect=2, read=5, deadline=10, attempts=3, retry_base=0.01),
    )  # fmt: skip
    events = await drive(feed, finished)
    progress = [e for e in events if isinstance(e, BackfillProgress)]
    # ^RUT got a 503 (an answer, not the network): it counts nothing and is not "waiting".
    assert [(p.symbol, p.done, p.waiting) for p in progress] == [
        ("^RUT", 0, False),
        ("^DJI", 1, False),
        ("IWM", 2, False),
    ]
    # The round is over (^RUT is asked again next round); 2 of 3 arrived.
    assert progress[-1].finished and progress[-1].total == 3
