"""Side by side with crypto-terminal 2.5.1 (PyPI) on the same simulated Coinbase stream
(performance.md §5): CPU, bytes/s, staleness, RSS and first paint at 0, 50, 500 and
2,000 msg/s, plus work-normalised rows (bytes and CPU per changed screen cell).

The figures carry issue 17's targets, each judged against the peer measured in the same
run: CPU at 0 msg/s below the peer's (``< peer``); first paint no slower than the
peer's (``≤ peer``, every run's first paint pooled: the rate is set after it); at 50,
500 and 2,000 msg/s CPU ≤ 0.15× and terminal bytes ≤ 0.01× the peer's."""

from __future__ import annotations

import math

from bench.common import Section, fmt, log, median, ratio
from bench.peer import available
from bench.scenarios import ScreenRun, screen_run

RATES = (0.0, 50.0, 500.0, 2000.0)
CPU_RATIO_TARGET = 0.15
"""lockstep CPU / peer CPU at 50, 500 and 2,000 msg/s (issue 17, "keep the lead")."""
BYTES_RATIO_TARGET = 0.01
"""lockstep terminal bytes/s / peer's, at the same rates."""
PEER = "crypto-terminal"


def _med(runs: list[ScreenRun], attr: str) -> float:
    vals: list[float] = []
    for r in runs:
        obj: object = r
        for part in attr.split("."):
            obj = getattr(obj, part, math.nan) if obj is not None else math.nan
        vals.append(float(obj) if isinstance(obj, int | float) else math.nan)
    return median(vals)


def _per_cell_us(runs: list[ScreenRun]) -> float:
    vals = []
    for r in runs:
        if r.out and r.out.changed_chars:
            vals.append(r.extra.get("cpu_s", math.nan) / r.out.changed_chars * 1e6)
    return median(vals)


def run(quick: bool, runs: int | None) -> Section:
    """Interleaved app / peer runs at each rate."""
    sec = Section(
        "PEER",
        "Side by side with crypto-terminal 2.5.1",
        "python -m bench --only PEER",
    )
    why = available()
    if why:
        sec.notes.append(f"The peer could not be run: {why}.")
        sec.broken = why
        return sec
    rates = (500.0,) if quick else RATES
    n = runs or (1 if quick else 2)
    warmup, window = (1.5, 4.0) if quick else (3.0, 10.0)
    got: dict[tuple[float, str], list[ScreenRun]] = {}
    for rate in rates:
        for i in range(n):
            for kind in ("app", "peer"):
                log(f"  PEER {rate:,.0f} msg/s {kind} run {i + 1}/{n}")
                r = screen_run(kind, rate, warmup=warmup, window=window)
                if not r.ok:
                    log(f"    no price: {r.note}")
                got.setdefault((rate, kind), []).append(r)
    head = [
        "msg/s",
        "program",
        "CPU %",
        "bytes/s",
        "stale p50/p99 ms",
        "never shown",
        "RSS MB",
        "first paint s",
        "B/changed cell",
        "CPU µs/changed cell",
        "full repaints/s",
    ]
    table = [head]
    for rate in rates:
        cells = {}
        for kind in ("app", "peer"):
            rs = [r for r in got.get((rate, kind), []) if r.ok]
            cells[kind] = rs
            if not rs:
                table.append([f"{rate:,.0f}", kind, "did not run", *[""] * (len(head) - 3)])
                continue
            win = median(r.extra.get("window", math.nan) for r in rs)
            table.append(
                [
                    f"{rate:,.0f}",
                    "lockstep" if kind == "app" else "crypto-terminal",
                    fmt(_med(rs, "cpu_pct")),
                    fmt(_med(rs, "out.rate")),
                    f"{fmt(_med(rs, 'lat.stale_p50'))} / {fmt(_med(rs, 'lat.stale_p99'))}",
                    fmt(_med(rs, "lat.unresolved")),
                    fmt(_med(rs, "rss_mb")),
                    fmt(_med(rs, "first_paint")),
                    fmt(_med(rs, "out.per_char")),
                    fmt(_per_cell_us(rs)),
                    fmt(_med(rs, "out.full_repaints") / win if win else math.nan),
                ]
            )
        a, p = cells["app"], cells["peer"]
        if a and p:
            table.append(
                [
                    f"{rate:,.0f}",
                    "ratio lockstep / peer",
                    fmt(ratio(_med(a, "cpu_pct"), _med(p, "cpu_pct"))) + "×",
                    fmt(ratio(_med(a, "out.rate"), _med(p, "out.rate"))) + "×",
                    fmt(ratio(_med(a, "lat.stale_p99"), _med(p, "lat.stale_p99"))) + "× (p99)",
                    "",
                    fmt(ratio(_med(a, "rss_mb"), _med(p, "rss_mb"))) + "×",
                    fmt(ratio(_med(a, "first_paint"), _med(p, "first_paint"))) + "×",
                    fmt(ratio(_med(a, "out.per_char"), _med(p, "out.per_char"))) + "×",
                    fmt(ratio(_per_cell_us(a), _per_cell_us(p))) + "×",
                    "",
                ]
            )
            _figures(sec, rate, a, p)
    _first_paint(sec, got)
    sec.table = table
    scrolled = any(r.extra.get("scrolled") for rs in got.values() for r in rs if r.kind == "app")
    sec.notes.append(
        f"{n} interleaved run(s) per cell (lockstep, peer, ...), {warmup:g} s warm-up + "
        f"{window:g} s window, both under the same 120×40 pty, TERM and core pinning. The "
        "peer runs unmodified through bench/peer.py (a Feed subclass forcing the loopback URL, "
        "assigned to crypto_terminal.app.Feed; its order-book feed and REST base point at a "
        "closed loopback port, so its chart shows 'history unavailable', as in "
        "performance.md §2.7). The simulated Coinbase sends BTC-USD only, so the peer's other "
        "watchlist rows (ETH, XRP, SOL, ADA) stay empty; lockstep shows its full default "
        "dashboard, so the work-normalised columns are the fairer comparison. Changed cells = "
        "characters that differ between consecutive screens."
        + (" lockstep's BTC price had to be scrolled back into view (see B4)." if scrolled else "")
    )
    return sec


