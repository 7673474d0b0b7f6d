"""What the prediction-market feeds (Kalshi, Polymarket) share: the meetings they
price, the sanity checks their prices must pass, and a fixed poll period."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from feeds.core.clock import Clock
from feeds.core.poll import PolledFeed, PollTiming
from feeds.model.fed import FomcMeeting
from feeds.rates.odds_checks import MarketChecks


class MarketOddsFeed(PolledFeed):
    """Base for a source of per-meeting Fed decision odds."""

    default_every = 60.0
    """Poll period when none is configured, seconds."""

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient,
        clock: Clock,
        meetings: Sequence[FomcMeeting],
        checks: MarketChecks | None = None,
        every: float | None = None,
        timing: PollTiming | None = None,
    ) -> None:
        super().__init__(client=client, clock=clock, timing=timing)
        self.base_url = base_url.rstrip("/")
        self.meetings = tuple(meetings)
        self.checks = checks or MarketChecks()
        self.every = every if every is not None else self.default_every

    def interval(self) -> float:
        """Seconds between polls: markets move slowly next to the venues' rate limits."""
        return self.every
