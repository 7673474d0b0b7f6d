"""The store slice for Fed rate odds (topic ``"fed_odds"``).

It keeps the latest target range, each source's odds per meeting, the KXFED ladder and
ZQ prices, and builds the panel's :class:`FedOddsView`: per-meeting P(cut/hold/hike)
from the headline source (Kalshi by default, Polymarket as fallback and cross-check),
the most likely target range, the FedWatch-method column when ZQ prices exist, and the
cumulative change priced over the horizon.

"Change against yesterday" needs a baseline: the lead can inject yesterday's headline
numbers from the history store (:meth:`FedOddsSlice.set_baseline`); without one, the
slice uses its own bounded in-memory record once it has run for about a day.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from feeds.core.clock import Clock
from feeds.core.text import clean_text
from feeds.model.core import BadMessage, FeedState, FeedStatus
from feeds.model.fed import (
    CrossCheck,
    FedOddsView,
    FomcMeeting,
    MeetingOdds,
    MeetingRow,
    RateLadder,
    SourceLine,
    TargetRange,
    ZqProbe,
    ZqQuote,
)
from feeds.rates.calendar import decision_time, upcoming
from feeds.rates.fedwatch import MeetingStep, fedwatch

TOPIC = "fed_odds"
ODDS_SOURCES = ("kalshi", "polymarket")
ALL_SOURCES = ("kalshi", "polymarket", "fed_target", "yahoo_zq")
MAX_KEYS = 64
"""Bound on remembered (source, meeting) odds; past meetings are pruned first."""
SLOW_REFRESH_S = 60.0
"""How often what moves with the clock alone, but slowly, is re-derived: the baseline
(the sample nearest 24 h ago, within 4 h), the 15-minute window of bad-message notes and
the headline sample (every 10 min). Rebuilding the view every second cost most of an
idle terminal's paint time (bench B5 P0)."""

HISTORY_LEN = 200
"""In-memory headline samples: one per ``sample_every`` (10 min) covers 33 hours."""
STALE_POLLS = 3
"""A polled source is STALE after this many poll intervals without a word: one missed
poll is a hiccup, three are an outage."""
TARGET_STALE_FLOOR = 3600.0
"""The target range is polled slowly and changes only at decisions: never STALE sooner."""


def stale_threshold(source: str, interval: float) -> float | None:
    """The one staleness threshold for a Fed odds source polled every ``interval``
    seconds: the health slice (status bar, ``HealthSlice.set_threshold``) and the Fed
    odds slice (``FedOddsSlice(thresholds=...)``) must both take it from here, so the
    status bar and the panel turn STALE at the same moment. None means never STALE by
    time (the ZQ probe: a month without a contract is not an outage)."""
    if source == "yahoo_zq":
        return None
    limit = STALE_POLLS * interval
    if source == "fed_target":
        return max(limit, TARGET_STALE_FLOOR)
    return limit


