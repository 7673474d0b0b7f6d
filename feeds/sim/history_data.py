"""A deterministic simulated daily history for every simulated symbol.

The shape follows 2015-2025 closely enough for the demo's story, and no more: bitcoin and
the Russell 2000 print new all-time highs together three times (Nov 2021 near $69,000,
early Nov 2024 above $90,000, Oct 2025 at $126,200) and at no other time; bitcoin ends
about 27% under its October 2025 record while ^RUT ends at a record. Every series ends
the day before the demo day (Dec 12, 2025) and agrees with :data:`feeds.sim.levels.LEVELS`.

The numbers are simulated. They are plausible, not historical quotes.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from feeds.model.history import Bar
from feeds.sim.levels import LEVELS

END = date(2025, 12, 11)
"""The last simulated session: the day before the demo day."""

BTC_START = date(2015, 1, 1)

D = date


@dataclass(frozen=True, slots=True)
class _Shape:
    anchors: tuple[tuple[date, float], ...]
    """Closes the path passes through."""
    windows: tuple[tuple[date, date], ...] | None
    """Spans in which new records may print; None means anywhere."""
    highs: dict[date, float]
    """Exact intraday highs on given days."""
    daily: bool
    sigma: float


_BTC = _Shape(
    anchors=(
        (D(2015, 1, 1), 315),
        (D(2015, 1, 14), 190),
        (D(2015, 7, 12), 292),
        (D(2015, 9, 15), 230),
        (D(2016, 3, 1), 285),
        (D(2016, 5, 24), 300),
        (D(2016, 6, 17), 740),
        (D(2016, 8, 2), 540),
        (D(2016, 12, 19), 720),
        (D(2017, 3, 3), 1_280),
        (D(2017, 6, 11), 2_950),
        (D(2017, 9, 1), 4_900),
        (D(2017, 9, 14), 3_200),
        (D(2017, 11, 28), 10_000),
        (D(2017, 12, 17), 19_400),
        (D(2018, 2, 6), 6_900),
        (D(2018, 5, 5), 9_800),
        (D(2018, 12, 15), 3_250),
        (D(2019, 6, 26), 12_900),
        (D(2020, 3, 12), 4_900),
        (D(2020, 10, 31), 13_800),
        (D(2020, 11, 30), 19_000),
        (D(2020, 12, 31), 29_000),
        (D(2021, 1, 8), 40_500),
        (D(2021, 3, 13), 61_000),
        (D(2021, 4, 14), 63_500),
        (D(2021, 5, 19), 37_000),
        (D(2021, 7, 20), 29_800),
        (D(2021, 9, 6), 51_700),
        (D(2021, 9, 28), 41_000),
        (D(2021, 10, 20), 65_900),
        (D(2021, 11, 10), 68_500),
        (D(2022, 1, 22), 35_000),
        (D(2022, 3, 29), 47_400),
        (D(2022, 6, 18), 19_000),
        (D(2022, 11, 21), 15_800),
        (D(2023, 3, 10), 20_000),
        (D(2023, 7, 13), 31_400),
        (D(2023, 9, 11), 25_200),
        (D(2023, 12, 31), 42_300),
        (D(2024, 2, 28), 62_000),
        (D(2024, 3, 14), 72_000),
        (D(2024, 4, 30), 60_600),
        (D(2024, 5, 21), 71_000),
        (D(2024, 8, 5), 54_000),
        (D(2024, 9, 27), 65_800),
        (D(2024, 10, 29), 71_500),
        (D(2024, 11, 4), 68_500),
        (D(2024, 11, 13), 89_800),
        (D(2024, 11, 22), 98_900),
        (D(2024, 12, 5), 101_000),
        (D(2024, 12, 17), 106_000),
        (D(2024, 12, 30), 92_000),
        (D(2025, 1, 20), 106_500),
        (D(2025, 2, 28), 84_000),
        (D(2025, 4, 8), 76_300),
        (D(2025, 5, 22), 110_500),
        (D(2025, 6, 22), 100_900),
        (D(2025, 7, 14), 121_000),
        (D(2025, 8, 14), 119_000),
        (D(2025, 9, 1), 108_000),
        (D(2025, 10, 6), 124_500),
        (D(2025, 10, 10), 112_000),
        (D(2025, 10, 27), 114_000),
        (D(2025, 11, 21), 84_500),
        (D(2025, 12, 3), 93_500),
        (END, 92_800),
    ),  # fmt: skip
    windows=(
        (D(2015, 1, 1), D(2015, 1, 1)),
        (D(2016, 5, 25), D(2016, 6, 18)),
        (D(2016, 12, 20), D(2017, 12, 17)),
        (D(2020, 12, 1), D(2021, 4, 14)),
        (D(2021, 10, 15), D(2021, 11, 10)),
        (D(2024, 3, 1), D(2024, 3, 14)),
        (D(2024, 11, 5), D(2024, 12, 17)),
        (D(2025, 1, 15), D(2025, 1, 22)),
        (D(2025, 5, 20), D(2025, 5, 23)),
        (D(2025, 7, 10), D(2025, 8, 14)),
        (D(2025, 10, 6), D(2025, 10, 6)),
    ),  # fmt: skip
    highs={
        D(2015, 1, 1): 320,
        D(2017, 12, 17): 19_800,
        D(2021, 4, 14): 64_800,
        D(2021, 11, 10): 69_000,
        D(2024, 3, 14): 73_800,
        D(2024, 11, 13): 90_500,
        D(2024, 12, 17): 108_200,
        D(2025, 1, 20): 109_300,
        D(2025, 5, 22): 111_900,
        D(2025, 7, 14): 123_100,
        D(2025, 8, 14): 124_400,
        D(2025, 10, 6): 126_200,
    },  # fmt: skip
    daily=True,
    sigma=0.022,
)

_RUT = _Shape(
    anchors=(
        (D(1987, 9, 10), 168),
        (D(1987, 10, 20), 106),
        (D(1989, 10, 1), 180),
        (D(1990, 10, 30), 118),
        (D(1998, 4, 21), 491),
        (D(1998, 10, 8), 310),
        (D(2000, 3, 9), 606),
        (D(2002, 10, 9), 327),
        (D(2007, 7, 13), 856),
        (D(2009, 3, 9), 343),
        (D(2011, 4, 29), 865),
        (D(2011, 10, 3), 601),
        (D(2014, 3, 4), 1_208),
        (D(2015, 6, 23), 1_290),
        (D(2016, 2, 11), 953),
        (D(2016, 12, 9), 1_250),
        (D(2017, 12, 29), 1_270),
        (D(2018, 1, 24), 1_400),
        (D(2018, 2, 8), 1_300),
        (D(2018, 6, 20), 1_700),
        (D(2018, 8, 31), 1_738),
        (D(2018, 12, 24), 1_267),
        (D(2019, 12, 31), 1_668),
        (D(2020, 3, 18), 991),
        (D(2020, 12, 31), 1_690),
        (D(2021, 3, 15), 1_715),
        (D(2021, 6, 28), 2_340),
        (D(2021, 8, 19), 2_130),
        (D(2021, 10, 4), 2_180),
        (D(2021, 10, 29), 2_290),
        (D(2021, 11, 8), 2_442),
        (D(2022, 6, 16), 1_650),
        (D(2022, 12, 30), 1_760),
        (D(2023, 7, 31), 2_000),
        (D(2023, 10, 27), 1_640),
        (D(2023, 12, 29), 2_030),
        (D(2024, 3, 28), 2_120),
        (D(2024, 7, 16), 2_265),
        (D(2024, 8, 5), 2_040),
        (D(2024, 10, 31), 2_290),
        (D(2024, 11, 11), 2_466),
        (D(2024, 11, 25), 2_420),
        (D(2024, 12, 31), 2_230),
        (D(2025, 4, 8), 1_760),
        (D(2025, 6, 30), 2_175),
        (D(2025, 9, 26), 2_440),
        (D(2025, 10, 8), 2_490),
        (D(2025, 10, 15), 2_505),
        (D(2025, 11, 20), 2_330),
        (D(2025, 12, 2), 2_515),
        (END, 2_541),
    ),  # fmt: skip
    windows=(
        (D(1987, 9, 10), D(2016, 5, 1)),
        (D(2018, 1, 10), D(2018, 8, 31)),
        (D(2021, 5, 1), D(2021, 7, 5)),
        (D(2021, 11, 1), D(2021, 11, 8)),
        (D(2024, 11, 6), D(2024, 11, 11)),
        (D(2025, 9, 29), D(2025, 10, 15)),
        (D(2025, 11, 26), END),
    ),  # fmt: skip
    highs={D(2021, 11, 8): 2_459, D(2024, 11, 11): 2_472, D(2025, 10, 15): 2_512, END: 2_547},
    daily=False,
    sigma=0.008,
)


def _generic(symbol: str) -> _Shape:
    lv = LEVELS[symbol]
    start = lv.first_trade
    years = max(1.0, (lv.ath_date - start).days / 365.25)
    growth = 0.07 if lv.kind != "future" or symbol.startswith(("SI", "GC")) else 0.08

    def trend(d: date) -> float:
        return lv.ath * math.exp(-growth * (lv.ath_date - d).days / 365.25)

    anchors = [(start, lv.ath * math.exp(-growth * years))]
    for d, dip in ((D(2008, 11, 20), 0.55), (D(2020, 3, 23), 0.7), (D(2022, 10, 12), 0.8)):
        if start < d < lv.ath_date:
            anchors.append((d, trend(d) * dip))
    anchors.append((lv.ath_date, lv.ath * 0.995))
    if lv.ath_date < END:
        anchors.append((END, lv.prev_close))
    else:
        anchors[-1] = (END, lv.prev_close)
    sigma = 0.012 if lv.kind == "future" else 0.009
    return _Shape(tuple(anchors), None, {lv.ath_date: lv.ath}, daily=False, sigma=sigma)


def _shape(symbol: str) -> _Shape:
    if symbol == "BTC-USD":
        return _BTC
    if symbol == "^RUT":
        return _RUT
    if symbol not in LEVELS:
        raise KeyError(f"no simulated history for {symbol!r}")
    return _generic(symbol)


def _days(start: date, daily: bool) -> list[date]:
    out = []
    d = start
    step = timedelta(days=1)
    while d <= END:
        if daily or d.weekday() < 5:
            out.append(d)
        d += step
    return out


def _path(shape: _Shape, days: list[date], rng: random.Random) -> list[float]:
    """Log-linear between anchors plus a Brownian bridge pinned at each anchor."""
    anchors = sorted(shape.anchors)
    logs: list[float] = []
    k = 0
    i = 0
    while i < len(days):
        while k + 1 < len(anchors) - 1 and days[i] > anchors[k + 1][0]:
            k += 1
        (d0, p0), (d1, p1) = anchors[k], anchors[k + 1]
        seg = [d for d in days[i:] if d <= d1] or [days[i]]
        n = len(seg)
        # Long segments get a calmer bridge so the path stays near its anchors.
        sig = shape.sigma * min(1.0, math.sqrt(40.0 / max(n, 1)))
        walk = [0.0]
        for _ in range(n):
            walk.append(walk[-1] + rng.gauss(0.0, sig))
        span = max((d1 - d0).days, 1)
        for j, d in enumerate(seg):
            t = (d - d0).days / span
            bridge = walk[j + 1] - (j + 1) / n * walk[n]
            logs.append(math.log(p0) + t * (math.log(p1) - math.log(p0)) + bridge)
        i += n
    return [math.exp(x) for x in logs[: len(days)]]


def _q(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


@functools.cache
def _bars(symbol: str) -> tuple[Bar, ...]:
    shape = _shape(symbol)
    rng = random.Random(f"lockstep-history:{symbol}")
    start = BTC_START if symbol == "BTC-USD" else LEVELS[symbol].first_trade
    days = _days(start, shape.daily)
    closes = _path(shape, days, rng)
    rows: list[list[float]] = []
    prev = closes[0]
    for c in closes:
        o = prev * math.exp(rng.gauss(0.0, shape.sigma / 4))
        h = max(o, c) * math.exp(abs(rng.gauss(0.0, shape.sigma / 2)))
        lo = min(o, c) * math.exp(-abs(rng.gauss(0.0, shape.sigma / 2)))
        rows.append([o, h, lo, c])
        prev = c
    for i, d in enumerate(days):
        if d in shape.highs:
            h = shape.highs[d]
            row = rows[i]
            row[1] = h
            row[0] = min(row[0], h)
            row[3] = min(row[3], h)
    # Records only where the shape allows them; exact highs stay the highest so far.
    running = 0.0
    exact_max = max(shape.highs.values()) if shape.windows is None else math.inf
    for i, d in enumerate(days):
        row = rows[i]
        allowed = shape.windows is None or any(a <= d <= b for a, b in shape.windows)
        cap = running if not allowed and running else math.inf
        if d not in shape.highs:
            cap = min(cap, exact_max * 0.998)
            if shape.windows is not None:
                later = [h for hd, h in shape.highs.items() if hd > d]
                cap = min(cap, *(h * 0.998 for h in later)) if later else cap
        if row[1] >= cap:
            top = cap * (1 - rng.uniform(0.002, 0.012))
            row[1] = top
            row[0] = min(row[0], top * (1 - rng.uniform(0.0, 0.004)))
            row[3] = min(row[3], top * (1 - rng.uniform(0.0, 0.004)))
        row[2] = min(row[2], row[0], row[3])
        running = max(running, row[1])
    if symbol in LEVELS:
        rows[-1][3] = LEVELS[symbol].prev_close
        rows[-1][1] = max(rows[-1][1], rows[-1][3], rows[-1][0])
        rows[-1][2] = min(rows[-1][2], rows[-1][3], rows[-1][0])
    return tuple(
        Bar(symbol, d, _q(o), _q(h), _q(lo), _q(c), "sim")
        for d, (o, h, lo, c) in zip(days, rows, strict=True)
    )


def daily_bars(symbol: str) -> list[Bar]:
    """Simulated daily bars for ``symbol``, oldest first, ending :data:`END`.

    ``BTC-USD`` starts 2015-01-01 and trades every day; the others start at their
    :attr:`~feeds.sim.levels.Level.first_trade` and trade on weekdays. Raises KeyError for
    an unknown symbol.
    """
    return list(_bars(symbol))
