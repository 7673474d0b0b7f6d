"""The ``lockstep`` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feeds.core.clock import Clock
    from tui.config import Settings

# httpx imports its optional command-line client whenever click happens to be installed
# (click, pygments' lexers, rich.progress and rich.syntax: 40-60 ms of start-up, bench
# B8); lockstep never runs it. A None entry in sys.modules makes that one import fail at
# once, and httpx falls back to its stub ``httpx.main``. Set before anything imports
# httpx; tests/tui/test_cli.py checks that httpx still imports whole.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

# The project's modules are imported inside the functions: each command loads what it
# uses, and this module stays cheap to import.

log = logging.getLogger("lockstep")

DESCRIPTION = """\
lockstep: a terminal market monitor. Live BTC (Coinbase, Kraken), index and commodity
quotes, distance from all-time highs, Fed rate-cut odds and Fed T-bill purchases.

Every number shows its source and its age; a source that goes quiet is marked STALE,
never shown as fresh. --demo runs everything against a simulated market on 127.0.0.1.
"""

EPILOG = """\
commands:
  (none)            the live monitor (the default)
  snapshot --json   print one JSON document with every source's latest value, then exit
  config            print a complete, commented configuration file with the defaults
  fedwatch          FedWatch-method odds from 30-day Fed funds futures prices you give
  watch             run the [alerts] rules without a screen; print each alert
  hub               a desk hub: run every source once and publish to Redis
                    (terminals then use --hub URL, or [hub] url in the config)
  serve             the dashboard in a browser: http://127.0.0.1:8000 (read-only views)

config file: --config PATH, else $LOCKSTEP_CONFIG, else config.toml in the platform
config directory. Data (history, log): [storage] dir, else $LOCKSTEP_DATA_DIR.
keys in the monitor: q quit, r refresh, ? help, t theme, 1-7 zoom a panel, ctrl+p
palette (add or remove symbols), R reload the config (also watched: edits apply live);
in --demo, c / k cut and restore the simulated Coinbase / Kraken feeds.
"""


OWN_MODULES = ("fedwatch", "watch", "serve")
"""Commands whose arguments are defined in their own modules (``tui.fedwatch_cli``,
``tui.watch``, ``tui.serve``)."""


def needs_full_parser(argv: list[str]) -> bool:
    """True when ``argv`` may name a command of :data:`OWN_MODULES` or asks for help.
    Otherwise (the monitor, ``snapshot``, ``hub``, ``config``) :func:`build_parser` need
    not import those modules: they stay in memory all day once imported (about 0.7 MB of
    the monitor's resident size, issue 17). A word that merely looks like one of them
    (an option's value) only costs that memory."""
    return any(a in OWN_MODULES or a in ("-h", "--help") for a in argv)


def _common_options(default: object = None) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name; ``default`` is every
    option's value when it is not given (``argparse.SUPPRESS``: leave it unset)."""
    common = argparse.ArgumentParser(add_help=False, argument_default=default)
    common.add_argument("--config", metavar="PATH", help="configuration file (TOML)")
    common.add_argument(
        "--demo",
        action="store_true",
        default=False if default is None else default,
        help="run against lockstep's simulated market on 127.0.0.1 (clearly labelled)",
    )
    common.add_argument(
        "--hub",
        metavar="URL",
        help="the desk hub's Redis (redis:// or rediss:// URL): a terminal reads every "
        "value from it instead of the sources, `lockstep hub` publishes to it; "
        "default [hub] url",
    )
    return common


def build_parser(full: bool = True) -> argparse.ArgumentParser:
    """The argument parser (also the source of ``--help``). Without ``full`` the
    commands of :data:`OWN_MODULES` are placeholders without arguments or help: use it
    only where :func:`needs_full_parser` is False."""
    parser = argparse.ArgumentParser(
        prog="lockstep",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_common_options()],
    )
    # The commands take the same options after their name. Their copies have no
    # defaults: argparse would otherwise overwrite `lockstep --config X hub`'s --config
    # with the subcommand's default (None), and the file given first was ignored.
    common = _common_options(argparse.SUPPRESS)
    parser.add_argument("--fps", type=float, help="cap repaints per second (1-30; default 10)")
    parser.add_argument(
        "--low-bandwidth",
        action="store_true",
        help="no sparklines or flashes: fewer bytes over slow SSH links",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="a view: no watchlist edits, no config writes, no alert command "
        "(what `lockstep serve` runs in each browser session)",
    )
    sub = parser.add_subparsers(dest="command", metavar="command")
    snap = sub.add_parser(
        "snapshot", parents=[common], help="print the latest values as JSON and exit"
    )
    snap.add_argument("--json", action="store_true", help="JSON output (the only format)")
    snap.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        help="seconds to wait for the first value from each source (default 10)",
    )
    sub.add_parser("config", help="print a commented configuration file with the defaults")
    if full:
        from tui.fedwatch_cli import add_fedwatch_parser
        from tui.watch import add_watch_parser

        add_fedwatch_parser(sub)
        add_watch_parser(sub, common)
    else:
        # Still choices, so a mistyped command lists every command (in one order).
        sub.add_parser("fedwatch")
        sub.add_parser("watch")
    sub.add_parser(
        "hub",
        parents=[common],
        help="run every source once and publish each value to Redis for the desk",
        description="Run every feed once, headless, and publish every event to Redis "
        "(--hub URL or [hub] url). Stops cleanly on Ctrl-C, SIGTERM or SIGHUP.",
    )
    if full:
        from tui.serve import add_serve_parser

        add_serve_parser(sub, common)
    else:
        sub.add_parser("serve")
    return parser


