"""``lockstep fedwatch``: the FedWatch-method calculator on prices given by hand.

For people who have 30-Day Fed Funds futures settlement prices (from their broker or
CME's site) and want the probability tree without the monitor::

    lockstep fedwatch --current 3.50-3.75 --effr 3.64 \\
        --price 2026-01=96.365 --price 2026-02=96.39 --price 2026-03=96.47

Plain text, no Textual.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

from feeds.rates.calendar import MONTH_CODES, CalendarError, load_calendar, month_start
from feeds.rates.fedwatch import FedWatchResult, fedwatch

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_SYMBOL_RE = re.compile(r"^ZQ([FGHJKMNQUVXZ])(\d{2})(?:\.CBT)?$", re.IGNORECASE)

EPILOG = """\
examples:
  CME's worked example (Sept 2015: 53.6% probability of a hike):
    lockstep fedwatch --current 0-0.25 --meeting 2015-09-17 \\
        --price 2015-08=99.8675 --price 2015-09=99.805
  The 2026 meetings from the packaged calendar:
    lockstep fedwatch --current 3.50-3.75 --effr 3.64 --price ZQF26=96.365 ...

--price takes MONTH=PRICE with MONTH as YYYY-MM or a contract code (ZQF26, ZQF26.CBT).
Give the month before the first meeting too (or --effr) so the tree has a start.
"""


def add_fedwatch_parser(subparsers: Any) -> None:
    """Register ``fedwatch`` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "fedwatch",
        help="FedWatch-method rate probabilities from Fed funds futures prices you give",
        description="The CME FedWatch method on 30-Day Fed Funds futures prices given by hand.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--current", required=True, metavar="LO-HI", help="today's target range, e.g. 3.50-3.75"
    )
    p.add_argument(
        "--price",
        action="append",
        default=[],
        metavar="MONTH=PRICE",
        help="a contract price, e.g. 2026-01=96.365 or ZQF26=96.365 (repeat)",
    )
    p.add_argument(
        "--meeting",
        action="append",
        default=[],
        metavar="YYYY-MM-DD",
        help="a decision date (repeat); default: the packaged calendar within the priced months",
    )
    p.add_argument("--effr", metavar="RATE", help="today's EFFR, the start when no flat month")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="skip calendar meetings before this")
    p.add_argument(
        "--late-days",
        type=int,
        default=3,
        metavar="N",
        help="meetings with N or fewer post-meeting days use the next month (default 3)",
    )


class UsageError(ValueError):
    """A bad argument; the message is shown as is."""


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise UsageError(f"{what}: {text!r} is not a number") from exc
    if not value.is_finite():
        raise UsageError(f"{what}: {text!r} is not a number")
    return value


def parse_current(text: str) -> tuple[Decimal, Decimal]:
    """``"3.50-3.75"`` -> (3.50, 3.75)."""
    parts = text.replace("\u2013", "-").split("-")
    if len(parts) != 2:
        raise UsageError(f"--current: {text!r} should look like 3.50-3.75")
    lo, hi = _decimal(parts[0], "--current"), _decimal(parts[1], "--current")
    if lo < 0 or hi <= lo or hi - lo > 1:
        raise UsageError(f"--current: {text!r} is not a target range")
    return lo, hi


def parse_price(text: str) -> tuple[date, Decimal]:
    """``"2026-01=96.365"`` or ``"ZQF26=96.365"`` -> (first of the month, price)."""
    key, sep, value = text.partition("=")
    if not sep:
        raise UsageError(f"--price: {text!r} should be MONTH=PRICE")
    key = key.strip()
    month: date
    if m := _MONTH_RE.match(key):
        if not 1 <= int(m.group(2)) <= 12:
            raise UsageError(f"--price: bad month in {text!r}")
        month = date(int(m.group(1)), int(m.group(2)), 1)
    elif m := _SYMBOL_RE.match(key):
        month = date(2000 + int(m.group(2)), MONTH_CODES.index(m.group(1).upper()) + 1, 1)
    else:
        raise UsageError(f"--price: {key!r} is neither YYYY-MM nor a ZQ contract code")
    price = _decimal(value, "--price")
    if not Decimal(80) < price <= Decimal(100):
        raise UsageError(f"--price: {price} is not a Fed funds futures price (80-100)")
    return month, price


