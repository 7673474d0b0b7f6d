"""Simulated Fed rates: the NY Fed EFFR endpoint, FRED's DFEDTARL/DFEDTARU series, and
the reference meeting odds the simulated Kalshi and Polymarket both quote.

Shaped like Dec 12, 2025: two days after the Fed cut 25 bp to 3.50-3.75% (effective
Dec 11), with about 50 bp more of cuts priced over the next 12 months. The numbers are
simulated: plausible, not historical quotes.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import orjson

from feeds.core.businessdays import NEW_YORK, previous_business_day
from feeds.core.clock import Clock
from feeds.model.fed import FomcMeeting
from feeds.rates.calendar import load_calendar, upcoming
from feeds.sim.http import SimHttpServer, SimRequest, SimResponse, json_response

# (effective from, lower, upper, typical EFFR): the 2025 cuts (Sep 17, Oct 29, Dec 10
# decisions take effect the next day).
RANGES: tuple[tuple[date, float, float, float], ...] = (
    (date(2024, 12, 19), 4.25, 4.50, 4.33),
    (date(2025, 9, 18), 4.00, 4.25, 4.09),
    (date(2025, 10, 30), 3.75, 4.00, 3.87),
    (date(2025, 12, 11), 3.50, 3.75, 3.64),
)

# P(cut >25, cut 25, hold, hike 25, hike >25) for the meetings after the demo date, in
# order; expected changes sum to about -50 bp over the eight meetings of 2026.
REFERENCE_ODDS: tuple[tuple[float, float, float, float, float], ...] = (
    (0.01, 0.21, 0.77, 0.01, 0.00),
    (0.02, 0.38, 0.59, 0.01, 0.00),
    (0.01, 0.22, 0.76, 0.01, 0.00),
    (0.02, 0.33, 0.64, 0.01, 0.00),
    (0.01, 0.17, 0.81, 0.01, 0.00),
    (0.01, 0.19, 0.79, 0.01, 0.00),
    (0.01, 0.15, 0.83, 0.01, 0.00),
    (0.01, 0.20, 0.78, 0.01, 0.00),
)
MOVES_BP = (-50, -25, 0, 25, 50)


def range_on(day: date) -> tuple[float, float, float]:
    """(lower, upper, EFFR) in force on ``day``."""
    current = RANGES[0]
    for row in RANGES:
        if row[0] <= day:
            current = row
    return current[1], current[2], current[3]


def sim_meeting_odds(
    clock: Clock, count: int = 8
) -> list[tuple[FomcMeeting, tuple[float, float, float, float, float]]]:
    """The next ``count`` meetings after the clock's time with their reference odds.

    A slow drift (a few points over tens of minutes) moves odds between cut and hold so
    the demo looks alive; the odds always sum to 1.
    """
    now = clock.now()
    out = []
    drift = 0.01 * math.sin(now.timestamp() / 900.0)
    for i, meeting in enumerate(upcoming(load_calendar(), now)[:count]):
        c26, c25, h0, h25, h26 = REFERENCE_ODDS[i % len(REFERENCE_ODDS)]
        shift = min(drift * (1 + i % 3), h0 - 0.01)
        out.append((meeting, (c26, c25 + shift, h0 - shift, h25, h26)))
    return out


def cumulative_upper(
    odds: list[tuple[FomcMeeting, tuple[float, float, float, float, float]]], upper: float
) -> list[dict[float, float]]:
    """For each meeting, the distribution of the upper bound after it (meetings chained
    as independent), used by the simulated KXFED ladder."""
    dist: dict[int, float] = {0: 1.0}
    out: list[dict[float, float]] = []
    for _, probs in odds:
        nxt: dict[int, float] = {}
        for a, pa in dist.items():
            for bp, pb in zip(MOVES_BP, probs, strict=True):
                if pb > 0:
                    nxt[a + bp] = nxt.get(a + bp, 0.0) + pa * pb
        dist = nxt
        out.append({round(upper + bp / 100, 2): p for bp, p in dist.items()})
    return out


def register_effr_routes(server: SimHttpServer, clock: Clock) -> None:
    """Serve ``/api/rates/unsecured/effr/last/{n}.json`` the way the NY Fed does: the
    newest ``n`` business days before today (New York), newest first."""

    async def handle(req: SimRequest) -> SimResponse:
        try:
            n = int(req.path.rsplit("/", 1)[-1].removesuffix(".json"))
        except ValueError:
            return SimResponse(400, b'{"error":"bad count"}')
        n = max(1, min(n, 250))
        today = clock.now().astimezone(NEW_YORK).date()
        rows = []
        day = previous_business_day(today)
        for _ in range(n):
            lower, upper, effr = range_on(day)
            rows.append(
                {
                    "effectiveDate": day.isoformat(),
                    "type": "EFFR",
                    "percentRate": effr,
                    "percentPercentile1": round(effr - 0.06, 2),
                    "percentPercentile25": round(effr - 0.01, 2),
                    "percentPercentile75": round(effr + 0.01, 2),
                    "percentPercentile99": round(effr + 0.08, 2),
                    "volumeInBillions": 96 + (day.day % 7),
                    "targetRateFrom": lower,
                    "targetRateTo": upper,
                    "revisionIndicator": "",
                    "footnoteId": None,
                }
            )
            day = previous_business_day(day)
        return json_response(orjson.dumps({"refRates": rows}))

    server.route(r"/api/rates/unsecured/effr/last/\d+\.json", handle)


def fed_rates_fred_series(clock: Clock) -> dict[str, list[tuple[date, float]]]:
    """DFEDTARL and DFEDTARU for the last 120 days up to yesterday (FRED's target series
    are daily, weekends included), for :func:`feeds.sim.fred.register_fred_routes`."""
    today = clock.now().date()
    days = [today - timedelta(days=k) for k in range(120, 0, -1)]
    return {
        "DFEDTARL": [(d, range_on(d)[0]) for d in days],
        "DFEDTARU": [(d, range_on(d)[1]) for d in days],
    }
