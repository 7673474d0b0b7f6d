"""Reference levels that every simulated source agrees on, shaped like Dec 12, 2025:
the Russell 2000, Dow and S&P 500 at records, the Nasdaq 100 just below its high,
silver at a peak, and bitcoin about 27% under its October 2025 record.

The numbers are simulated. They are plausible, not historical quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Level:
    """One simulated instrument.

    Attributes:
        symbol: Yahoo-style symbol.
        name: Display name.
        last: Starting live price.
        prev_close: Previous session close.
        ath: All-time high before the live session.
        ath_date: Date of ``ath``.
        kind: ``index``, ``etf``, ``future`` or ``crypto``.
        cboe: The Cboe delayed-quotes symbol, if Cboe lists it.
        first_trade: When the instrument's history starts.
    """

    symbol: str
    name: str
    last: float
    prev_close: float
    ath: float
    ath_date: date
    kind: str
    cboe: str | None
    first_trade: date


LEVELS: dict[str, Level] = {
    lv.symbol: lv
    for lv in (
        Level(
            "BTC-USD",
            "Bitcoin",
            92_100.0,
            92_800.0,
            126_200.0,
            date(2025, 10, 6),
            "crypto",
            None,
            date(2015, 1, 1),
        ),
        Level(
            "^RUT",
            "Russell 2000",
            2_558.0,
            2_541.0,
            2_547.0,
            date(2025, 12, 11),
            "index",
            "_RUT",
            date(1987, 9, 10),
        ),
        Level(
            "IWM",
            "iShares Russell 2000 ETF",
            253.1,
            251.4,
            252.0,
            date(2025, 12, 11),
            "etf",
            "IWM",
            date(2000, 5, 26),
        ),
        Level(
            "^GSPC",
            "S&P 500",
            6_905.0,
            6_886.7,
            6_901.0,
            date(2025, 12, 11),
            "index",
            "_SPX",
            date(1927, 12, 30),
        ),
        Level(
            "^DJI",
            "Dow Jones Industrial Average",
            48_710.0,
            48_704.0,
            48_704.0,
            date(2025, 12, 11),
            "index",
            "_DJI",
            date(1992, 1, 2),
        ),
        Level(
            "^NDX",
            "Nasdaq 100",
            25_640.0,
            25_560.0,
            26_180.0,
            date(2025, 10, 29),
            "index",
            "_NDX",
            date(1985, 10, 1),
        ),
        Level(
            "SI=F",
            "Silver futures",
            64.2,
            62.9,
            63.8,
            date(2025, 12, 11),
            "future",
            None,
            date(2000, 8, 30),
        ),
        Level(
            "GC=F",
            "Gold futures",
            4_330.0,
            4_312.0,
            4_398.0,
            date(2025, 10, 20),
            "future",
            None,
            date(2000, 8, 30),
        ),
        Level(
            "RTY=F",
            "Russell 2000 futures",
            2_566.0,
            2_549.0,
            2_556.0,
            date(2025, 12, 11),
            "future",
            None,
            date(2017, 7, 10),
        ),
        Level(
            "ES=F",
            "S&P 500 futures",
            6_930.0,
            6_912.0,
            6_925.0,
            date(2025, 12, 11),
            "future",
            None,
            date(2000, 9, 18),
        ),
        Level(
            "YM=F",
            "Dow futures",
            48_880.0,
            48_860.0,
            48_870.0,
            date(2025, 12, 11),
            "future",
            None,
            date(2002, 4, 4),
        ),
        Level(
            "NQ=F",
            "Nasdaq 100 futures",
            25_720.0,
            25_640.0,
            26_270.0,
            date(2025, 10, 29),
            "future",
            None,
            date(2000, 9, 18),
        ),
    )
}
