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


class SystemClock:
    """The real clocks."""

    def monotonic(self) -> float:
        """Return ``time.monotonic()``."""
        return time.monotonic()

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


class ManualClock:
    """A clock tests move by hand. Both clocks advance together unless told otherwise."""

    def __init__(self, start: datetime | None = None, mono: float = 1000.0) -> None:
        self._mono = mono
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
        """Move only the wall clock (NTP step, manual change, suspend)."""
        self._wall += timedelta(seconds=seconds)


class ShiftedClock:
    """Real time moved to another wall-clock date: the demo replays a chosen day
    (Dec 12, 2025) at real speed, so ages and countdowns stay honest."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def monotonic(self) -> float:
        """Return ``time.monotonic()``."""
        return time.monotonic()

    def now(self) -> datetime:
        """Real UTC time plus the offset."""
        return datetime.now(UTC) + self._offset


DEMO_START = datetime(2025, 12, 12, 15, 25, tzinfo=UTC)
"""Where the demo's clock starts: Friday Dec 12, 2025, 10:25 a.m. ET, the morning the
Fed's reserve-management T-bill purchases began."""
