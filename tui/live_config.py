"""Live configuration: the config file is polled (and ``R`` reloads it); what can change
without a restart (``[ui]``, ``[quotes]``, ``[alerts]``) is applied at once, the rest is
named in a notice. The command palette's watchlist edits go through the same path and
are saved to the file. :class:`LiveConfig` is the top layer under
:class:`~tui.app.LockstepApp`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from feeds.alerts.delivery import Delivery
from feeds.alerts.factory import make_engine
from feeds.alerts.format import alert_line, alert_title
from feeds.alerts.runner import AlertsRunner
from feeds.alerts.settings import AlertsSettings
from feeds.history.ath_state import AthSlice
from feeds.history.factory import build_added_history_feeds
from feeds.model.history import WatchSymbols
from feeds.quotes.cboe import CboeQuotesFeed
from feeds.quotes.factory import build_quote_feeds, make_quotes_slice
from feeds.quotes.state import QuotesSlice
from feeds.quotes.yahoo import YahooChartFeed
from tui.config import ConfigError, Settings, UiSettings
from tui.paint import PaintLoop
from tui.reload import MAX_WATCHLIST, ConfigWatcher, classify, save_watchlist
from tui.runtime import Feed
from widgets.alerts_panel import AlertsPanel

CONFIG_POLL_S = 2.0
"""How often the config file's modification time is checked (whole seconds: it is
checked on the app's 1 Hz wake-up, see ``tui.app.CONFIG_EVERY``)."""


