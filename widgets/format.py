"""Number and age formatting shared by the panels. Pure functions, no Textual."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

ET = ZoneInfo("America/New_York")


def money(value: Decimal | float | None, places: int = 2) -> str:
    """``92,104.17``; an em dash for no value (never a zero)."""
    if value is None:
        return "—"
    return f"{value:,.{places}f}"


def signed(value: Decimal | float | None, places: int = 2, suffix: str = "") -> str:
    """``+1,234.50`` / ``−0.25%`` with a real minus sign."""
    if value is None:
        return "—"
    text = f"{abs(value):,.{places}f}{suffix}"
    if value > 0:
        return "+" + text
    if value < 0:
        return "−" + text
    return text


def age(seconds: float | None) -> str:
    """A compact age: ``0s`` … ``9s``, then 5 s steps to a minute (fewer repaints),
    then ``3m``, ``1h05m``, ``2d04h``. ``—`` when unknown."""
    if seconds is None:
        return "—"
    s = max(0, int(seconds))
    if s < 10:
        return f"{s}s"
    if s < 60:
        return f"{s - s % 5}s"
    m = s // 60
    if m < 60:
        return f"{m}m"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h}h{m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d{h:02d}h"


def step_age(seconds: float | None) -> str:
    """An age in 5 s steps: ``<5s``, ``5s`` … ``55s``, then as :func:`age` (``3m``,
    ``1h05m``). Never younger than the truth (``10s`` means 10-14 s).

    For the status bar, the quote rows and the secondary panels: a polled source's age
    would otherwise change, and be re-sent to the terminal, every second. The BTC price,
    streamed, keeps its per-second :func:`age`."""
    if seconds is None:
        return "—"
    s = max(0, int(seconds))
    if s < 5:
        return "<5s"
    if s < 60:
        return f"{s - s % 5}s"
    return age(s)


def coarse_age(seconds: float | None) -> str:
    """An age in whole minutes (``<1m``, ``3m``, ``1h05m``): for secondary columns whose
    precise age is shown elsewhere, so they repaint at most once a minute."""
    if seconds is None:
        return "—"
    return "<1m" if seconds < 60 else age(seconds)


def clock_et(when: datetime) -> str:
    """``10:25`` in New York time."""
    return when.astimezone(ET).strftime("%H:%M")


def countdown(seconds: float) -> str:
    """``in 3s`` / ``in 2m`` / ``in 1h05m``."""
    return "in " + age(seconds) if seconds > 0 else "now"
