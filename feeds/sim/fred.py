"""Simulated FRED graph CSV (``/graph/fredgraph.csv?id=ID``) and plausible Dec 2025
liquidity levels. The numbers are simulated, not historical."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from feeds.core.clock import Clock
from feeds.sim.http import SimHttpServer, SimRequest, SimResponse

FRED_CSV_PATH = "/graph/fredgraph.csv"


def render_fredgraph_csv(
    series_id: str, rows: Sequence[tuple[date, float | None]], *, header: str = "observation_date"
) -> str:
    """A fredgraph CSV body; ``None`` values are written as ``.`` (missing)."""
    lines = [f"{header},{series_id}"]
    for day, value in rows:
        lines.append(f"{day.isoformat()},{'.' if value is None else _fmt(value)}")
    return "\n".join(lines) + "\n"


def _fmt(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def register_fred_routes(
    server: SimHttpServer, series: Mapping[str, Sequence[tuple[date, float]]]
) -> None:
    """Serve ``/graph/fredgraph.csv?id=ID`` for each series (``cosd`` filters the start).
    An unknown id answers 404, as FRED does with an error page."""
    table = {k.upper(): list(v) for k, v in series.items()}

    async def handle(req: SimRequest) -> SimResponse:
        sid = req.query.get("id", "").upper()
        rows = table.get(sid)
        if rows is None:
            return SimResponse(404, b"<html><body>Series not found</body></html>", "text/html")
        start = req.query.get("cosd")
        if start:
            try:
                first = date.fromisoformat(start)
            except ValueError:
                first = date.min
            rows = [r for r in rows if r[0] >= first]
        body = render_fredgraph_csv(sid, rows).encode()
        return SimResponse(200, body, "text/csv")

    server.route(FRED_CSV_PATH, handle)


def fred_liquidity_series(clock: Clock) -> dict[str, list[tuple[date, float]]]:
    """Plausible observations up to ``clock``'s date, in FRED's own units:
    WRESBAL (weekly, ending Wednesday, millions USD), RRPONTSYD (daily, billions USD),
    WTREGEN (weekly, Wednesday, millions USD). Dec 2025-like levels: reserves near
    $2.9 tn, ON RRP a few billion, TGA near $850 bn."""
    today = clock.now().date()
    # Weekly series end on the last Wednesday that has been published (Thursday 4:30 p.m.).
    last_wed = today - timedelta(days=(today.weekday() - 2) % 7)
    if today.weekday() == 2:
        last_wed -= timedelta(days=7)
    weeks = [last_wed - timedelta(weeks=k) for k in range(11, -1, -1)]
    wresbal = [
        (d, 2_880_000.0 + 9_500.0 * i - (40_000.0 if i % 4 == 1 else 0.0))
        for i, d in enumerate(weeks)
    ]
    wtregen = [
        (d, 905_000.0 - 5_200.0 * i + (25_000.0 if i % 4 == 1 else 0.0))
        for i, d in enumerate(weeks)
    ]
    days: list[date] = []
    d = today - timedelta(days=1)
    while len(days) < 40:
        if d.weekday() < 5:
            days.append(d)
        d -= timedelta(days=1)
    days.reverse()
    rrp = [
        (d, round(max(1.0, 14.0 - 0.25 * i + (6.0 if i % 9 == 0 else 0.0)), 3))
        for i, d in enumerate(days)
    ]
    return {"WRESBAL": wresbal, "RRPONTSYD": rrp, "WTREGEN": wtregen}
