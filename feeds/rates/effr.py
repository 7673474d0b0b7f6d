"""The current federal funds target range: NY Fed EFFR endpoint first, FRED fallback.

NY Fed ``/api/rates/unsecured/effr/last/1.json`` returns ``refRates[0]`` with
``targetRateFrom``/``targetRateTo`` alongside the EFFR itself (sources.md D1). The rate
is published at about 9:00 a.m. ET and may be re-published at about 2:30 p.m.
(reliability.md 2.3), so a slow poll is plenty. When the NY Fed answer is unusable the
same poll reads FRED's keyless ``DFEDTARL``/``DFEDTARU`` CSVs instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

import httpx

from feeds.core.clock import Clock
from feeds.core.decode import DecodeError, number, price
from feeds.core.poll import FetchError, PolledFeed, PollTiming, RateLimited
from feeds.core.text import clean_text
from feeds.model.core import BadMessage
from feeds.model.fed import TargetRange
from feeds.tbills.fred import CSV_PATH, parse_fredgraph_csv

SOURCE = "fed_target"
"""The feed's health name; each :class:`TargetRange` names the source that answered."""
EFFR_PATH = "/api/rates/unsecured/effr/last/1.json"
FRED_LOWER, FRED_UPPER = "DFEDTARL", "DFEDTARU"


def _range(lower: Decimal | None, upper: Decimal | None) -> str:
    if lower is None or upper is None:
        return "target range missing"
    if lower < 0 or upper <= lower or upper - lower > 1 or upper > 25:
        return f"target range {lower}-{upper} not plausible"
    return ""


def parse_effr(payload: object, received: float) -> TargetRange | BadMessage:
    """NY Fed EFFR JSON -> the target range (the newest ``refRates`` entry)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("refRates"), list):
        return BadMessage(SOURCE, "NY Fed: EFFR answer has no refRates list")
    best: tuple[date, dict[str, object]] | None = None
    for row in payload["refRates"]:
        if not isinstance(row, dict):
            continue
        kind = row.get("type")
        if kind is not None and kind != "EFFR":
            continue
        try:
            day = date.fromisoformat(str(row.get("effectiveDate", ""))[:10])
        except ValueError:
            continue
        if best is None or day > best[0]:
            best = (day, row)
    if best is None:
        return BadMessage(SOURCE, "NY Fed: EFFR answer has no dated EFFR row")
    day, row = best
    lower, upper = number(row.get("targetRateFrom")), number(row.get("targetRateTo"))
    problem = _range(lower, upper)
    if problem:
        return BadMessage(SOURCE, "NY Fed: " + problem)
    assert lower is not None and upper is not None
    return TargetRange(SOURCE, "nyfed", lower, upper, price(row.get("percentRate")), day, received)


def parse_fred_range(lower_csv: str, upper_csv: str, received: float) -> TargetRange | BadMessage:
    """FRED DFEDTARL + DFEDTARU CSVs -> the target range on the latest common date."""
    lo = parse_fredgraph_csv(lower_csv, FRED_LOWER)
    hi = parse_fredgraph_csv(upper_csv, FRED_UPPER)
    if isinstance(lo, BadMessage):
        return BadMessage(SOURCE, "FRED: " + clean_text(lo.reason, 100))
    if isinstance(hi, BadMessage):
        return BadMessage(SOURCE, "FRED: " + clean_text(hi.reason, 100))
    common = sorted(set(dict(lo)) & set(dict(hi)))
    if not common:
        return BadMessage(SOURCE, "FRED: DFEDTARL/DFEDTARU have no common date")
    day = common[-1]
    lower, upper = dict(lo)[day], dict(hi)[day]
    problem = _range(lower, upper)
    if problem:
        return BadMessage(SOURCE, "FRED: " + problem)
    return TargetRange(SOURCE, "fred", lower, upper, None, day, received)


class FedTargetFeed(PolledFeed):
    """Polls the NY Fed for the target range, falling back to FRED within the same poll."""

    source = SOURCE

    def __init__(
        self,
        nyfed_url: str,
        fred_url: str,
        *,
        client: httpx.AsyncClient,
        clock: Clock,
        every: float = 1800.0,
        timing: PollTiming | None = None,
    ) -> None:
        super().__init__(client=client, clock=clock, timing=timing)
        self.nyfed_url = nyfed_url.rstrip("/")
        self.fred_url = fred_url.rstrip("/")
        self.every = every

    def interval(self) -> float:
        """Seconds between polls; the range changes only at FOMC decisions."""
        return self.every

    async def poll(self) -> Sequence[object]:
        """NY Fed first; on any failure or bad answer, FRED; if both fail, the NY Fed's
        error is what the status line shows."""
        problem: BadMessage
        first_error: FetchError
        try:
            resp = await self.get(self.nyfed_url + EFFR_PATH)
            parsed = parse_effr(resp.json(), self.clock.monotonic())
            if isinstance(parsed, TargetRange):
                return [parsed]
            problem = parsed
            first_error = FetchError(parsed.reason, transient=False, status=200)
        except RateLimited as exc:
            problem, first_error = BadMessage(SOURCE, "NY Fed: " + exc.reason), exc
        except FetchError as exc:
            problem, first_error = BadMessage(SOURCE, "NY Fed: " + exc.reason), exc
        except DecodeError as exc:
            problem = BadMessage(SOURCE, f"NY Fed: unreadable answer: {clean_text(exc, 80)}")
            first_error = FetchError(problem.reason, transient=False, status=200)
        start = (self.clock.now().date() - timedelta(days=30)).isoformat()
        try:
            lo = await self.get(self.fred_url + CSV_PATH, params={"id": FRED_LOWER, "cosd": start})
            hi = await self.get(self.fred_url + CSV_PATH, params={"id": FRED_UPPER, "cosd": start})
        except FetchError:
            raise first_error from None
        fallback = parse_fred_range(lo.text(), hi.text(), self.clock.monotonic())
        if isinstance(fallback, BadMessage):
            raise first_error
        return [problem, fallback]
