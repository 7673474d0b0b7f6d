"""The status bar's tick: a second in which no source's words change rebuilds nothing."""

from __future__ import annotations

from textual.app import App, ComposeResult

from feeds.model.core import FeedState, SourceHealth
from widgets.status_bar import StatusBar

SOURCES = ("coinbase", "kraken", "yahoo")


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusBar(SOURCES)


def live(name: str, at: float) -> SourceHealth:
    return SourceHealth(name, FeedState.LIVE, "", at, None, at, at, 0, 1)


async def test_an_unchanged_second_rebuilds_nothing_and_a_changed_one_repaints() -> None:
    app = Host()
    async with app.run_test(size=(120, 5)) as pilot:
        bar = app.query_one(StatusBar)
        bar.show({n: live(n, 100.0) for n in SOURCES})
        bar.tick(101.0, None)
        await pilot.pause()
        content, painted = bar._content, bar.repainted
        bar.tick(130.0, None)  # still "<1m" for every source
        assert bar._content is content and bar.repainted == painted
        bar.tick(161.0, None)  # every age turns "1m"
        assert bar._content is not content and bar.repainted > painted
        assert bar._text.count("LIVE  1m") == len(SOURCES)