class LiveConfig(PaintLoop):
    """Config reloads, watchlist edits and the alert rules they rebuild."""

    _ui_overrides: Mapping[str, object]
    _config_path: Path | None
    _config_watcher: ConfigWatcher | None
    _alerts: AlertsRunner
    _added_history: dict[str, list[Feed]]
    """The history feeds started for each symbol added while the app runs (stopped when
    the symbol leaves the watchlist)."""
    read_only: bool = False
    """A view only (``lockstep serve``'s browser sessions, ``--read-only``): no watchlist
    edits, nothing saved to the config file, no alert command run."""

    def _with_overrides(self, settings: Settings) -> Settings:
        ui: UiSettings = replace(settings.ui, **self._ui_overrides)  # type: ignore[arg-type]
        return replace(settings, ui=ui)

    def _make_alerts(self, settings: AlertsSettings) -> AlertsRunner:
        """The ``[alerts]`` rules against the store, delivered as bell, toast and hook."""
        demo = self.runtime.demo

        def toast(alert: Any) -> None:
            self.notify(
                alert_line(alert, demo=demo),
                title=alert_title(alert, demo=demo),
                severity="warning",
                timeout=10,
                markup=False,
            )

        if self.read_only:
            # A view runs no command: the hook belongs to the terminal that owns the rules.
            settings = replace(settings, command="")
        delivery = Delivery(settings, bell=self.bell, notify=toast, demo=demo)
        return AlertsRunner(self.store, make_engine(settings), delivery)

    # -- watchlist (the command palette) --------------------------------------------

    def watchlist(self) -> tuple[str, ...]:
        """The symbols in the quotes panel, in order."""
        return self.settings.quotes.watchlist

    def add_symbol(self, symbol: str) -> None:
        """Add ``symbol`` to the watchlist, save it to the config file, poll it."""
        if self._refuse_edit():
            return
        current = self.watchlist()
        if symbol in current:
            self.notify(f"{symbol} is already on the watchlist", timeout=3, markup=False)
            return
        if len(current) >= MAX_WATCHLIST:
            self.notify(
                f"the watchlist holds at most {MAX_WATCHLIST} symbols",
                severity="error",
                markup=False,
            )
            return
        if self._save_watchlist((*current, symbol)):
            self.notify(f"added {symbol}{self._saved_where()}", timeout=6, markup=False)

    def remove_symbol(self, symbol: str) -> None:
        """Remove ``symbol`` from the watchlist and save it to the config file."""
        if self._refuse_edit():
            return
        current = self.watchlist()
        if symbol not in current:
            return
        if self._save_watchlist(tuple(s for s in current if s != symbol)):
            self.notify(f"removed {symbol}{self._saved_where()}", timeout=4, markup=False)

    def _refuse_edit(self) -> bool:
        """True (and says so) when this dashboard is a read-only view, or reads the desk
        hub (whose watchlist is the desk's: a symbol the hub does not poll would only
        ever read "waiting", and polling it here is the traffic the hub exists to save)."""
        if self.read_only:
            self.notify(
                "read-only view: change the watchlist in a terminal", timeout=4, markup=False
            )
            return True
        if self.runtime.via_hub:
            self.notify(
                "this terminal reads the desk hub: change [quotes] watchlist in the hub's config",
                timeout=6,
                markup=False,
            )
            return True
        return False

    def _saved_where(self) -> str:
        return f" (saved to {self._config_path})" if self._config_path else " (not saved)"

    def _save_watchlist(self, symbols: tuple[str, ...]) -> bool:
        if self.read_only:
            return False
        if self._config_path is not None:
            try:
                save_watchlist(self._config_path, symbols)
            except ConfigError as exc:
                self.notify(str(exc), severity="error", timeout=10, markup=False)
                return False
            if self._config_watcher is not None:
                self._config_watcher.mark_seen()
        quotes = replace(self.settings.quotes, watchlist=symbols)
        self._apply_settings(replace(self.settings, quotes=quotes))
        return True

    # -- config reload --------------------------------------------------------------

    def _poll_config(self) -> None:
        watcher = self._config_watcher
        if watcher is not None and watcher.changed():
            self._reload_settings()

    def action_reload_config(self) -> None:
        """Re-read the config file now (it is also polled every couple of seconds)."""
        if self._config_watcher is None:
            self.notify("no config file to reload", timeout=3, markup=False)
            return
        self._config_watcher.mark_seen()
        self._reload_settings(always_say=True)

    def _reload_settings(self, *, always_say: bool = False) -> None:
        assert self._config_watcher is not None
        try:
            new = self._config_watcher.load()
        except ConfigError as exc:
            self.notify(f"config not applied: {exc}", severity="error", timeout=15, markup=False)
            return
        if self.runtime.demo:
            # The demo points every endpoint at the simulated market.
            new = replace(new, endpoints=self.settings.endpoints)
        new = self._with_overrides(new)
        change = self._apply_settings(new)
        if not change and always_say:
            self.notify("config reloaded: no change", timeout=3, markup=False)

    def _apply_settings(self, new: Settings) -> bool:
        """Apply what can change live; say what needs a restart. True if anything changed."""
        old = self.settings
        change = classify(old, new)
        if not change.live and not change.restart:
            return False
        self.settings = new
        self.runtime.settings = replace(self.runtime.settings, ui=new.ui, quotes=new.quotes)
        if "ui" in change.live:
            self._apply_ui(old.ui, new.ui)
        if "quotes" in change.live:
            self._rebuild_quotes()
        if "alerts" in change.live:
            # The new rules continue the old ones' history, and each unchanged rule its
            # state (no re-firing); the old runner's hooks may finish.
            old_runner = self._alerts
            self._alerts = self._make_alerts(new.alerts)
            self._alerts.engine.carry_over(old_runner.engine)
            self.run_worker(old_runner.delivery.aclose(), exit_on_error=False)
            self._dash.query_one(AlertsPanel).show(self._alerts.view())
        if change.live:
            self.notify(
                "config applied: [" + "], [".join(change.live) + "]", timeout=4, markup=False
            )
        if change.restart:
            tables = "[" + "], [".join(change.restart) + "]"
            self.notify(
                f"restart lockstep to apply the changes to {tables}",
                severity="warning",
                timeout=20,
                markup=False,
            )
        return True

    def _apply_ui(self, old: UiSettings, new: UiSettings) -> None:
        if new.fps != old.fps:
            self._start_paint_timer(new.fps)
        if new.low_bandwidth != old.low_bandwidth:
            self._apply_low_bandwidth(new.low_bandwidth)
        if new.theme != old.theme:
            self._set_theme(new.theme)
        if (new.up_color, new.down_color) != (old.up_color, old.down_color):
            self.refresh_css(animate=False)
        if new.compositor != old.compositor:
            # The screen's compositor is chosen when the screen is made.
            self.notify(
                "restart lockstep to apply [ui] compositor",
                severity="warning",
                timeout=20,
                markup=False,
            )

    def _rebuild_quotes(self) -> None:
        """New quote feeds and slice for the new ``[quotes]``; the last values carry over."""
        q = self.settings.quotes
        ep = self.runtime.settings.endpoints
        old_feeds: list[Feed] = [
            f for f in self.runtime.feeds if isinstance(f, YahooChartFeed | CboeQuotesFeed)
        ]
        new_slice = make_quotes_slice(q, self.market_clock)
        if self.store.has("quotes"):
            old_view = self.store.slice("quotes", QuotesSlice).view()
            for row in old_view.rows + old_view.futures:
                if row.quote is not None:
                    new_slice.apply(row.quote)
            for status in (old_view.primary, old_view.fallback):
                if status is not None:
                    new_slice.apply(status)
        # Store.add replaces the slice under its topic (the old one stays routed but is
        # no longer read: see the report on a Store.replace).
        self.store.add(new_slice)
        added, followed = self._follow_symbols(q.watchlist, q.futures)
        # The history feeds of symbols added earlier and now dropped stop with the quote
        # feeds (add and remove as often as you like: the feeds do not pile up).
        for symbol in [s for s in self._added_history if s not in followed]:
            old_feeds += self._added_history.pop(symbol)
        new_feeds: list[Feed] = []
        # On the desk hub, the hub's events fill the new slices; a feed of its own here
        # would be the traffic the hub exists to save.
        if not self.runtime.via_hub:
            new_feeds += build_quote_feeds(
                q,
                ep.yahoo,
                ep.cboe,
                self.runtime.client,
                self.market_clock,
                wanted=new_slice.fallback_symbols,
            )
            for symbol in added:
                self._added_history[symbol] = self._history_feeds(symbol)
                new_feeds += self._added_history[symbol]
        # The runtime stops and closes the old feeds and runs the new ones.
        self.runtime.replace_feeds(old_feeds, new_feeds)
        self._paint()

    def _follow_symbols(
        self, watchlist: Sequence[str], futures: Sequence[str]
    ) -> tuple[list[str], frozenset[str]]:
        """The all-time-high rows follow the new watchlist at once (the ATH slice takes a
        :class:`WatchSymbols`). Returns the symbols new to them, and all they follow."""
        if not self.store.has("ath"):
            return [], frozenset()
        symbols = tuple(dict.fromkeys([*watchlist, *futures]))
        ath = self.store.slice("ath", AthSlice)
        before = set(ath.symbols())
        self.store.apply(WatchSymbols("watchlist", symbols, self.market_clock.monotonic()))
        return [s for s in symbols if s not in before], frozenset(ath.symbols())

    def _history_feeds(self, symbol: str) -> list[Feed]:
        """Feeds for a symbol new to the all-time-high rows: its stored highs, then its
        Yahoo history (no restart needed)."""
        history = self.runtime.history
        if history is None:
            return []
        return list(
            build_added_history_feeds(
                self.settings.history,
                history,
                self.runtime.settings.endpoints.yahoo,
                [symbol],
                self.runtime.client,
                self.market_clock,
            )
        )
