"""Injectable time. Ages and staleness use the monotonic clock; wall time is UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where feeds and the store read the time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps."""
        ...

    def now(self) -> datetime:
        """Timezone-aware UTC wall time."""
        ...


def suspended_seconds(clock: Clock) -> float:
    """Seconds the machine has spent suspended since boot, as far as the clock knows.

    Linux's CLOCK_MONOTONIC stops during suspend and CLOCK_BOOTTIME does not, so their
    difference grows only across a suspend, never on a wall-clock step (NTP, manual).
    Clocks without the notion report 0."""
    boot = getattr(clock, "boottime", None)
    return boot() - clock.monotonic() if callable(boot) else 0.0


class SystemClock:
    """The real clocks."""

    def monotonic(self) -> float:
        """Return ``time.monotonic()``."""
        return time.monotonic()

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)

    def boottime(self) -> float:
        """CLOCK_BOOTTIME where the platform has it (counts suspend), else monotonic."""
        if hasattr(time, "CLOCK_BOOTTIME"):
            return time.clock_gettime(time.CLOCK_BOOTTIME)
        return time.monotonic()


class ManualClock:
    """A clock tests move by hand. Both clocks advance together unless told otherwise."""

    def __init__(self, start: datetime | None = None, mono: float = 1000.0) -> None:
        self._mono = mono
        self._suspended = 0.0
        self._wall = start or datetime(2025, 12, 12, 15, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        """Return the manual monotonic reading."""
        return self._mono

    def now(self) -> datetime:
        """Return the manual wall time."""
        return self._wall

    def advance(self, seconds: float) -> None:
        """Move both clocks forward."""
        self._mono += seconds
        self._wall += timedelta(seconds=seconds)

    def jump_wall(self, seconds: float) -> None:
        """Move only the wall clock (an NTP step or a manual change)."""
        self._wall += timedelta(seconds=seconds)

    def boottime(self) -> float:
        """Monotonic time plus time spent suspended."""
        return self._mono + self._suspended

    def suspend(self, seconds: float) -> None:
        """A suspend and resume: wall and boot time move on, monotonic time does not."""
        self._suspended += seconds
        self._wall += timedelta(seconds=seconds)


class ShiftedClock:
    """Real time moved to another wall-clock date: the demo replays a chosen day
    (Dec 12, 2025) at real speed, so ages and countdowns stay honest."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def monotonic(self) -> float:
        """Return ``time.monotonic()``."""
        return time.monotonic()

    def boottime(self) -> float:
        """As :meth:`SystemClock.boottime`."""
        return SystemClock().boottime()

    def now(self) -> datetime:
        """Real UTC time plus the offset."""
        return datetime.now(UTC) + self._offset


DEMO_START = datetime(2025, 12, 12, 15, 25, tzinfo=UTC)
"""Where the demo's clock starts: Friday Dec 12, 2025, 10:25 a.m. ET, the morning the
Fed's reserve-management T-bill purchases began."""
