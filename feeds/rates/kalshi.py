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
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from feeds.core.decode import number
from feeds.core.poll import FetchError, RateLimited
from feeds.core.text import clean_text
from feeds.model.core import BadMessage, Ignored
from feeds.model.fed import FomcMeeting, LadderStrike, MeetingOdds, Move, RateLadder
from feeds.rates.calendar import meeting_in_month
from feeds.rates.market_feed import MarketOddsFeed
from feeds.rates.odds_checks import (
    MarketChecks,
    RawOutcome,
    assemble,
    probability,
    quote_problems,
    read_quote,
)

SOURCE = "kalshi"
DECISION_SERIES = "KXFEDDECISION"
LADDER_SERIES = "KXFED"
MAX_PAGES = 5
"""Cursor pages per series per poll; the Fed series have a dozen events, so five pages of
100 is generous, and a runaway cursor cannot keep the poll going."""
MAX_MARKET_FETCHES = 16
"""``/markets`` look-ups per series per poll for events listed without their markets;
a series has about a dozen open events, and the bound keeps a poll to a few dozen reads
(20 reads/s is the basic tier)."""

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    )
}
_EVENT_RE = re.compile(r"^([A-Z]+)-(\d{2})([A-Z]{3})$")
_STRIKE_RE = re.compile(r"-T(\d{1,2}\.\d{1,2})$")
_CLOSED = {"closed", "settled", "determined", "finalized"}
_CENTS = {
    "yes_bid_dollars": "yes_bid",
    "yes_ask_dollars": "yes_ask",
    "last_price_dollars": "last_price",
}


def event_meeting(
    event_ticker: str, meetings: Sequence[FomcMeeting], series: str | None = None
) -> FomcMeeting | str:
    """The meeting an event ticker like ``KXFEDDECISION-26JAN`` names, or why not.
    With ``series``, the ticker must belong to it: another Fed series shaped alike (a
    real one, ``KXFEDFUNDSYEAR-37JAN01``, is in tests/data/real) is not a meeting."""
    match = _EVENT_RE.match(event_ticker)
    if match is None or match.group(3) not in _MONTHS:
        return f"event ticker {event_ticker} not understood"
    if series is not None and match.group(1) != series:
        return f"event ticker {event_ticker} is not a {series} event"
    year, month = 2000 + int(match.group(2)), _MONTHS[match.group(3)]
    found = meeting_in_month(meetings, year, month)
    if found is None:
        return f"{event_ticker}: no FOMC meeting in {match.group(3).title()} {year}"
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
    head = _event_head(event, meetings, "event", DECISION_SERIES)
    if not isinstance(head, tuple):
        return head
    ticker, meeting, markets = head
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


def _event_head(
    event: object, meetings: Sequence[FomcMeeting], what: str, series: str
) -> tuple[str, FomcMeeting, list[object]] | BadMessage | Ignored:
    """An event's ticker, its meeting and its nested markets, or why it has none.

    A real ``/events`` answer may list an event with no ``markets`` key (or ``null``):
    that is an event with no open markets listed, not bad data. Anything else that is
    not a list is."""
    ticker = event.get("event_ticker") if isinstance(event, dict) else None
    if not isinstance(event, dict) or not isinstance(ticker, str) or not ticker:
        return BadMessage(SOURCE, f"{what} without event_ticker")
    ticker = clean_text(ticker, 40)
    meeting = event_meeting(ticker, meetings, series)
    if isinstance(meeting, str):
        return BadMessage(SOURCE, meeting)
    markets = event.get("markets")
    if markets is None:
        return Ignored(SOURCE, f"{ticker}: no open markets listed")
    if not isinstance(markets, list):
        return BadMessage(SOURCE, f"{ticker}: markets is not a list")
    return ticker, meeting, markets


