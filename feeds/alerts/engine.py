"""Alert rules: a small, strict grammar, the inputs the rules read from the store's
views, and the engine that decides when a rule fires.

Pure: no Textual, no I/O, time comes in as arguments. The TUI and ``lockstep watch``
call :meth:`AlertEngine.evaluate` once a second with :meth:`AlertInputs.from_views`.

The grammar (one rule per string; keywords are case-insensitive; ``btc`` means
``BTC-USD``; other symbols as in the watchlist, e.g. ``^RUT``, ``IWM``, ``SI=F``)::

    <symbol> above <price>           the price reaches <price> or more
    <symbol> below <price>           the price reaches <price> or less
    <symbol> move <pct>% in <window> the price moves <pct>% either way within <window>
    <symbol> up <pct>% in <window>   ... upwards only (from the window's low)
    <symbol> down <pct>% in <window> ... downwards only (from the window's high)
    <symbol|any> new_ath             a new all-time high is set (the NEW ATH badge)
    <symbol|any> reclaim_ath [after <pct>%]
                                     back at the all-time high after being at least
                                     <pct>% (default 5%) below it
    divergence above <pp>            |drawdown gap| BTC vs the index reaches <pp> points
    divergence below <pp>            ... falls to <pp> points or less
    cut_prob <meeting> move <pp>pp   a meeting's P(cut) moves <pp> percentage points from
                                     its value at the first reading or the last alert;
                                     <meeting> is next, a month (jan, january), YYYY-MM
                                     or YYYY-MM-DD
    tbills announced                 a Fed T-bill operation is announced today
    tbills results                   a T-bill operation's results are posted

``<price>`` is a plain number (``100000``, ``100_000``, ``2547.5``); ``<window>`` is a
whole number with ``s``, ``m``, ``h`` or ``d`` (10 s to 1 d).

Firing, once per crossing:

* A rule fires when its condition becomes true and then stays quiet until it re-arms:
  ``above``/``below`` re-arm once the price is back across the level by
  ``hysteresis_pct`` of it; ``divergence`` by 0.5 pp; ``move`` once the move is under
  half the threshold; ``new_ath`` the next day; ``reclaim_ath`` after a new drawdown of
  ``after``; ``cut_prob`` measures from the value at its last alert; each T-bill
  operation fires once per rule.
* Already true at the first fresh reading (at start, or when a source first answers):
  level-like rules (above, below, divergence, new_ath, tbills) fire once, marked
  ``at_start``. Rules about a change (move, reclaim_ath, cut_prob) need to see the
  change happen and never fire at start.
* Stale or missing inputs are left out of :class:`AlertInputs`: they never fire and
  never count as a crossing; a rule keeps its state while its input is stale.
* After a rule fires for a subject, further crossings within ``cooldown_s`` are
  swallowed (counted as suppressed), not delayed.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import TypeVar

from feeds.model.alerts import AlertKind, AlertsView, FiredAlert
from feeds.model.btc import BtcView
from feeds.model.fed import FedOddsView
from feeds.model.history import AthView, DivergenceView
from feeds.model.quotes import QuotesView
from feeds.model.tbills import OperationStatus, TbillsView

BTC = "BTC-USD"
"""The symbol BTC rules and ATH rows use (``btc`` in a rule means this)."""
DIVERGENCE_REARM_PP = 0.5
"""A divergence rule re-arms once the gap is back this many points across its level."""
RECLAIM_AFTER_PCT = 5.0
"""Default drawdown (percent below the high) that arms a ``reclaim_ath`` rule."""
MIN_WINDOW_S = 10.0
MAX_WINDOW_S = 86_400.0
_BUCKETS = 120
"""A move rule keeps at most this many (low, high) buckets per window: bounded memory."""
_SEEN_OPS = 64
"""T-bill operations remembered per rule (a handful a day)."""
TBILLS_START_GRACE_S = 120.0
"""Operations first seen within this long of the NY Fed's first fresh answer count as
already announced at start (the API's channels answer one after another)."""

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for m in names
}
_SYMBOL = re.compile(r"[A-Za-z0-9^][A-Za-z0-9^=.\-]{0,19}")
_NUMBER = re.compile(r"\d+(?:_\d+)*(?:\.\d+)?")
_PCT = re.compile(r"(\d+(?:\.\d+)?)%")
_PP = re.compile(r"(\d+(?:\.\d+)?)pp")
_WINDOW = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_PRICE_WORDS = ("above", "below", "move", "up", "down", "new_ath", "reclaim_ath")