class FedOddsSlice:
    """Owns the Fed odds state; ``view()`` is immutable and cached until something changes."""

    topic = TOPIC
    accepts: tuple[type, ...] = (
        TargetRange,
        MeetingOdds,
        RateLadder,
        ZqQuote,
        ZqProbe,
        FeedStatus,
        BadMessage,
    )

    def __init__(
        self,
        *,
        calendar: Sequence[FomcMeeting],
        clock: Clock,
        shown: int = 6,
        primary: str = "kalshi",
        stale_after: float = 900.0,
        target_stale_after: float = 4 * 3600.0,
        horizon_days: int = 365,
        late_days: int = 3,
        sources: Sequence[str] = ALL_SOURCES,
        baseline: Mapping[str, float] | None = None,
        sample_every: float = 600.0,
        thresholds: Mapping[str, float | None] | None = None,
    ) -> None:
        """``shown`` meetings appear as rows (4-8); ``primary`` is the headline source;
        the cumulative figure covers meetings within ``horizon_days``; ``sources`` are
        the configured feeds (others are reported as off).

        ``thresholds`` maps a source to its staleness threshold in seconds (None: never
        STALE by time), from :func:`stale_threshold`, the numbers the health slice is
        given too. A source silent past it is STALE, and its odds lose to fresh ones.
        Sources not in the mapping fall back to ``stale_after`` (the target range to
        ``target_stale_after``; the ZQ probe never turns STALE by time)."""
        if primary not in ODDS_SOURCES:
            raise ValueError(f"primary must be one of {ODDS_SOURCES}, not {primary!r}")
        self.calendar = tuple(sorted(calendar, key=lambda m: m.decision))
        self.clock = clock
        self.shown = shown
        self.primary = primary
        self.secondary = "polymarket" if primary == "kalshi" else "kalshi"
        self.stale_after = stale_after
        self.target_stale_after = target_stale_after
        self.horizon_days = horizon_days
        self.late_days = late_days
        self.sources = tuple(sources)
        self.sample_every = sample_every
        self._limits: dict[str, float | None] = {
            "kalshi": stale_after,
            "polymarket": stale_after,
            "fed_target": target_stale_after,
            "yahoo_zq": None,
        }
        self._limits.update(thresholds or {})
        self._heard: dict[str, float] = {}
        self._due = float("inf")
        self._baseline: dict[str, float] | None = dict(baseline) if baseline else None
        self._target: TargetRange | None = None
        self._odds: dict[tuple[str, date], MeetingOdds] = {}
        self._ladders: dict[date, RateLadder] = {}
        self._zq: dict[date, ZqQuote] = {}
        self._probe: ZqProbe | None = None
        self._status: dict[str, FeedStatus] = {}
        self._last_data: dict[str, float] = {}
        self._bad: deque[tuple[float, str]] = deque(maxlen=8)
        self._history: deque[tuple[datetime, dict[str, float]]] = deque(maxlen=HISTORY_LEN)
        self._view: FedOddsView | None = None
        self._last_refresh = float("-inf")
        self._now = clock.monotonic()

    # -- store protocol ----------------------------------------------------------------

    def apply(self, event: object) -> bool:
        """Take one event; True when the view may have changed."""
        if isinstance(event, FeedStatus):
            if event.source not in ALL_SOURCES:
                return False
            self._status[event.source] = event
            if event.state is FeedState.LIVE:
                # As the health slice counts: a LIVE report is a word from the source.
                self._heard[event.source] = event.since
        elif isinstance(event, BadMessage):
            if event.source not in ALL_SOURCES:
                return False
            self._bad.append((self.clock.monotonic(), f"{event.source}: {event.reason}"))
        elif isinstance(event, TargetRange):
            self._target = event
            self._seen(event.source, event.received)
        elif isinstance(event, MeetingOdds):
            self._odds[(event.source, event.meeting)] = event
            self._seen(event.source, event.received)
            self._prune()
        elif isinstance(event, RateLadder):
            self._ladders[event.meeting] = event
            self._seen(event.source, event.received)
            self._prune()
        elif isinstance(event, ZqQuote):
            self._zq[event.month] = event
            self._seen(event.source, event.received)
            while len(self._zq) > 36:
                del self._zq[min(self._zq)]
        elif isinstance(event, ZqProbe):
            self._probe = event
            for month in list(self._zq):
                if self._zq[month].symbol in event.missing:
                    del self._zq[month]
        else:
            return False
        self._view = None
        return True

    def limit(self, source: str) -> float | None:
        """The staleness threshold in force for one source (None: never by time)."""
        return self._limits.get(source, self.stale_after)

    def refresh(self, now: float) -> bool:
        """Re-derive time-driven state: at once when a source's staleness threshold has
        just passed (so the panel flips in the same paint as the status bar), when a
        decision passes or a meeting enters the horizon, and otherwise once every
        :data:`SLOW_REFRESH_S` (yesterday's baseline, expiring notes, the headline
        sample). True if the view changed."""
        if now - self._last_refresh < SLOW_REFRESH_S and now <= self._due:
            return False
        self._last_refresh = now
        self._now = now
        old = self._view
        self._view = None
        new = self.view()
        self._sample(new)
        return new != old

    # -- baseline ------------------------------------------------------------------------

    def set_baseline(self, baseline: Mapping[str, float] | None) -> None:
        """Yesterday's headline numbers (keys as in :meth:`headline`), or None."""
        self._baseline = dict(baseline) if baseline else None
        self._view = None

    def headline(self) -> dict[str, float]:
        """Today's headline numbers, to persist daily in the history store:
        ``cum_bp``, and per meeting ``p_cut:YYYY-MM-DD`` and ``exp_bp:YYYY-MM-DD``."""
        return _headline(self.view())

    # -- view ----------------------------------------------------------------------------

    def view(self) -> FedOddsView:
        """The panel's immutable view (rebuilt only after a change)."""
        if self._view is None:
            self._view = self._build()
        return self._view

    def fedwatch_result(self) -> tuple[MeetingStep, ...]:
        """The FedWatch tree on the current ZQ prices (empty when not computable)."""
        steps, _ = self._fedwatch(upcoming(self.calendar, self.clock.now()))
        return steps

    # -- internals -----------------------------------------------------------------------

    def _seen(self, source: str, received: float) -> None:
        self._last_data[source] = max(received, self._last_data.get(source, received))
        self._heard[source] = received

    def _prune(self) -> None:
        today = self.clock.now().date() - timedelta(days=2)
        for key in [k for k in self._odds if k[1] < today]:
            del self._odds[key]
        for day in [d for d in self._ladders if d < today]:
            del self._ladders[day]
        while len(self._odds) > MAX_KEYS:
            oldest = min(self._odds, key=lambda k: self._odds[k].received)
            del self._odds[oldest]
        while len(self._ladders) > MAX_KEYS // 2:
            del self._ladders[min(self._ladders)]

    def _fresh(self, source: str, received: float) -> bool:
        limit = self.limit(source)
        return limit is None or self._now - received <= limit

    def _pick(self, day: date) -> tuple[MeetingOdds | None, MeetingOdds | None, list[str]]:
        """(headline odds, cross-check odds, extra flags) for one meeting."""
        first = self._odds.get((self.primary, day))
        second = self._odds.get((self.secondary, day))
        flags: list[str] = []
        candidates = [o for o in (first, second) if o is not None and o.usable]
        fresh = [o for o in candidates if self._fresh(o.source, o.received)]
        chosen = fresh[0] if fresh else (candidates[0] if candidates else None)
        for o in (first, second):
            if o is not None and not o.usable:
                flags.extend(f"{o.source} {f}" for f in o.flags if f.startswith("EXCLUDED"))
        if chosen is not None and not self._fresh(chosen.source, chosen.received):
            flags.insert(0, "STALE")
        cross = None
        for o in (first, second):
            if o is not None and o is not chosen and o.usable:
                cross = o
        return chosen, cross, flags

    def _fedwatch(
        self, ahead: Sequence[FomcMeeting]
    ) -> tuple[tuple[MeetingStep, ...], tuple[str, ...]]:
        if self._target is None or not self._zq or not ahead:
            return (), ()
        result = fedwatch(
            lower=self._target.lower,
            meetings=[m.decision for m in ahead],
            prices={k: q.price for k, q in self._zq.items()},
            calendar=[m.decision for m in self.calendar],
            effr=self._target.effr,
            late_days=self.late_days,
        )
        return result.meetings, result.notes

    def _baseline_now(self, now: datetime) -> dict[str, float] | None:
        if self._baseline is not None:
            return self._baseline
        want = now - timedelta(hours=24)
        best: tuple[float, dict[str, float]] | None = None
        for when, sample in self._history:
            gap = abs((when - want).total_seconds())
            if gap <= 4 * 3600 and (best is None or gap < best[0]):
                best = (gap, sample)
        return best[1] if best else None

    def _sample(self, view: FedOddsView) -> None:
        now = self.clock.now()
        if self._history and (now - self._history[-1][0]).total_seconds() < self.sample_every:
            return
        sample = _headline(view)
        if sample:
            self._history.append((now, sample))

    def _build(self) -> FedOddsView:
        self._due = float("inf")
        for (source, _), odds in self._odds.items():
            limit = self.limit(source)
            if limit is not None and odds.received + limit >= self._now:
                self._due = min(self._due, odds.received + limit)
        now = self.clock.now()
        ahead = upcoming(self.calendar, now)
        horizon = now + timedelta(days=self.horizon_days)
        in_horizon = [m for m in ahead if decision_time(m) <= horizon]
        # The calendar's own moments: the next decision passing, the next meeting
        # entering the horizon (wall times, turned into this slice's monotonic time).
        for moment in (
            decision_time(ahead[0]) if ahead else None,
            decision_time(ahead[len(in_horizon)]) - timedelta(days=self.horizon_days)
            if len(ahead) > len(in_horizon)
            else None,
        ):
            if moment is not None:
                self._due = min(self._due, self._now + (moment - now).total_seconds())
        wanted = ahead[: max(self.shown, len(in_horizon))]
        steps, fw_notes = self._fedwatch(wanted[: self.shown])
        fw = {s.meeting: s for s in steps}
        base = self._baseline_now(now)
        target = self._target
        cum: dict[int, float] | None = {0: 1.0} if target is not None else None
        rows: list[MeetingRow] = []
        for m in wanted:
            chosen, cross, flags = self._pick(m.decision)
            ladder = self._ladders.get(m.decision)
            likely_lower = likely_upper = None
            likely_p: float | None = None
            method = ""
            if cum is not None:
                if chosen is None:
                    cum = None
                else:
                    move = {o.move.bp: o.prob for o in chosen.outcomes if o.prob > 0}
                    cum = _convolve(cum, move)
            ladder_note = ""
            if ladder is not None and ladder.usable and ladder.strikes:
                upper, p = max(ladder.distribution(), key=lambda kv: kv[1])
                likely_lower, likely_upper, likely_p, method = (
                    upper - Decimal("0.25"),
                    upper,
                    p,
                    "ladder",
                )
                ladder_note = _interpolated_note(ladder)
            elif cum is not None and target is not None:
                bp, p = max(cum.items(), key=lambda kv: (kv[1], -abs(kv[0])))
                likely_lower = target.lower + Decimal(bp) / 100
                likely_upper, likely_p, method = likely_lower + Decimal("0.25"), p, "tree"
            if ladder is not None and not (ladder.usable and ladder.strikes):
                instead = (
                    "likely range from decision markets" if method == "tree" else "no likely range"
                )
                ladder_note = f"ladder not used ({_ladder_reason(ladder)}); {instead}"
            if chosen is None and not flags:
                flags.append("NO MARKET")
            elif chosen is not None:
                flags = [*chosen.flags, *flags]
            key = f"p_cut:{m.decision.isoformat()}"
            delta = None
            if base is not None and chosen is not None and key in base:
                delta = chosen.p_cut - base[key]
            step = fw.get(m.decision)
            rows.append(
                MeetingRow(
                    meeting=m,
                    p_cut=chosen.p_cut if chosen else None,
                    p_hold=chosen.p_hold if chosen else None,
                    p_hike=chosen.p_hike if chosen else None,
                    likely_lower=likely_lower,
                    likely_upper=likely_upper,
                    likely_p=likely_p,
                    likely_method=method,
                    expected_bp=chosen.expected_bp if chosen else None,
                    source=chosen.source if chosen else "",
                    received=chosen.received if chosen else None,
                    spread=chosen.max_spread if chosen else None,
                    flags=tuple(dict.fromkeys(flags)),
                    cross_p_cut=cross.p_cut if cross else None,
                    fedwatch_p_cut=step.p_cut if step else None,
                    delta_p_cut=delta,
                    cross=None
                    if cross is None
                    else CrossCheck(
                        source=cross.source,
                        event=cross.event,
                        p_cut=cross.p_cut,
                        p_hold=cross.p_hold,
                        p_hike=cross.p_hike,
                        received=cross.received,
                        stale=not self._fresh(cross.source, cross.received),
                    ),
                    ladder_note=ladder_note,
                )
            )
        # The cumulative figure: the sum of each meeting's expected change (linearity of
        # expectation needs no independence), else the ladder at the horizon's end.
        by_day = {r.meeting.decision: r for r in rows}
        horizon_rows = [by_day[m.decision] for m in in_horizon]
        cum_by = in_horizon[-1].decision if in_horizon else None
        ladder_cum: float | None = None
        ladder_cum_note = ""
        last_ladder = self._ladders.get(cum_by) if cum_by else None
        if last_ladder is not None and last_ladder.usable and last_ladder.strikes:
            if target is not None:
                ladder_cum = (last_ladder.expected_upper() - float(target.upper)) * 100
        elif last_ladder is not None:
            ladder_cum_note = f"ladder not used ({_ladder_reason(last_ladder)})"
        priced = [r for r in horizon_rows if r.expected_bp is not None]
        cum_bp: float | None = None
        partial = False
        if horizon_rows and len(priced) == len(horizon_rows):
            used = sorted({r.source for r in priced})
            cum_bp = sum(r.expected_bp or 0.0 for r in priced)
            cum_method = " + ".join(used) + " decision markets"
        elif ladder_cum is not None:
            cum_bp, cum_method = ladder_cum, "kalshi KXFED ladder"
        elif priced:
            cum_bp = sum(r.expected_bp or 0.0 for r in priced)
            partial = True
            cum_method = f"partial: {len(priced)} of {len(horizon_rows)} meetings priced"
        else:
            cum_method = "no usable odds"
        delta_cum = None
        if base is not None and cum_bp is not None and "cum_bp" in base:
            delta_cum = cum_bp - base["cum_bp"]
        return FedOddsView(
            target=target,
            next_decision=decision_time(ahead[0]) if ahead else None,
            next_meeting=ahead[0] if ahead else None,
            rows=tuple(rows[: self.shown]),
            cum_bp=cum_bp,
            cum_by=cum_by,
            cum_method=cum_method,
            cum_partial=partial,
            ladder_cum_bp=ladder_cum,
            delta_cum_bp=delta_cum,
            sources=self._source_lines(),
            notes=self._notes(fw_notes),
            primary=self.primary,
            ladder_cum_note=ladder_cum_note,
        )

    def _source_lines(self) -> tuple[SourceLine, ...]:
        out: list[SourceLine] = []
        for name in ALL_SOURCES:
            if name not in self.sources:
                out.append(SourceLine(name, "OFF", "", None))
                continue
            st = self._status.get(name)
            last = self._last_data.get(name)
            state = st.state.value if st else FeedState.CONNECTING.value
            reason = st.reason if st else ""
            live = st is not None and st.state is FeedState.LIVE
            limit = self.limit(name)
            # The health slice's rule, to the second: silent since the last word (data,
            # or a LIVE report) for more than the threshold.
            heard = self._heard.get(name, st.since if st is not None else None)
            if live and limit is not None and heard is not None:
                if self._now - heard > limit:
                    state, reason = FeedState.STALE.value, f"no message for over {limit:g} s"
                else:
                    self._due = min(self._due, heard + limit)
            out.append(SourceLine(name, state, clean_text(reason, 100), last))
        return tuple(out)

    def _notes(self, fw_notes: Sequence[str]) -> tuple[str, ...]:
        notes: list[str] = []
        if "yahoo_zq" not in self.sources:
            notes.append("FedWatch column off (ZQ probe disabled)")
        else:
            st = self._status.get("yahoo_zq")
            if st is not None and st.state is not FeedState.LIVE:
                notes.append(f"FedWatch unavailable: {st.reason or st.state.value}")
            elif self._probe is not None and self._probe.missing:
                notes.append(
                    f"FedWatch: {len(self._probe.found)} ZQ months found, "
                    f"{len(self._probe.missing)} missing"
                )
            notes.extend(f"FedWatch: {n}" for n in fw_notes[:1])
        cutoff = self._now - 900.0
        recent = [r for t, r in self._bad if t >= cutoff]
        for reason in list(dict.fromkeys(reversed(recent)))[:2]:
            notes.append(clean_text(reason, 100))
        return tuple(notes)


