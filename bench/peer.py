"""Launch the PyPI peer crypto-terminal 2.5.1 against the simulated Coinbase feed,
without modifying its code (performance.md §5).

``python -m bench.peer --url ws://127.0.0.1:PORT``

``crypto_terminal.app`` binds ``Feed`` at import and ``Feed.__init__`` takes the URL as
a default argument (``url: str = FEED_URL``), so patching the constant is not enough:
a subclass forces the URL and is assigned to ``crypto_terminal.app.Feed``. The order
book pane's ``BookFeed`` (hidden below 140 columns) and the REST base used for
products and candles are pointed at a closed loopback port, so nothing leaves the box:
the chart shows its "history unavailable" state, as in performance.md §2.7.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

CLOSED = "127.0.0.1:9"
"""A loopback port nothing listens on (connections are refused at once)."""

PEER_VERSION = "2.5.1"


def available() -> str:
    """ "" if the peer can run here, else why not."""
    try:
        from importlib.metadata import version

        found = version("crypto-terminal")
    except Exception:  # noqa: BLE001
        return (
            "crypto-terminal is not installed (pip install crypto-terminal==2.5.1, "
            "or the project's `bench` extra)"
        )
    if found != PEER_VERSION:
        return f"crypto-terminal {found} is installed; the comparison is defined for 2.5.1"
    return ""


def patch(url: str) -> None:
    """Point every connection the peer makes at loopback."""
    import crypto_terminal.app as app_mod
    import crypto_terminal.book as book_mod
    import crypto_terminal.feed as feed_mod
    import crypto_terminal.history as history_mod

    class LoopbackFeed(feed_mod.Feed):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["url"] = url
            super().__init__(*args, **kwargs)

    class LoopbackBookFeed(book_mod.BookFeed):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["url"] = f"ws://{CLOSED}"
            super().__init__(*args, **kwargs)

    app_mod.Feed = LoopbackFeed
    app_mod.BookFeed = LoopbackBookFeed
    history_mod.REST_BASE = f"http://{CLOSED}"


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.peer")
    parser.add_argument("--url", required=True, help="the simulated Coinbase ws-feed")
    args = parser.parse_args()
    if not args.url.startswith("ws://127.0.0.1:"):
        sys.exit("bench.peer: only a loopback feed is allowed")
    patch(args.url)
    sys.argv = ["crypto-terminal"]
    from crypto_terminal.__main__ import main as peer_main

    peer_main()


if __name__ == "__main__":
    main()