# -- rules ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LevelRule:
    """``<symbol> above|below <price>``."""

    text: str
    symbol: str
    above: bool
    level: Decimal


@dataclass(frozen=True, slots=True)
class MoveRule:
    """``<symbol> move|up|down <pct>% in <window>``."""

    text: str
    symbol: str
    direction: str
    """``"move"`` (either way), ``"up"`` or ``"down"``."""
    pct: float
    window_s: float


@dataclass(frozen=True, slots=True)
class AthRule:
    """``<symbol|any> new_ath`` or ``<symbol|any> reclaim_ath [after <pct>%]``."""

    text: str
    symbol: str | None
    """None for ``any``: every symbol with an all-time high."""
    reclaim: bool
    after_pct: float = RECLAIM_AFTER_PCT


@dataclass(frozen=True, slots=True)
class DivergenceRule:
    """``divergence above|below <pp>``."""

    text: str
    above: bool
    pp: float


@dataclass(frozen=True, slots=True)
class CutProbRule:
    """``cut_prob <meeting> move <pp>pp``."""

    text: str
    meeting: str
    """``"next"``, ``"month:<1-12>"``, ``"ym:<YYYY-MM>"`` or an ISO date."""
    pp: float


@dataclass(frozen=True, slots=True)
class TbillsRule:
    """``tbills announced`` or ``tbills results``."""

    text: str
    results: bool


Rule = LevelRule | MoveRule | AthRule | DivergenceRule | CutProbRule | TbillsRule


def canonical(text: str) -> str:
    """A rule's text with whitespace collapsed (how it is shown and compared)."""
    return " ".join(text.split())


def parse_rule(text: str) -> Rule:
    """Parse one rule; ValueError with a message naming the rule when it is wrong."""
    rule = canonical(text)
    words = rule.split(" ")

    def bad(problem: str) -> ValueError:
        return ValueError(f'rule "{rule}": {problem}')

    if not rule:
        raise bad("empty rule")
    if len(rule) > 200:
        raise bad("longer than 200 characters")
    head = words[0].lower()
    if head == "divergence":
        if len(words) != 3 or words[1].lower() not in ("above", "below"):
            raise bad('expected "divergence above <points>" or "divergence below <points>"')
        pp = _points(words[2], bad, allow_bare=True)
        return DivergenceRule(rule, words[1].lower() == "above", pp)
    if head == "cut_prob":
        if len(words) != 4 or words[2].lower() != "move":
            raise bad('expected "cut_prob <meeting> move <N>pp", e.g. "cut_prob jan move 10pp"')
        return CutProbRule(rule, _meeting(words[1], bad), _points(words[3], bad))
    if head == "tbills":
        if len(words) != 2 or words[1].lower() not in ("announced", "results"):
            raise bad('expected "tbills announced" or "tbills results"')
        return TbillsRule(rule, words[1].lower() == "results")
    if len(words) < 2:
        raise bad(f"expected a condition after {words[0]!r} ({', '.join(_PRICE_WORDS)})")
    cond = words[1].lower()
    if cond not in _PRICE_WORDS:
        raise bad(f'unknown condition "{words[1]}" (expected: {", ".join(_PRICE_WORDS)})')
    if head == "any":
        if cond not in ("new_ath", "reclaim_ath"):
            raise bad('"any" works only with new_ath and reclaim_ath')
        symbol: str | None = None
    else:
        symbol = _symbol(words[0], bad)
    if cond in ("new_ath", "reclaim_ath"):
        after = RECLAIM_AFTER_PCT
        if cond == "new_ath" and len(words) != 2:
            raise bad('"new_ath" takes nothing after it')
        if cond == "reclaim_ath":
            if len(words) == 4 and words[2].lower() == "after":
                after = _percent(words[3], bad, top=99.0)
            elif len(words) != 2:
                raise bad('expected "<symbol> reclaim_ath" or "<symbol> reclaim_ath after <N>%"')
        return AthRule(rule, symbol, cond == "reclaim_ath", after)
    assert symbol is not None
    if cond in ("above", "below"):
        if len(words) != 3:
            raise bad(f'expected "<symbol> {cond} <price>", e.g. "btc {cond} 100000"')
        return LevelRule(rule, symbol, cond == "above", _price(words[2], bad))
    if len(words) != 5 or words[3].lower() != "in":
        raise bad(f'expected "<symbol> {cond} <N>% in <window>", e.g. "^RUT {cond} 2% in 30m"')
    return MoveRule(rule, symbol, cond, _percent(words[2], bad), _window(words[4], bad))


