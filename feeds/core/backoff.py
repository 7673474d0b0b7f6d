"""Reconnect timing: capped, fully jittered exponential backoff with a hard budget.

websockets' own reconnect iterator resets its backoff after every successful
handshake, so a server that accepts and then closes gets hammered (reliability.md
finding 1). This policy only forgets failures once a connection has stayed healthy
for ``healthy_after`` seconds, and a sliding window caps attempts outright.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Reconnect timing for one source. Tests scale every number down together.

    Attributes:
        base: The first backoff step, seconds.
        cap: The largest backoff step, seconds.
        healthy_after: A connection that lasted this long resets the failure count.
        window: Length of the sliding window for the attempt budget, seconds.
        max_attempts: Attempts allowed inside any window.
        floor_after: After this many consecutive failures, never retry sooner than ``base``.
    """

    base: float = 1.0
    cap: float = 60.0
    healthy_after: float = 60.0
    window: float = 60.0
    max_attempts: int = 10
    floor_after: int = 3

    def scaled(self, factor: float) -> BackoffPolicy:
        """The same policy with every duration multiplied by ``factor``."""
        return BackoffPolicy(
            base=self.base * factor,
            cap=self.cap * factor,
            healthy_after=self.healthy_after * factor,
            window=self.window * factor,
            max_attempts=self.max_attempts,
            floor_after=self.floor_after,
        )


class Backoff:
    """The state machine behind one source's retries. Pure: time comes in as arguments."""

    def __init__(self, policy: BackoffPolicy, rng: random.Random | None = None) -> None:
        self.policy = policy
        self.failures = 0
        self._rng = rng or random.Random()
        self._attempts: deque[float] = deque(maxlen=policy.max_attempts)
        self._started = False

    def delay(self, now: float) -> float:
        """Seconds to wait before the next attempt, given the time now."""
        p = self.policy
        if not self._started:
            wait = 0.0
        else:
            step = min(p.cap, p.base * (2.0 ** min(self.failures, 30)))
            wait = self._rng.uniform(0.0, step)  # full jitter: no thundering herd
            if self.failures >= p.floor_after:
                wait = max(wait, p.base)
        if len(self._attempts) == p.max_attempts:
            # The budget is spent: wait until the oldest attempt leaves the window.
            wait = max(wait, self._attempts[0] + p.window - now + 1e-3)
        return max(0.0, wait)

    def attempt(self, now: float) -> None:
        """Record that an attempt starts now."""
        self._started = True
        self._attempts.append(now)

    def ended(self, connected_at: float | None, now: float) -> None:
        """Record how an attempt ended: ``connected_at`` is None if it never connected."""
        if connected_at is not None and now - connected_at >= self.policy.healthy_after:
            self.failures = 0
        else:
            self.failures += 1

    def attempts_in_window(self, now: float) -> int:
        """How many attempts started within the last window (for display and tests)."""
        return sum(1 for t in self._attempts if now - t < self.policy.window)