def _sources(
    settings: Settings, demo: bool, hub: str | None, hub_clock: Clock | None
) -> tuple[Settings, Clock, Any, Path | None]:
    """Where a terminal's values come from: the hub (its clock), the simulated market
    (its settings, clock and running market) or the real sources; and the data
    directory (on a hub, only its own feeds use it, when the hub is gone). A hub
    terminal whose hub could not be reached at start (no ``hub_clock``) runs like a
    direct one, on the simulated market with ``demo``."""
    from feeds.core.clock import SystemClock

    if hub is not None and hub_clock is not None:
        return settings, hub_clock, None, _data_for(settings, demo)
    market = None
    clock: Clock = SystemClock()
    if demo:
        settings, clock, market = _demo_market(settings)
    return settings, clock, market, _data_for(settings, demo)


def _demo_market(settings: Settings) -> tuple[Settings, Clock, Any]:
    from feeds.core.clock import DEMO_START, ShiftedClock
    from feeds.sim.market import MarketThread
    from tui.config import with_endpoints

    clock = ShiftedClock(DEMO_START)
    market = MarketThread(clock)
    endpoints = market.start()
    return with_endpoints(settings, **endpoints), clock, market


def _seed_demo_sparkline(runtime: Any, clock: Clock) -> None:
    """The demo starts with six simulated hours of intraday history (live mode builds the
    sparkline from the stream, minute by minute)."""
    from feeds.btc.state import BtcSlice
    from feeds.sim.exchanges import intraday_minutes
    from feeds.sim.levels import LEVELS

    minute = int(clock.now().timestamp()) // 60 - 1
    points = intraday_minutes(LEVELS["BTC-USD"].last, minute)
    runtime.store.slice("btc", BtcSlice).seed_spark(points)