def parse_rules(texts: Iterable[str]) -> tuple[Rule, ...]:
    """Parse every rule; ValueError names the first bad one (and duplicates)."""
    out: list[Rule] = []
    seen: set[str] = set()
    for i, text in enumerate(texts):
        try:
            rule = parse_rule(text)
        except ValueError as exc:
            raise ValueError(f"rules[{i}] {exc}") from None
        key = rule.text.lower()
        if key in seen:
            raise ValueError(f'rules[{i}] rule "{rule.text}": listed twice')
        seen.add(key)
        out.append(rule)
    return tuple(out)


def rule_symbols(rules: Iterable[Rule]) -> tuple[str, ...]:
    """The symbols the price and ATH rules name (for a check against the watchlist)."""
    out: list[str] = []
    for r in rules:
        sym = getattr(r, "symbol", None)
        if isinstance(sym, str) and sym not in out:
            out.append(sym)
    return tuple(out)


# -- parsing helpers -------------------------------------------------------------------


_Bad = Callable[[str], ValueError]


def _symbol(word: str, bad: _Bad) -> str:
    if not _SYMBOL.fullmatch(word):
        raise bad(f'"{word}" is not a symbol (e.g. btc, ^RUT, IWM, SI=F)')
    upper = word.upper()
    return BTC if upper == "BTC" else upper


