"""The ``[fed]`` settings: Fed rate-odds sources, checks and meetings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from feeds.model.fed import FomcMeeting
from feeds.rates.calendar import CalendarError, load_calendar, parse_override
from feeds.rates.odds_checks import MarketChecks
from feeds.rates.state import ODDS_SOURCES


@dataclass(frozen=True, slots=True)
class FedOddsSettings:
    """The ``[fed]`` table of the config file."""

    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "meetings_shown": (4, 8),
        "kalshi_interval": (5.0, 86_400.0),
        "polymarket_interval": (5.0, 86_400.0),
        "target_interval": (60.0, 86_400.0),  # the target range changes eight times a year
        "zq_interval": (30.0, 86_400.0),
        "stale_after": (30.0, 86_400.0),
        "horizon_days": (30, 730),
        "late_meeting_days": (0, 10),
    }
    """Allowed ``(lowest, highest)`` per key, checked when the config file is read."""

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
    """Not used any more: each odds source turns STALE after 3 x its own poll interval,
    the threshold the status bar uses too (README: "When a Fed odds source is STALE").
    Accepted so that older config files still load."""
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
        if not 0 < self.wide_spread < 1:
            raise ValueError("fed.wide_spread: must be between 0 and 1")
        if self.thin_volume < 0:
            raise ValueError("fed.thin_volume: must not be negative")
        if not 0 < self.sum_low < 1 < self.sum_high < 2:
            raise ValueError("fed.sum_low/sum_high: need 0 < sum_low < 1 < sum_high < 2")
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
