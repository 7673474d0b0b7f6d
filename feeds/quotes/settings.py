"""The ``[quotes]`` settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from feeds.quotes.cboe import DEFAULT_CBOE_MAP
from feeds.quotes.session import SessionIntervals


@dataclass(frozen=True, slots=True)
class QuotesSettings:
    """The ``[quotes]`` table of the config file."""

    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        # Yahoo has no published limit; faster than every 5 s buys nothing but a block.
        "interval_regular": (5.0, 3600.0),
        "interval_extended": (5.0, 3600.0),
        "interval_futures": (5.0, 3600.0),
        "interval_closed": (5.0, 86_400.0),
        "backoff_cap": (5.0, 86_400.0),
        "stale_multiplier": (1.5, 100.0),
        # Cboe's data is 15 minutes late: polling it faster shows nothing new.
        "cboe_min_interval": (5.0, 3600.0),
    }
    """Allowed ``(lowest, highest)`` per key, checked when the config file is read."""

    watchlist: tuple[str, ...] = ("^RUT", "IWM", "^GSPC", "^DJI", "^NDX", "SI=F", "GC=F")
    """Yahoo symbols shown in the quotes panel, in order."""
    futures: tuple[str, ...] = ("RTY=F", "ES=F", "YM=F", "NQ=F")
    """Index futures shown (labelled as futures) while the cash session is not open."""
    show_futures_when_closed: bool = True
    """Show and poll the index futures outside the NYSE regular session."""
    interval_regular: float = 15.0
    """Seconds between Yahoo polls while the NYSE regular session is open."""
    interval_extended: float = 60.0
    """Seconds between polls in pre-market and after hours."""
    interval_futures: float = 60.0
    """Seconds between polls while the NYSE is closed but futures trade."""
    interval_closed: float = 300.0
    """Seconds between polls while everything is closed (weekends, holidays)."""
    backoff_cap: float = 600.0
    """Longest wait between failed Yahoo cycles, seconds (jittered doubling up to it)."""
    stale_multiplier: float = 3.0
    """A value older than this many poll intervals is marked stale."""
    fallback: bool = True
    """Use Cboe delayed quotes for the indices and IWM while Yahoo fails."""
    cboe_symbols: tuple[str, ...] = tuple(f"{k}={v}" for k, v in DEFAULT_CBOE_MAP.items())
    """Yahoo-to-Cboe symbol pairs for the fallback, as ``"YAHOO=CBOE"``
    (``^DJI=_DJX``: DJX is the Dow / 100 and is scaled back)."""
    cboe_min_interval: float = 30.0
    """Shortest interval between Cboe polls, seconds (its data is 15 minutes late)."""
    yahoo_crumb: bool = True
    """On a 401 Invalid Crumb, fetch Yahoo's session cookie and crumb once and retry."""

    def intervals(self) -> SessionIntervals:
        """The per-session intervals as the feeds take them."""
        return SessionIntervals(
            regular=self.interval_regular,
            extended=self.interval_extended,
            futures=self.interval_futures,
            closed=self.interval_closed,
        )

    def cboe_map(self) -> dict[str, str]:
        """``cboe_symbols`` as a mapping; malformed pairs are skipped."""
        out: dict[str, str] = {}
        for pair in self.cboe_symbols:
            yahoo, sep, cboe = pair.partition("=")
            # "SI=F" has an "=" too: split on the last one when there are two.
            if pair.count("=") == 2:
                yahoo, _, cboe = pair.rpartition("=")
            if sep and yahoo and cboe:
                out[yahoo] = cboe
        return out
