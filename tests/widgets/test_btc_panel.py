"""The BTC panel's status line carries the BTC view's timing words (reliability.md W15,
D7): DELAYED with the lag, or the clock-skew hint; the panel works neither out itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from textual.app import App, ComposeResult

from feeds.btc.state import BtcSlice
from feeds.core.clock import ManualClock
from feeds.model.btc import Tick
from feeds.model.core import FeedState, FeedStatus
from widgets.btc_panel import BtcPanel

WALL = datetime(2025, 12, 12, 15, 25, tzinfo=UTC)
MONO = 1000.0


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield BtcPanel(flash=False, sparkline=False)


def stamped(seconds_before_receipt: float) -> BtcSlice:
    """A BTC slice whose one tick the venue stamped that long before it arrived."""
    clock = ManualClock(WALL, mono=MONO)
    btc = BtcSlice(("coinbase",), clock=clock)
    btc.apply(FeedStatus("coinbase", FeedState.LIVE, "", MONO))
    when = WALL - timedelta(seconds=seconds_before_receipt)
    btc.apply(Tick("coinbase", Decimal(92100), None, None, None, None, None, None, when, 1, MONO))
    btc.refresh(MONO)
    return btc


async def status_line(btc: BtcSlice) -> str:
    app = Host()
    async with app.run_test(size=(100, 12)) as pilot:
        panel = app.query_one(BtcPanel)
        panel.show(btc.view())
        panel.tick(MONO + 0.5, WALL)
        await pilot.pause()
        return str(panel.border_subtitle)


async def test_w15_a_lagging_feed_says_delayed_with_the_lag() -> None:
    assert await status_line(stamped(0.2)) == "LIVE"
    assert await status_line(stamped(3.25)) == "DELAYED 3.2s · LIVE"


async def test_d7_a_venue_clock_ahead_shows_the_clock_skew_hint() -> None:
    line = await status_line(stamped(-120.0))
    assert line == "clock skew: source time 120 s ahead · LIVE"


def drawn_ages(panel: BtcPanel) -> list[str]:
    """Every text the panel's age cell is set to from now on, in order."""
    drawn: list[str] = []
    cell = panel._cell("btc-age")
    real_set = cell.set

    def counted(content: str) -> None:
        drawn.append(content)
        real_set(content)

    cell.set = counted  # type: ignore[assignment,method-assign]
    return drawn


async def test_a_second_that_changes_no_age_draws_nothing_and_staleness_still_shows() -> None:
    """Idle CPU: the age goes in 5 s steps, then by the minute, so most
    1 Hz ticks draw nothing; a tick whose age reads differently draws it, and a new
    view (the BTC slice's STALE) is drawn at its first tick."""
    btc = stamped(0.2)
    app = Host()
    async with app.run_test(size=(100, 12)) as pilot:
        panel = app.query_one(BtcPanel)
        panel.show(btc.view())
        drawn = drawn_ages(panel)
        for s in range(60, 120):  # one minute: "1m" all along
            panel.tick(MONO + s, WALL)
        assert drawn == ["· 1m"]
        panel.tick(MONO + 120, WALL)
        assert drawn == ["· 1m", "· 2m"]
        btc.refresh(MONO + 121)  # past the staleness limit: a new view
        panel.show(btc.view())
        panel.tick(MONO + 121, WALL)
        await pilot.pause()
        assert str(panel.border_subtitle) == "STALE"
        assert panel.has_class("-stale")


async def test_the_age_goes_in_five_second_steps_from_the_first_second() -> None:
    """Issue 17: no age costs a repaint a second. A paused stream's age reads `<5s` for
    its first five seconds (it counted 0s, 1s, 2s … before), never younger than it is."""
    btc = stamped(0.2)
    app = Host()
    async with app.run_test(size=(100, 12)):
        panel = app.query_one(BtcPanel)
        panel.show(btc.view())
        drawn = drawn_ages(panel)
        for s in range(0, 12):
            panel.tick(MONO + s, WALL)
        assert drawn == ["· <5s", "· 5s", "· 10s"]


class FlashHost(App[None]):
    def compose(self) -> ComposeResult:
        yield BtcPanel(flash=True, sparkline=False)


def priced(btc: BtcSlice, price: int, at: float) -> None:
    btc.apply(Tick("coinbase", Decimal(price), None, None, None, None, None, None, None, 1, at))
    btc.refresh(at)


async def test_the_price_flashes_its_direction_with_one_timer_for_a_run_of_changes() -> None:
    """A busy stream changes the price every frame: the flash follows the direction of
    each change and one timer serves the whole run (a new timer per frame was a task
    created and cancelled ten times a second); once the price is still, it clears."""
    app = FlashHost()
    clock = ManualClock(WALL, mono=MONO)
    btc = BtcSlice(("coinbase",), clock=clock)
    btc.apply(FeedStatus("coinbase", FeedState.LIVE, "", MONO))
    async with app.run_test(size=(100, 12)) as pilot:
        panel = app.query_one(BtcPanel)
        price = panel._cell("btc-price")
        timers = 0
        set_timer = panel.set_timer

        def counted(*args: object, **kwargs: object) -> object:
            nonlocal timers
            timers += 1
            return set_timer(*args, **kwargs)  # type: ignore[arg-type]

        panel.set_timer = counted  # type: ignore[method-assign,assignment]
        priced(btc, 92100, MONO)
        panel.show(btc.view())
        assert not price.has_class("-up") and not price.has_class("-downtick")  # no change yet
        for i in range(1, 11):
            priced(btc, 92100 + i, MONO + i * 0.1)
            panel.show(btc.view())
            assert price.has_class("-up") and not price.has_class("-downtick")
        priced(btc, 92000, MONO + 1.2)
        panel.show(btc.view())
        assert price.has_class("-downtick") and not price.has_class("-up")
        assert timers == 1
        await pilot.pause(2 * BtcPanel.FLASH_SECONDS + 0.3)
        assert not price.has_class("-up") and not price.has_class("-downtick")
        priced(btc, 92001, MONO + 5.0)
        panel.show(btc.view())  # a later change flashes again, with a new timer
        assert price.has_class("-up") and timers == 2
