"""Shared checks for prediction-market odds: price ranges, bid/ask mids, placeholder
quotes, normalisation, and the THIN / WIDE / EXCLUDED flags (reliability.md D11). Both
the decision markets and the KXFED ladder strikes are judged here, by one set of rules.

A market with junk (a price outside [0, 1], unreadable or conflicting units) is
flagged and its meeting marked unusable, so it never reaches the headline. Outcome
sums inside ``[sum_low, sum_high]`` are normalised (Kalshi's overround is about 1.025);
sums outside are junk too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from feeds.core.decode import number
from feeds.model.fed import MeetingOdds, Move, OutcomePrice

ONE = Decimal(1)
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class MarketChecks:
    """Thresholds for judging a meeting's markets.

    Attributes:
        sum_low: Smallest acceptable sum of outcome prices before normalising.
        sum_high: Largest acceptable sum.
        wide_spread: A bid/ask spread above this (dollars) on an outcome that matters
            flags the meeting WIDE.
        thin_volume: Total traded contracts below this flag the meeting THIN.
        matters: Outcomes with at least this probability count for WIDE/THIN.
    """

    sum_low: float = 0.9
    sum_high: float = 1.15
    wide_spread: float = 0.06
    thin_volume: float = 500.0
    matters: float = 0.05

    def wide(self, spread: Decimal | None) -> bool:
        """True when a bid/ask spread is too wide to read a price from."""
        return spread is not None and float(spread) > self.wide_spread

    def thin(self, volume: Decimal | None) -> bool:
        """True when a traded volume is too small to trust (unknown volume is not)."""
        return volume is not None and float(volume) < self.thin_volume


PLACEHOLDER_BID = Decimal("0.01")
PLACEHOLDER_ASK = Decimal("0.99")
"""A yes bid at or below 1 cent with a yes ask at or above 99 cents is a resting
placeholder, not a price: its midpoint (about 50%) says nothing (issue 19)."""


@dataclass(frozen=True, slots=True)
class Quote:
    """What a bid and an ask say, judged once for every market type.

    Attributes:
        mid: The midpoint when the quote is two-sided, else None.
        spread: ``ask - bid`` when two-sided, else None.
        placeholder: True for a 1-cent / 99-cent (or 0 / 1) quote.
    """

    mid: Decimal | None
    spread: Decimal | None
    placeholder: bool

    @property
    def two_sided(self) -> bool:
        """True when the quote gives a price."""
        return self.mid is not None


def read_quote(bid: Decimal | None, ask: Decimal | None) -> Quote:
    """Judge one bid/ask pair: a placeholder or a crossed or one-sided quote has no mid."""
    if bid is None or ask is None or bid > ask:
        return Quote(None, None, False)
    if bid <= PLACEHOLDER_BID and ask >= PLACEHOLDER_ASK:
        return Quote(None, None, True)
    return Quote((bid + ask) / 2, ask - bid, False)


def quote_problems(quote: Quote, volume: Decimal | None, checks: MarketChecks) -> tuple[str, ...]:
    """Why one market's quote cannot stand alone as a price: ``PLACEHOLDER``,
    ``ONE-SIDED``, ``WIDE`` (spread above ``wide_spread``), ``THIN`` (volume under
    ``thin_volume``); empty when it can. The same thresholds flag decision markets."""
    words: list[str] = []
    if quote.placeholder:
        words.append("PLACEHOLDER")
    elif not quote.two_sided:
        words.append("ONE-SIDED")
    elif checks.wide(quote.spread):
        words.append("WIDE")
    if checks.thin(volume):
        words.append("THIN")
    return tuple(words)


@dataclass(frozen=True, slots=True)
class RawOutcome:
    """One outcome market before the event-level checks.

    Attributes:
        move: The bucket.
        bid: Yes bid, dollars.
        ask: Yes ask, dollars.
        last: Last price (or the venue's displayed price), dollars.
        volume: Traded contracts, if known.
        flag: Junk found while parsing; non-empty excludes the meeting.
    """

    move: Move
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    volume: Decimal | None
    flag: str = ""


def probability(value: object, name: str) -> tuple[Decimal | None, str]:
    """A price in dollars from the wire: ``(value, "")``, ``(None, "")`` when absent, or
    ``(None, reason)`` when present but junk (unreadable, below 0 or above 1)."""
    if value is None:
        return None, ""
    d = number(value)
    if d is None:
        return None, f"{name} unreadable"
    if d < ZERO or d > ONE:
        return None, f"{name} {d} out of range"
    return d, ""


def assemble(
    *,
    source: str,
    meeting: date,
    event: str,
    raw: list[RawOutcome],
    checks: MarketChecks,
    received: float,
) -> MeetingOdds:
    """Turn one meeting's outcome markets into normalised, flagged odds."""
    flags: list[str] = []
    usable = True
    mids: list[tuple[RawOutcome, Decimal | None, Decimal | None, bool]] = []
    for r in sorted(raw, key=lambda r: list(Move).index(r.move)):
        if r.flag:
            usable = False
            flags.append(f"EXCLUDED: {r.move.value} {r.flag}")
        q = read_quote(r.bid, r.ask)
        if q.two_sided:
            mids.append((r, q.mid, q.spread, True))
        else:
            mids.append((r, r.last, None, False))
    priced = [(r, mid, spread, two) for r, mid, spread, two in mids if mid is not None]
    raw_sum = sum((mid for _, mid, _, _ in priced if mid is not None), ZERO)
    if len(priced) < 2:
        usable = False
        flags.append("EXCLUDED: fewer than two priced outcomes")
    elif not checks.sum_low <= float(raw_sum) <= checks.sum_high:
        usable = False
        flags.append(f"EXCLUDED: outcomes sum to {raw_sum:.2f}")
    outcomes: list[OutcomePrice] = []
    max_spread: Decimal | None = None
    thin = False
    for r, mid, spread, two in mids:
        prob = float(mid / raw_sum) if mid is not None and raw_sum > 0 else 0.0
        if prob >= checks.matters:
            if spread is not None and (max_spread is None or spread > max_spread):
                max_spread = spread
            if not two:
                thin = True
        outcomes.append(OutcomePrice(r.move, r.bid, r.ask, r.last, mid, spread, prob, r.flag))
    volumes = [r.volume for r in raw if r.volume is not None]
    volume = sum(volumes, ZERO) if volumes else None
    if checks.thin(volume):
        thin = True
    if thin:
        flags.insert(0, "THIN")
    if checks.wide(max_spread):
        flags.insert(0, "WIDE")
    if not usable:
        outcomes = [
            OutcomePrice(o.move, o.bid, o.ask, o.last, o.mid, o.spread, 0.0, o.flag)
            for o in outcomes
        ]
    return MeetingOdds(
        source=source,
        meeting=meeting,
        event=event,
        outcomes=tuple(outcomes),
        raw_sum=raw_sum,
        max_spread=max_spread,
        volume=volume,
        usable=usable,
        flags=tuple(flags),
        received=received,
    )