def _data_for(settings: Settings, demo: bool) -> Path:
    """The demo keeps its simulated history apart from the real one."""
    from tui.config import data_dir

    base = data_dir(settings)
    return base / "demo" if demo else base


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lockstep`` console script."""
    from tui.config import ConfigError, config_path, data_dir, example_toml, load_settings
    from tui.config import hub_url as hub_of

    words = sys.argv[1:] if argv is None else argv
    args = build_parser(full=needs_full_parser(words)).parse_args(words)
    if args.command == "fedwatch":
        from tui.fedwatch_cli import run_fedwatch

        return run_fedwatch(args)
    if args.command == "config":
        sys.stdout.write(example_toml())
        return 0
    try:
        settings, _ = load_settings(args.config)
    except ConfigError as exc:
        print(f"lockstep: configuration error: {exc}", file=sys.stderr)
        return 2
    overrides: dict[str, object] = {}
    if getattr(args, "fps", None) is not None:
        if not 1 <= args.fps <= 30:
            print("lockstep: --fps must be between 1 and 30", file=sys.stderr)
            return 2
        overrides["fps"] = args.fps
    if getattr(args, "low_bandwidth", False):
        overrides["low_bandwidth"] = True
    settings = replace(settings, ui=replace(settings.ui, **overrides))  # type: ignore[arg-type]
    from tui.logs import setup_logging

    try:
        setup_logging(data_dir(settings))
    except OSError as exc:
        print(f"lockstep: cannot write the log in {data_dir(settings)}: {exc}", file=sys.stderr)
    hub_url = hub_of(getattr(args, "hub", None), os.environ, settings.hub.url)
    if hub_url is not None:
        from feeds.hub.settings import url_problem

        problem = url_problem(hub_url)
        if problem:
            print(f"lockstep: --hub {problem}", file=sys.stderr)
            return 2
    if args.command == "serve":
        from tui.serve import run_serve

        return run_serve(args, settings, hub_url)
    if args.command == "hub":
        if hub_url is None:
            print("lockstep hub: needs a Redis URL (--hub URL or [hub] url)", file=sys.stderr)
            return 2
        return run_hub(settings, hub_url, demo=args.demo)
    demo = args.demo
    hub_clock: Clock | None = None
    hub_down: str | None = None
    if hub_url is not None:
        found = _hub_clock(hub_url, settings)
        if isinstance(found, str):
            # A wrong password or a certificate that does not verify: configuration.
            print(f"lockstep: {found}", file=sys.stderr)
            return 1
        if isinstance(found, HubDown):
            # Unreachable: an outage. The terminal's own --demo says what it runs on.
            hub_down = found.problem
            if settings.hub.fallback == "none" and args.command == "snapshot":
                print(f"lockstep: {hub_down}", file=sys.stderr)
                return 1
        else:
            hub_clock, demo = found
    if args.command == "snapshot":
        if hub_down is not None:  # fallback = "direct": a direct snapshot, saying so
            return run_snapshot(settings, demo=demo, timeout=args.timeout, hub_down=hub_down)
        return run_snapshot(
            settings, demo=demo, timeout=args.timeout, hub=hub_url, hub_clock=hub_clock
        )
    if args.command == "watch":
        from tui.watch import run_watch

        if hub_url is not None:
            args.hub_url, args.hub_clock, args.hub_down = hub_url, hub_clock, hub_down
        return run_watch(args, settings, demo=demo)
    path, _ = config_path(args.config, os.environ)
    return run_monitor(
        settings,
        demo=demo,
        config=path,
        ui_overrides=overrides,
        hub=hub_url,
        hub_clock=hub_clock,
        hub_down=hub_down,
        read_only=args.read_only,
    )


class HubDown:
    """The hub's Redis could not be reached at start (an outage, not configuration)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        """The one-line problem, password-free."""


def _hub_clock(url: str, settings: Settings) -> tuple[Clock, bool] | HubDown | str:
    """A terminal's clock and demo flag on the hub at ``url``; :class:`HubDown` when its
    Redis cannot be reached; or the one-line configuration problem (a wrong password, a
    certificate that does not verify), password-free."""
    import asyncio

    from tui.hub import probe_hub, terminal_clock

    probe = asyncio.run(probe_hub(url, settings.hub))
    if probe.problem is not None:
        return probe.problem if probe.fatal else HubDown(probe.problem)
    return terminal_clock(probe.shift)