def parse_ladder_event(
    event: object,
    meetings: Sequence[FomcMeeting],
    received: float,
    checks: MarketChecks | None = None,
) -> RateLadder | BadMessage | Ignored:
    """One KXFED event -> P(upper bound above each strike) for its meeting.

    Every strike is judged by :func:`~feeds.rates.odds_checks.quote_problems`, the rules
    the decision markets follow: a placeholder (1-cent bid, 99-cent ask), one-sided, WIDE
    or THIN strike is left out, never read as a price. See :func:`shape_ladder`.

    The strike is read from ``floor_strike`` or, failing that, the ``-T3.75`` ticker
    suffix (the ticker form is from third-party code: UNCONFIRMED).
    """
    checks = checks or MarketChecks()
    head = _event_head(event, meetings, "ladder event", LADDER_SERIES)
    if not isinstance(head, tuple):
        return head
    ticker, meeting, markets = head
    quotes: dict[Decimal, LadderStrike] = {}
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
        if strike is None or strike < 0 or strike > 20 or strike in quotes:
            continue
        bid, f1 = market_price(m, "yes_bid_dollars")
        ask, f2 = market_price(m, "yes_ask_dollars")
        last, f3 = market_price(m, "last_price_dollars")
        volume = _volume(m)
        junk = f1 or f2 or f3
        if junk:
            problems: tuple[str, ...] = (clean_text(f"EXCLUDED: {junk}", 80),)
            p_above = None
        else:
            q = read_quote(bid, ask)
            problems = quote_problems(q, volume, checks)
            p_above = None if problems or q.mid is None else float(q.mid)
        quotes[strike] = LadderStrike(strike, bid, ask, last, volume, p_above, problems)
    if not quotes:
        return Ignored(SOURCE, f"{ticker}: no open strikes")
    return shape_ladder(
        meeting.decision, ticker, [quotes[k] for k in sorted(quotes)], checks, received
    )


def _pct(p: float) -> str:
    return f"{p * 100:.0f}%"


def _why(quotes: Sequence[LadderStrike]) -> tuple[str, str]:
    """(headline word, counts in words) for the strikes left out."""
    flagged = [q for q in quotes if q.problems]
    placeholders = sum("PLACEHOLDER" in q.problems for q in flagged)
    kinds: dict[str, int] = {}
    for q in flagged:
        if "PLACEHOLDER" in q.problems:
            continue
        label = " and ".join(w.split(":")[0] for w in q.problems)
        kinds[label] = kinds.get(label, 0) + 1
    parts: list[str] = []
    if placeholders:
        verb = "is a placeholder" if placeholders == 1 else "are placeholders"
        parts.append(f"{placeholders} of {len(quotes)} strikes {verb}")
    for label, n in kinds.items():
        parts.append(f"{n} {label}" if parts else f"{n} of {len(quotes)} strikes {label}")
    words = [w for q in flagged for w in q.problems]
    if any(w.startswith("EXCLUDED") for w in words):
        head = "EXCLUDED"
    elif placeholders or "THIN" in words or "ONE-SIDED" in words:
        head = "THIN"
    elif "WIDE" in words:
        head = "WIDE"
    else:
        head = ""
    return head, ", ".join(parts)


def shape_ladder(
    meeting: date,
    event: str,
    quotes: Sequence[LadderStrike],
    checks: MarketChecks,
    received: float,
) -> RateLadder:
    """Build the ladder from judged strikes (ascending); pure.

    Clean strikes give P(above) directly; small inversions are quote noise and are
    flattened, large ones (over 5 points) mean the ladder cannot be trusted. A flagged
    strike between two clean ones is interpolated linearly between them (so P(above)
    stays non-increasing). A flagged strike beyond the outermost clean one is dropped
    when monotonicity already pins it (the clean neighbour is within ``matters`` of 0
    at the top, of 1 at the bottom); otherwise the tail's mass is unknown and the ladder
    is not used. A junk price anywhere (units, range) makes the ladder unusable.
    """
    head, counts = _why(quotes)
    flags = tuple(
        clean_text(f"T{q.strike:.2f} {' '.join(q.problems)}", 80) for q in quotes if q.problems
    )

    def refuse(consequence: str) -> RateLadder:
        word = head or "UNUSABLE"
        text = f"{word}: {counts}; {consequence}" if counts else f"{word}: {consequence}"
        return RateLadder(SOURCE, meeting, event, (), False, flags, received, tuple(quotes), text)

    if head == "EXCLUDED":
        return refuse("junk prices")
    clean = [(q.strike, q.p_above) for q in quotes if q.p_above is not None]
    if len(clean) < 2:
        return refuse("none left to price" if not clean else "one strike left, no ladder")
    running = 1.0
    flat: dict[Decimal, float] = {}
    for k, p in clean:
        assert p is not None
        if p > running + 0.05:
            head = head or "NOT MONOTONE"
            return refuse(f"P(above) rises from {_pct(running)} to {_pct(p)} at T{k:.2f}")
        running = min(running, p)
        flat[k] = running
    low, high = clean[0][0], clean[-1][0]
    below = [q for q in quotes if q.strike < low]
    above = [q for q in quotes if q.strike > high]
    if below and flat[low] < 1 - checks.matters:
        return refuse(
            f"strikes below T{low:.2f} left out while P(above T{low:.2f}) is {_pct(flat[low])}"
        )
    if above and flat[high] > checks.matters:
        return refuse(
            f"strikes above T{high:.2f} left out while P(above T{high:.2f}) is {_pct(flat[high])}"
        )
    out: list[LadderStrike] = []
    keys = sorted(flat)
    for q in quotes:
        if q.strike in flat:
            out.append(replace(q, p_above=flat[q.strike]))
            continue
        if q.strike < low or q.strike > high:
            out.append(q)
            continue
        lo = max(k for k in keys if k < q.strike)
        hi = min(k for k in keys if k > q.strike)
        w = float((q.strike - lo) / (hi - lo))
        p = flat[lo] + (flat[hi] - flat[lo]) * w
        out.append(replace(q, p_above=p, interpolated=True))
    strikes = tuple((q.strike, q.p_above) for q in out if q.p_above is not None)
    return RateLadder(SOURCE, meeting, event, strikes, True, flags, received, tuple(out), "")


