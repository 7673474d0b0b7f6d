"""The ``[tbills]`` settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from feeds.tbills.state import LIQUIDITY_SERIES


@dataclass(frozen=True, slots=True)
class TbillsSettings:
    """The ``[tbills]`` config table."""

    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "last_n": (1, 50),
        "active_poll_s": (15.0, 3600.0),
        "idle_poll_s": (15.0, 86_400.0),
        "schedule_poll_s": (60.0, 86_400.0),
        "request_spacing_s": (0.0, 60.0),  # 0: no pause (tests and the bench's warm-up)
        "stale_after_s": (60.0, 86_400.0),
        "results_late_after_s": (60.0, 86_400.0),
        "fred_poll_s": (300.0, 86_400.0),  # the series are daily or weekly
    }
    """Allowed ``(lowest, highest)`` per key, checked when the config file is read."""

    enabled: bool = True
    """Show the panel and poll its sources."""
    program_start: str = "2025-12-12"
    """First day counted in the program tally, ``YYYY-MM-DD`` (RMPs began Dec 12, 2025)."""
    last_n: int = 8
    """How many recent operations to list (1-50)."""
    active_poll_s: float = 60.0
    """NY Fed API poll interval on business days 08:00-16:00 ET, seconds (>= 15)."""
    idle_poll_s: float = 1800.0
    """NY Fed API poll interval at night, weekends and holidays, seconds."""
    schedule_poll_s: float = 3600.0
    """Schedule page poll interval, seconds (every 15 min on the day a schedule is due)."""
    request_spacing_s: float = 1.0
    """Minimum gap between NY Fed API calls, seconds (gentle: no published limit)."""
    stale_after_s: float = 300.0
    """NY Fed silence before STALE on a business day 08:00-16:00 ET, seconds."""
    results_late_after_s: float = 900.0
    """Time after an operation's close before missing results show RESULTS LATE, seconds."""
    show_liquidity: bool = True
    """Show reserves, ON RRP and TGA rows from FRED's keyless CSV."""
    liquidity_series: tuple[str, ...] = ("WRESBAL", "RRPONTSYD", "WTREGEN")
    """Which liquidity series to show (known: WRESBAL, RRPONTSYD, WTREGEN)."""
    fred_poll_s: float = 3600.0
    """FRED poll interval, seconds (the series are daily or weekly)."""

    def __post_init__(self) -> None:
        try:
            date.fromisoformat(self.program_start)
        except ValueError:
            raise ValueError(
                f"program_start: {self.program_start!r} is not a YYYY-MM-DD date"
            ) from None
        if not 1 <= self.last_n <= 50:
            raise ValueError("last_n: must be between 1 and 50")
        unknown = [s for s in self.liquidity_series if s not in LIQUIDITY_SERIES]
        if unknown:
            raise ValueError(f"liquidity_series: unknown series {', '.join(unknown)}")

    @property
    def start_date(self) -> date:
        """``program_start`` as a date."""
        return date.fromisoformat(self.program_start)
