"""Command palette commands (ctrl+p): add and remove watchlist symbols.

Typing ``add nvda`` (or just ``nvda``) offers "Add NVDA to the watchlist"; every symbol
on the watchlist is offered for removal. The app saves the change to the config file.
A read-only dashboard (``lockstep serve``'s browser sessions) offers neither.
"""

from __future__ import annotations

from functools import partial
from typing import Protocol

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.reload import normalise_symbol


class WatchlistOwner(Protocol):
    """What the provider needs from the app."""

    def watchlist(self) -> tuple[str, ...]:
        """The current watchlist."""
        ...

    def add_symbol(self, symbol: str) -> None:
        """Add ``symbol``, apply it and save it."""
        ...

    def remove_symbol(self, symbol: str) -> None:
        """Remove ``symbol``, apply it and save it."""
        ...


class WatchlistCommands(Provider):
    """Add and remove symbols."""

    def _owner(self) -> WatchlistOwner | None:
        app = self.app
        if getattr(app, "read_only", False):
            return None  # a read-only view (a browser session) offers no edits
        return app if hasattr(app, "add_symbol") else None  # type: ignore[return-value]

    async def discover(self) -> Hits:
        """Shown before anything is typed."""
        owner = self._owner()
        if owner is None:
            return
        yield DiscoveryHit(
            "Add symbol…",
            partial(self._prompt_add),
            help="type a Yahoo symbol, e.g. 'add NVDA' or 'add BTC-EUR'",
        )
        for sym in owner.watchlist():
            yield DiscoveryHit(
                f"Remove {sym}", partial(owner.remove_symbol, sym), help="from the watchlist"
            )

    def _prompt_add(self) -> None:
        self.app.notify("Type the symbol in the palette: ctrl+p, then 'add NVDA'", timeout=5)

    async def search(self, query: str) -> Hits:
        """``add X`` / ``X`` offers adding X; ``remove X`` / ``X`` offers removing it."""
        owner = self._owner()
        if owner is None:
            return
        words = query.split()
        verb = words[0].lower() if words else ""
        arg = " ".join(words[1:]) if verb in ("add", "remove", "rm", "del") else query
        current = owner.watchlist()
        sym = normalise_symbol(arg)
        if sym is not None and verb not in ("remove", "rm", "del") and sym not in current:
            yield Hit(
                1.0,
                f"Add {sym} to the watchlist",
                partial(owner.add_symbol, sym),
                text=f"add {sym}",
                help="polled from Yahoo and saved to the config file",
            )
        matcher = self.matcher(arg or query)
        for existing in current:
            if verb == "add":
                break
            score = matcher.match(existing)
            if score > 0 or verb in ("remove", "rm", "del") and not arg:
                yield Hit(
                    max(score, 0.5),
                    f"Remove {existing} from the watchlist",
                    partial(owner.remove_symbol, existing),
                    text=f"remove {existing}",
                    help="saved to the config file",
                )
