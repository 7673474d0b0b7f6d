"""B13's own pieces: the latency histogram merges exactly across subscriber processes,
the request table adds up, and the benchmark's Redis is a real server that starts,
answers INFO and stops. No timing goals here (those live in bench/)."""

from __future__ import annotations

import math

import pytest

from bench.b13_hub import _req_table, hist_percentiles
from bench.hub_subscribers import BUCKET_S, BUCKETS, Recorder
from bench.redis_host import start_redis


def test_latency_histograms_of_several_processes_merge_into_one_distribution() -> None:
    a = {"hist": {"10": 50}, "max": 0.0012}
    b = {"hist": {"100": 49, "2000": 1}, "max": 0.2001}
    p50, p99, worst, n = hist_percentiles([a, b])
    assert n == 100
    # The 50th of 100 ticks is in bucket 10 (1.0-1.1 ms); the 99th in bucket 100.
    assert p50 == pytest.approx(1.05)
    assert p99 == pytest.approx(10.05)
    assert worst == pytest.approx(200.1)


def test_no_ticks_is_not_a_latency() -> None:
    p50, p99, worst, n = hist_percentiles([{"hist": {}, "max": 0.0}])
    assert n == 0 and math.isnan(p50) and math.isnan(p99) and math.isnan(worst)


def test_the_recorder_clamps_to_its_first_and_last_buckets() -> None:
    rec = Recorder()
    rec.add(-0.5)  # a wall clock stepped back: counted, in the first bucket
    rec.add(0.00155)
    rec.add(99.0)  # beyond 10 s: the overflow bucket, and the max keeps the value
    assert rec.sparse() == {"0": 1, str(int(0.00155 / BUCKET_S)): 1, str(BUCKETS): 1}
    assert rec.max == 99.0


def test_the_request_table_gives_each_source_per_minute_and_the_total() -> None:
    rows = _req_table([("N=1", {"yahoo": 10, "kalshi": 2}, 30.0), ("N=5", {"yahoo": 10}, 60.0)])
    assert rows[0] == ["requests/min", "N=1", "N=5"]
    table = {r[0]: r[1:] for r in rows[1:]}
    assert table["yahoo"] == ["20.0", "10.0"]
    assert table["kalshi"] == ["4.00", "0.000"]
    assert table["all"] == ["24.0", "10.0"]


def test_the_benchmarks_redis_is_a_real_server_on_loopback_and_stops() -> None:
    host = start_redis()
    try:
        assert host.url.startswith("redis://127.0.0.1:")
        assert host.client.ping()
        host.client.xadd("lockstep:events", {"e": b"x" * 1000})
        used, clients = host.memory()
        assert used > 0 and clients >= 0
    finally:
        host.stop()
    assert host.proc.poll() is not None
