"""The ``[history]`` settings: history file, backfill, all-time-high guard, divergence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from feeds.history.ath import AthGuard, parse_bands
from feeds.history.divergence import WINDOWS


@dataclass(frozen=True, slots=True)
class HistorySettings:
    """The ``[history]`` table of the config file."""

    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "co_high_days": (0, 365),
        "persist_s": (0.0, 3600.0),
        # 0: no pause (the bench's warm-up); Coinbase allows 10 requests a second.
        "page_delay_s": (0.0, 60.0),
        "refresh_hours": (0.25, 168.0),
        "coinbase_fallback_after": (1, 100),
        "last_price_every_s": (5.0, 3600.0),
        "warmup_days": (0, 3650),
    }
    """Allowed ``(lowest, highest)`` per key, checked when the config file is read."""

    file_name: str = "history.sqlite3"
    """The SQLite file's name inside the data directory."""
    co_high_days: int = 10
    """N: two new all-time highs at most this many days apart are a co-high."""
    divergence_pct: float = 20.0
    """X: the divergence flag needs one side more than this many percent below its high."""
    near_ath_pct: float = 2.0
    """A price within this many percent of its high counts as "at or near" it."""
    outlier_pct: float = 10.0
    """A print this many percent away from the recent median (or the other venue) is an
    outlier: shown, but it never sets an all-time high."""
    confirm_pct: float = 1.0
    """A new high is confirmed at once when a second venue trades within this many percent."""
    persist_s: float = 60.0
    """Otherwise a new high is confirmed after prices stay above the old one this long."""
    drawdown_bands: str = "5,10,20,30"
    """Drawdown band edges in percent below the high, comma-separated, increasing."""
    chart_window: str = "1y"
    """The divergence chart's window at start: ``"3m"``, ``"1y"`` or ``"5y"``."""
    pair: tuple[str, ...] = ("BTC-USD", "^RUT")
    """The two symbols compared in the divergence panel."""
    btc_start: str = "2015-01-01"
    """How far back bitcoin's daily history is paged (ISO date)."""
    page_delay_s: float = 0.35
    """Seconds between backfill requests (Coinbase allows 10/s; we stay polite)."""
    refresh_hours: float = 6.0
    """Hours between incremental history updates once the backfill is complete."""
    coinbase_fallback_after: int = 2
    """Failed Coinbase pages in a row before one Yahoo ``range=max`` request is used."""
    last_price_every_s: float = 60.0
    """Seconds between persisting a symbol's last live price (for the next start-up)."""
    warmup_days: int = 365
    """New highs in a series' first year are not counted as co-highs."""

    def __post_init__(self) -> None:
        problems = []
        if self.co_high_days < 0:
            problems.append("co_high_days must be 0 or more")
        if not 0 < self.divergence_pct < 100:
            problems.append("divergence_pct must be between 0 and 100")
        if not 0 <= self.near_ath_pct < 100:
            problems.append("near_ath_pct must be between 0 and 100")
        if not 0 < self.outlier_pct < 1000:
            problems.append("outlier_pct must be positive")
        if not 0 <= self.confirm_pct < 100:
            problems.append("confirm_pct must be between 0 and 100")
        if self.persist_s < 0 or self.page_delay_s < 0 or self.refresh_hours <= 0:
            problems.append("persist_s, page_delay_s must be >= 0 and refresh_hours > 0")
        if self.chart_window not in WINDOWS:
            problems.append(f"chart_window must be one of {', '.join(WINDOWS)}")
        if len(self.pair) != 2 or self.pair[0] == self.pair[1]:
            problems.append("pair must name two different symbols")
        if not self.file_name or "/" in self.file_name or "\\" in self.file_name:
            problems.append("file_name must be a plain file name")
        try:
            parse_bands(self.drawdown_bands)
        except ValueError as exc:
            problems.append(f"drawdown_bands: {exc}")
        try:
            date.fromisoformat(self.btc_start)
        except ValueError:
            problems.append("btc_start must be an ISO date (YYYY-MM-DD)")
        if problems:
            raise ValueError("; ".join(problems))

    def bands(self) -> tuple[float, ...]:
        """The drawdown band edges as numbers."""
        return parse_bands(self.drawdown_bands)

    def guard(self) -> AthGuard:
        """The all-time-high confirmation guard these settings describe."""
        return AthGuard(
            outlier_pct=self.outlier_pct, confirm_pct=self.confirm_pct, persist_s=self.persist_s
        )