def run_hub(settings: Settings, url: str, *, demo: bool) -> int:
    """``lockstep hub``: every feed once, each event published to Redis at ``url``."""
    import asyncio

    from feeds.core.clock import SystemClock
    from tui.hub import serve
    from tui.runtime import build_runtime

    market = None
    clock: Clock = SystemClock()
    if demo:
        settings, clock, market = _demo_market(settings)
    try:
        runtime = build_runtime(settings, clock, demo=demo, data=_data_for(settings, demo))
        if demo:
            _seed_demo_sparkline(runtime, clock)
        return asyncio.run(serve(runtime, url, out=sys.stdout))
    except KeyboardInterrupt:
        return 0
    finally:
        if market is not None:
            market.stop()


def run_snapshot(
    settings: Settings,
    *,
    demo: bool,
    timeout: float,
    hub: str | None = None,
    hub_clock: Clock | None = None,
    hub_down: str | None = None,
) -> int:
    """``lockstep snapshot --json`` (from the desk hub at ``hub`` when given). With
    ``hub_down`` (the hub's Redis unreachable, ``[hub] fallback = "direct"``), a direct
    snapshot whose ``sources`` start with the hub, DOWN, saying why."""
    import asyncio

    from feeds.core.jsonout import dumps
    from tui.runtime import build_runtime
    from tui.snapshot import take

    settings, clock, market, data = _sources(settings, demo, hub, hub_clock)
    try:
        runtime = build_runtime(settings, clock, demo=demo, data=data, hub=hub)
        doc = asyncio.run(take(runtime, timeout))
    finally:
        if market is not None:
            market.stop()
    if hub_down is not None:
        from tui.hub import FALLBACK_NOTE

        down = {
            "source": "hub",
            "state": "DOWN",
            "reason": f"{hub_down}; {FALLBACK_NOTE}",
            "age_s": None,
            "bad_messages": 0,
        }
        doc["sources"] = {"hub": down, **doc["sources"]}
    if not any(s["age_s"] is not None for s in doc["sources"].values()):
        print(
            f"lockstep: no source answered within {timeout:g} s "
            "(offline? try `lockstep snapshot --json --demo`)",
            file=sys.stderr,
        )
        print(dumps(doc, indent=True))
        return 1
    print(dumps(doc, indent=True))
    return 0


def run_monitor(
    settings: Settings,
    *,
    demo: bool,
    config: Path | None = None,
    ui_overrides: dict[str, object] | None = None,
    hub: str | None = None,
    hub_clock: Clock | None = None,
    hub_down: str | None = None,
    read_only: bool = False,
) -> int:
    """The TUI. ``config`` is the file to watch and to save watchlist changes to;
    ``ui_overrides`` are the command line's ``[ui]`` values (they win on reload). With
    ``hub``, every value comes from the desk hub at that URL; ``hub_down`` says why it
    could not be reached at start (the terminal then starts on its own feeds, or waits,
    as ``[hub] fallback`` says). ``read_only``: a view (``lockstep serve``'s sessions)."""
    term = os.environ.get("TERM", "")
    # A `lockstep serve` session names Textual's web driver and talks to it over pipes.
    web = bool(os.environ.get("TEXTUAL_DRIVER"))
    if not web and (not sys.stdout.isatty() or term in ("dumb", "unknown")):
        print(
            "lockstep: needs an interactive terminal (stdout is not a tty or TERM is dumb); "
            "for scripts use `lockstep snapshot --json`",
            file=sys.stderr,
        )
        return 2
    from tui.app import LockstepApp
    from tui.runtime import build_runtime

    settings, clock, market, data = _sources(settings, demo, hub, hub_clock)
    runtime = build_runtime(settings, clock, demo=demo, data=data, hub=hub, hub_down=hub_down)
    if market is not None:
        _seed_demo_sparkline(runtime, clock)
    app = LockstepApp(
        runtime,
        sim_toggle=market.toggle if market is not None else None,
        config_path=config,
        ui_overrides=ui_overrides,
        read_only=read_only,
    )
    try:
        app.run()
    finally:
        if market is not None:
            market.stop()
    from tui.terminal import disarm_hard_exit

    disarm_hard_exit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
