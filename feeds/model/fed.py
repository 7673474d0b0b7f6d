"""Fed rate-cut odds: the FOMC calendar, the target range, prediction-market odds per
meeting, Fed funds futures prices, and the immutable view the odds panel renders.

Probabilities are floats in [0, 1] (they are derived numbers, not prices); market prices
and rates stay ``Decimal`` as parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class Move(StrEnum):
    """One outcome bucket of a rate decision, named by its Kalshi market suffix."""

    CUT_BIG = "C26"
    """A cut of more than 25 bp."""
    CUT = "C25"
    """A 25 bp cut."""
    HOLD = "H0"
    """No change."""
    HIKE = "H25"
    """A 25 bp hike."""
    HIKE_BIG = "H26"
    """A hike of more than 25 bp."""

    @property
    def bp(self) -> int:
        """The change in basis points used for expectations (">25" counts as 50)."""
        return _MOVE_BP[self]


_MOVE_BP = {Move.CUT_BIG: -50, Move.CUT: -25, Move.HOLD: 0, Move.HIKE: 25, Move.HIKE_BIG: 50}


@dataclass(frozen=True, slots=True)
class FomcMeeting:
    """One scheduled FOMC meeting.

    Attributes:
        decision: The second (decision) day; the statement comes at 2:00 p.m. ET.
        sep: True when a Summary of Economic Projections is published.
    """

    decision: date
    sep: bool


@dataclass(frozen=True, slots=True)
class TargetRange:
    """The current federal funds target range.

    Attributes:
        source: The feed's name, ``"fed_target"`` (health is tracked per feed).
        origin: Who answered: ``"nyfed"`` (EFFR endpoint) or ``"fred"`` (DFEDTARL/DFEDTARU).
        lower: Lower bound, percent.
        upper: Upper bound, percent.
        effr: The effective rate on ``as_of``, percent, when the source gives it.
        as_of: The business day the numbers describe.
        received: Monotonic receipt time.
    """

    source: str
    origin: str
    lower: Decimal
    upper: Decimal
    effr: Decimal | None
    as_of: date
    received: float


@dataclass(frozen=True, slots=True)
class OutcomePrice:
    """One outcome market of a meeting, as quoted.

    Attributes:
        move: The outcome bucket.
        bid: Best yes bid in dollars (0 to 1), if any.
        ask: Best yes ask in dollars (0 to 1), if any.
        last: Last trade price in dollars, if any.
        mid: The price used: mid of bid and ask, else ``last``; None if unusable.
        spread: ``ask - bid`` when both sides exist.
        prob: ``mid`` normalised across the event's outcomes (0 when unusable).
        flag: Why this market is suspect, empty when clean.
    """

    move: Move
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    mid: Decimal | None
    spread: Decimal | None
    prob: float
    flag: str


@dataclass(frozen=True, slots=True)
class MeetingOdds:
    """Market-implied outcome odds for one meeting from one prediction market.

    Attributes:
        source: ``"kalshi"`` or ``"polymarket"``.
        meeting: The meeting's decision date.
        event: The market's own event id (ticker or slug), sanitised.
        outcomes: The outcome markets, in ``Move`` order.
        raw_sum: Sum of the un-normalised prices (overround shows as > 1).
        max_spread: Widest bid/ask spread among outcomes that matter, if known.
        volume: Traded contracts summed over the outcomes, if known.
        usable: False when junk was found; the meeting is then left out of the headline.
        flags: Words for the screen: ``THIN``, ``WIDE``, ``EXCLUDED: ...``.
        received: Monotonic receipt time.
    """

    source: str
    meeting: date
    event: str
    outcomes: tuple[OutcomePrice, ...]
    raw_sum: Decimal
    max_spread: Decimal | None
    volume: Decimal | None
    usable: bool
    flags: tuple[str, ...]
    received: float

    def prob(self, move: Move) -> float:
        """The normalised probability of one bucket (0 if the market lists none)."""
        for o in self.outcomes:
            if o.move is move:
                return o.prob
        return 0.0

    @property
    def p_cut(self) -> float:
        """P(any cut)."""
        return self.prob(Move.CUT_BIG) + self.prob(Move.CUT)

    @property
    def p_hold(self) -> float:
        """P(no change)."""
        return self.prob(Move.HOLD)

    @property
    def p_hike(self) -> float:
        """P(any hike)."""
        return self.prob(Move.HIKE) + self.prob(Move.HIKE_BIG)

    @property
    def expected_bp(self) -> float:
        """The expected change in basis points (">25 bp" buckets count as 50)."""
        return sum(o.prob * o.move.bp for o in self.outcomes)


@dataclass(frozen=True, slots=True)
class LadderStrike:
    """One KXFED strike market as quoted, with the checks' verdict.

    Attributes:
        strike: The strike, percent (the market pays if the upper bound ends above it).
        bid: Best yes bid in dollars, if any.
        ask: Best yes ask in dollars, if any.
        last: Last trade price in dollars, if any.
        volume: Traded contracts, if known.
        p_above: The P(upper bound > strike) used: the quote's mid for a clean strike,
            the interpolated value for a flagged one between clean neighbours, else None.
        problems: Why the strike was left out (``PLACEHOLDER``, ``WIDE``, ``THIN``,
            ``ONE-SIDED``, ``EXCLUDED: ...``); empty when clean.
        interpolated: True when ``p_above`` was interpolated from the neighbours.
    """

    strike: Decimal
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    volume: Decimal | None
    p_above: float | None
    problems: tuple[str, ...]
    interpolated: bool = False


@dataclass(frozen=True, slots=True)
class RateLadder:
    """Kalshi's KXFED ladder for one meeting: P(upper bound above each strike).

    Attributes:
        source: ``"kalshi"``.
        meeting: The meeting's decision date.
        event: The event ticker, sanitised.
        strikes: ``(strike, P(upper bound > strike))`` ascending, made non-increasing:
            the clean strikes and the interpolated ones, never a flagged quote.
        usable: False when the ladder was junk or its remaining strikes cannot give a
            monotone, bounded distribution; it then prices nothing.
        flags: Words for the screen, one per strike left out (``T5.25 PLACEHOLDER``).
        received: Monotonic receipt time.
        quotes: Every open strike as quoted, ascending, with its verdict.
        reason: Why the ladder is not usable, in words (``THIN: 4 of 5 strikes are
            placeholders ...``); empty when usable.
    """

    source: str
    meeting: date
    event: str
    strikes: tuple[tuple[Decimal, float], ...]
    usable: bool
    flags: tuple[str, ...]
    received: float
    quotes: tuple[LadderStrike, ...] = ()
    reason: str = ""

    def distribution(self) -> tuple[tuple[Decimal, float], ...]:
        """``(upper bound, probability)`` pairs implied by the ladder, ascending.

        P(upper = X) = P(above X - step) - P(above X); the mass below the lowest strike
        is put on the lowest strike, the mass above the highest on one step above it.
        """
        if not self.strikes:
            return ()
        out: list[tuple[Decimal, float]] = []
        prev_above = 1.0
        for strike, above in self.strikes:
            out.append((strike, max(0.0, prev_above - above)))
            prev_above = above
        step = (
            self.strikes[-1][0] - self.strikes[-2][0] if len(self.strikes) > 1 else Decimal("0.25")
        )
        out.append((self.strikes[-1][0] + step, max(0.0, prev_above)))
        return tuple(out)

    def expected_upper(self) -> float:
        """The probability-weighted upper bound, percent."""
        dist = self.distribution()
        total = sum(p for _, p in dist)
        if total <= 0:
            return float("nan")
        return sum(float(k) * p for k, p in dist) / total


@dataclass(frozen=True, slots=True)
class ZqQuote:
    """One 30-Day Fed Funds futures price (Yahoo ``ZQ<m><yy>.CBT``).

    Attributes:
        source: ``"yahoo_zq"``.
        symbol: The Yahoo symbol, e.g. ``"ZQF26.CBT"``.
        month: First day of the contract month.
        price: The last price (100 minus the month's average EFFR).
        received: Monotonic receipt time.
    """

    source: str
    symbol: str
    month: date
    price: Decimal
    received: float


@dataclass(frozen=True, slots=True)
class ZqProbe:
    """The outcome of one round of ZQ look-ups.

    Attributes:
        source: ``"yahoo_zq"``.
        found: Symbols that answered with a price.
        missing: Symbols that did not (``"Not Found"`` or no usable price).
        received: Monotonic receipt time.
    """

    source: str
    found: tuple[str, ...]
    missing: tuple[str, ...]
    received: float


# -- the panel's view ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One source's state for the panel's source line.

    Attributes:
        source: Source name.
        state: The state word (``LIVE``, ``STALE``, ``DOWN`` ...).
        reason: Why, sanitised; empty when fine.
        received: Monotonic time of its last data, if any.
    """

    source: str
    state: str
    reason: str
    received: float | None


@dataclass(frozen=True, slots=True)
class CrossCheck:
    """The cross-check market's odds for one meeting (the source that is not headline).

    Attributes:
        source: ``"polymarket"`` (or ``"kalshi"`` when Polymarket is primary).
        event: The market's own event id, sanitised.
        p_cut: P(any cut).
        p_hold: P(no change).
        p_hike: P(any hike).
        received: Monotonic receipt time (the age is ``now - received``).
        stale: True when older than the source's staleness threshold.
    """

    source: str
    event: str
    p_cut: float
    p_hold: float
    p_hike: float
    received: float
    stale: bool


@dataclass(frozen=True, slots=True)
class MeetingRow:
    """One meeting's line in the odds panel.

    Attributes:
        meeting: The calendar entry.
        p_cut: P(cut) from the headline source, None without usable data.
        p_hold: P(hold).
        p_hike: P(hike).
        likely_lower: Lower bound of the most likely target range after the meeting.
        likely_upper: Upper bound of it.
        likely_p: Probability of that range.
        likely_method: ``"ladder"`` (Kalshi KXFED) or ``"tree"`` (decision odds chained).
        expected_bp: Expected change at this meeting, basis points.
        source: Where the headline numbers came from; empty when none.
        received: Monotonic receipt time of those numbers.
        spread: Widest bid/ask spread, dollars.
        flags: Words for the screen (THIN, WIDE, STALE, EXCLUDED ..., NO MARKET).
        cross_p_cut: P(cut) from the cross-check market (Polymarket), if any.
        fedwatch_p_cut: P(cut) from the FedWatch method on ZQ futures, if available.
        delta_p_cut: Change in P(cut) against yesterday's baseline, if known.
        cross: The cross-check market's odds in full (source, P(cut), P(hold), age).
        ladder_note: Why the KXFED ladder was not used for this meeting (and what was
            used instead), or which strikes were interpolated; empty otherwise.
    """

    meeting: FomcMeeting
    p_cut: float | None
    p_hold: float | None
    p_hike: float | None
    likely_lower: Decimal | None
    likely_upper: Decimal | None
    likely_p: float | None
    likely_method: str
    expected_bp: float | None
    source: str
    received: float | None
    spread: Decimal | None
    flags: tuple[str, ...]
    cross_p_cut: float | None
    fedwatch_p_cut: float | None
    delta_p_cut: float | None
    cross: CrossCheck | None = None
    ladder_note: str = ""


@dataclass(frozen=True, slots=True)
class FedOddsView:
    """Everything the odds panel shows, immutable.

    Attributes:
        target: The current target range, if known.
        next_decision: 2:00 p.m. ET on the next decision day, UTC, if the calendar has one.
        next_meeting: The next meeting, if any.
        rows: The next meetings shown, in date order.
        cum_bp: Expected cumulative change over the horizon, basis points.
        cum_by: The last meeting counted in ``cum_bp``.
        cum_method: How ``cum_bp`` was worked out, in words.
        cum_partial: True when some meetings in the horizon had no usable odds.
        ladder_cum_bp: The same horizon read off the KXFED ladder, as a cross-check.
        ladder_cum_note: Why the horizon's ladder gives no figure, in words; empty when
            it does or when there is no ladder.
        delta_cum_bp: Change of ``cum_bp`` against yesterday, when a baseline is known.
        sources: Each odds source's state.
        notes: Short explanations (degraded FedWatch inputs, excluded markets ...).
        primary: The configured headline source.
    """

    target: TargetRange | None
    next_decision: datetime | None
    next_meeting: FomcMeeting | None
    rows: tuple[MeetingRow, ...]
    cum_bp: float | None
    cum_by: date | None
    cum_method: str
    cum_partial: bool
    ladder_cum_bp: float | None
    delta_cum_bp: float | None
    sources: tuple[SourceLine, ...]
    notes: tuple[str, ...]
    primary: str
    ladder_cum_note: str = ""
