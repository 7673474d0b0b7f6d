"""A probe for 30-Day Fed Funds futures prices on Yahoo (``ZQ<m><yy>.CBT``).

Whether Yahoo serves per-month ZQ contracts is disputed: they are used widely, yet one
project saw every month answer "Not Found" (sources.md D3, UNCONFIRMED / intermittent).
So each poll asks for the months the FedWatch method needs, reports which answered, and
when none did, the feed goes DEGRADED with that reason and probes less often. The odds
panel then shows the FedWatch column as unavailable and relies on Kalshi.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

import httpx

from feeds.core.clock import Clock
from feeds.core.decode import DecodeError, price
from feeds.core.poll import FetchError, PolledFeed, PollTiming, RateLimited
from feeds.core.text import clean_text
from feeds.model.core import BadMessage
from feeds.model.fed import ZqProbe, ZqQuote
from feeds.rates.calendar import add_months, month_start, zq_symbol

SOURCE = "yahoo_zq"
CHART_PATH = "/v8/finance/chart/"
ZQ_LOW, ZQ_HIGH = Decimal(80), Decimal(100)
"""ZQ prices are 100 minus a rate in percent; outside this band a price is a unit error."""


def parse_chart_price(payload: object, symbol: str) -> Decimal | BadMessage:
    """Yahoo chart JSON -> ``meta.regularMarketPrice``, checked to be a plausible ZQ price."""
    name = clean_text(symbol, 20)
    if not isinstance(payload, dict) or not isinstance(payload.get("chart"), dict):
        return BadMessage(SOURCE, f"{name}: not a chart answer")
    chart = payload["chart"]
    err = chart.get("error")
    if isinstance(err, dict):
        return BadMessage(SOURCE, f"{name}: {clean_text(err.get('description', 'error'), 60)}")
    result = chart.get("result")
    if not isinstance(result, list) or not result or not isinstance(result[0], dict):
        return BadMessage(SOURCE, f"{name}: empty chart result")
    meta = result[0].get("meta")
    if not isinstance(meta, dict):
        return BadMessage(SOURCE, f"{name}: chart without meta")
    raw = meta.get("regularMarketPrice")
    # Yahoo sends a JSON number; a string here is a different (wrong) shape.
    value = price(raw) if isinstance(raw, int | float) else None
    if value is None:
        return BadMessage(SOURCE, f"{name}: no usable regularMarketPrice")
    if not ZQ_LOW < value <= ZQ_HIGH:
        return BadMessage(SOURCE, f"{name}: price {value} is not a ZQ price")
    return value


def months_needed(today: date, last_meeting: date | None) -> tuple[date, ...]:
    """Contract months from the one before today's to the one after the last meeting."""
    if last_meeting is None:
        return ()
    first = add_months(month_start(today), -1)
    last = add_months(month_start(last_meeting), 1)
    out: list[date] = []
    m = first
    while m <= last and len(out) < 30:
        out.append(m)
        m = add_months(m, 1)
    return tuple(out)


class YahooZqFeed(PolledFeed):
    """Probes per-month ZQ contracts on Yahoo's v8 chart endpoint."""

    source = SOURCE

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient,
        clock: Clock,
        last_meeting: Callable[[], date | None],
        every: float = 300.0,
        missing_every: float = 1800.0,
        spacing: float = 0.5,
        timing: PollTiming | None = None,
    ) -> None:
        """``last_meeting`` gives the last meeting the panel shows (the months needed
        follow from it); ``missing_every`` is the slower probe when nothing answered;
        ``spacing`` separates requests so Yahoo is never hammered."""
        super().__init__(client=client, clock=clock, timing=timing)
        self.base_url = base_url.rstrip("/")
        self.last_meeting = last_meeting
        self.every = every
        self.missing_every = missing_every
        self.spacing = spacing
        self._found_any = True

    def interval(self) -> float:
        """Seconds between probes; slower while Yahoo lists none of the contracts."""
        return self.every if self._found_any else self.missing_every

    async def poll(self) -> Sequence[object]:
        """Ask for each month's contract; a month that is not found is noted, not fatal."""
        months = months_needed(self.clock.now().date(), self.last_meeting())
        out: list[object] = []
        found: list[str] = []
        missing: list[str] = []
        last_reason = "no contract months to probe"
        for i, month in enumerate(months):
            if i and self.spacing > 0:
                await asyncio.sleep(self.spacing)
            sym = zq_symbol(month)
            try:
                resp = await self.get(
                    self.base_url + CHART_PATH + sym, params={"range": "1d", "interval": "1d"}
                )
                parsed = parse_chart_price(resp.json(), sym)
            except RateLimited:
                raise
            except FetchError as exc:
                parsed = BadMessage(SOURCE, f"{sym}: {exc.reason}")
            except DecodeError as exc:
                parsed = BadMessage(SOURCE, f"{sym}: unreadable answer ({clean_text(exc, 40)})")
            if isinstance(parsed, BadMessage):
                missing.append(sym)
                last_reason = parsed.reason
                continue
            found.append(sym)
            out.append(ZqQuote(SOURCE, sym, month, parsed, self.clock.monotonic()))
        self._found_any = bool(found)
        if not found:
            raise FetchError(
                f"no per-month ZQ contract on Yahoo (0/{len(months)}; {last_reason})",
                transient=False,
                status=404,
            )
        out.append(ZqProbe(SOURCE, tuple(found), tuple(missing), self.clock.monotonic()))
        return out
