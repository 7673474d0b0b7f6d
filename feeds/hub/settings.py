"""The ``[hub]`` settings, and the one way a hub URL is written anywhere: without its
password."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit


@dataclass(frozen=True, slots=True)
class HubSettings:
    """The ``[hub]`` config table."""

    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "fallback_after": (1.0, 3600.0),
        "stream_len": (100, 1_000_000),
        "heartbeat_s": (0.2, 60.0),
        "lease_s": (1.0, 60.0),
        "tick_every_ms": (0.0, 1000.0),
    }
    """Allowed ``(lowest, highest)`` per key, checked when the config file is read."""

    url: str = ""
    """Redis URL of the desk hub (``redis://`` or ``rediss://``, with an optional ACL user
    and password and a database number: ``rediss://desk:secret@redis.example:6380/2``).
    Empty: no hub; ``lockstep hub`` and ``--hub`` then need one given."""
    prefix: str = "lockstep"
    """Key prefix, so several desks can share one Redis."""
    fallback_after: float = 30.0
    """Seconds without the hub's heartbeat before a terminal runs its own feeds."""
    fallback: str = "direct"
    """``"direct"`` (use the terminal's own feeds when the hub is gone) or ``"none"``."""
    stream_len: int = 10_000
    """The stream keeps about this many entries (``XADD MAXLEN ~``)."""
    heartbeat_s: float = 1.0
    """How often the hub writes its heartbeat, seconds."""
    lease_s: float = 5.0
    """The leading hub's lease, seconds: renewed on every heartbeat; a standby hub takes
    over this long after the leader stops renewing it (it checks every second)."""
    tick_every_ms: float = 25.0
    """The hub relays each venue's BTC ticks at most once per this many milliseconds
    (latest wins; the first tick after a quiet spell goes at once). 0 relays every tick.
    The hub's own store still takes every tick."""
    ca_file: str = ""
    """A CA bundle (PEM) to verify a ``rediss://`` server's certificate against (a
    desk's own CA). Empty: the system's trust store. Verification is never off."""

    def __post_init__(self) -> None:
        if self.url:
            problem = url_problem(self.url)
            if problem:
                raise ValueError(f"hub.url {problem}")
        if self.fallback not in ("direct", "none"):
            raise ValueError('hub.fallback must be "direct" or "none"')
        if not self.lease_s > self.heartbeat_s * 2:
            raise ValueError("hub.lease_s must be more than twice heartbeat_s")
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", self.prefix):
            raise ValueError("hub.prefix must be 1-64 letters, digits or _.:-")
        if self.ca_file:
            if len(self.ca_file) > 4096 or "\x00" in self.ca_file:
                raise ValueError("hub.ca_file is not a usable path")
            if not Path(self.ca_file).expanduser().is_file():
                raise ValueError(f"hub.ca_file {self.ca_file!r} not found")


def url_problem(url: str) -> str | None:
    """What is wrong with a hub URL, in words that never include its password; or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"is not a valid URL: {redact(url)!r}"
    del port
    if parts.scheme not in ("redis", "rediss"):
        return f"must start with redis:// or rediss:// (got {redact(url)!r})"
    if not parts.hostname:
        return f"has no host: {redact(url)!r}"
    db = parts.path.strip("/")
    if db and not (db.isdigit() and int(db) < 16_384):
        return f"database must be a number (got {redact(url)!r})"
    return None


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***`` (the user name is kept: it says
    which ACL user is meant). Safe on text that is not a URL at all."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _scrub(url)
    if parts.password is None and "@" not in parts.netloc:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[-1]
    shown = f"{user}:***@{host}" if parts.password is not None else f"{user}@{host}"
    return urlunsplit((parts.scheme, shown, parts.path, parts.query, parts.fragment))


def _scrub(text: str) -> str:
    # Anything between "://user:" and the last "@" of the authority.
    return re.sub(r"(://[^:/@\s]*:)[^\s]*@", r"\1***@", text)


def redact_text(text: str, url: str) -> str:
    """``text`` (an error message, a log line) with the password of ``url`` removed
    wherever it appears, and any URL's password scrubbed."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    out = text.replace(url, redact(url))
    if password:
        out = out.replace(password, "***")
    return _scrub(out)
