"""The whole app: Pilot tests against the simulated market on loopback, and a
deterministic snapshot with frozen data and a frozen clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from feeds.core.clock import DEMO_START, ManualClock, ShiftedClock
from feeds.model import FeedState, FeedStatus, Heartbeat, Tick
from feeds.sim.market import SimMarket, start_market
from tui.app import LockstepApp
from tui.config import Settings, with_endpoints
from tui.runtime import Runtime, build_runtime
from widgets.btc_panel import BtcPanel
from widgets.cells import Cell


@pytest.fixture
async def market() -> AsyncIterator[SimMarket]:
    m = await start_market(ShiftedClock(DEMO_START), btc_rate=10.0)
    yield m
    await m.stop()


def live_runtime(market: SimMarket, tmp_path: Path, **btc: Any) -> Runtime:
    settings = with_endpoints(Settings(), **market.endpoints)
    if btc:
        import dataclasses

        settings = dataclasses.replace(settings, btc=dataclasses.replace(settings.btc, **btc))
    return build_runtime(settings, ShiftedClock(DEMO_START), demo=True, data=tmp_path)


async def wait_until(pilot: Any, cond: Callable[[], bool], timeout: float = 8.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            pytest.fail("condition not met in time")
        await pilot.pause(0.05)


def text(app: LockstepApp, selector: str) -> str:
    return str(app.query_one(selector).render())


async def test_price_appears_with_venue_and_age(market: SimMarket, tmp_path: Path) -> None:
    app = LockstepApp(live_runtime(market, tmp_path), watch_terminal=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: text(app, "#btc-price").startswith("$"))
        # Kraken may answer first; the primary takes over as soon as it is live.
        await wait_until(pilot, lambda: "via Coinbase" in text(app, "#btc-venue"))
        await pilot.pause(1.1)  # the 1 Hz age tick
        panel = app.query_one(BtcPanel)
        assert str(panel.border_subtitle) == "LIVE"
        assert text(app, "#btc-age").startswith("· ")  # the age counts inside the panel
        assert "DEMO" in text(app, "#demo-badge")
        status = text(app, "#status")
        assert "Coinbase LIVE" in status and "Kraken LIVE" in status
        await app.action_quit()


async def test_cutting_coinbase_fails_over_to_kraken_and_back(
    market: SimMarket, tmp_path: Path
) -> None:
    runtime = live_runtime(market, tmp_path, failback_after=1.0)
    app = LockstepApp(runtime, watch_terminal=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: "via Coinbase" in text(app, "#btc-venue"))
        await market.cut("coinbase_ws")
        await wait_until(pilot, lambda: "via Kraken" in text(app, "#btc-venue"))
        assert "failover" in text(app, "#btc-venue")
        await wait_until(pilot, lambda: "Coinbase RECONNECTING" in text(app, "#status"))
        await market.restore("coinbase_ws")
        await wait_until(pilot, lambda: "via Coinbase" in text(app, "#btc-venue"), 10)
        await app.action_quit()


@pytest.mark.parametrize("size", [(30, 10), (39, 30), (100, 11)])
async def test_t2_too_small_screen_says_what_is_needed(
    market: SimMarket, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = LockstepApp(live_runtime(market, tmp_path), watch_terminal=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert app.screen.has_class("-too-small")
        assert "need 40×12" in text(app, "#too-small")
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert not app.screen.has_class("-too-small")
        await app.action_quit()


async def test_t1_resize_storm_survives(market: SimMarket, tmp_path: Path) -> None:
    app = LockstepApp(live_runtime(market, tmp_path), watch_terminal=False)
    async with app.run_test(size=(120, 40)) as pilot:
        for i in range(60):
            w, h = 20 + (i * 37) % 280, 5 + (i * 13) % 95
            await pilot.resize_terminal(w, h)
        await pilot.resize_terminal(100, 30)
        await wait_until(pilot, lambda: text(app, "#btc-price").startswith("$"))
        assert not app.screen.has_class("-too-small")
        await app.action_quit()


async def test_w19_both_venues_down_keeps_the_rest_working(
    market: SimMarket, tmp_path: Path
) -> None:
    app = LockstepApp(live_runtime(market, tmp_path), watch_terminal=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: text(app, "#btc-price").startswith("$"))
        # Yahoo answers before the cut (on a loaded machine its first poll can take a
        # while), so what follows shows that losing both venues leaves it LIVE.
        await wait_until(pilot, lambda: "Yahoo LIVE" in text(app, "#status"))
        await market.cut("coinbase_ws")
        await market.cut("kraken_ws")
        await wait_until(pilot, lambda: "Kraken RECONNECTING" in text(app, "#status"))
        assert text(app, "#btc-price").startswith("$")  # last price kept ...
        await pilot.pause(1.1)
        subtitle = str(app.query_one(BtcPanel).border_subtitle)
        assert "RECONNECTING" in subtitle or "STALE" in subtitle  # ... never shown as fresh
        assert "Yahoo LIVE" in text(app, "#status")  # other panels unaffected
        await pilot.press("r")  # keys still answer
        await app.action_quit()


def frozen_app(tmp_path: Path) -> tuple[LockstepApp, Callable[[], None]]:
    """The app with no feeds, a frozen clock, and a function that applies a fixed BTC
    state (run it on the app's loop: the history writer needs one)."""
    clock = ManualClock(start=datetime(2025, 12, 12, 15, 25, tzinfo=UTC), mono=5000.0)
    runtime = build_runtime(Settings(), clock, demo=True, data=tmp_path)
    runtime.feeds = []
    return LockstepApp(runtime, watch_terminal=False), lambda: seed(runtime, clock)


def seed(runtime: Runtime, clock: ManualClock) -> None:
    store = runtime.store
    now = clock.monotonic()
    for venue in ("coinbase", "kraken"):
        store.apply(FeedStatus(venue, FeedState.LIVE, "", now - 30))
        store.apply(Heartbeat(venue, now - 1))
    store.apply(FeedStatus("yahoo", FeedState.DOWN, "connection refused", now - 20, now + 40))
    for i, px in enumerate(("92101.50", "92110.25", "92104.17")):
        store.apply(
            Tick(
                "coinbase",
                Decimal(px),
                Decimal(px) - Decimal("0.01"),
                Decimal(px) + Decimal("0.01"),
                Decimal("92800.00"),
                Decimal("93914.00"),
                Decimal("90718.00"),
                Decimal("8123.4"),
                # One a minute, each stamped as it arrives (no feed lag: not DELAYED).
                datetime(2025, 12, 12, 15, 23 + i, tzinfo=UTC),
                1000 + i,
                now - 120 + 60 * i,
            )
        )


def test_snapshot_frozen_dashboard(snap_compare: Any, tmp_path: Path) -> None:
    app, apply = frozen_app(tmp_path)

    async def run_before(pilot: Any) -> None:
        apply()
        app._paint()
        app._tick()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


async def test_a_panel_not_composed_yet_is_painted_on_a_later_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a loaded machine the paint timer can fire before a panel has composed its
    # children; the query inside the panel then fails. That must not end the app.
    from textual.css.query import NoMatches

    from widgets.btc_panel import BtcPanel as Panel

    app, apply = frozen_app(tmp_path)
    calls: list[str] = []
    real_show = Panel.show

    def show(self: Panel, view: Any) -> None:
        calls.append("show")
        if len(calls) == 1:
            raise NoMatches("No nodes match '#btc-price'")
        real_show(self, view)

    monkeypatch.setattr(Panel, "show", show)
    async with app.run_test(size=(120, 40)) as pilot:
        apply()
        await wait_until(pilot, lambda: text(app, "#btc-price").startswith("$92,104.17"))
        # The first show failed; a later frame painted the same topic again.
        assert len(calls) >= 2 and app.is_running


async def test_a_symbol_added_from_the_palette_gets_its_all_time_high_without_a_restart(
    market: SimMarket, tmp_path: Path
) -> None:
    """``add ^NDX`` in the palette: its quote row, and its all-time-high row with the high
    from its Yahoo history, appear while the app runs (they used to wait for a restart);
    ``remove ^NDX`` takes both away."""
    from dataclasses import replace

    from feeds.history.ath_state import AthSlice
    from widgets.ath_panel import AthPanel

    settings = with_endpoints(Settings(), **market.endpoints)
    watch = tuple(s for s in settings.quotes.watchlist if s != "^NDX")
    settings = replace(settings, quotes=replace(settings.quotes, watchlist=watch))
    runtime = build_runtime(settings, ShiftedClock(DEMO_START), demo=True, data=tmp_path)
    app = LockstepApp(runtime, watch_terminal=False)
    ath = runtime.store.slice("ath", AthSlice)

    def ndx_high() -> Decimal | None:
        row = ath.view().row("^NDX")
        return None if row is None or row.record is None else row.record.high

    def ndx_feeds() -> int:
        """Running history feeds for ^NDX alone (the ones its addition started)."""
        from feeds.history.backfill import YahooHistoryFeed

        return sum(
            isinstance(f, YahooHistoryFeed) and list(f.symbols) == ["^NDX"] for f in runtime.feeds
        )

    def ath_lines() -> list[str]:
        rows = app.query_one(AthPanel).query(".ath-row").results(Cell)
        return [line.text for line in rows if line.display]

    async with app.run_test(size=(200, 60)) as pilot:
        await wait_until(pilot, lambda: any(t.startswith("^GSPC") for t in ath_lines()))
        assert ath.view().row("^NDX") is None
        assert not any(t.startswith("^NDX") for t in ath_lines())
        app.add_symbol("^NDX")
        await wait_until(pilot, lambda: ndx_high() is not None, timeout=20)
        high = ndx_high()
        # The high is the one in the simulated market's ^NDX history.
        from feeds.sim.history_data import daily_bars

        bars = daily_bars("^NDX")  # what the simulated Yahoo serves
        assert high == max(Decimal(str(b.high)) for b in bars)
        await wait_until(pilot, lambda: any(t.startswith("^NDX") for t in ath_lines()))
        symbols = [t.split()[0] for t in ath_lines()]
        assert symbols[symbols.index("^NDX") - 1] == watch[-1]  # in the watchlist's order

        def ndx_live() -> bool:
            row = ath.view().row("^NDX")
            return row is not None and row.price_received is not None

        # Its row takes the quotes panel's live price (the slice that shows quotes now,
        # not the one built at start, which never had ^NDX).
        await wait_until(pilot, ndx_live, timeout=20)
        assert ndx_feeds() == 1
        app.remove_symbol("^NDX")
        await wait_until(pilot, lambda: not any(t.startswith("^NDX") for t in ath_lines()))
        assert ath.view().row("^NDX") is None
        assert ndx_feeds() == 0  # its history feed stopped with it
        for _ in range(3):  # add and remove again: the feeds do not pile up
            app.add_symbol("^NDX")
            assert ndx_feeds() == 1
            await pilot.pause()
            app.remove_symbol("^NDX")
            assert ndx_feeds() == 0
        app.add_symbol("^NDX")  # back at once, in its place, with its high
        await wait_until(pilot, lambda: any(t.startswith("^NDX") for t in ath_lines()))
        symbols = [t.split()[0] for t in ath_lines()]
        assert symbols.count("^NDX") == 1
        assert symbols[symbols.index("^NDX") - 1] == watch[-1]
        await app.action_quit()


async def test_a_hub_terminal_starts_no_feed_of_its_own_for_a_watchlist_change(
    tmp_path: Path,
) -> None:
    """A terminal on the desk hub: the palette refuses watchlist edits (the hub's list is
    the desk's) and a config reload of [quotes] rebuilds the rows without starting a
    Yahoo or Cboe feed here (it used to: the traffic the hub exists to save)."""
    from dataclasses import replace

    runtime = build_runtime(Settings(), ManualClock(start=DEMO_START), demo=True, data=tmp_path)
    runtime.feeds = []
    runtime.via_hub = True
    app = LockstepApp(runtime, watch_terminal=False)
    async with app.run_test(size=(120, 40)) as pilot:
        before = app.watchlist()
        app.add_symbol("NVDA")
        app.remove_symbol("IWM")
        await pilot.pause()
        assert app.watchlist() == before and runtime.feeds == []
        quotes = replace(app.settings.quotes, watchlist=(*before, "NVDA"))
        assert app._apply_settings(replace(app.settings, quotes=quotes))
        await pilot.pause()
        assert app.watchlist()[-1] == "NVDA" and runtime.feeds == []
        from feeds.history.ath_state import AthSlice

        assert "NVDA" in runtime.store.slice("ath", AthSlice).symbols()  # rows follow
        await app.action_quit()


async def test_an_alert_rule_edit_keeps_the_alerts_panel_history(tmp_path: Path) -> None:
    """A live [alerts] edit (a config reload) rebuilds the rules; the panel still lists
    what fired before (it used to go blank)."""
    from dataclasses import replace

    from feeds.model.alerts import AlertKind, FiredAlert
    from widgets.alerts_panel import AlertsPanel

    settings = Settings()
    settings = replace(settings, alerts=replace(settings.alerts, rules=("btc above 90000",)))
    runtime = build_runtime(settings, ManualClock(start=DEMO_START), demo=True, data=tmp_path)
    runtime.feeds = []
    app = LockstepApp(runtime, watch_terminal=False)
    async with app.run_test(size=(120, 40)) as pilot:
        fired = FiredAlert(
            "btc above 90000", AlertKind.ABOVE, "BTC-USD", "BTC-USD 92,100.00 is above 90,000",
            "92,100.00", "coinbase", True, DEMO_START, 1000.0,
        )  # fmt: skip
        app._alerts.engine.history.appendleft(fired)
        rules = ("btc above 90000", "btc below 80000")
        assert app._apply_settings(
            replace(app.settings, alerts=replace(settings.alerts, rules=rules))
        )
        await pilot.pause()
        assert app._alerts.view().rules == rules
        assert app._alerts.view().alerts == (fired,)
        shown = app.query_one(AlertsPanel)._view
        assert shown is not None and shown.alerts == (fired,)
        await app.action_quit()
