"""The status bar: every source's state as a word, with the age of its last real data.
Ages keep counting (1 Hz) while data is frozen; no clock hides staleness."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.content import Content
from textual.widgets import Static

from feeds.health import SourceHealth
from feeds.model.core import FeedState
from widgets.format import age, countdown

SHORT = {
    "coinbase": "Coinbase",
    "kraken": "Kraken",
    "yahoo": "Yahoo",
    "cboe": "Cboe",
    "kalshi": "Kalshi",
    "polymarket": "Polymkt",
    "nyfed": "NYFed",
    "nyfed_web": "NYFed-web",
    "fred": "FRED",
}


def describe(h: SourceHealth | None, name: str, now_mono: float, wall_now: object) -> Content:
    """One source's status as styled words: ``Coinbase LIVE 2s``."""
    label = SHORT.get(name, name)
    if h is None:
        return Content.assemble(label + " ", ("CONNECTING", "italic"))
    state = h.state
    if state is FeedState.LIVE:
        when = h.last_data if h.last_data is not None else h.last_seen
        ago = age(now_mono - when) if when is not None else "no data yet"
        return Content.assemble(label + " ", ("LIVE", "bold $success"), f" {ago}")
    if state is FeedState.STALE:
        when = h.last_seen if h.last_seen is not None else h.since
        return Content.assemble(
            label + " ", ("STALE", "bold reverse $warning"), f" {age(now_mono - when)}"
        )
    detail = ""
    if state in (FeedState.RECONNECTING, FeedState.DOWN) and h.retry_at is not None:
        detail = f" {countdown(h.retry_at - now_mono)}"
    if state is FeedState.RATE_LIMITED and h.retry_at is not None:
        detail = f" for {age(h.retry_at - now_mono)}"
    if h.reason and state is not FeedState.CONNECTING:
        detail += f" ({h.reason})"
    if h.last_data is not None and state is not FeedState.CONNECTING:
        detail += f" · data {age(now_mono - h.last_data)} old"
    style = "bold $warning" if state is FeedState.RATE_LIMITED else "bold $error"
    if state is FeedState.CONNECTING:
        style = "italic"
    return Content.assemble(label + " ", (state.value, style), detail)


class StatusBar(Static):
    """Every source on one flowing line (two on narrow terminals), repainted only when
    a visible word or age changes."""

    DEFAULT_CSS = """
    StatusBar { height: auto; max-height: 3; }
    """

    def __init__(self, sources: Sequence[str], *, id: str | None = "status") -> None:
        super().__init__("", id=id, markup=False)
        self.sources = tuple(sources)
        self._health: Mapping[str, SourceHealth] = {}
        self._text = ""

    def show(self, health: Mapping[str, SourceHealth]) -> None:
        """New health data (called when the health topic changed)."""
        self._health = health

    def tick(self, now_mono: float, now_wall: object) -> None:
        """Repaint ages and states (1 Hz, and after ``show``)."""
        parts = [describe(self._health.get(n), n, now_mono, now_wall) for n in self.sources]
        content = Content("  ").join(parts)
        if content.plain != self._text:
            self._text = content.plain
            self.update(content)
        states = {h.state for h in self._health.values()}
        self.set_class(
            bool(states & {FeedState.DOWN, FeedState.RECONNECTING, FeedState.DEGRADED}), "-trouble"
        )
