"""The reliability matrix (reliability.md §8.2) as a checklist that can fail: every row
has a test named after it somewhere in the suite, or a written reason why it cannot be
tested here together with the nearest test that does exist."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from feeds.core.poll import make_client

TESTS = Path(__file__).parents[1]

ROWS = {
    "w": 19,  # websocket feeds
    "h": 14,  # HTTP polling
    "d": 12,  # data validation
    "t": 12,  # terminal
    "l": 6,  # long-running
    "s": 7,  # storage
    "x": 10,  # security
}

NEAREST = {
    "w10": (
        "Coinbase's ticker sequence jumps by arbitrary amounts between ticks (it is shared "
        "across every channel of the product, sources.md A1), so a gap on the ticker "
        "channel means nothing; duplicates and out-of-order messages are what can be caught",
        "test_w11_duplicates_and_replays_are_dropped",
    ),
    "d5": (
        "Yahoo's sub-unit currencies (GBp, ZAc) are converted to the main unit at parse "
        "time, so a 100x unit error never reaches the screen; the table test covers it",
        "test_h14_chart_quote_table",
    ),
    "d6": (
        "Chart arrays are parsed into per-day bars keyed by date (duplicates collapse, null "
        "days are skipped) and the last price comes from meta.regularMarketPrice",
        "test_chart_bars_skip_null_and_invalid_days",
    ),
    "t11": (
        "A slow link is a timing goal: bench B10 drains the pty at 16 KB/s and 4 KB/s and "
        "reports staleness and memory; timed assertions do not belong in the test suite",
        "test_t8_no_color_means_no_colour_codes",
    ),
    "s7": (
        "No network filesystem can be mounted in this sandbox; the detection reads "
        "/proc/mounts and falls back to journal_mode=DELETE with a warning",
        "test_s2_disk_full_is_reported_and_the_process_keeps_running",
    ),
    "x10": (
        "No lock file with hashes yet: dependencies are pinned by range in pyproject.toml and "
        "installed from the registry; pip-audit cannot reach its advisory source here",
        "test_no_tls_verification_switch_anywhere",
    ),
}


def defined_tests() -> set[str]:
    names: set[str] = set()
    for path in TESTS.rglob("test_*.py"):
        names |= set(re.findall(r"^(?:async )?def (test_\w+)", path.read_text(), re.M))
    return names


def test_every_matrix_row_has_a_test_or_a_reason() -> None:
    names = defined_tests()
    covered = {
        row
        for name in names
        for row in re.findall(r"(?<=_)([whdtlsx]\d+)(?=_)", "_" + name.removeprefix("test_"))
    }
    missing = []
    for letter, count in ROWS.items():
        for n in range(1, count + 1):
            row = f"{letter}{n}"
            if row in covered:
                continue
            reason = NEAREST.get(row)
            if reason is None or reason[1] not in names:
                missing.append(row)
    assert missing == []


def test_reasons_are_only_given_for_rows_without_their_own_test() -> None:
    names = " ".join(defined_tests())
    stale = [row for row in NEAREST if re.search(rf"test_(?:\w+_)?{row}_", names)]
    assert stale == []


def test_x9_both_transports_honour_the_proxy_environment() -> None:
    client = make_client()
    try:
        assert isinstance(client, httpx.AsyncClient)
        assert client._trust_env  # noqa: SLF001 - the policy under test
    finally:
        import asyncio

        asyncio.run(client.aclose())
    from feeds.core import ws

    source = Path(ws.__file__).read_text()
    assert "proxy=None" not in source  # websockets' default (proxy from the environment)
