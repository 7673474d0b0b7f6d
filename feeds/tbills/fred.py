"""FRED's keyless CSV (``/graph/fredgraph.csv?id=SERIES``): a pure parser and a polled feed.

The JSON FRED API needs a key; the graph CSV does not (sources.md C7, G). Its header has
been seen both as ``DATE,<ID>`` (older copies) and ``observation_date,<ID>`` (newer), and a
missing observation is ``.`` (older) or an empty field (newer, UNCONFIRMED), so the parser
accepts either form of both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

import httpx

from feeds.core.clock import Clock
from feeds.core.decode import number
from feeds.core.poll import PolledFeed, PollTiming
from feeds.core.text import clean_text
from feeds.model.core import BadMessage
from feeds.model.tbills import FredSeries

SOURCE = "fred"
CSV_PATH = "/graph/fredgraph.csv"

_DATE_HEADERS = frozenset({"date", "observation_date"})
_MISSING = frozenset({".", "", "na", "#n/a", "nan"})
_MAX_ROWS = 50_000  # decades of daily data; anything longer is not a FRED graph CSV


def parse_fredgraph_csv(text: str, series_id: str) -> list[tuple[date, Decimal]] | BadMessage:
    """Parse one series from a fredgraph CSV into ``(date, value)`` pairs, oldest first.

    Missing observations (``.``, or an empty field) are skipped, not zero. Values are any
    finite number (some FRED series are negative); callers check the range they need.
    The second column must be named ``series_id`` (case-insensitive). Anything else, an
    HTML page, a bad date or a non-numeric value, is a :class:`BadMessage`; never raises.
    """
    if not isinstance(text, str):
        return BadMessage(SOURCE, "CSV body is not text")
    lines = text.lstrip("\ufeff").splitlines()
    rows = [ln for ln in lines if ln.strip()]
    if not rows:
        return BadMessage(SOURCE, f"{clean_text(series_id, 40)}: empty CSV")
    header = [h.strip().strip('"').lower() for h in rows[0].split(",")]
    if header[:1] and header[0].startswith("<"):
        return BadMessage(SOURCE, f"{clean_text(series_id, 40)}: HTML page instead of CSV")
    if len(header) < 2 or header[0] not in _DATE_HEADERS:
        return BadMessage(SOURCE, f"{clean_text(series_id, 40)}: unexpected CSV header")
    if header[1] != series_id.strip().lower():
        return BadMessage(
            SOURCE,
            f"{clean_text(series_id, 40)}: CSV is for {clean_text(header[1], 40).upper()!r}",
        )
    if len(rows) - 1 > _MAX_ROWS:
        return BadMessage(SOURCE, f"{clean_text(series_id, 40)}: CSV too long")
    out: dict[date, Decimal] = {}
    for n, line in enumerate(rows[1:], start=2):
        cells = [c.strip().strip('"') for c in line.split(",")]
        if len(cells) < 2:
            return BadMessage(SOURCE, f"{clean_text(series_id, 40)}: short row {n}")
        try:
            day = date.fromisoformat(cells[0])
        except ValueError:
            return BadMessage(SOURCE, f"{clean_text(series_id, 40)}: bad date on row {n}")
        raw = cells[1]
        if raw.lower() in _MISSING:
            continue
        value = number(raw)
        if value is None:
            return BadMessage(SOURCE, f"{clean_text(series_id, 40)}: bad value on row {n}")
        out[day] = value
    return sorted(out.items())


class FredSeriesFeed(PolledFeed):
    """Polls a few FRED series through the keyless CSV, one request per series per cycle,
    spaced ``spacing`` seconds apart to stay gentle. Yields :class:`FredSeries`."""

    source = SOURCE

    def __init__(
        self,
        base_url: str,
        series_ids: Sequence[str],
        *,
        client: httpx.AsyncClient,
        clock: Clock,
        every: float = 3600.0,
        spacing: float = 1.0,
        lookback_days: int = 120,
        keep: int = 120,
        timing: PollTiming | None = None,
    ) -> None:
        """``every`` is the poll interval; ``lookback_days`` bounds the CSV requested
        (``cosd``); ``keep`` bounds the observations carried per event."""
        super().__init__(client=client, clock=clock, timing=timing)
        self.base_url = base_url.rstrip("/")
        self.series_ids = tuple(series_ids)
        self._every = every
        self._spacing = spacing
        self._lookback = lookback_days
        self._keep = keep

    def interval(self) -> float:
        """Seconds between cycles (FRED updates these series daily or weekly)."""
        return self._every

    async def poll(self) -> Sequence[object]:
        """Fetch each series in turn; a bad series yields a BadMessage, not an exception."""
        out: list[object] = []
        start = (self.clock.now().date() - timedelta(days=self._lookback)).isoformat()
        for i, sid in enumerate(self.series_ids):
            if i and self._spacing > 0:
                await asyncio.sleep(self._spacing)
            resp = await self.get(self.base_url + CSV_PATH, params={"id": sid, "cosd": start})
            if resp.status >= 400:  # an unknown id is a 4xx page: that series only
                out.append(BadMessage(SOURCE, f"{clean_text(sid, 40)}: HTTP {resp.status}"))
                continue
            parsed = parse_fredgraph_csv(resp.text(), sid)
            if isinstance(parsed, BadMessage):
                out.append(parsed)
                continue
            out.append(
                FredSeries(
                    source=SOURCE,
                    series_id=sid,
                    observations=tuple(parsed[-self._keep :]),
                    received=self.clock.monotonic(),
                )
            )
        return out
