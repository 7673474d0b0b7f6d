"""The ``snapshot --json`` document, one encoder per panel.

Numbers go in as ``Decimal`` (:func:`exact`: as the source sent them) or ``float``
(:func:`num`: worked out here or in a slice); :func:`feeds.core.jsonout.dumps` writes
them by the one rule. Every value object carries ``source`` and ``age_s``; its nested
parts (an operation's details, a tally's months) share them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from feeds.core.jsonout import age, exact, num
from feeds.model.fed import FedOddsView, MeetingRow
from feeds.model.history import AthView, DivergenceView, Side
from feeds.model.quotes import QuoteRow
from feeds.model.tbills import ScheduledOperation, TsyOperation
from feeds.quotes.state import QuotesSlice
from feeds.rates.state import ODDS_SOURCES, FedOddsSlice
from feeds.tbills.state import TbillsSlice


def iso(value: date | datetime | None) -> str | None:
    """Dates ISO; wall times ISO in UTC with ``Z``."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _row_json(row: QuoteRow, now_mono: float) -> dict[str, object]:
    q = row.quote
    return {
        "symbol": row.symbol,
        "name": row.name,
        "is_future": row.is_future,
        "state": row.state.value,
        "price": exact(q.price) if q else None,
        "prev_close": exact(q.prev_close) if q else None,
        "change": exact(q.change) if q else None,
        "change_pct": num(q.change_pct) if q else None,
        "day_low": exact(q.day_low) if q else None,
        "day_high": exact(q.day_high) if q else None,
        "year_high": exact(q.year_high) if q else None,
        "currency": q.currency if q else None,
        "source": q.source if q else None,
        "fallback": row.fallback,
        "delay_s": num(q.delay_s) if q else None,
        "age_s": age(now_mono, q.received) if q else None,
        "stale": row.stale,
        "stale_since": iso(row.stale_since),
        "market_time": iso(q.market_time) if q else None,
        "reason": row.reason or None,
    }


def quotes_snapshot_json(slice: QuotesSlice, now_mono: float) -> list[dict[str, object]]:
    """One value object per row (watchlist, then any futures rows shown), with its
    state, source, delay and age."""
    view = slice.view()
    return [_row_json(r, now_mono) for r in view.rows + view.futures]


def cross_check_json(row: MeetingRow, view: FedOddsView, now_mono: float) -> dict[str, Any]:
    """The cross-check market's odds for one meeting (the odds source that is not the
    primary): source, event, P(cut), P(hold), P(hike), age and whether it is stale. The
    object is always there; its numbers are null when that market lists no odds for the
    meeting."""
    cross = row.cross
    if cross is None:
        other = next((s for s in ODDS_SOURCES if s != view.primary), None)
        return {
            "source": other,
            "event": None,
            "p_cut": None,
            "p_hold": None,
            "p_hike": None,
            "age_s": None,
            "stale": None,
        }
    return {
        "source": cross.source,
        "event": cross.event or None,
        "p_cut": num(cross.p_cut),
        "p_hold": num(cross.p_hold),
        "p_hike": num(cross.p_hike),
        "age_s": age(now_mono, cross.received),
        "stale": cross.stale,
    }


def _meeting_json(r: MeetingRow, view: FedOddsView, now_mono: float) -> dict[str, Any]:
    return {
        "date": r.meeting.decision.isoformat(),
        "sep": r.meeting.sep,
        "p_cut": num(r.p_cut),
        "p_hold": num(r.p_hold),
        "p_hike": num(r.p_hike),
        "likely_lower": exact(r.likely_lower),
        "likely_upper": exact(r.likely_upper),
        "likely_p": num(r.likely_p),
        "likely_method": r.likely_method or None,
        "expected_bp": num(r.expected_bp),
        "source": r.source or None,
        "age_s": age(now_mono, r.received),
        "spread": exact(r.spread),
        "flags": list(r.flags),
        "cross_check": cross_check_json(r, view, now_mono),
        "ladder_note": r.ladder_note or None,
        "fedwatch_p_cut": num(r.fedwatch_p_cut),
        "p_cut_vs_yesterday": num(r.delta_p_cut),
    }


