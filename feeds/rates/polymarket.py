"""Polymarket Gamma Fed-decision events: the fallback odds source and a cross-check
column (sources.md D5). Public reads, no key.

Each event is one meeting; each outcome bucket is a binary market whose short label is
``groupItemTitle``. ``outcomes`` and ``outcomePrices`` are JSON-encoded *strings*
(index 0 = "Yes") and must be decoded before use. ``bestBid``/``bestAsk`` are read when
present (seen on Gamma market objects, not in the cited docs: UNCONFIRMED).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from feeds.core.decode import DecodeError, loads, number
from feeds.core.text import clean_text
from feeds.model.core import BadMessage, Ignored
from feeds.model.fed import FomcMeeting, MeetingOdds, Move
from feeds.rates.market_feed import MarketOddsFeed
from feeds.rates.odds_checks import MarketChecks, RawOutcome, assemble, probability

SOURCE = "polymarket"
TAG = "fed-rates"
MATCH_DAYS = 3
"""An event's ``endDate`` must fall within this many days of a decision date."""


def bucket(label: str) -> Move | None:
    """The outcome bucket a ``groupItemTitle`` names ("25 bps decrease", "No change")."""
    text = label.lower()
    if "no change" in text or "unchanged" in text or text.strip() in ("hold", "pause"):
        return Move.HOLD
    big = any(s in text for s in ("50", "75", "100"))
    if "decrease" in text or "cut" in text:
        return Move.CUT_BIG if big else Move.CUT
    if "increase" in text or "hike" in text:
        return Move.HIKE_BIG if big else Move.HIKE
    return None


def yes_price(value: object) -> tuple[Decimal | None, str]:
    """The "Yes" price from ``outcomePrices`` (a JSON-encoded list, index 0)."""
    if isinstance(value, str):
        try:
            value = loads(value)
        except DecodeError:
            return None, "outcomePrices not decodable"
    if not isinstance(value, list) or not value:
        return None, "outcomePrices not a list"
    return probability(value[0], "outcomePrices[0]")


def _end_date(value: object) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None


def _meeting_near(day: date, meetings: Sequence[FomcMeeting]) -> FomcMeeting | None:
    best = min(meetings, key=lambda m: abs((m.decision - day).days), default=None)
    if best is None or abs((best.decision - day).days) > MATCH_DAYS:
        return None
    return best


def _market(m: dict[str, Any]) -> tuple[Move | None, RawOutcome | None]:
    label = m.get("groupItemTitle")
    move = bucket(label) if isinstance(label, str) else None
    if move is None:
        return None, None
    last, flag = yes_price(m.get("outcomePrices"))
    bid, f2 = probability(m.get("bestBid"), "bestBid")
    ask, f3 = probability(m.get("bestAsk"), "bestAsk")
    flag = flag or f2 or f3
    vol = number(m.get("volumeNum", m.get("volume")))
    return move, RawOutcome(
        move, bid, ask, last, vol if vol is not None and vol >= 0 else None, clean_text(flag, 80)
    )


def parse_event(
    event: object,
    meetings: Sequence[FomcMeeting],
    checks: MarketChecks,
    received: float,
) -> MeetingOdds | BadMessage | Ignored:
    """One Gamma event -> the meeting's odds; events that are not a decision are ignored."""
    if not isinstance(event, dict):
        return BadMessage(SOURCE, "event is not an object")
    slug = clean_text(event.get("slug") or event.get("id") or "?", 60)
    markets = event.get("markets")
    if not isinstance(markets, list):
        return BadMessage(SOURCE, f"{slug}: no markets list")
    raw: list[RawOutcome] = []
    seen: set[Move] = set()
    for m in markets:
        if not isinstance(m, dict):
            return BadMessage(SOURCE, f"{slug}: market is not an object")
        if m.get("closed") is True:
            continue
        move, outcome = _market(m)
        if move is None or outcome is None:
            continue
        if move in seen:
            continue  # "25+ bps increase" and a second hike bucket: keep the first
        seen.add(move)
        raw.append(outcome)
    if not raw:
        return Ignored(SOURCE, f"{slug}: not a decision event")
    end = _end_date(event.get("endDate"))
    if end is None:
        return BadMessage(SOURCE, f"{slug}: no readable endDate")
    meeting = _meeting_near(end, meetings)
    if meeting is None:
        return BadMessage(SOURCE, f"{slug}: no FOMC meeting near {end}")
    return assemble(
        source=SOURCE,
        meeting=meeting.decision,
        event=slug,
        raw=raw,
        checks=checks,
        received=received,
    )


def parse_events(
    body: object, meetings: Sequence[FomcMeeting], checks: MarketChecks, received: float
) -> list[object]:
    """A ``GET /events`` answer (a JSON array) -> odds, rejections and ignored events."""
    if not isinstance(body, list):
        return [BadMessage(SOURCE, "events answer is not a list")]
    return [parse_event(ev, meetings, checks, received) for ev in body[:200]]


class PolymarketFedFeed(MarketOddsFeed):
    """Polls Gamma ``/events?tag_slug=fed-rates&closed=false``."""

    source = SOURCE

    default_every = 120.0

    async def poll(self) -> Sequence[object]:
        """Fetch the open fed-rates events and parse them."""
        resp = await self.get(
            f"{self.base_url}/events",
            params={"tag_slug": TAG, "closed": "false", "limit": "50"},
        )
        return parse_events(resp.json(), self.meetings, self.checks, self.clock.monotonic())
