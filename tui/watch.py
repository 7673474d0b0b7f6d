"""``lockstep watch``: the alert rules without a screen, for servers.

It builds the same runtime as the TUI (every feed into the same store), evaluates the
``[alerts]`` rules once a second, prints each alert as one plain line on stdout (JSON
lines with ``--json``), logs it, rings no bell unless stderr is a terminal, and runs the
configured command hook. Source trouble goes to stderr, so stdout carries alerts only.
SIGINT, SIGTERM and SIGHUP stop it cleanly (exit 0).

``lockstep watch`` dispatches here; it also runs on its own, with the same options:
``python -m tui.watch [--config PATH] [--demo] [--json] [--duration S] ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from typing import Any, TextIO

from feeds.alerts.delivery import Delivery
from feeds.alerts.factory import make_engine, unknown_symbols
from feeds.alerts.format import alert_json, alert_line
from feeds.alerts.runner import AlertsRunner
from feeds.alerts.settings import AlertsSettings
from feeds.core.clock import DEMO_START, Clock, ShiftedClock, SystemClock
from feeds.core.health import HealthSlice
from feeds.core.jsonout import dumps
from feeds.model.alerts import FiredAlert
from feeds.model.core import FeedState
from tui.config import (
    ConfigError,
    Settings,
    data_dir,
    load_settings,
    with_endpoints,
)
from tui.runtime import Runtime, build_runtime
from tui.terminal import install_signal_handlers

log = logging.getLogger("lockstep.watch")

STARTUP_GRACE_S = 10.0
"""Sources get this long to answer before silent ones are reported on stderr."""

EPILOG = """\
Rules come from the [alerts] table of the config file, e.g.

  [alerts]
  rules = ["btc above 100000", "^RUT move 2% in 30m", "any new_ath", "tbills results"]
  command = "notify-send"

