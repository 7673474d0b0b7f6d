"""The benchmark harness works: the parse micro-benchmark runs, and a 3-second pty run
of the real app against the simulated market reads BTC prices off the screen and maps
them back to their send times. No timing goals here (those live in bench/)."""

from __future__ import annotations

import math
import time

from bench import analysis, b01_parse
from bench.common import Section
from bench.scenarios import Session


def test_b1_parse_reports_decoder_figures() -> None:
    sec = b01_parse.run(quick=True)
    assert isinstance(sec, Section)
    assert not sec.broken
    names = [f.name for f in sec.figures]
    assert any(n.startswith("decode, Coinbase ticker") for n in names)
    assert all(f.value > 0 and math.isfinite(f.value) for f in sec.figures)


def test_pty_run_reads_the_price_off_the_screen() -> None:
    with Session("app") as ses:
        prog, sim = ses.prog, ses.sim
        assert prog is not None
        assert ses.ok, ses.note
        sim.set_rate(100.0)
        assert ses.in_view(), ses.note
        t0 = time.monotonic()
        time.sleep(3.0)
        t1 = time.monotonic()
        cpu = prog.cpu_seconds()
    base, times = sim.recorded()
    shown = [seq for t, seq in prog.events if t0 <= t <= t1 and sim.send_time(seq) is not None]
    assert shown, "no sequence price was read off the screen"
    assert shown == sorted(shown)
    lat = analysis.latency(prog.events, base, times, t0, t1 - 0.5, t1)
    assert lat.updates > 0 and lat.messages > 0
    assert math.isfinite(lat.age_p50) and lat.age_p50 > 0
    out = analysis.output(prog.chunks, prog.frames, t0, t1)
    assert out.rate > 0 and out.changed_chars > 0
    assert cpu > 0