def _price(word: str, bad: _Bad) -> Decimal:
    if not _NUMBER.fullmatch(word):
        raise bad(f'"{word}" is not a price (write a plain number: 100000 or 100_000)')
    try:
        value = Decimal(word.replace("_", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise bad(f'"{word}" is not a price') from None
    if not value.is_finite() or value <= 0 or value > Decimal("1e12"):
        raise bad(f'price "{word}" must be above 0 and at most 1e12')
    return value


def _percent(word: str, bad: _Bad, top: float = 100.0) -> float:
    m = _PCT.fullmatch(word)
    if not m:
        raise bad(f'"{word}" is not a percentage (e.g. 2% or 0.5%)')
    value = float(m.group(1))
    if not 0 < value <= top:
        raise bad(f'percentage "{word}" must be above 0% and at most {top:g}%')
    return value


def _points(word: str, bad: _Bad, *, allow_bare: bool = False) -> float:
    m = _PP.fullmatch(word.lower())
    if m:
        value = float(m.group(1))
    elif allow_bare and _NUMBER.fullmatch(word) and "_" not in word:
        value = float(word)
    else:
        hint = "25 or 25pp" if allow_bare else "10pp"
        raise bad(f'"{word}" is not a number of percentage points (e.g. {hint})')
    if not 0 < value <= 100:
        raise bad(f'"{word}" must be above 0 and at most 100 points')
    return value


def _window(word: str, bad: _Bad) -> float:
    m = _WINDOW.fullmatch(word.lower())
    if not m:
        raise bad(f'"{word}" is not a time window (e.g. 90s, 30m, 4h, 1d)')
    seconds = float(int(m.group(1)) * _UNITS[m.group(2)])
    if not MIN_WINDOW_S <= seconds <= MAX_WINDOW_S:
        raise bad(f'window "{word}" must be between 10s and 1d')
    return seconds


def _meeting(word: str, bad: _Bad) -> str:
    low = word.lower()
    if low == "next":
        return "next"
    if low in _MONTHS:
        return f"month:{_MONTHS[low]}"
    if re.fullmatch(r"\d{4}-\d{2}", low):
        year, month = int(low[:4]), int(low[5:])
        if 1 <= month <= 12 and 2000 <= year <= 2100:
            return f"ym:{low}"
    else:
        try:
            return date.fromisoformat(low).isoformat()
        except ValueError:
            pass
    raise bad(f'"{word}" is not a meeting (next, a month like jan, 2026-01 or 2026-01-28)')


# -- inputs ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriceInput:
    """A fresh price.

    Attributes:
        symbol: ``BTC-USD`` or a watchlist symbol (upper case).
        price: The price.
        source: Where it came from (``"coinbase"``, ``"yahoo"``, ``"cboe"`` ...).
    """

    symbol: str
    price: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class AthInput:
    """A symbol's all-time high against a fresh live price.

    Attributes:
        symbol: The ATH row's symbol.
        price: The live price the ATH panel uses.
        high: The intraday all-time high.
        high_day: The day of ``high``.
        new_ath: True when ``high`` was set today (the panel's NEW ATH).
        source: Where ``price`` came from.
    """

    symbol: str
    price: Decimal
    high: Decimal
    high_day: date
    new_ath: bool
    source: str


@dataclass(frozen=True, slots=True)
class GapInput:
    """The drawdown gap between the divergence pair, both sides fresh.

    Attributes:
        a: First symbol (BTC).
        b: Second symbol (the index).
        a_dd: ``a``'s drawdown from its high, percent (0 or negative).
        b_dd: ``b``'s drawdown, percent.
        gap_pp: ``|a_dd - b_dd|``, percentage points.
    """

    a: str
    b: str
    a_dd: float
    b_dd: float
    gap_pp: float


@dataclass(frozen=True, slots=True)
class CutInput:
    """One meeting's fresh P(cut) from the headline source.

    Attributes:
        meeting: Decision date.
        p_cut: Probability of any cut, 0 to 1.
        source: ``"kalshi"`` or ``"polymarket"``.
    """

    meeting: date
    p_cut: float
    source: str


@dataclass(frozen=True, slots=True)
class TbillInput:
    """One of today's T-bill operations.

    Attributes:
        operation_id: The NY Fed's id, e.g. ``"OR 121225 01"``.
        operation_date: Its date.
        status: ANNOUNCED, CLOSED or RESULTS.
        kind: ``BILL``, ``COUPON`` or ``OTHER``.
        close_time: When offers close (UTC), if known.
        planned: Maximum size, dollars, if given.
        accepted: Accepted, dollars, once results are in.
        submitted: Submitted, dollars, once results are in.
    """

    operation_id: str
    operation_date: date
    status: OperationStatus
    kind: str
    close_time: datetime | None
    planned: Decimal | None
    accepted: Decimal | None
    submitted: Decimal | None


@dataclass(frozen=True, slots=True)
class AlertInputs:
    """Everything the rules read, fresh values only (stale or missing ones are absent).

    Attributes:
        prices: Fresh prices by symbol (``BTC-USD`` and the quote rows).
        ath: All-time highs by symbol, where the symbol's price is fresh.
        divergence: The drawdown gap, when both sides are fresh.
        cut: Fresh P(cut) per upcoming meeting, in date order.
        tbills: Today's operations, or None when the NY Fed data is stale or missing.
        meetings: Every upcoming meeting the odds panel lists, fresh or not, in date
            order (so ``next`` and ``jan`` name the right meeting even when it is stale).
            Empty means: take the meetings of ``cut``.
    """

    prices: Mapping[str, PriceInput]
    ath: Mapping[str, AthInput]
    divergence: GapInput | None
    cut: tuple[CutInput, ...]
    tbills: tuple[TbillInput, ...] | None
    meetings: tuple[date, ...] = ()

    @classmethod
    def empty(cls) -> AlertInputs:
        """No inputs at all (nothing fires)."""
        return cls(MappingProxyType({}), MappingProxyType({}), None, (), None)

    @classmethod
    def from_views(
        cls,
        now_mono: float,
        *,
        btc: BtcView | None = None,
        quotes: QuotesView | None = None,
        ath: AthView | None = None,
        divergence: DivergenceView | None = None,
        fed: FedOddsView | None = None,
        tbills: TbillsView | None = None,
    ) -> AlertInputs:
        """Build the inputs from the slices' views; any view may be absent."""
        prices: dict[str, PriceInput] = {}
        if btc is not None:
            p = _btc_price(btc, now_mono)
            if p is not None:
                prices[p.symbol] = p
        if quotes is not None:
            for row in (*quotes.rows, *quotes.futures):
                q = row.quote
                if q is None or row.stale or now_mono - q.received > quotes.stale_after:
                    continue
                sym = row.symbol.upper()
                prices[sym] = PriceInput(sym, q.price, q.source)
        highs: dict[str, AthInput] = {}
        if ath is not None:
            for a in ath.rows:
                sym = a.symbol.upper()
                if (
                    sym not in prices
                    or a.record is None
                    or a.price is None
                    or a.price_received is None
                    or a.outlier
                ):
                    continue
                highs[sym] = AthInput(
                    sym,
                    a.price,
                    a.record.high,
                    a.record.high_day,
                    a.new_ath,
                    a.price_source,
                )
        gap = None
        if divergence is not None:
            sa, sb = divergence.a, divergence.b
            if (
                divergence.gap_pp is not None
                and sa.drawdown_pct is not None
                and sb.drawdown_pct is not None
                and sa.received is not None
                and sb.received is not None
                and sa.symbol.upper() in prices
                and sb.symbol.upper() in prices
            ):
                gap = GapInput(
                    sa.symbol,
                    sb.symbol,
                    sa.drawdown_pct,
                    sb.drawdown_pct,
                    # The divergence view's gap (its one owner), as a size.
                    abs(divergence.gap_pp),
                )
        cut: list[CutInput] = []
        meetings: tuple[date, ...] = ()
        if fed is not None:
            meetings = tuple(r.meeting.decision for r in fed.rows)
            for r in fed.rows:
                if r.p_cut is None or r.received is None or not r.source or "STALE" in r.flags:
                    continue
                cut.append(CutInput(r.meeting.decision, r.p_cut, r.source))
        ops: tuple[TbillInput, ...] | None = None
        if tbills is not None and tbills.ops_received is not None and not tbills.ops_stale:
            ops = tuple(
                TbillInput(
                    t.operation.operation_id,
                    t.operation.operation_date,
                    t.status,
                    t.operation.kind.value,
                    t.operation.close_time,
                    t.operation.planned,
                    t.operation.accepted,
                    t.operation.submitted,
                )
                for t in tbills.today_ops
            )
        return cls(
            MappingProxyType(prices), MappingProxyType(highs), gap, tuple(cut), ops, meetings
        )


def _btc_price(view: BtcView, now_mono: float) -> PriceInput | None:
    # The BTC view owns both the shown price and its freshness (one staleness rule):
    # read them, never re-derive them from ages here.
    tick = view.tick
    if tick is None or not view.fresh:
        return None
    return PriceInput(BTC, tick.price, tick.source)


# -- the engine ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Crossing:
    subject: str
    kind: AlertKind
    message: str
    value: str
    source: str
    at_start: bool


class _Window:
    """(time, low, high) buckets covering one move rule's window, oldest first."""

    __slots__ = ("buckets", "step", "span")

    def __init__(self, span: float) -> None:
        self.span = span
        self.step = max(1.0, span / _BUCKETS)
        self.buckets: deque[list[float]] = deque(maxlen=_BUCKETS + 2)

    def add(self, now: float, price: float) -> tuple[float, float]:
        """Record ``price`` and return the window's (low, high), this price included."""
        b = self.buckets
        while b and now - b[0][0] > self.span:
            b.popleft()
        if b and now - b[-1][0] < self.step:
            last = b[-1]
            last[1], last[2] = min(last[1], price), max(last[2], price)
        else:
            b.append([now, price, price])
        return min(x[1] for x in b), max(x[2] for x in b)


_V = TypeVar("_V")


def _moved(
    state: Mapping[tuple[int, str], _V], moved: Mapping[int, int]
) -> dict[tuple[int, str], _V]:
    """Per-rule state re-keyed to the rules' new indexes (rules not in ``moved`` drop)."""
    return {(moved[i], subject): v for (i, subject), v in state.items() if i in moved}


class AlertEngine:
    """Evaluates the rules against :class:`AlertInputs`; keeps per-rule crossing state,
    the cooldown, and a bounded history of fired alerts (newest first)."""

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        cooldown_s: float = 300.0,
        hysteresis_pct: float = 0.1,
        keep: int = 50,
    ) -> None:
        self.rules = tuple(rules)
        self.cooldown_s = cooldown_s
        self.hysteresis = Decimal(repr(hysteresis_pct)) / 100
        self.history: deque[FiredAlert] = deque(maxlen=keep)
        self.fired = 0
        """Alerts fired since start."""
        self.suppressed = 0
        """Crossings swallowed by the cooldown since start."""
        # Keyed by (rule index, subject): bounded by the rules and the watched symbols,
        # meetings and today's operations.
        self._armed: dict[tuple[int, str], bool] = {}
        self._last: dict[tuple[int, str], float] = {}
        self._windows: dict[tuple[int, str], _Window] = {}
        self._ref: dict[tuple[int, str], float] = {}
        self._prev_high: dict[str, tuple[Decimal, date]] = {}
        self._ops_seen: dict[int, deque[str]] = {}
        self._tbills_since: float | None = None

    # -- public ----------------------------------------------------------------------

    def evaluate(
        self, inputs: AlertInputs, now_mono: float, now_wall: datetime
    ) -> list[FiredAlert]:
        """Check every rule once; return the alerts that fire now (oldest rule first).
        Call it at most about once a second: move windows are sampled here."""
        out: list[FiredAlert] = []
        for i, rule in enumerate(self.rules):
            for c in self._check(i, rule, inputs, now_mono):
                key = (i, c.subject)
                last = self._last.get(key)
                if last is not None and now_mono - last < self.cooldown_s:
                    self.suppressed += 1
                    continue
                self._last[key] = now_mono
                alert = FiredAlert(
                    rule=rule.text,
                    kind=c.kind,
                    subject=c.subject,
                    message=c.message,
                    value=c.value,
                    source=c.source,
                    at_start=c.at_start,
                    fired_at=now_wall,
                    fired_mono=now_mono,
                )
                out.append(alert)
        for alert in out:
            self.history.appendleft(alert)
        self.fired += len(out)
        for sym, a in inputs.ath.items():
            if not a.new_ath:
                self._prev_high[sym] = (a.high, a.high_day)
        return out

    def carry_over(self, old: AlertEngine) -> None:
        """Continue from ``old`` after a live rule edit: its history of fired alerts and
        its counts, and each unchanged rule's state (crossings, cooldowns, move windows,
        operations seen), matched by the rule's text. A rule added or edited starts
        fresh. Without this, an edit cleared the panel's history, and every condition
        already true re-fired as "true at start" for rules nobody touched."""
        for alert in reversed(old.history):
            self.history.appendleft(alert)
        self.fired, self.suppressed = old.fired, old.suppressed
        self._prev_high = dict(old._prev_high)
        self._tbills_since = old._tbills_since
        free: dict[str, list[int]] = {}  # rule text -> old indexes not matched yet
        for i, rule in enumerate(old.rules):
            free.setdefault(rule.text, []).append(i)
        moved: dict[int, int] = {}  # old index -> new index
        for j, rule in enumerate(self.rules):
            same = free.get(rule.text)
            if same:
                moved[same.pop(0)] = j
        self._armed = _moved(old._armed, moved)
        self._last = _moved(old._last, moved)
        self._windows = _moved(old._windows, moved)
        self._ref = _moved(old._ref, moved)
        self._ops_seen = {moved[i]: seen for i, seen in old._ops_seen.items() if i in moved}

    def view(self, note: str = "") -> AlertsView:
        """The history for the alerts panel; ``note`` is a delivery problem, if any."""
        return AlertsView(
            alerts=tuple(self.history),
            rules=tuple(r.text for r in self.rules),
            fired=self.fired,
            suppressed=self.suppressed,
            note=note,
        )

    # -- rules -----------------------------------------------------------------------

    def _edge(self, key: tuple[int, str], on: bool, rearm: bool) -> bool | None:
        """Crossing state: None (nothing), False (a crossing), True (true at start)."""
        armed = self._armed.get(key)
        if armed is None:
            self._armed[key] = not on
            return True if on else None
        if armed and on:
            self._armed[key] = False
            return False
        if not armed and rearm:
            self._armed[key] = True
        return None

    def _check(self, i: int, rule: Rule, inputs: AlertInputs, now: float) -> list[_Crossing]:
        if isinstance(rule, LevelRule):
            return self._level(i, rule, inputs)
        if isinstance(rule, MoveRule):
            return self._move(i, rule, inputs, now)
        if isinstance(rule, AthRule):
            return self._ath(i, rule, inputs)
        if isinstance(rule, DivergenceRule):
            return self._divergence(i, rule, inputs)
        if isinstance(rule, CutProbRule):
            return self._cut(i, rule, inputs)
        return self._tbills(i, rule, inputs, now)

    def _level(self, i: int, rule: LevelRule, inputs: AlertInputs) -> list[_Crossing]:
        p = inputs.prices.get(rule.symbol)
        if p is None:
            return []
        band = rule.level * self.hysteresis
        if rule.above:
            on, rearm = p.price >= rule.level, p.price < rule.level - band
        else:
            on, rearm = p.price <= rule.level, p.price > rule.level + band
        edge = self._edge((i, rule.symbol), on, rearm)
        if edge is None:
            return []
        word = "above" if rule.above else "below"
        verb = f"is {word}" if edge else f"crossed {word}"
        return [
            _Crossing(
                rule.symbol,
                AlertKind.ABOVE if rule.above else AlertKind.BELOW,
                f"{rule.symbol} {_money(p.price)} {verb} {rule.level:,} ({p.source})",
                _money(p.price),
                p.source,
                edge,
            )
        ]

    def _move(self, i: int, rule: MoveRule, inputs: AlertInputs, now: float) -> list[_Crossing]:
        p = inputs.prices.get(rule.symbol)
        if p is None:
            return []
        key = (i, rule.symbol)
        win = self._windows.get(key)
        if win is None:
            win = self._windows[key] = _Window(rule.window_s)
        price = float(p.price)
        low, high = win.add(now, price)
        up = (price / low - 1) * 100
        down = (1 - price / high) * 100
        if rule.direction == "up":
            size, going_up = up, True
        elif rule.direction == "down":
            size, going_up = down, False
        else:
            going_up = up >= down
            size = max(up, down)
        edge = self._edge(key, size >= rule.pct, size < rule.pct / 2)
        if edge is not True and edge is not False:
            return []
        start = low if going_up else high
        word = "up" if going_up else "down"
        span = _span(rule.window_s)
        return [
            _Crossing(
                rule.symbol,
                AlertKind.MOVE,
                f"{rule.symbol} {word} {size:.2f}% within {span}: "
                f"{_money(start)} → {_money(price)} ({p.source})",
                f"{'+' if going_up else '−'}{size:.2f}%",
                p.source,
                False,
            )
        ]

    def _ath(self, i: int, rule: AthRule, inputs: AlertInputs) -> list[_Crossing]:
        if rule.symbol is None:
            rows = list(inputs.ath.values())
        else:
            one = inputs.ath.get(rule.symbol)
            rows = [one] if one is not None else []
        out: list[_Crossing] = []
        for a in rows:
            key = (i, a.symbol)
            if rule.reclaim:
                dist = float((a.price / a.high - 1) * 100)
                armed = self._armed.get(key, False)
                if dist <= -rule.after_pct:
                    self._armed[key] = True
                elif armed and dist >= 0:
                    self._armed[key] = False
                    out.append(
                        _Crossing(
                            a.symbol,
                            AlertKind.RECLAIM_ATH,
                            f"{a.symbol} {_money(a.price)} is back at its all-time high "
                            f"{_money(a.high)} ({a.source})",
                            _money(a.price),
                            a.source,
                            False,
                        )
                    )
                continue
            edge = self._edge(key, a.new_ath, not a.new_ath)
            if edge is None:
                continue
            prev = self._prev_high.get(a.symbol)
            was = f", was {_money(prev[0])} on {prev[1]:%b} {prev[1].day}" if prev else ""
            out.append(
                _Crossing(
                    a.symbol,
                    AlertKind.NEW_ATH,
                    f"{a.symbol} new all-time high {_money(a.high)}{was} ({a.source})",
                    _money(a.high),
                    a.source,
                    edge,
                )
            )
        return out

    def _divergence(self, i: int, rule: DivergenceRule, inputs: AlertInputs) -> list[_Crossing]:
        g = inputs.divergence
        if g is None:
            return []
        if rule.above:
            on, rearm = g.gap_pp >= rule.pp, g.gap_pp < rule.pp - DIVERGENCE_REARM_PP
        else:
            on, rearm = g.gap_pp <= rule.pp, g.gap_pp > rule.pp + DIVERGENCE_REARM_PP
        subject = f"{g.a}/{g.b}"
        edge = self._edge((i, subject), on, rearm)
        if edge is None:
            return []
        word = "above" if rule.above else "below"
        verb = f"is {word}" if edge else f"crossed {word}"
        return [
            _Crossing(
                subject,
                AlertKind.DIVERGENCE,
                f"{g.a} vs {g.b} drawdown gap {g.gap_pp:.1f} pp {verb} {rule.pp:g} pp "
                f"({g.a} {g.a_dd:.1f}%, {g.b} {g.b_dd:.1f}% from their highs)",
                f"{g.gap_pp:.1f} pp",
                "divergence",
                edge,
            )
        ]

    def _cut(self, i: int, rule: CutProbRule, inputs: AlertInputs) -> list[_Crossing]:
        m = _pick_meeting(rule.meeting, inputs.meetings, inputs.cut)
        if m is None:
            return []
        subject = m.meeting.isoformat()
        key = (i, subject)
        ref = self._ref.get(key)
        if ref is None:
            self._ref[key] = m.p_cut
            return []
        delta = (m.p_cut - ref) * 100
        if abs(delta) < rule.pp:
            return []
        self._ref[key] = m.p_cut
        when = f"{m.meeting:%b} {m.meeting.day}, {m.meeting.year}"
        return [
            _Crossing(
                subject,
                AlertKind.CUT_PROB,
                f"P(cut) at the {when} FOMC {ref * 100:.0f}% → {m.p_cut * 100:.0f}% "
                f"({'+' if delta > 0 else '−'}{abs(delta):.0f} pp, {m.source})",
                f"{m.p_cut * 100:.0f}%",
                m.source,
                False,
            )
        ]

    def _tbills(self, i: int, rule: TbillsRule, inputs: AlertInputs, now: float) -> list[_Crossing]:
        ops = inputs.tbills
        if ops is None:
            return []
        if self._tbills_since is None:
            self._tbills_since = now
        seen = self._ops_seen.setdefault(i, deque(maxlen=_SEEN_OPS))
        at_start = now - self._tbills_since < TBILLS_START_GRACE_S
        out: list[_Crossing] = []
        for op in ops:
            done = op.status is OperationStatus.RESULTS
            if done != rule.results:
                continue
            subject = f"{op.operation_id} {op.operation_date.isoformat()}"
            if subject in seen:
                continue
            seen.append(subject)
            what = {"BILL": "T-bill purchase", "COUPON": "coupon purchase"}.get(
                op.kind, "Treasury operation"
            )
            if rule.results:
                msg = f"Fed {what} {op.operation_id} results: accepted {_usd(op.accepted)}"
                if op.submitted is not None:
                    msg += f" of {_usd(op.submitted)} submitted"
                value = _usd(op.accepted)
                kind = AlertKind.TBILLS_RESULTS
            else:
                msg = f"Fed {what} {op.operation_id} announced"
                if op.planned is not None:
                    msg += f", up to {_usd(op.planned)}"
                if op.close_time is not None:
                    msg += f", closes {op.close_time:%H:%M} UTC"
                value = _usd(op.planned) if op.planned is not None else ""
                kind = AlertKind.TBILLS_ANNOUNCED
            out.append(_Crossing(subject, kind, msg + " (nyfed)", value, "nyfed", at_start))
        return out


def _pick_meeting(want: str, meetings: Sequence[date], cut: Sequence[CutInput]) -> CutInput | None:
    """The fresh odds of the meeting ``want`` names, or None (unknown or stale)."""
    days = meetings or tuple(c.meeting for c in cut)
    day: date | None = None
    if want == "next":
        day = days[0] if days else None
    elif want.startswith("month:"):
        day = next((d for d in days if d.month == int(want[6:])), None)
    elif want.startswith("ym:"):
        day = next((d for d in days if d.strftime("%Y-%m") == want[3:]), None)
    else:
        day = next((d for d in days if d.isoformat() == want), None)
    return next((c for c in cut if c.meeting == day), None)


def _money(value: Decimal | float) -> str:
    return f"{value:,.2f}"


def _usd(value: Decimal | None) -> str:
    if value is None:
        return "n/a"
    v = float(value)
    if v >= 1e9:
        return f"${v / 1e9:.2f} bn"
    if v >= 1e6:
        return f"${v / 1e6:.0f} mn"
    return f"${v:,.0f}"


def _span(seconds: float) -> str:
    s = int(seconds)
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if s >= size and s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"
