"""The simulated Yahoo chart's daily history: ``range=max`` answers every bar, a
``period1``/``period2`` request only the bars stamped inside it, as Yahoo does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import httpx
import pytest

from feeds.core.clock import DEMO_START, ShiftedClock
from feeds.quotes.parse import parse_chart_bars
from feeds.sim.history_data import daily_bars
from feeds.sim.yahoo import SimYahoo, start_sim_yahoo

NY = ZoneInfo("America/New_York")


def stamp(day: date, at: time = time(9, 30)) -> int:
    return int(datetime.combine(day, at, NY).timestamp())


@pytest.fixture
async def yahoo() -> AsyncIterator[tuple[SimYahoo, httpx.AsyncClient]]:
    sim = await start_sim_yahoo(ShiftedClock(DEMO_START), history=daily_bars)
    async with httpx.AsyncClient(base_url=sim.url, trust_env=False) as client:
        yield sim, client
    await sim.server.stop()


async def chart(client: httpx.AsyncClient, **params: str | int) -> httpx.Response:
    return await client.get("/v8/finance/chart/^RUT", params={"interval": "1d", **params})


async def test_range_max_answers_the_whole_history(
    yahoo: tuple[SimYahoo, httpx.AsyncClient],
) -> None:
    _, client = yahoo
    resp = await chart(client, range="max")
    bars = parse_chart_bars(resp.json(), "^RUT")
    assert isinstance(bars, list) and len(bars) == len(daily_bars("^RUT"))
    assert resp.json()["chart"]["result"][0]["meta"]["range"] == "max"


async def test_a_period_answers_only_its_bars(yahoo: tuple[SimYahoo, httpx.AsyncClient]) -> None:
    _, client = yahoo
    every = daily_bars("^RUT")
    a, b = every[-5], every[-2]
    # From the day's midnight: that day's 09:30 bar is in; up to the last day's open.
    resp = await chart(client, period1=stamp(a.day, time(0)), period2=stamp(b.day))
    result = resp.json()["chart"]["result"][0]
    bars = parse_chart_bars(resp.json(), "^RUT")
    assert isinstance(bars, list) and [x.day for x in bars] == [x.day for x in every[-5:-1]]
    assert result["meta"]["range"] == ""
    assert result["meta"]["chartPreviousClose"] == float(every[-6].close)
    # A bar stamped after period1 only: the first day drops out.
    resp = await chart(client, period1=stamp(a.day) + 1, period2=stamp(b.day))
    bars = parse_chart_bars(resp.json(), "^RUT")
    assert isinstance(bars, list) and [x.day for x in bars] == [x.day for x in every[-4:-1]]


async def test_a_period_without_sessions_has_no_bars(
    yahoo: tuple[SimYahoo, httpx.AsyncClient],
) -> None:
    _, client = yahoo
    last = daily_bars("^RUT")[-1]
    resp = await chart(client, period1=stamp(last.day) + 60, period2=stamp(last.day) + 3600)
    result = resp.json()["chart"]["result"][0]
    assert resp.status_code == 200 and "timestamp" not in result
    assert result["indicators"]["quote"][0]["close"] == []
    assert parse_chart_bars(resp.json(), "^RUT") == []


async def test_a_period_ending_before_it_starts_is_refused(
    yahoo: tuple[SimYahoo, httpx.AsyncClient],
) -> None:
    _, client = yahoo
    resp = await chart(client, period1=2_000_000_000, period2=1_000_000_000)
    assert resp.status_code == 400 and resp.json()["chart"]["result"] is None
    resp = await chart(client, period1="soon")
    assert resp.status_code == 400