stdout carries one line per alert (or one JSON object per line with --json); source
problems go to stderr; everything is also logged. Exit status: 0 after a clean stop,
1 when --once found no source answering, 2 for a configuration problem.
"""


def add_watch_parser(subparsers: Any, common: argparse.ArgumentParser | None = None) -> Any:
    """Register ``watch`` on the CLI's subparsers. ``common`` is the parent parser that
    carries ``--config`` and ``--demo``; without it they are added here."""
    p = subparsers.add_parser(
        "watch",
        parents=[common] if common is not None else [],
        help="run the alert rules headless: print and log each alert, no screen",
        description="Run the [alerts] rules without a screen and print each alert.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if common is None:
        p.add_argument("--config", metavar="PATH", help="configuration file (TOML)")
        p.add_argument(
            "--demo", action="store_true", help="run against the simulated market (labelled)"
        )
    add_watch_options(p)
    return p


def add_watch_options(p: argparse.ArgumentParser) -> None:
    """The options of ``watch`` itself."""
    p.add_argument("--json", action="store_true", help="print one JSON object per alert")
    p.add_argument(
        "--once",
        action="store_true",
        help="wait for the sources (--timeout), evaluate once, print what is true, exit",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="with --once: seconds to wait for every source (default 10)",
    )
    p.add_argument(
        "--duration", type=float, metavar="S", help="stop after S seconds (default: run forever)"
    )
    p.add_argument("--count", type=int, metavar="N", help="stop after N alerts")


def run_watch(
    args: argparse.Namespace,
    settings: Settings,
    *,
    demo: bool,
    alerts: AlertsSettings | None = None,
    out: TextIO | None = None,
) -> int:
    """``lockstep watch``: returns the exit status. ``alerts`` defaults to
    ``settings.alerts``; ``out`` to stdout."""
    alerts = alerts if alerts is not None else settings.alerts
    problem = _check_options(args)
    if problem:
        print(f"lockstep watch: {problem}", file=sys.stderr)
        return 2
    if not alerts.rules:
        print(
            "lockstep watch: no alert rules; add some to [alerts] rules in the config "
            '(e.g. rules = ["btc above 100000"]; see the README, Alerts)',
            file=sys.stderr,
        )
        return 2
    known = (*settings.quotes.watchlist, *settings.quotes.futures)
    for sym in unknown_symbols(alerts, known):
        print(
            f"lockstep watch: warning: {sym} is not in [quotes] watchlist or futures; "
            "its rules will never fire",
            file=sys.stderr,
        )
    market = None
    clock: Clock = SystemClock()
    hub: str | None = getattr(args, "hub_url", None)  # set by tui/cli.py for --hub
    hub_down: str | None = getattr(args, "hub_down", None)  # its Redis unreachable
    if hub is not None and hub_down is None:
        clock = args.hub_clock
    elif demo:
        from feeds.sim.market import MarketThread

        clock = ShiftedClock(DEMO_START)
        market = MarketThread(clock)
        settings = with_endpoints(settings, **market.start())
    try:
        base = data_dir(settings)
        data = base / "demo" if demo else base  # on a hub: for its own feeds' history
        runtime = build_runtime(settings, clock, demo=demo, data=data, hub=hub, hub_down=hub_down)
        if out is None:
            out = sys.stdout
            if hasattr(out, "reconfigure"):
                # A server's C locale must not turn an alert into a UnicodeEncodeError.
                out.reconfigure(errors="replace")
        return asyncio.run(_watch(runtime, alerts, args, out))
    finally:
        if market is not None:
            market.stop()


def _check_options(args: argparse.Namespace) -> str | None:
    if args.duration is not None and not args.duration > 0:
        return "--duration must be above 0 seconds"
    if args.count is not None and args.count < 1:
        return "--count must be at least 1"
    if not args.timeout >= 0:
        return "--timeout must not be negative"
    return None


async def _watch(
    runtime: Runtime, alerts: AlertsSettings, args: argparse.Namespace, out: TextIO
) -> int:
    clock = runtime.clock
    stop = asyncio.Event()
    install_signal_handlers(lambda _name: stop.set())
    delivery = Delivery(alerts, bell=_stderr_bell, demo=runtime.demo, logger=None)
    runner = AlertsRunner(runtime.store, make_engine(alerts), delivery)
    n = len(alerts.rules)
    where = "the DEMO simulated market" if runtime.demo else "live sources"
    _err(f"watching {n} rule{'s' if n != 1 else ''} on {where}; Ctrl-C stops")
    log.info("watch started: %d rules, demo=%s", n, runtime.demo)
    start = clock.monotonic()
    printed = 0
    status = 0
    reporter = _SourceReporter(runtime, start)
    try:
        runtime.start()
        if args.once:
            status = await _once(runtime, runner, args, out, stop)
        else:
            while not stop.is_set():
                now = clock.monotonic()
                runtime.drain(now)  # nothing paints here: drained for the analyses
                reporter.check(now)
                fired = runner.step(now, clock.now())
                if not _emit(fired, args, out, runtime.demo):
                    break  # stdout closed (a pipe reader went away): nothing left to do
                printed += len(fired)
                if args.count and printed >= args.count:
                    break
                if args.duration is not None and now - start >= args.duration:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
    finally:
        stop.set()
        try:
            await delivery.aclose()
        finally:
            try:
                async with asyncio.timeout(3.0):
                    await runtime.aclose()
            except TimeoutError:
                log.warning("sources did not close within 3 s")
        log.info("watch stopped")
    return status


async def _once(
    runtime: Runtime,
    runner: AlertsRunner,
    args: argparse.Namespace,
    out: TextIO,
    stop: asyncio.Event,
) -> int:
    from tui.snapshot import answered

    clock = runtime.clock
    end = clock.monotonic() + max(0.0, args.timeout)
    while clock.monotonic() < end and not stop.is_set():
        if answered(runtime) == set(runtime.sources):
            break
        runtime.drain(clock.monotonic())
        await asyncio.sleep(0.1)
    now = clock.monotonic()
    runtime.store.refresh(now)
    _emit(runner.step(now, clock.now()), args, out, runtime.demo)
    if not answered(runtime):
        _err(f"no source answered within {args.timeout:g} s (offline? try --demo)")
        return 1
    return 0


def _emit(fired: list[FiredAlert], args: argparse.Namespace, out: TextIO, demo: bool) -> bool:
    try:
        for alert in fired:
            if args.json:
                out.write(dumps(alert_json(alert, demo=demo)) + "\n")
            else:
                out.write(alert_line(alert, demo=demo) + "\n")
        if fired:
            out.flush()
    except BrokenPipeError:
        return False
    return True


class _SourceReporter:
    """Says on stderr which sources are not delivering, so a quiet watch is explained:
    once after the start-up grace, then on every change of a source's state word."""

    def __init__(self, runtime: Runtime, start: float) -> None:
        self.runtime = runtime
        self.start = start
        self._last: dict[str, str] | None = None

    def check(self, now: float) -> None:
        if now - self.start < STARTUP_GRACE_S:
            return
        health = self.runtime.store.slice("health", HealthSlice).view()
        states: dict[str, str] = {}
        for name in self.runtime.sources:
            h = health.get(name)
            word = h.state.value if h else FeedState.CONNECTING.value
            if h is not None and h.state is not FeedState.LIVE and h.reason:
                word = f"{word} ({h.reason})"
            states[name] = word
        before = self._last
        self._last = states
        for name, word in states.items():
            old = None if before is None else before.get(name)
            if before is None and word.startswith(FeedState.LIVE.value):
                continue
            if old != word:
                _err(f"source {name}: {word}")
                log.info("source %s: %s", name, word)


def _stderr_bell() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\a")
        sys.stderr.flush()


def _err(text: str) -> None:
    print(f"lockstep watch: {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m tui.watch``: the same as ``lockstep watch``."""
    parser = argparse.ArgumentParser(
        prog="lockstep watch",
        description="Run the [alerts] rules without a screen and print each alert.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", metavar="PATH", help="configuration file (TOML)")
    parser.add_argument("--demo", action="store_true", help="run against the simulated market")
    add_watch_options(parser)
    args = parser.parse_args(argv)
    try:
        settings, _ = load_settings(args.config)
    except ConfigError as exc:
        print(f"lockstep: configuration error: {exc}", file=sys.stderr)
        return 2
    from tui.logs import setup_logging

    try:
        setup_logging(data_dir(settings))
    except OSError as exc:
        print(f"lockstep: cannot write the log in {data_dir(settings)}: {exc}", file=sys.stderr)
    return run_watch(args, settings, demo=args.demo)


if __name__ == "__main__":
    sys.exit(main())
