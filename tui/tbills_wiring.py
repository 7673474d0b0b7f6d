"""Wiring for the Fed T-bill purchases feature: settings, feeds, slice, snapshot JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from feeds.core.clock import Clock
from feeds.model.tbills import ScheduledOperation, TsyOperation
from feeds.tbills.state import LIQUIDITY_SERIES, TbillsSlice

if TYPE_CHECKING:
    import httpx

    from feeds.core.poll import PolledFeed


@dataclass(frozen=True, slots=True)
class TbillsSettings:
    """The ``[tbills]`` config table."""

    enabled: bool = True
    """Show the panel and poll its sources."""
    program_start: str = "2025-12-12"
    """First day counted in the program tally, ``YYYY-MM-DD`` (RMPs began Dec 12, 2025)."""
    last_n: int = 8
    """How many recent operations to list (1-50)."""
    active_poll_s: float = 60.0
    """NY Fed API poll interval on business days 08:00-16:00 ET, seconds (>= 15)."""
    idle_poll_s: float = 1800.0
    """NY Fed API poll interval at night, weekends and holidays, seconds."""
    schedule_poll_s: float = 3600.0
    """Schedule page poll interval, seconds (every 15 min on the day a schedule is due)."""
    request_spacing_s: float = 1.0
    """Minimum gap between NY Fed API calls, seconds (gentle: no published limit)."""
    stale_after_s: float = 300.0
    """NY Fed silence before STALE on a business day 08:00-16:00 ET, seconds."""
    results_late_after_s: float = 900.0
    """Time after an operation's close before missing results show RESULTS LATE, seconds."""
    show_liquidity: bool = True
    """Show reserves, ON RRP and TGA rows from FRED's keyless CSV."""
    liquidity_series: tuple[str, ...] = ("WRESBAL", "RRPONTSYD", "WTREGEN")
    """Which liquidity series to show (known: WRESBAL, RRPONTSYD, WTREGEN)."""
    fred_poll_s: float = 3600.0
    """FRED poll interval, seconds (the series are daily or weekly)."""

    def __post_init__(self) -> None:
        try:
            date.fromisoformat(self.program_start)
        except ValueError:
            raise ValueError(
                f"program_start: {self.program_start!r} is not a YYYY-MM-DD date"
            ) from None
        if not 1 <= self.last_n <= 50:
            raise ValueError("last_n: must be between 1 and 50")
        if self.active_poll_s < 15 or self.idle_poll_s < 15:
            raise ValueError("active_poll_s/idle_poll_s: must be at least 15 seconds")
        for name in ("schedule_poll_s", "fred_poll_s", "stale_after_s", "results_late_after_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be positive")
        if self.request_spacing_s < 0:
            raise ValueError("request_spacing_s: must not be negative")
        unknown = [s for s in self.liquidity_series if s not in LIQUIDITY_SERIES]
        if unknown:
            raise ValueError(f"liquidity_series: unknown series {', '.join(unknown)}")

    @property
    def start_date(self) -> date:
        """``program_start`` as a date."""
        return date.fromisoformat(self.program_start)


def build_tbills_feeds(
    settings: TbillsSettings,
    nyfed_url: str,
    nyfed_web_url: str,
    fred_url: str,
    client: httpx.AsyncClient,
    clock: Clock,
) -> list[PolledFeed]:
    """The NY Fed API feed, the schedule page feed and (optionally) the FRED feed."""
    if not settings.enabled:
        return []
    # The feed modules load with the feeds, not with the app (bench B8 imports).
    from feeds.tbills.fred import FredSeriesFeed
    from feeds.tbills.nyfed import NyFedTsyFeed
    from feeds.tbills.schedule import NyFedScheduleFeed

    feeds: list[PolledFeed] = [
        NyFedTsyFeed(
            nyfed_url,
            client=client,
            clock=clock,
            last_n=settings.last_n,
            program_start=settings.start_date,
            active_interval=settings.active_poll_s,
            idle_interval=settings.idle_poll_s,
            spacing=settings.request_spacing_s,
        ),
        NyFedScheduleFeed(
            nyfed_web_url,
            client=client,
            clock=clock,
            every=settings.schedule_poll_s,
            due_day_every=min(900.0, settings.schedule_poll_s),
        ),
    ]
    if settings.show_liquidity and settings.liquidity_series:
        feeds.append(
            FredSeriesFeed(
                fred_url,
                settings.liquidity_series,
                client=client,
                clock=clock,
                every=settings.fred_poll_s,
                spacing=settings.request_spacing_s,
                keep=10,
            )
        )
    return feeds


def make_tbills_slice(settings: TbillsSettings, clock: Clock) -> TbillsSlice:
    """The store slice (topic ``"tbills"``)."""
    return TbillsSlice(
        clock,
        program_start=settings.start_date,
        last_n=settings.last_n,
        active_stale_after=settings.stale_after_s,
        idle_stale_after=max(settings.stale_after_s, 3 * settings.idle_poll_s),
        results_late_after=settings.results_late_after_s,
        liquidity=settings.liquidity_series if settings.show_liquidity else (),
    )


def _usd(value: Decimal | None) -> str | None:
    """Decimals as plain strings (``"8200000000"``), as the rest of the snapshot does."""
    return None if value is None else f"{value:f}"


def _iso(value: date | datetime | None) -> str | None:
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
        "maturity": [_iso(op.maturity_start), _iso(op.maturity_end)],
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
        "window_start": _iso(op.window_start),
        "window_end": _iso(op.window_end),
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
                    "next_release": _iso(p.next_release),
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
