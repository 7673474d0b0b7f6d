"""Shared checks for prediction-market odds: price ranges, bid/ask mids, normalisation,
and the THIN / WIDE / EXCLUDED flags (reliability.md D11).

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
        two_sided = (
            r.bid is not None
            and r.ask is not None
            and r.bid <= r.ask
            and not (r.bid == ZERO and r.ask == ONE)
        )
        if two_sided:
            assert r.bid is not None and r.ask is not None
            mids.append((r, (r.bid + r.ask) / 2, r.ask - r.bid, True))
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
    if volume is not None and float(volume) < checks.thin_volume:
        thin = True
    if thin:
        flags.insert(0, "THIN")
    if max_spread is not None and float(max_spread) > checks.wide_spread:
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
