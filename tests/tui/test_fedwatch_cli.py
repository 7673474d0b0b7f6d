"""``lockstep fedwatch``: the FedWatch method from the command line (the method itself:
tests/feeds/rates/test_fedwatch.py)."""

from __future__ import annotations

import argparse
import io
from datetime import date
from decimal import Decimal

import pytest

from tui.fedwatch_cli import add_fedwatch_parser, parse_price, run_fedwatch

D = Decimal


def _cli(argv: list[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="lockstep")
    add_fedwatch_parser(parser.add_subparsers(dest="command"))
    out = io.StringIO()
    return run_fedwatch(parser.parse_args(argv), out), out.getvalue()


def test_cli_reproduces_the_cme_example() -> None:
    code, text = _cli(
        [
            "fedwatch",
            "--current",
            "0-0.25",
            "--meeting",
            "2015-09-17",
            "--price",
            "2015-08=99.8675",
            "--price",
            "ZQU15=99.805",
        ]
    )
    assert code == 0
    assert "2015-09-17" in text
    assert "53.6%" in text and "46.4%" in text
    assert "0.25-0.50" in text


def test_cli_uses_the_packaged_calendar() -> None:
    code, text = _cli(
        [
            "fedwatch",
            "--current",
            "3.50-3.75",
            "--effr",
            "3.64",
            "--as-of",
            "2025-12-12",
            "--price",
            "ZQF26.CBT=96.365",
            "--price",
            "2026-02=96.42",
            "--price",
            "2026-03=96.50",
        ]
    )
    assert code == 0
    assert "2026-01-28" in text and "2026-03-18" in text
    assert "2026-04-29" not in text


@pytest.mark.parametrize(
    "argv",
    [
        ["fedwatch", "--current", "3.75-3.50", "--price", "2026-01=96.37"],
        ["fedwatch", "--current", "3.50-3.75", "--price", "2026-01=196.37"],
        ["fedwatch", "--current", "3.50-3.75", "--price", "2026-13=96.37"],
        ["fedwatch", "--current", "3.50-3.75", "--price", "Jan=96.37"],
        ["fedwatch", "--current", "3.50-3.75"],
    ],
)
def test_cli_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _cli(argv)
    assert code == 2
    assert "lockstep fedwatch:" in capsys.readouterr().err


def test_price_argument_forms() -> None:
    assert parse_price("ZQZ25=96.20") == (date(2025, 12, 1), D("96.20"))
    assert parse_price("2026-01=96.365") == (date(2026, 1, 1), D("96.365"))
