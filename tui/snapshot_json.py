"""The ``snapshot --json`` document, one encoder per panel."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from feeds.history.ath_state import AthView
from feeds.history.divergence_state import DivergenceView, Side
from feeds.model.quotes import QuoteRow
from feeds.model.tbills import ScheduledOperation, TsyOperation
from feeds.quotes.state import QuotesSlice
from feeds.rates.state import FedOddsSlice
from feeds.tbills.state import TbillsSlice


def _quote_num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _row_json(row: QuoteRow, now_mono: float) -> dict[str, object]:
    q = row.quote
    pct = q.change_pct if q is not None else None
    return {
        "symbol": row.symbol,
        "name": row.name,
        "is_future": row.is_future,
        "state": row.state.value,
        "price": _quote_num(q.price) if q else None,
        "prev_close": _quote_num(q.prev_close) if q else None,
        "change": _quote_num(q.change) if q else None,
        "change_pct": None if pct is None else f"{pct:.2f}",
        "day_low": _quote_num(q.day_low) if q else None,
        "day_high": _quote_num(q.day_high) if q else None,
        "year_high": _quote_num(q.year_high) if q else None,
        "currency": q.currency if q else None,
        "source": q.source if q else None,
        "fallback": row.fallback,
        "delay_s": q.delay_s if q else None,
        "age_s": None if q is None else round(max(0.0, now_mono - q.received), 1),
        "stale": row.stale,
        "stale_since": row.stale_since.isoformat() if row.stale_since else None,
        "market_time": q.market_time.isoformat() if q and q.market_time else None,
        "reason": row.reason or None,
    }


def quotes_snapshot_json(slice: QuotesSlice, now_mono: float) -> list[dict[str, object]]:
    """One JSON-ready dict per row (watchlist, then any futures rows shown), with its
    state, source, delay and age. Prices are strings, so no precision is lost."""
    view = slice.view()
    return [_row_json(r, now_mono) for r in view.rows + view.futures]


def _odds_num(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def fed_odds_snapshot_json(slice_: FedOddsSlice, now_mono: float) -> dict[str, Any]:
    """The odds as plain JSON-ready data for ``lockstep snapshot --json``."""
    view = slice_.view()
    target = view.target
    return {
        "target_range": None
        if target is None
        else {
            "lower": str(target.lower),
            "upper": str(target.upper),
            "effr": None if target.effr is None else str(target.effr),
            "as_of": target.as_of.isoformat(),
            "source": target.origin,
            "age_s": round(now_mono - target.received, 1),
        },
        "next_decision": None if view.next_decision is None else view.next_decision.isoformat(),
        "primary": view.primary,
        "meetings": [
            {
                "date": r.meeting.decision.isoformat(),
                "sep": r.meeting.sep,
                "p_cut": _odds_num(r.p_cut),
                "p_hold": _odds_num(r.p_hold),
                "p_hike": _odds_num(r.p_hike),
                "likely_range": None
                if r.likely_lower is None or r.likely_upper is None
                else f"{r.likely_lower:.2f}-{r.likely_upper:.2f}",
                "likely_p": _odds_num(r.likely_p),
                "likely_method": r.likely_method or None,
                "expected_bp": _odds_num(r.expected_bp, 1),
                "source": r.source or None,
                "age_s": None if r.received is None else round(now_mono - r.received, 1),
                "spread": None if r.spread is None else str(r.spread),
                "flags": list(r.flags),
                "cross_check_p_cut": _odds_num(r.cross_p_cut),
                "fedwatch_p_cut": _odds_num(r.fedwatch_p_cut),
                "p_cut_vs_yesterday": _odds_num(r.delta_p_cut),
            }
            for r in view.rows
        ],
        "cumulative": {
            "bp": _odds_num(view.cum_bp, 1),
            "by": None if view.cum_by is None else view.cum_by.isoformat(),
            "method": view.cum_method,
            "partial": view.cum_partial,
            "ladder_bp": _odds_num(view.ladder_cum_bp, 1),
            "vs_yesterday_bp": _odds_num(view.delta_cum_bp, 1),
        },
        "sources": {
            s.source: {
                "state": s.state,
                "reason": s.reason or None,
                "age_s": None if s.received is None else round(now_mono - s.received, 1),
            }
            for s in view.sources
        },
        "notes": list(view.notes),
    }


def _usd(value: Decimal | None) -> str | None:
    """Decimals as plain strings (``"8200000000"``), as the rest of the snapshot does."""
    return None if value is None else f"{value:f}"


def _date_iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _op(op: TsyOperation) -> dict[str, Any]:
    from feeds.tbills.nyfed import window_text

    return {
        "operation_id": op.operation_id,
        "date": op.operation_date.isoformat(),
        "type": op.operation_type,
        "kind": op.kind.value,
        "status": op.status.value,
        "window_et": window_text(op) or None,
        "maturity": [_date_iso(op.maturity_start), _date_iso(op.maturity_end)],
        "submitted_usd": _usd(op.submitted),
        "accepted_usd": _usd(op.accepted),
        "planned_usd": _usd(op.planned),
        "details": [
            {
                "cusip": d.cusip,
                "accepted_usd": _usd(d.accepted),
                "rate": None if d.price is None else str(d.price),
            }
            for d in op.details
        ],
    }


def _sched(op: ScheduledOperation) -> dict[str, Any]:
    return {
        "date": op.operation_date.isoformat(),
        "window_start": _date_iso(op.window_start),
        "window_end": _date_iso(op.window_end),
        "type": op.operation_type,
        "kind": op.kind.value,
        "maturity": op.maturity_text,
        "size_usd": _usd(op.size),
    }


def tbills_snapshot_json(slice_: TbillsSlice, now_mono: float) -> dict[str, Any]:
    """The ``tbills`` section of ``lockstep snapshot --json``: amounts in dollars as
    decimal strings, dates ISO, times UTC ISO with ``Z``, ages in seconds."""
    v = slice_.view()

    def age(t: float | None) -> float | None:
        return None if t is None else round(now_mono - t, 1)

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
                    "planned_usd": _usd(p.planned),
                    "next_release": _date_iso(p.next_release),
                }
                for p in v.schedule.periods
            ],
            "operations": [_sched(o) for o in v.schedule.operations],
        }
    return {
        "today": v.today.isoformat(),
        "business_day": v.business_day,
        "stale": v.ops_stale,
        "stale_reason": v.stale_reason or None,
        "today_operations": [
            {**_op(x.operation), "phase": x.status.value, "late": x.late} for x in v.today_ops
        ],
        "next_operation": _sched(v.next_operation) if v.next_operation else None,
        "recent": [_op(o) for o in v.recent],
        "tally": {
            "program_start": t.start.isoformat(),
            "total_usd": _usd(t.total),
            "operations": t.operations,
            "period": None
            if t.period is None
            else {
                "start": t.period.start.isoformat(),
                "end": t.period.end.isoformat(),
                "planned_usd": _usd(t.period.planned),
                "accepted_usd": _usd(t.period_accepted),
            },
            "by_month": {k: _usd(a) for k, a in t.by_month},
            "daily": [[d.isoformat(), _usd(a)] for d, a in t.daily],
        },
        "schedule": schedule,
        "next_schedule_due": v.next_schedule_due.isoformat(),
        "liquidity": [
            {
                "series": r.series_id,
                "label": r.label,
                "value_usd": _usd(r.value),
                "date": r.as_of.isoformat(),
                "stale": r.stale,
            }
            for r in v.liquidity
        ],
        "ages_s": {
            "nyfed": age(v.ops_received),
            "nyfed_web": age(v.schedule_received),
            "fred": age(v.liquidity_received),
        },
    }


def _hist_num(value: Decimal | float | None, places: int = 2) -> float | None:
    return None if value is None else round(float(value), places)


def history_snapshot_json(
    ath: AthView, divergence: DivergenceView, now_mono: float
) -> dict[str, object]:
    """The ``"history"`` section of ``lockstep snapshot --json``."""

    def side(s: Side) -> dict[str, object]:
        return {
            "symbol": s.symbol,
            "price": _hist_num(s.price),
            "source": s.source,
            "age_s": None if s.received is None else round(now_mono - s.received, 1),
            "as_of": s.as_of.isoformat() if s.as_of else None,
            "ath": _hist_num(s.ath),
            "ath_date": s.ath_day.isoformat() if s.ath_day else None,
            "drawdown_pct": _hist_num(s.drawdown_pct),
        }

    rows = []
    for r in ath.rows:
        rec = r.record
        rows.append(
            {
                "symbol": r.symbol,
                "price": _hist_num(r.price),
                "price_source": r.price_source,
                "price_age_s": None
                if r.price_received is None
                else round(now_mono - r.price_received, 1),
                "cached_at": r.price_at.isoformat() if r.price_at else None,
                "ath": _hist_num(rec.high) if rec else None,
                "ath_date": rec.high_day.isoformat() if rec else None,
                "ath_source": rec.high_source if rec else None,
                "close_ath": _hist_num(rec.close) if rec else None,
                "close_ath_date": rec.close_day.isoformat() if rec else None,
                "days_since_ath": (ath.today - rec.high_day).days if rec else None,
                "history_start": rec.first_trade.isoformat() if rec and rec.first_trade else None,
                "distance_pct": _hist_num(r.distance_pct),
                "close_distance_pct": _hist_num(r.close_distance_pct),
                "band": r.band,
                "new_ath": r.new_ath,
                "pending": r.pending,
                "outlier": r.outlier,
                "note": r.note,
            }
        )
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
            "a": side(divergence.a),
            "b": side(divergence.b),
            "window": divergence.window,
            "corr_30d": _hist_num(divergence.corr30, 3),
            "corr_90d": _hist_num(divergence.corr90, 3),
            "gap_pp": _hist_num(divergence.gap_pp),
            "flag": None
            if flag is None
            else {
                "raised": flag.raised,
                "leader": flag.leader,
                "laggard": flag.laggard,
                "threshold_pct": flag.threshold_pct,
                "near_pct": flag.near_pct,
            },
            "co_high_days": divergence.within_days,
            "co_highs": [
                {
                    "a_date": c.a_day.isoformat(),
                    "b_date": c.b_day.isoformat(),
                    "a_high": _hist_num(c.a_high),
                    "b_high": _hist_num(c.b_high),
                }
                for c in divergence.co_highs
            ],
        },
    }
