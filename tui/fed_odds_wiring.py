"""Wiring for the Fed odds panel: the ``[fed]`` settings, the feed factory, the slice
factory and the ``snapshot --json`` section."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from feeds.core.clock import Clock
from feeds.model.fed import FomcMeeting
from feeds.rates.calendar import CalendarError, load_calendar, parse_override, upcoming
from feeds.rates.odds_checks import MarketChecks
from feeds.rates.state import ALL_SOURCES, ODDS_SOURCES, FedOddsSlice

if TYPE_CHECKING:
    import httpx

    from feeds.core.poll import PolledFeed


@dataclass(frozen=True, slots=True)
class FedOddsSettings:
    """The ``[fed]`` table of the config file."""

    primary: str = "kalshi"
    """Headline odds source: ``"kalshi"`` (default) or ``"polymarket"``; the other one is
    the fallback per meeting and the cross-check column."""
    meetings_shown: int = 6
    """How many upcoming meetings the panel lists (4 to 8)."""
    kalshi_interval: float = 60.0
    """Seconds between Kalshi polls (its basic tier allows 20 reads/s; be gentle)."""
    polymarket_interval: float = 120.0
    """Seconds between Polymarket Gamma polls."""
    target_interval: float = 1800.0
    """Seconds between target-range polls (NY Fed EFFR, FRED fallback)."""
    zq_enabled: bool = True
    """Probe Yahoo for per-month ZQ futures prices and show the FedWatch-method column."""
    zq_interval: float = 300.0
    """Seconds between ZQ probes while Yahoo answers; 30 minutes while it does not."""
    stale_after: float = 900.0
    """Odds older than this many seconds are marked STALE and lose to fresher ones."""
    wide_spread: float = 0.06
    """A bid/ask spread wider than this (dollars) on an outcome that matters flags WIDE."""
    thin_volume: float = 500.0
    """A meeting whose outcome markets traded fewer contracts than this is flagged THIN."""
    sum_low: float = 0.9
    """Outcome prices summing below this are junk: the meeting leaves the headline."""
    sum_high: float = 1.15
    """Outcome prices summing above this are junk (Kalshi's normal overround is ~1.02)."""
    horizon_days: int = 365
    """The window for the cumulative "bp priced" figure."""
    late_meeting_days: int = 3
    """FedWatch method: a meeting with this many post-meeting days or fewer in its month
    takes its end rate from the next month's contract."""
    calendar: tuple[str, ...] = ()
    """Override the packaged FOMC calendar: decision dates ``"YYYY-MM-DD"``, with a
    ``"*"`` suffix for meetings with projections (``"2026-03-18*"``). Empty = packaged."""

    def __post_init__(self) -> None:
        if self.primary not in ODDS_SOURCES:
            raise ValueError(f"fed.primary: must be one of {', '.join(ODDS_SOURCES)}")
        if not 4 <= self.meetings_shown <= 8:
            raise ValueError("fed.meetings_shown: must be between 4 and 8")
        for name in ("kalshi_interval", "polymarket_interval", "target_interval", "zq_interval"):
            if not 5.0 <= getattr(self, name) <= 86_400.0:
                raise ValueError(f"fed.{name}: must be between 5 and 86400 seconds")
        if not 0 < self.wide_spread < 1:
            raise ValueError("fed.wide_spread: must be between 0 and 1")
        if self.thin_volume < 0:
            raise ValueError("fed.thin_volume: must not be negative")
        if not 0 < self.sum_low < 1 < self.sum_high < 2:
            raise ValueError("fed.sum_low/sum_high: need 0 < sum_low < 1 < sum_high < 2")
        if not 30 <= self.horizon_days <= 730:
            raise ValueError("fed.horizon_days: must be between 30 and 730")
        if not 0 <= self.late_meeting_days <= 10:
            raise ValueError("fed.late_meeting_days: must be between 0 and 10")
        if self.stale_after <= 0:
            raise ValueError("fed.stale_after: must be positive")
        if self.calendar:
            try:
                parse_override(self.calendar)
            except CalendarError as exc:
                raise ValueError(f"fed.calendar: {exc}") from exc

    def meetings(self) -> tuple[FomcMeeting, ...]:
        """The calendar in use: the override when given, else the packaged one."""
        return parse_override(self.calendar) if self.calendar else load_calendar()

    def checks(self) -> MarketChecks:
        """The market thresholds for the parsers."""
        return MarketChecks(
            sum_low=self.sum_low,
            sum_high=self.sum_high,
            wide_spread=self.wide_spread,
            thin_volume=self.thin_volume,
        )


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
    return FedOddsSlice(
        calendar=settings.meetings(),
        clock=clock,
        shown=settings.meetings_shown,
        primary=settings.primary,
        stale_after=settings.stale_after,
        target_stale_after=max(3 * settings.target_interval, 3600.0),
        horizon_days=settings.horizon_days,
        late_days=settings.late_meeting_days,
        sources=sources,
    )


def _num(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def fed_odds_snapshot_json(slice_: FedOddsSlice, now_mono: float) -> dict[str, Any]:
    """The odds as plain JSON-ready data for ``lockstep snapshot --json``."""
    view = slice_.view()
    target = view.target
    return {
        "target_range": None
        if target is None
        else {
            "lower": str(target.lower),
            "upper": str(target.upper),
            "effr": None if target.effr is None else str(target.effr),
            "as_of": target.as_of.isoformat(),
            "source": target.origin,
            "age_s": round(now_mono - target.received, 1),
        },
        "next_decision": None if view.next_decision is None else view.next_decision.isoformat(),
        "primary": view.primary,
        "meetings": [
            {
                "date": r.meeting.decision.isoformat(),
                "sep": r.meeting.sep,
                "p_cut": _num(r.p_cut),
                "p_hold": _num(r.p_hold),
                "p_hike": _num(r.p_hike),
                "likely_range": None
                if r.likely_lower is None or r.likely_upper is None
                else f"{r.likely_lower:.2f}-{r.likely_upper:.2f}",
                "likely_p": _num(r.likely_p),
                "likely_method": r.likely_method or None,
                "expected_bp": _num(r.expected_bp, 1),
                "source": r.source or None,
                "age_s": None if r.received is None else round(now_mono - r.received, 1),
                "spread": None if r.spread is None else str(r.spread),
                "flags": list(r.flags),
                "cross_check_p_cut": _num(r.cross_p_cut),
                "fedwatch_p_cut": _num(r.fedwatch_p_cut),
                "p_cut_vs_yesterday": _num(r.delta_p_cut),
            }
            for r in view.rows
        ],
        "cumulative": {
            "bp": _num(view.cum_bp, 1),
            "by": None if view.cum_by is None else view.cum_by.isoformat(),
            "method": view.cum_method,
            "partial": view.cum_partial,
            "ladder_bp": _num(view.ladder_cum_bp, 1),
            "vs_yesterday_bp": _num(view.delta_cum_bp, 1),
        },
        "sources": {
            s.source: {
                "state": s.state,
                "reason": s.reason or None,
                "age_s": None if s.received is None else round(now_mono - s.received, 1),
            }
            for s in view.sources
        },
        "notes": list(view.notes),
    }
