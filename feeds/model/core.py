"""Types every feed shares: health states, status events, rejected messages, and each
source's health as the status bar shows it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class FeedState(StrEnum):
    """The health of one source, always written as a word on screen."""

    CONNECTING = "CONNECTING"
    """Opening a connection or waiting for the first answer."""
    LIVE = "LIVE"
    """Data is flowing."""
    STALE = "STALE"
    """Connected, but nothing has arrived for longer than the threshold."""
    RECONNECTING = "RECONNECTING"
    """The connection was lost; the next attempt is scheduled (``retry_at``)."""
    RATE_LIMITED = "RATE-LIMITED"
    """The source asked us to wait (HTTP 429); no request goes out until ``retry_at``."""
    DEGRADED = "DEGRADED"
    """Answers arrive but are unusable (HTML, bad payloads); the last good value is kept."""
    DOWN = "DOWN"
    """Unreachable; ``reason`` says why."""
    STANDBY = "STANDBY"
    """Ready, with nothing to fetch: a fallback source while the primary delivers every
    symbol. It serves no value, so it shows no age and never reads as LIVE."""


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """A change in a source's health. Feeds yield these; they never raise for the network.

    Attributes:
        source: The source's name, for example ``"coinbase"``.
        state: The new state.
        reason: Why, in plain words (already sanitised), for example ``"connection refused"``.
        since: Monotonic time the state began.
        retry_at: Monotonic time of the next attempt, when one is scheduled.
    """

    source: str
    state: FeedState
    reason: str
    since: float
    retry_at: float | None = None


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What the status bar shows for one source.

    Attributes:
        source: Source name.
        state: Effective state (LIVE turns STALE when silent past the threshold).
        reason: Why, in plain words.
        since: Monotonic time the reported state began.
        retry_at: Monotonic time of the next attempt, if any.
        last_data: Monotonic time of the last real data (not heartbeats), if any.
        last_seen: Monotonic time of the last message of any kind, if any.
        bad: Messages rejected so far.
        messages: Messages accepted so far.
        hint: A note on the source's data in plain words, or "": ``"clock skew: source
            time 120 s ahead"`` when its latest data is stamped more than a minute after
            it arrived (reliability.md D7).
    """

    source: str
    state: FeedState
    reason: str
    since: float
    retry_at: float | None
    last_data: float | None
    last_seen: float | None
    bad: int
    messages: int
    hint: str = ""


@dataclass(frozen=True, slots=True)
class BadMessage:
    """A message a parser rejected. Counted per source, never raised.

    Attributes:
        source: The source's name.
        reason: What was wrong, for example ``"price is not finite"``.
    """

    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """A well-formed message of a kind the feed does not use (acks, unknown types)."""

    source: str
    kind: str


class DataEvent(Protocol):
    """Anything carrying real data: it has a source and a monotonic receipt time."""

    @property
    def source(self) -> str: ...

    @property
    def received(self) -> float: ...
