"""Kalshi Fed markets: KXFEDDECISION (one event per meeting, five outcome markets) and
the KXFED upper-bound ladder (sources.md D4). Public reads, no key.

Prices are the ``*_dollars`` fixed-point strings. The legacy integer-cent fields
(``yes_bid``, ``yes_ask``, ``last_price``, ``volume``) are read only when the dollar
field is absent, and a market where both are present and disagree is rejected: that is
a units trap, not a price.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from feeds.core.decode import number
from feeds.core.poll import FetchError, RateLimited
from feeds.core.text import clean_text
from feeds.model.core import BadMessage, Ignored
from feeds.model.fed import FomcMeeting, MeetingOdds, Move, RateLadder
from feeds.rates.calendar import meeting_in_month
from feeds.rates.market_feed import MarketOddsFeed
from feeds.rates.odds_checks import MarketChecks, RawOutcome, assemble, probability

SOURCE = "kalshi"
DECISION_SERIES = "KXFEDDECISION"
LADDER_SERIES = "KXFED"
MAX_PAGES = 5
"""Cursor pages per series per poll; the Fed series have a dozen events, so five pages of
100 is generous, and a runaway cursor cannot keep the poll going."""

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    )
}
_EVENT_RE = re.compile(r"^[A-Z]+-(\d{2})([A-Z]{3})$")
_STRIKE_RE = re.compile(r"-T(\d{1,2}\.\d{1,2})$")
_CLOSED = {"closed", "settled", "determined", "finalized"}
_CENTS = {
    "yes_bid_dollars": "yes_bid",
    "yes_ask_dollars": "yes_ask",
    "last_price_dollars": "last_price",
}


def event_meeting(event_ticker: str, meetings: Sequence[FomcMeeting]) -> FomcMeeting | str:
    """The meeting an event ticker like ``KXFEDDECISION-26JAN`` names, or why not."""
    match = _EVENT_RE.match(event_ticker)
    if match is None or match.group(2) not in _MONTHS:
        return f"event ticker {event_ticker} not understood"
    year, month = 2000 + int(match.group(1)), _MONTHS[match.group(2)]
    found = meeting_in_month(meetings, year, month)
    if found is None:
        return f"{event_ticker}: no FOMC meeting in {match.group(2).title()} {year}"
    return found


def market_price(market: dict[str, Any], field: str) -> tuple[Decimal | None, str]:
    """One ``*_dollars`` price with its legacy integer-cent twin reconciled."""
    legacy_name = _CENTS.get(field)
    legacy = market.get(legacy_name) if legacy_name else None
    value, flag = probability(market.get(field), field)
    if flag:
        return None, flag
    if legacy is None:
        return value, ""
    if isinstance(legacy, bool) or not isinstance(legacy, int):
        # A float or string in a cents field could be either unit: accept it only when it
        # agrees with the dollar field under one reading, never guess on its own.
        n = number(legacy)
        tol = Decimal("0.005")
        if (
            value is not None
            and n is not None
            and (abs(n - value) <= tol or abs(n / 100 - value) <= tol)
        ):
            return value, ""
        return None, f"{legacy_name} units unclear"
    cents = Decimal(legacy) / 100
    if cents < 0 or cents > 1:
        return None, f"{legacy_name} {legacy} out of range"
    if value is None:
        return cents, ""
    if abs(value - cents) > Decimal("0.005"):
        return None, f"{field} {value} vs {legacy_name} {legacy} (units conflict)"
    return value, ""


def _volume(market: dict[str, Any]) -> Decimal | None:
    vol = number(market.get("volume_fp"))
    if vol is None and isinstance(market.get("volume"), int):
        vol = number(market.get("volume"))
    return vol if vol is not None and vol >= 0 else None


def parse_decision_event(
    event: object,
    meetings: Sequence[FomcMeeting],
    checks: MarketChecks,
    received: float,
) -> MeetingOdds | BadMessage | Ignored:
    """One KXFEDDECISION event (with nested markets) -> the meeting's odds."""
    if not isinstance(event, dict):
        return BadMessage(SOURCE, "event is not an object")
    ticker = event.get("event_ticker")
    if not isinstance(ticker, str) or not ticker:
        return BadMessage(SOURCE, "event without event_ticker")
    ticker = clean_text(ticker, 40)
    meeting = event_meeting(ticker, meetings)
    if isinstance(meeting, str):
        return BadMessage(SOURCE, meeting)
    markets = event.get("markets")
    if not isinstance(markets, list):
        return BadMessage(SOURCE, f"{ticker}: no markets list")
    raw: list[RawOutcome] = []
    seen: set[Move] = set()
    for m in markets:
        if not isinstance(m, dict) or not isinstance(m.get("ticker"), str):
            return BadMessage(SOURCE, f"{ticker}: market without ticker")
        status = m.get("status")
        if isinstance(status, str) and status.lower() in _CLOSED:
            continue
        suffix = m["ticker"].rsplit("-", 1)[-1]
        try:
            move = Move(suffix)
        except ValueError:
            continue  # a bucket we do not chart; the rest of the event still counts
        if move in seen:
            return BadMessage(SOURCE, f"{ticker}: outcome {suffix} listed twice")
        seen.add(move)
        bid, f1 = market_price(m, "yes_bid_dollars")
        ask, f2 = market_price(m, "yes_ask_dollars")
        last, f3 = market_price(m, "last_price_dollars")
        flag = f1 or f2 or f3
        raw.append(RawOutcome(move, bid, ask, last, _volume(m), clean_text(flag, 80)))
    if not raw:
        return Ignored(SOURCE, f"{ticker}: no open outcome markets")
    return assemble(
        source=SOURCE,
        meeting=meeting.decision,
        event=ticker,
        raw=raw,
        checks=checks,
        received=received,
    )


