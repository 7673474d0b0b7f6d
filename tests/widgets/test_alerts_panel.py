"""The alerts panel: empty states, the history newest first with time, age and rule,
delivery problems in words, bounded rows, and a snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Static

from feeds.model.alerts import AlertKind, AlertsView, FiredAlert
from widgets.alerts_panel import AlertsPanel, alert_row

TCSS = Path(__file__).parent.parent.parent / "tui" / "alerts.tcss"
MONO = 1000.0
WALL = datetime(2025, 12, 12, 15, 25, 2, tzinfo=UTC)  # 10:25:02 ET
RULES = ("btc below 85000", "^RUT new_ath", "divergence above 25", "tbills results")


def fired(rule: str, message: str, after: float, *, at_start: bool = False) -> FiredAlert:
    return FiredAlert(
        rule, AlertKind.BELOW, "X", message, "", "coinbase", at_start,
        WALL + timedelta(seconds=after), MONO + after,
    )  # fmt: skip


HISTORY = (
    fired("tbills results", "Fed T-bill purchase OR 121225 01 results: accepted $8.20 bn", 370),
    fired("^RUT new_ath", "^RUT new all-time high 2,559.15, was 2,547.00 on Dec 11 (yahoo)", 75),
    fired(
        "divergence above 25",
        "BTC-USD vs ^RUT drawdown gap 27.0 pp is above 25 pp",
        1,
        at_start=True,
    ),
)


def view(alerts: tuple[FiredAlert, ...] = HISTORY, **kw: Any) -> AlertsView:
    base: dict[str, Any] = {
        "alerts": alerts,
        "rules": RULES,
        "fired": len(alerts),
        "suppressed": 0,
        "note": "",
    }
    base.update(kw)
    return AlertsView(**base)


class Host(App[None]):
    CSS_PATH = str(TCSS)

    def __init__(self, rows: int = 6) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield AlertsPanel(rows=self.rows)


def text(app: App[Any], name: str) -> str:
    return str(app.query_one(f"#{name}", Static).render())


def test_row_format() -> None:
    row = alert_row(HISTORY[2], MONO + 181)
    assert row == (
        "10:25:03    3m  [divergence above 25] "
        "BTC-USD vs ^RUT drawdown gap 27.0 pp is above 25 pp (at start)"
    )
    assert alert_row(HISTORY[0], None).startswith("10:31:12     —  [tbills results] Fed T-bill")


async def test_no_rules_says_how_to_add_them() -> None:
    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        panel = app.query_one(AlertsPanel)
        panel.show(view((), rules=(), fired=0))
        await pilot.pause()
        assert text(app, "al-empty").startswith("No alert rules. Add some to [alerts] rules")
        assert not app.query_one("#al-row-0", Static).display
        assert panel.border_subtitle == "0 rules"


async def test_rules_but_nothing_fired_lists_them() -> None:
    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        panel = app.query_one(AlertsPanel)
        panel.show(view(()))
        await pilot.pause()
        assert text(app, "al-empty") == (
            "Nothing has fired yet. Watching: btc below 85000 · ^RUT new_ath · "
            "divergence above 25 · tbills results"
        )
        assert panel.border_subtitle == "4 rules"


async def test_history_newest_first_with_ages_and_classes() -> None:
    app = Host()
    async with app.run_test(size=(120, 12)) as pilot:
        panel = app.query_one(AlertsPanel)
        panel.show(view(suppressed=2))
        panel.tick(MONO + 400, WALL + timedelta(seconds=400))
        await pilot.pause()
        first = text(app, "al-row-0")
        assert first.startswith("10:31:12   30s  [tbills results] Fed T-bill purchase OR 121225")
        assert text(app, "al-row-1").startswith("10:26:17    5m  [^RUT new_ath] ^RUT new all-time")
        assert text(app, "al-row-2").startswith("10:25:03    6m  [divergence above 25] BTC-USD")
        assert text(app, "al-row-2").endswith("(at start)")
        assert not app.query_one("#al-row-3", Static).display
        assert not app.query_one("#al-empty", Static).display
        row0, row2 = app.query_one("#al-row-0", Static), app.query_one("#al-row-2", Static)
        assert row0.has_class("-fresh") and not row0.has_class("-at-start")
        assert row2.has_class("-at-start")
        assert panel.border_subtitle == "4 rules · 3 fired · 2 in cooldown"
        panel.tick(MONO + 500, WALL + timedelta(seconds=500))  # ages move, highlight fades
        await pilot.pause()
        assert text(app, "al-row-0").startswith("10:31:12    2m  ")
        assert not row0.has_class("-fresh")


async def test_a_second_that_changes_no_age_renders_nothing() -> None:
    """Idle CPU: with nothing fired a tick never renders; with alerts, only a tick whose
    ages or highlight read differently does."""
    app = Host()
    async with app.run_test(size=(120, 12)) as pilot:
        panel = app.query_one(AlertsPanel)
        panel.show(view(()))
        renders: list[int] = []
        render_all = panel._render_all

        def counted() -> None:
            renders.append(1)
            render_all()

        panel._render_all = counted  # type: ignore[method-assign]
        for s in range(5):
            panel.tick(MONO + s, WALL + timedelta(seconds=s))
        assert len(renders) == 1  # the first tick of a view; then nothing moves
        panel.show(view())
        renders.clear()
        panel.tick(MONO + 400, WALL + timedelta(seconds=400))
        panel.tick(MONO + 401, WALL + timedelta(seconds=401))  # "30s", "5m", "6m" still
        assert len(renders) == 1
        panel.tick(MONO + 405, WALL + timedelta(seconds=405))  # "35s"
        assert len(renders) == 2
        await pilot.pause()
        assert text(app, "al-row-0").startswith("10:31:12   35s  ")


async def test_bounded_rows_and_delivery_problem() -> None:
    many = tuple(fired("btc below 85000", f"alert {i}", 100 - i) for i in range(10))
    app = Host(rows=3)
    async with app.run_test(size=(80, 12)) as pilot:
        panel = app.query_one(AlertsPanel)
        panel.show(view(many, fired=12, note="alert command notify-send failed with exit 1"))
        await pilot.pause()
        assert "alert 0" in text(app, "al-row-0") and "alert 2" in text(app, "al-row-2")
        assert panel.border_subtitle == "4 rules · 12 fired · 3 of 10 shown"
        assert text(app, "al-note") == (
            "DELIVERY PROBLEM: alert command notify-send failed with exit 1"
        )
        assert panel.has_class("-down")
        panel.show(view(many, fired=12))
        await pilot.pause()
        assert not app.query_one("#al-note", Static).display and not panel.has_class("-down")


async def test_text_is_never_markup() -> None:
    app = Host()
    async with app.run_test(size=(80, 12)) as pilot:
        panel = app.query_one(AlertsPanel)
        panel.show(view((fired("btc below 85000", "[bold red]x[/] \x1b]0;pwn\x07 ok", 1),)))
        await pilot.pause()
        assert "[bold red]x[/]  ok" in text(app, "al-row-0")
        assert "\x1b" not in text(app, "al-row-0")


def test_snapshot_history(snap_compare: Any) -> None:
    async def before(pilot: Any) -> None:
        panel = pilot.app.query_one(AlertsPanel)
        panel.show(view(suppressed=1))
        panel.tick(MONO + 400, WALL + timedelta(seconds=400))
        await pilot.pause()

    assert snap_compare(Host(), terminal_size=(80, 10), run_before=before)