def _figures(sec: Section, rate: float, a: list[ScreenRun], p: list[ScreenRun]) -> None:
    """The rate's rows against issue 17's targets (lockstep runs ``a``, peer runs ``p``)."""
    cpu_a, cpu_p = _med(a, "cpu_pct"), _med(p, "cpu_pct")
    out_a, out_p = _med(a, "out.rate"), _med(p, "out.rate")
    at = f"at {rate:,.0f} msg/s"
    if rate == 0:
        sec.add(
            f"CPU {at}, lockstep below {PEER}",
            cpu_a,
            "%",
            target="< peer (same run)",
            limit=cpu_p,
            strict=True,
            vs_peer=True,
            peer=fmt(cpu_p, "%"),
            note=f"ratio {fmt(ratio(cpu_a, cpu_p))}×",
        )
        sec.add(
            f"terminal bytes/s {at}, lockstep and {PEER}",
            out_a,
            "B/s",
            peer=fmt(out_p, "B/s"),
            note="information (the idle targets are B6's); the peer's REST base is "
            "unreachable in the bench, so its figure is also its every-source-failing idle",
        )
        return
    sec.add(
        f"CPU ratio lockstep / {PEER} {at}",
        ratio(cpu_a, cpu_p),
        "×",
        target=f"≤ {CPU_RATIO_TARGET:g}",
        limit=CPU_RATIO_TARGET,
        peer=fmt(cpu_p, "%"),
        note=f"lockstep {fmt(cpu_a, '%')}",
    )
    sec.add(
        f"terminal bytes ratio lockstep / {PEER} {at}",
        ratio(out_a, out_p),
        "×",
        target=f"≤ {BYTES_RATIO_TARGET:g}",
        limit=BYTES_RATIO_TARGET,
        peer=fmt(out_p, "B/s"),
        note=f"lockstep {fmt(out_a, 'B/s')}",
    )


def _first_paint(sec: Section, got: dict[tuple[float, str], list[ScreenRun]]) -> None:
    """First paint of every run of each program, pooled over the rates (each run starts
    the same way, at 10 msg/s; the rate is set after the first price)."""
    runs = {
        kind: [r for (_, k), rs in got.items() if k == kind for r in rs] for kind in ("app", "peer")
    }
    fp_a, fp_p = _med(runs["app"], "first_paint"), _med(runs["peer"], "first_paint")
    sec.add(
        f"first paint, lockstep no slower than {PEER}",
        fp_a,
        "s",
        target="≤ peer (same run)",
        limit=fp_p,
        vs_peer=True,
        peer=fmt(fp_p, "s"),
        spread=f"medians of {len(runs['app'])} / {len(runs['peer'])} runs (all rates)",
        note="lockstep from a warm data directory (its history stored), the peer keeps none",
    )