def parse_ladder_event(
    event: object, meetings: Sequence[FomcMeeting], received: float
) -> RateLadder | BadMessage | Ignored:
    """One KXFED event -> P(upper bound above each strike) for its meeting.

    The strike is read from ``floor_strike`` or, failing that, the ``-T3.75`` ticker
    suffix (the ticker form is from third-party code: UNCONFIRMED).
    """
    if not isinstance(event, dict) or not isinstance(event.get("event_ticker"), str):
        return BadMessage(SOURCE, "ladder event without event_ticker")
    ticker = clean_text(event["event_ticker"], 40)
    meeting = event_meeting(ticker, meetings)
    if isinstance(meeting, str):
        return BadMessage(SOURCE, meeting)
    markets = event.get("markets")
    if not isinstance(markets, list):
        return BadMessage(SOURCE, f"{ticker}: no markets list")
    flags: list[str] = []
    usable = True
    points: dict[Decimal, float] = {}
    for m in markets:
        if not isinstance(m, dict) or not isinstance(m.get("ticker"), str):
            return BadMessage(SOURCE, f"{ticker}: market without ticker")
        status = m.get("status")
        if isinstance(status, str) and status.lower() in _CLOSED:
            continue
        strike = number(m.get("floor_strike"))
        if strike is None:
            found = _STRIKE_RE.search(m["ticker"])
            strike = Decimal(found.group(1)) if found else None
        if strike is None or strike < 0 or strike > 20:
            continue
        bid, f1 = market_price(m, "yes_bid_dollars")
        ask, f2 = market_price(m, "yes_ask_dollars")
        last, f3 = market_price(m, "last_price_dollars")
        if f1 or f2 or f3:
            usable = False
            flags.append(clean_text(f"EXCLUDED: T{strike} {f1 or f2 or f3}", 80))
            continue
        if bid is not None and ask is not None and bid <= ask and not (bid == 0 and ask == 1):
            points[strike] = float((bid + ask) / 2)
        elif last is not None:
            points[strike] = float(last)
    if len(points) < 2:
        return Ignored(SOURCE, f"{ticker}: ladder too short")
    strikes = sorted(points)
    # P(above) must fall as the strike rises; small inversions are quote noise and are
    # flattened, large ones mean the ladder cannot be trusted.
    out: list[tuple[Decimal, float]] = []
    running = 1.0
    for k in strikes:
        p = points[k]
        if p > running + 0.05:
            usable = False
            flags.append(f"EXCLUDED: ladder not monotone at {k}")
        running = min(running, p)
        out.append((k, running))
    return RateLadder(SOURCE, meeting.decision, ticker, tuple(out), usable, tuple(flags), received)


class KalshiFedFeed(MarketOddsFeed):
    """Polls the two Fed series' open events with nested markets."""

    source = SOURCE

    default_every = 60.0

    async def _events(self, series: str) -> list[object]:
        out: list[object] = []
        cursor = ""
        for _ in range(MAX_PAGES):
            params = {
                "series_ticker": series,
                "status": "open",
                "with_nested_markets": "true",
                "limit": "100",
            }
            if cursor:
                params["cursor"] = cursor
            body = (await self.get(f"{self.base_url}/events", params=params)).json()
            if not isinstance(body, dict) or not isinstance(body.get("events"), list):
                out.append(BadMessage(SOURCE, f"{series}: answer has no events list"))
                break
            out.extend(body["events"])
            nxt = body.get("cursor")
            if not isinstance(nxt, str) or not nxt:
                break
            cursor = nxt
        return out

    async def poll(self) -> Sequence[object]:
        """Fetch both series; parse every event."""
        now = self.clock.monotonic()
        produced: list[object] = []
        for ev in await self._events(DECISION_SERIES):
            produced.append(
                ev
                if isinstance(ev, BadMessage)
                else parse_decision_event(ev, self.meetings, self.checks, now)
            )
        try:
            ladder = await self._events(LADDER_SERIES)
        except RateLimited:
            raise
        except FetchError as exc:
            produced.append(BadMessage(SOURCE, f"KXFED ladder: {exc.reason}"))
        else:
            for ev in ladder:
                produced.append(
                    ev if isinstance(ev, BadMessage) else parse_ladder_event(ev, self.meetings, now)
                )
        return produced