def fed_odds_snapshot_json(slice_: FedOddsSlice, now_mono: float) -> dict[str, Any]:
    """The ``fed_odds`` section: target range, one value object per meeting (with its
    cross-check), the cumulative figure and each odds source's state."""
    view = slice_.view()
    target = view.target
    return {
        "target_range": None
        if target is None
        else {
            "lower": exact(target.lower),
            "upper": exact(target.upper),
            "effr": exact(target.effr),
            "as_of": target.as_of.isoformat(),
            "source": target.origin,
            "age_s": age(now_mono, target.received),
        },
        "next_decision": iso(view.next_decision),
        "primary": view.primary,
        "meetings": [_meeting_json(r, view, now_mono) for r in view.rows],
        "cumulative": {
            "bp": num(view.cum_bp),
            "by": iso(view.cum_by),
            "method": view.cum_method,
            "partial": view.cum_partial,
            "ladder_bp": num(view.ladder_cum_bp),
            "ladder_note": view.ladder_cum_note or None,
            "vs_yesterday_bp": num(view.delta_cum_bp),
        },
        "sources": {
            s.source: {
                "source": s.source,
                "state": s.state,
                "reason": s.reason or None,
                "age_s": age(now_mono, s.received),
            }
            for s in view.sources
        },
        "notes": list(view.notes),
    }


def _op(op: TsyOperation, source: str, age_s: float | None) -> dict[str, Any]:
    from feeds.tbills.nyfed import window_text

    return {
        "operation_id": op.operation_id,
        "date": op.operation_date.isoformat(),
        "type": op.operation_type,
        "kind": op.kind.value,
        "status": op.status.value,
        "window_et": window_text(op) or None,
        "maturity": [iso(op.maturity_start), iso(op.maturity_end)],
        "submitted_usd": exact(op.submitted),
        "accepted_usd": exact(op.accepted),
        "planned_usd": exact(op.planned),
        "details": [
            {"cusip": d.cusip, "accepted_usd": exact(d.accepted), "rate": exact(d.price)}
            for d in op.details
        ],
        "source": source,
        "age_s": age_s,
    }


def _sched(op: ScheduledOperation, age_s: float | None) -> dict[str, Any]:
    return {
        "date": op.operation_date.isoformat(),
        "window_start": iso(op.window_start),
        "window_end": iso(op.window_end),
        "type": op.operation_type,
        "kind": op.kind.value,
        "maturity": op.maturity_text,
        "size_usd": exact(op.size),
        "source": "nyfed_web",
        "age_s": age_s,
    }


def tbills_snapshot_json(slice_: TbillsSlice, now_mono: float) -> dict[str, Any]:
    """The ``tbills`` section: operations and the tally from the NY Fed API, the
    schedule from its website, liquidity from FRED; amounts in dollars."""
    v = slice_.view()
    ops_age = age(now_mono, v.ops_received)
    sched_age = age(now_mono, v.schedule_received)
    t = v.tally
    schedule: dict[str, Any]
    if v.schedule_error is not None:
        schedule = {"available": False, "reason": v.schedule_error}
    elif v.schedule is None:
        schedule = {"available": False, "reason": "not loaded yet"}
    else:
        schedule = {
            "available": True,
            "periods": [
                {
                    "start": p.start.isoformat(),
                    "end": p.end.isoformat(),
                    "planned_usd": exact(p.planned),
                    "next_release": iso(p.next_release),
                }
                for p in v.schedule.periods
            ],
            "operations": [_sched(o, sched_age) for o in v.schedule.operations],
        }
    schedule.update(source="nyfed_web", age_s=sched_age)
    return {
        "today": v.today.isoformat(),
        "business_day": v.business_day,
        "stale": v.ops_stale,
        "stale_reason": v.stale_reason or None,
        "today_operations": [
            {**_op(x.operation, "nyfed", ops_age), "phase": x.status.value, "late": x.late}
            for x in v.today_ops
        ],
        "next_operation": _sched(v.next_operation, sched_age) if v.next_operation else None,
        "recent": [_op(o, "nyfed", ops_age) for o in v.recent],
        "tally": {
            "program_start": t.start.isoformat(),
            "total_usd": exact(t.total),
            "operations": t.operations,
            "period": None
            if t.period is None
            else {
                "start": t.period.start.isoformat(),
                "end": t.period.end.isoformat(),
                "planned_usd": exact(t.period.planned),
                "accepted_usd": exact(t.period_accepted),
            },
            "by_month": {k: exact(a) for k, a in t.by_month},
            "daily": [[d.isoformat(), exact(a)] for d, a in t.daily],
            "source": "nyfed",
            "age_s": ops_age,
        },
        "schedule": schedule,
        "next_schedule_due": v.next_schedule_due.isoformat(),
        "liquidity": [
            {
                "series": r.series_id,
                "label": r.label,
                "value_usd": exact(r.value),
                "date": r.as_of.isoformat(),
                "stale": r.stale,
                "source": "fred",
                "age_s": age(now_mono, v.liquidity_received),
            }
            for r in v.liquidity
        ],
    }


