"""The T-bill purchase feeds and slice, built from the ``[tbills]`` settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from feeds.core.clock import Clock
from feeds.tbills.settings import TbillsSettings
from feeds.tbills.state import TbillsSlice

if TYPE_CHECKING:
    import httpx

    from feeds.core.poll import PolledFeed


def build_tbills_feeds(
    settings: TbillsSettings,
    nyfed_url: str,
    nyfed_web_url: str,
    fred_url: str,
    client: httpx.AsyncClient,
    clock: Clock,
) -> list[PolledFeed]:
    """The NY Fed API feed, the schedule page feed and (optionally) the FRED feed."""
    if not settings.enabled:
        return []
    # The feed modules load with the feeds, not with the app (bench B8 imports).
    from feeds.tbills.fred import FredSeriesFeed
    from feeds.tbills.nyfed import NyFedTsyFeed
    from feeds.tbills.schedule import NyFedScheduleFeed

    feeds: list[PolledFeed] = [
        NyFedTsyFeed(
            nyfed_url,
            client=client,
            clock=clock,
            last_n=settings.last_n,
            program_start=settings.start_date,
            active_interval=settings.active_poll_s,
            idle_interval=settings.idle_poll_s,
            spacing=settings.request_spacing_s,
        ),
        NyFedScheduleFeed(
            nyfed_web_url,
            client=client,
            clock=clock,
            every=settings.schedule_poll_s,
            due_day_every=min(900.0, settings.schedule_poll_s),
        ),
    ]
    if settings.show_liquidity and settings.liquidity_series:
        feeds.append(
            FredSeriesFeed(
                fred_url,
                settings.liquidity_series,
                client=client,
                clock=clock,
                every=settings.fred_poll_s,
                spacing=settings.request_spacing_s,
                keep=10,
            )
        )
    return feeds


def make_tbills_slice(settings: TbillsSettings, clock: Clock) -> TbillsSlice:
    """The store slice (topic ``"tbills"``)."""
    return TbillsSlice(
        clock,
        program_start=settings.start_date,
        last_n=settings.last_n,
        active_stale_after=settings.stale_after_s,
        idle_stale_after=max(settings.stale_after_s, 3 * settings.idle_poll_s),
        results_late_after=settings.results_late_after_s,
        liquidity=settings.liquidity_series if settings.show_liquidity else (),
    )