class KalshiFedFeed(MarketOddsFeed):
    """Polls the two Fed series' open events with nested markets.

    An event listed without its ``markets`` (real ``/events`` answers can omit them,
    issue 18) has its open markets fetched with ``GET /markets?event_ticker=...``; if
    that fails, the event counts as having no open markets, never as bad data.
    """

    source = SOURCE

    default_every = 60.0

    async def _pages(self, path: str, key: str, params: dict[str, str]) -> tuple[list[object], str]:
        """Follow the cursor for one listing: the items read, and why a page was unusable
        (empty when none was)."""
        out: list[object] = []
        cursor = ""
        for _ in range(MAX_PAGES):
            query = {**params, "limit": "100"}
            if cursor:
                query["cursor"] = cursor
            body = (await self.get(f"{self.base_url}{path}", params=query)).json()
            if not isinstance(body, dict) or not isinstance(body.get(key), list):
                return out, f"answer has no {key} list"
            out.extend(body[key])
            nxt = body.get("cursor")
            if not isinstance(nxt, str) or not nxt:
                break
            cursor = nxt
        return out, ""

    async def _with_markets(self, event: dict[str, Any], budget: list[int]) -> object:
        """The event with its open markets filled in when the listing left them out."""
        ticker = event.get("event_ticker")
        if event.get("markets") is not None or not isinstance(ticker, str) or not ticker:
            return event  # nested as asked, or for the parser to reject
        name = clean_text(ticker, 40)
        if budget[0] <= 0:
            return Ignored(SOURCE, f"{name}: markets not fetched (per-poll limit)")
        budget[0] -= 1
        try:
            # ``event_ticker`` as a /markets filter is in Kalshi's API reference, not in
            # sources.md D4: UNCONFIRMED, so an answer without a list is "none open".
            markets, why = await self._pages(
                "/markets", "markets", {"event_ticker": ticker, "status": "open"}
            )
        except RateLimited:
            raise
        except FetchError as exc:
            return Ignored(SOURCE, f"{name}: markets not fetched: {exc.reason}")
        if why:
            return Ignored(SOURCE, f"{name}: markets {why}")
        return {**event, "markets": markets}

    async def _events(self, series: str) -> list[object]:
        listed, why = await self._pages(
            "/events",
            "events",
            {"series_ticker": series, "status": "open", "with_nested_markets": "true"},
        )
        budget = [MAX_MARKET_FETCHES]
        out = [
            await self._with_markets(ev, budget) if isinstance(ev, dict) else ev for ev in listed
        ]
        if why:
            out.append(BadMessage(SOURCE, f"{series}: {why}"))
        return out

    async def poll(self) -> Sequence[object]:
        """Fetch both series; parse every event."""
        now = self.clock.monotonic()
        produced: list[object] = []
        for ev in await self._events(DECISION_SERIES):
            produced.append(
                ev
                if isinstance(ev, BadMessage | Ignored)
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
                    ev
                    if isinstance(ev, BadMessage | Ignored)
                    else parse_ladder_event(ev, self.meetings, now, self.checks)
                )
        return produced
