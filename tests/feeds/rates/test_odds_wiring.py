"""The ``[fed]`` settings and the feed factory, end to end against the simulated market."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from feeds.core.clock import DEMO_START, ManualClock
from feeds.core.poll import PolledFeed, make_client
from feeds.core.store import Store
from feeds.model.fed import FomcMeeting
from feeds.rates.effr import FedTargetFeed
from feeds.rates.factory import build_fed_odds_feeds, make_fed_odds_slice
from feeds.rates.kalshi import KalshiFedFeed
from feeds.rates.polymarket import PolymarketFedFeed
from feeds.rates.settings import FedOddsSettings
from feeds.rates.state import FedOddsSlice
from feeds.rates.zq import YahooZqFeed
from feeds.sim.fed_rates import fed_rates_fred_series, register_effr_routes
from feeds.sim.fred import register_fred_routes
from feeds.sim.http import SimHttpServer
from feeds.sim.kalshi import start_sim_kalshi
from feeds.sim.polymarket import start_sim_polymarket


@pytest.mark.parametrize(
    ("kw", "key"),
    [
        ({"meetings_shown": 3}, "fed.meetings_shown"),
        ({"meetings_shown": 9}, "fed.meetings_shown"),
        ({"primary": "cme"}, "fed.primary"),
        ({"sum_low": 1.0}, "fed.sum_low"),
        ({"wide_spread": 0.0}, "fed.wide_spread"),
        ({"calendar": ("2026-02-30",)}, "fed.calendar"),
    ],
)
def test_bad_settings_name_the_key(kw: dict[str, object], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        FedOddsSettings(**kw)  # type: ignore[arg-type]


def test_calendar_override_replaces_the_packaged_one() -> None:
    s = FedOddsSettings(calendar=("2026-01-28", "2026-03-18*", "2026-05-06"))
    assert s.meetings()[1] == FomcMeeting(date(2026, 3, 18), True)
    assert len(FedOddsSettings().meetings()) == 24


async def test_factory_builds_four_feeds_or_three_without_zq() -> None:
    clock = ManualClock(DEMO_START)
    async with make_client() as client:
        args = ("http://k", "http://p", "http://n", "http://f", "http://y", client, clock)
        feeds = build_fed_odds_feeds(FedOddsSettings(), *args)
        assert [type(f) for f in feeds] == [
            KalshiFedFeed,
            PolymarketFedFeed,
            FedTargetFeed,
            YahooZqFeed,
        ]
        assert [f.source for f in feeds] == ["kalshi", "polymarket", "fed_target", "yahoo_zq"]
        assert len(build_fed_odds_feeds(FedOddsSettings(zq_enabled=False), *args)) == 3
        zq = feeds[3]
        assert isinstance(zq, YahooZqFeed) and zq.last_meeting() == date(
            2026, 9, 16
        )  # sixth meeting


async def _drain(feed: PolledFeed, store: Store, until: asyncio.Event) -> None:
    async for event in feed.events():
        store.apply(event)
        if until.is_set():
            break


async def run_demo_market() -> tuple[FedOddsSlice, ManualClock]:
    """The feeds against the simulated market until the panel has its figures
    (tests/tui/test_snapshot_json.py encodes the same run)."""
    clock = ManualClock(DEMO_START)
    kalshi = await start_sim_kalshi(clock)
    poly = await start_sim_polymarket(clock)
    nyfed = SimHttpServer("nyfed")
    register_effr_routes(nyfed, clock)
    fred = SimHttpServer("fred")
    register_fred_routes(fred, fed_rates_fred_series(clock))
    yahoo = SimHttpServer("yahoo")  # no ZQ routes: every month "Not Found"
    for server in (nyfed, fred, yahoo):
        await server.start(0)
    settings = FedOddsSettings(meetings_shown=8)
    slice_ = make_fed_odds_slice(settings, clock)
    store = Store([slice_])
    done = asyncio.Event()
    try:
        async with make_client() as client:
            feeds = build_fed_odds_feeds(
                settings, kalshi.url, poly.url, nyfed.url, fred.url, yahoo.url, client, clock
            )
            for f in feeds:
                if isinstance(f, YahooZqFeed):
                    f.spacing = 0.0
            tasks = [asyncio.create_task(_drain(f, store, done)) for f in feeds]
            for _ in range(200):
                await asyncio.sleep(0.02)
                view = slice_.view()
                states = {s.source: s.state for s in view.sources}
                if view.cum_bp is not None and view.target and states["yahoo_zq"] != "CONNECTING":
                    break
            done.set()
            for f in feeds:
                await f.aclose()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for server in (kalshi.server, poly.server, nyfed, fred, yahoo):
            await server.stop()
    return slice_, clock


async def test_demo_market_gives_a_plausible_panel() -> None:
    """The feeds against the simulated market: odds for the 2026 meetings, 3.50-3.75%,
    about -50 bp priced, and ZQ visibly unavailable (the sim Yahoo has no contracts)."""
    slice_, _ = await run_demo_market()
    view = slice_.view()
    assert view.target is not None and (str(view.target.lower), str(view.target.upper)) == (
        "3.5",
        "3.75",
    )
    assert len(view.rows) == 8 and view.rows[-1].meeting.decision == date(2026, 12, 9)
    assert view.cum_bp == pytest.approx(-50, abs=6)
    states = {s.source: s.state for s in view.sources}
    assert states == {
        "kalshi": "LIVE",
        "polymarket": "LIVE",
        "fed_target": "LIVE",
        "yahoo_zq": "DEGRADED",
    }
    assert any(n.startswith("FedWatch unavailable") for n in view.notes)