def _ladder_reason(ladder: RateLadder) -> str:
    return ladder.reason or ("no strikes" if not ladder.strikes else "not usable")


def _interpolated_note(ladder: RateLadder) -> str:
    filled = [q for q in ladder.quotes if q.interpolated]
    if not filled:
        return ""
    names = ", ".join(f"T{q.strike:.2f} {' '.join(q.problems)}" for q in filled[:3])
    more = f" and {len(filled) - 3} more" if len(filled) > 3 else ""
    return f"ladder: {names}{more} interpolated from neighbours"


def _convolve(prior: dict[int, float], move: Mapping[int, float]) -> dict[int, float]:
    out: dict[int, float] = {}
    for a, pa in prior.items():
        for b, pb in move.items():
            out[a + b] = out.get(a + b, 0.0) + pa * pb
    return out


def _headline(view: FedOddsView) -> dict[str, float]:
    out: dict[str, float] = {}
    if view.cum_bp is not None and not view.cum_partial:
        out["cum_bp"] = view.cum_bp
    for r in view.rows:
        if r.p_cut is not None:
            out[f"p_cut:{r.meeting.decision.isoformat()}"] = r.p_cut
        if r.expected_bp is not None:
            out[f"exp_bp:{r.meeting.decision.isoformat()}"] = r.expected_bp
    return out
