"""The Fed rate-odds feeds and slice, built from the ``[fed]`` settings."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from feeds.core.clock import Clock
from feeds.rates.calendar import upcoming
from feeds.rates.settings import FedOddsSettings
from feeds.rates.state import ALL_SOURCES, FedOddsSlice, stale_threshold

if TYPE_CHECKING:
    import httpx

    from feeds.core.poll import PolledFeed


def build_fed_odds_feeds(
    settings: FedOddsSettings,
    kalshi_url: str,
    polymarket_url: str,
    nyfed_url: str,
    fred_url: str,
    yahoo_url: str,
    client: httpx.AsyncClient,
    clock: Clock,
) -> list[PolledFeed]:
    """The panel's feeds: Kalshi, Polymarket, the target range and (optionally) the ZQ
    probe. Source names: ``kalshi``, ``polymarket``, ``fed_target``, ``yahoo_zq``."""
    # The feed modules load with the feeds, not with the app (bench B8 imports).
    from feeds.rates.effr import FedTargetFeed
    from feeds.rates.kalshi import KalshiFedFeed
    from feeds.rates.polymarket import PolymarketFedFeed
    from feeds.rates.zq import YahooZqFeed

    meetings = settings.meetings()
    checks = settings.checks()
    feeds: list[PolledFeed] = [
        KalshiFedFeed(
            kalshi_url,
            client=client,
            clock=clock,
            meetings=meetings,
            checks=checks,
            every=settings.kalshi_interval,
        ),
        PolymarketFedFeed(
            polymarket_url,
            client=client,
            clock=clock,
            meetings=meetings,
            checks=checks,
            every=settings.polymarket_interval,
        ),
        FedTargetFeed(
            nyfed_url, fred_url, client=client, clock=clock, every=settings.target_interval
        ),
    ]
    if settings.zq_enabled:

        def last_meeting() -> date | None:
            ahead = upcoming(meetings, clock.now())[: settings.meetings_shown]
            return ahead[-1].decision if ahead else None

        feeds.append(
            YahooZqFeed(
                yahoo_url,
                client=client,
                clock=clock,
                last_meeting=last_meeting,
                every=settings.zq_interval,
            )
        )
    return feeds


def make_fed_odds_slice(settings: FedOddsSettings, clock: Clock) -> FedOddsSlice:
    """The ``fed_odds`` store slice. Inject yesterday's numbers later with
    ``slice.set_baseline(mapping)``; persist ``slice.headline()`` once a day."""
    sources = (
        ALL_SOURCES if settings.zq_enabled else tuple(s for s in ALL_SOURCES if s != "yahoo_zq")
    )
    intervals = (
        ("kalshi", settings.kalshi_interval),
        ("polymarket", settings.polymarket_interval),
        ("fed_target", settings.target_interval),
        ("yahoo_zq", settings.zq_interval),
    )
    # The same thresholds the health slice is given (tui.runtime), from the one function:
    # the status bar and the Fed panel turn STALE at the same moment.
    thresholds = {name: stale_threshold(name, every) for name, every in intervals}
    return FedOddsSlice(
        calendar=settings.meetings(),
        thresholds=thresholds,
        clock=clock,
        shown=settings.meetings_shown,
        primary=settings.primary,
        target_stale_after=max(3 * settings.target_interval, 3600.0),
        horizon_days=settings.horizon_days,
        late_days=settings.late_meeting_days,
        sources=sources,
    )
