"""B1 parse: the project's decoder on venue messages, against stdlib json in the same run."""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable

from bench.common import Section
from feeds.btc.parse import parse_coinbase, parse_kraken
from feeds.core.decode import loads
from feeds.sim.exchanges import CoinbaseSim, KrakenSim, PricePath


def messages() -> dict[str, bytes]:
    """Messages as the simulated venues put them on the wire (sources.md A1, A3)."""
    path = PricePath(mode="sequence")
    cb = CoinbaseSim(path)
    kr = KrakenSim(path)
    price = path.step()
    return {
        "coinbase ticker": cb.tick_message(123_456_789, price).encode(),
        "coinbase heartbeat": cb.heartbeat_message(123_456_790).encode(),
        "kraken ticker": kr.tick_message(1, price).encode(),
    }


def _per_call_us(fn: Callable[[], object], number: int, repeat: int) -> float:
    # The minimum of the repeats, as the timeit docs advise: on a shared box other work
    # only ever adds time, so the fastest repeat is the best estimate of the cost.
    runs = timeit.repeat(fn, number=number, repeat=repeat)
    return min(r / number * 1e6 for r in runs)


def run(quick: bool) -> Section:
    """Time decode and full parse per message."""
    sec = Section(
        "B1",
        "Parse",
        "python -m bench --only B1",
    )
    number, repeat = (5_000, 3) if quick else (50_000, 7)
    msgs = messages()
    rows = [["message", "bytes", "json.loads µs", "decode µs", "speed-up", "decode+parse µs"]]
    for name, raw in msgs.items():
        parse = parse_kraken if name.startswith("kraken") else parse_coinbase
        std = _per_call_us(lambda raw=raw: json.loads(raw), number, repeat)  # type: ignore[misc]
        ours = _per_call_us(lambda raw=raw: loads(raw), number, repeat)  # type: ignore[misc]
        full = _per_call_us(
            lambda raw=raw, parse=parse: parse(loads(raw), 1.0),  # type: ignore[misc]
            number,
            repeat,
        )
        rows.append(
            [name, str(len(raw)), f"{std:.2f}", f"{ours:.2f}", f"{std / ours:.1f}×", f"{full:.2f}"]
        )
        if name == "coinbase ticker":
            sec.add(
                f"decode, Coinbase ticker ({len(raw)} B)",
                ours,
                "µs/msg",
                target="≤ 2",
                limit=2.0,
            )
            sec.add(
                "decode speed-up over stdlib json.loads",
                std / ours,
                "×",
                target="≥ 2",
                limit=2.0,
                higher_is_better=True,
            )
            sec.add(
                "decode + parse_coinbase (model Tick, Decimal prices)",
                full,
                "µs/msg",
                note="share of the ≤ 25 µs/msg ingest budget (B2)",
            )
    sec.table = rows
    sec.notes.append(
        f"timeit, fastest of {repeat} repeats × {number:,} calls, harness core; messages are the "
        "simulated venues' wire bytes (same shapes as sources.md A1/A3)."
    )
    return sec
