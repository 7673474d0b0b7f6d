"""B11 polling: what polled sources cost, and whether a hung endpoint moves the
event loop or the BTC stream (headless, 1,000 msg/s).

When the app polls sources of its own (the full dashboard), the simulated market's
HTTP servers for them are scripted: answering normally, refused (the polling-cost
reference), and hanging every request for 10 s (``HttpFault(kind="hang")``). When the
app has no polled sources, an extra :class:`feeds.core.poll.PolledFeed` is injected into the
app process instead (``bench.headless_app --poll-url``) against a SimHttpServer of the
harness, and the same three states are run.
"""

from __future__ import annotations

import math
from typing import Any

from bench.b02_ingest import IngestRun, headless_run
from bench.common import Section, fmt, log
from bench.simhost import SimHost
from feeds.sim.http import HttpFault, SimHttpServer, json_response

HANG = 10.0


def _servers(sim: SimHost) -> list[Any]:
    assert sim.market is not None
    return [getattr(x, "server", x) for x in sim.market.extras.values()]


def max_gap_ms(run: IngestRun) -> float:
    """Longest stretch in the window with no new BTC message applied."""
    rows = run.result.get("samples", [])
    if len(rows) < 2:
        return math.nan
    t_first = rows[0][0] + 3.5  # skip the start-up and warm-up part
    gap = 0.0
    last_t = None
    last_seq = None
    for row in rows:
        if row[0] < t_first:
            continue
        if last_seq is None or row[2] > last_seq:
            if last_t is not None:
                gap = max(gap, row[0] - last_t)
            last_t, last_seq = row[0], row[2]
    return gap * 1000


def run(quick: bool) -> Section:
    """Three headless runs: polled sources normal, refused, hung."""
    sec = Section(
        "B11", "Polling and a hung endpoint (headless, 1,000 msg/s)", "python -m bench --only B11"
    )
    seconds = 6.0 if quick else 15.0
    probe = SimHost().start()
    native = bool(probe.market and probe.market.extras)
    probe.stop()
    runs: dict[str, IngestRun] = {}
    req_rate: dict[str, float] = {}
    for state in ("normal", "refused", "hung"):
        log(f"  B11 polled sources {state}")
        sim = SimHost(rate=10.0).start()
        extra_server: SimHttpServer | None = None
        try:
            url = ""
            if not native:
                extra_server = SimHttpServer("bench-poll")

                async def quote(_: object) -> Any:
                    return json_response(b'{"symbol":"^GSPC","price":6000.5}')

                extra_server.route(r"/quote", quote)
                sim.call(extra_server.start(0))
                sim.extra_servers.append(extra_server)
                url = extra_server.url + "/quote"
            servers = _servers(sim) if native or extra_server is None else [extra_server]
            if state == "refused":
                for srv in servers:
                    sim.call(srv.stop())
            fired = [False]

            def during(
                elapsed: float,
                servers: list[Any] = servers,
                fired: list[bool] = fired,
                state: str = state,
            ) -> None:
                if state == "hung" and not fired[0]:
                    fired[0] = True
                    for srv in servers:
                        srv.set_fault(HttpFault("hang", seconds=HANG))

            r = headless_run(
                1000.0,
                seconds,
                sim=sim,
                poll_url=url,
                poll_interval=1.0,
                during=during,
                catch_up=state != "refused",  # refused: the history servers are down
            )
            runs[state] = r
            n_req = sum(1 for srv in servers for t, _ in list(srv.log) if r.t0 <= t <= r.t1)
            req_rate[state] = n_req / (r.t1 - r.t0)
        finally:
            sim.stop()
    normal, refused, hung = runs["normal"], runs["refused"], runs["hung"]
    mode = (
        "the app's own polled sources (every HTTP server of the simulated market)"
        if native
        else "an injected PolledFeed polling a SimHttpServer every 1 s"
    )
    polled = normal.result.get("ready", {}).get("polled", [])
    sec.add(
        "CPU added by polled sources (answering minus refused; fetch, parse and their panels)",
        normal.cpu_pct - refused.cpu_pct,
        "% of a core",
        target="≤ 0.5",
        limit=0.5,
        note=f"{fmt(normal.cpu_pct)} % vs {fmt(refused.cpu_pct)} %; "
        f"{fmt(req_rate['normal'])} requests/s answered",
    )
    sec.add(
        "loop lag p99 with every polled endpoint hung",
        hung.lag[1],
        "ms",
        target="≤ 20 (unchanged)",
        limit=20.0,
        note=f"answering: {fmt(normal.lag[1])} ms",
    )
    sec.add(
        "BTC ingest with every polled endpoint hung",
        hung.applied_rate,
        "msg/s",
        target="≥ 950 (unchanged)",
        limit=950.0,
        higher_is_better=True,
        note=f"longest stretch without a new BTC message {fmt(max_gap_ms(hung))} ms; "
        f"end lag {fmt(hung.end_lag_ms)} ms",
    )
    sec.table = [
        [
            "polled sources",
            "app CPU %",
            "applied msg/s",
            "loop lag p50/p99/max ms",
            "longest ingest gap ms",
            "end lag ms",
        ]
    ] + [
        [
            name,
            fmt(r.cpu_pct),
            fmt(r.applied_rate),
            " / ".join(fmt(x) for x in r.lag),
            fmt(max_gap_ms(r)),
            fmt(r.end_lag_ms),
        ]
        for name, r in runs.items()
    ]
    sec.notes.append(
        f"Mode: {mode}. {seconds:g} s windows; the hang fault holds every request for "
        f"{HANG:g} s. 'Refused' stops the HTTP servers (polls fail at connect), the closest "
        "to no polling without changing the app's config."
        + (f" Polled base URLs seen in the app: {len(polled)}." if native else "")
    )
    return sec
