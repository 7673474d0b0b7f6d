"""The headless app of :mod:`bench.headless_app`, reading from the desk hub: the same
runtime ``lockstep --hub URL`` builds (its one feed is the hub's, no data directory).

``python -m bench.hub_app --hub URL --config PATH``: the rest of the protocol is
:mod:`bench.headless_app`'s.
"""

from __future__ import annotations

import sys
from typing import Any


def main() -> None:
    """Entry point: take ``--hub URL`` off the command line, then run the headless app
    with every runtime built on the hub."""
    argv = sys.argv[1:]
    if "--hub" not in argv or argv.index("--hub") + 1 >= len(argv):
        raise SystemExit("usage: python -m bench.hub_app --hub URL --config PATH")
    i = argv.index("--hub")
    url = argv[i + 1]
    sys.argv[1:] = argv[:i] + argv[i + 2 :]

    import tui.runtime
    from bench import headless_app

    build = tui.runtime.build_runtime

    def on_hub(settings: Any, clock: Any, **kw: Any) -> Any:
        # As tui/cli.py builds a hub terminal: the hub's feed, history in memory.
        kw.update(hub=url, data=None)
        return build(settings, clock, **kw)

    tui.runtime.build_runtime = on_hub
    headless_app.main()


if __name__ == "__main__":
    main()