def _side(s: Side, now_mono: float) -> dict[str, object]:
    return {
        "symbol": s.symbol,
        "price": num(s.price),
        "source": s.source,
        "age_s": age(now_mono, s.received),
        "as_of": iso(s.as_of),
        "ath": num(s.ath),
        "ath_date": iso(s.ath_day),
        "drawdown_pct": num(s.drawdown_pct),
    }


def history_snapshot_json(
    ath: AthView, divergence: DivergenceView, now_mono: float
) -> dict[str, object]:
    """The ``history`` section: each symbol's price against its all-time high, the
    backfill's progress and the BTC-vs-small-caps divergence."""
    rows = []
    for r in ath.rows:
        rec = r.record
        rows.append(
            {
                "symbol": r.symbol,
                "price": exact(r.price),
                "source": r.price_source,
                "age_s": age(now_mono, r.price_received),
                "cached_at": iso(r.price_at),
                "ath": exact(rec.high) if rec else None,
                "ath_date": rec.high_day.isoformat() if rec else None,
                "ath_source": rec.high_source if rec else None,
                "close_ath": exact(rec.close) if rec else None,
                "close_ath_date": rec.close_day.isoformat() if rec else None,
                "days_since_ath": r.days_since_high,
                "history_start": iso(rec.first_trade) if rec else None,
                "distance_pct": num(r.distance_pct),
                "close_distance_pct": num(r.close_distance_pct),
                "band": r.band,
                "record": r.at_high,
                "new_ath": r.new_ath,
                "pending": r.pending,
                "outlier": r.outlier,
                "note": r.note,
            }
        )
    a, b = _side(divergence.a, now_mono), _side(divergence.b, now_mono)
    # The gap and the correlations are as old as the older of their two inputs.
    ages = [x for x in (a["age_s"], b["age_s"]) if isinstance(x, float)]
    flag = divergence.flag
    return {
        "ath": rows,
        "backfill": [
            {
                "source": p.source,
                "symbol": p.symbol,
                "done": p.done,
                "total": p.total,
                "finished": p.finished,
                "note": p.note,
            }
            for p in ath.progress
        ],
        "notices": list(ath.notices),
        "divergence": {
            "a": a,
            "b": b,
            "source": "history",
            "age_s": max(ages) if len(ages) == 2 else None,
            "window": divergence.window,
            "corr_30d": num(divergence.corr30),
            "corr_90d": num(divergence.corr90),
            "gap_pp": num(divergence.gap_pp),
            "flag": None
            if flag is None
            else {
                "raised": flag.raised,
                "leader": flag.leader,
                "laggard": flag.laggard,
                "threshold_pct": num(flag.threshold_pct),
                "near_pct": num(flag.near_pct),
            },
            "co_high_days": divergence.within_days,
            "co_highs": [
                {
                    "a_date": c.a_day.isoformat(),
                    "b_date": c.b_day.isoformat(),
                    "a_high": num(c.a_high),
                    "b_high": num(c.b_high),
                }
                for c in divergence.co_highs
            ],
        },
    }