def _pct(p: float) -> str:
    return f"{p * 100:5.1f}%"


def render(result: FedWatchResult, upper: Decimal, out: TextIO) -> None:
    """Print the per-meeting table and the target-range tree."""
    w = out.write
    w("FedWatch method (CME probability tree) on 30-Day Fed Funds futures\n")
    w(f"Current target: {result.lower:.2f}-{upper:.2f}%\n\n")
    if not result.meetings:
        w("No meeting could be priced.\n")
    else:
        w(
            f"{'Meeting':<12}{'EFFR start':>11}{'EFFR end':>10}{'Steps':>8}  {'Method':<11}"
            f"{'Cut':>7}{'Hold':>7}{'Hike':>7}{'E[chg]':>9}\n"
        )
        for m in result.meetings:
            w(
                f"{m.meeting.isoformat():<12}{m.effr_start:>11.4f}{m.effr_end:>10.4f}"
                f"{m.steps:>+8.3f}  {m.method:<11}{_pct(m.p_cut):>7}{_pct(m.p_hold):>7}"
                f"{_pct(m.p_hike):>7}{m.expected_bp:>+7.1f}bp\n"
            )
        levels = result.levels()
        w("\nTarget range after each meeting (probability; CME's hike/cut = above/below today):\n")
        heads = [f"{lo:.2f}-{hi:.2f}" for lo, hi in (result.range_for(bp) for bp in levels)]
        w(f"{'Meeting':<12}" + "".join(f"{h:>12}" for h in heads) + f"{'Cut':>8}{'Hike':>8}\n")
        for m in result.meetings:
            probs = dict(m.cumulative)
            cells = "".join(
                f"{_pct(probs[bp]):>12}" if bp in probs else f"{'':>12}" for bp in levels
            )
            w(
                f"{m.meeting.isoformat():<12}{cells}"
                f"{_pct(m.cum_p_below):>8}{_pct(m.cum_p_above):>8}\n"
            )
        last = result.meetings[-1]
        w(f"\nExpected change by {last.meeting.isoformat()}: {last.cum_expected_bp:+.1f} bp\n")
    for note in result.notes:
        w(f"note: {note}\n")


def run_fedwatch(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``lockstep fedwatch``; 0 on success, 2 on a usage error."""
    out = out or sys.stdout
    try:
        lower, upper = parse_current(args.current)
        prices = dict(parse_price(p) for p in args.price)
        if not prices:
            raise UsageError("give at least one --price")
        effr = _decimal(args.effr, "--effr") if args.effr else None
        if args.meeting:
            try:
                meetings = sorted(date.fromisoformat(d.strip()) for d in args.meeting)
            except ValueError as exc:
                raise UsageError(f"--meeting: {exc}") from exc
            calendar = [m.decision for m in load_calendar()]
        else:
            as_of = date.fromisoformat(args.as_of) if args.as_of else datetime.now(UTC).date()
            calendar = [m.decision for m in load_calendar()]
            last = max(prices)
            meetings = [d for d in calendar if d >= as_of and month_start(d) <= last]
            if not meetings:
                raise UsageError("no calendar meeting falls in the priced months; use --meeting")
        if not 0 <= args.late_days <= 10:
            raise UsageError("--late-days must be between 0 and 10")
    except (UsageError, CalendarError, ValueError) as exc:
        print(f"lockstep fedwatch: {exc}", file=sys.stderr)
        return 2
    result = fedwatch(
        lower=lower,
        meetings=meetings,
        prices=prices,
        calendar=calendar,
        effr=effr,
        late_days=args.late_days,
    )
    render(result, upper, out)
    return 0 if result.meetings else 1
