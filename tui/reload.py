"""Config reload and the watchlist writer.

The app polls the config file's modification time every couple of seconds (a ``stat``,
no new dependency) and reloads it on change or on a key. :func:`classify` says which
changes apply live and which need a restart. :func:`save_watchlist` rewrites only the
``[quotes] watchlist`` entry, keeps every other line (comments included) as it was,
checks the result parses to the same settings plus the new list, and replaces the
file atomically: the user's config is never lost or half-written.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from tui.config import ConfigError, Settings, load_settings

LIVE_SECTIONS = ("ui", "quotes", "alerts")
"""Tables whose changes apply without a restart (``[ui]``, ``[quotes]``, ``[alerts]``)."""

SYMBOL = re.compile(r"^[A-Z0-9^][A-Z0-9^=.\-]{0,19}$")
"""A Yahoo symbol: ``^RUT``, ``IWM``, ``SI=F``, ``BRK-B``, ``7203.T``."""

MAX_WATCHLIST = 40


@dataclass(frozen=True, slots=True)
class Change:
    """What a reload changed, by table."""

    live: tuple[str, ...]
    """Changed tables that apply now."""
    restart: tuple[str, ...]
    """Changed tables that take effect at the next start."""


def classify(old: Settings, new: Settings) -> Change:
    """Which tables differ, split into live and restart-needed."""
    live: list[str] = []
    restart: list[str] = []
    for f in fields(old):
        if getattr(old, f.name) != getattr(new, f.name):
            (live if f.name in LIVE_SECTIONS else restart).append(f.name)
    return Change(tuple(live), tuple(restart))


class ConfigWatcher:
    """Notices when the config file changes (mtime and size, polled by the app)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = self._read_stamp()

    def _read_stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def changed(self) -> bool:
        """True once per change of the file (created, edited, replaced, removed)."""
        stamp = self._read_stamp()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        return True

    def load(self) -> Settings:
        """The file's settings now (defaults if it is gone); raises ConfigError."""
        if not self.path.exists():
            return Settings()
        settings, _ = load_settings(str(self.path), env={})
        return settings

    def mark_seen(self) -> None:
        """Forget a change lockstep made itself."""
        self._stamp = self._read_stamp()


def normalise_symbol(text: str) -> str | None:
    """``" ^rut "`` -> ``"^RUT"``; None if it cannot be a symbol."""
    sym = text.strip().upper()
    return sym if SYMBOL.match(sym) else None


def _toml_list(items: Sequence[str]) -> str:
    quoted = ('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in items)
    return "[" + ", ".join(quoted) + "]"


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_\-\"'. ]+?)\s*\]\s*(#.*)?$")
_WATCH = re.compile(r"^(\s*)watchlist\s*=")


def rewrite_watchlist(text: str, symbols: Sequence[str]) -> str:
    """``text`` with ``[quotes] watchlist`` set to ``symbols`` and nothing else changed."""
    lines = text.splitlines(keepends=True)
    new_line = f"watchlist = {_toml_list(symbols)}\n"
    start = None
    for i, line in enumerate(lines):
        m = _HEADER.match(line)
        if m and m.group(1).strip() == "quotes":
            start = i
            break
    if start is None:
        sep = "" if not text or text.endswith("\n") else "\n"
        return text + sep + ("\n" if text.strip() else "") + "[quotes]\n" + new_line
    end = len(lines)
    for j in range(start + 1, len(lines)):
        if lines[j].lstrip().startswith("["):
            end = j
            break
    for i in range(start + 1, end):
        m = _WATCH.match(lines[i])
        if not m:
            continue
        # The value may span lines: take the shortest run that parses as one key.
        for j in range(i, end):
            try:
                tomllib.loads("".join(lines[i : j + 1]))
            except tomllib.TOMLDecodeError:
                continue
            return "".join([*lines[:i], m.group(1) + new_line, *lines[j + 1 :]])
        break
    return "".join([*lines[: start + 1], new_line, *lines[start + 1 :]])


def _without_watchlist(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    quotes = dict(out.get("quotes", {}))
    quotes.pop("watchlist", None)
    if quotes:
        out["quotes"] = quotes
    else:
        out.pop("quotes", None)
    return out


def save_watchlist(path: Path, symbols: Sequence[str]) -> None:
    """Write ``symbols`` as ``[quotes] watchlist`` to ``path`` (created if missing).

    Raises ConfigError, leaving the file untouched, when the file cannot be read or
    parsed, or when the rewrite would change anything but the watchlist (a dotted key
    or an inline ``quotes`` table, say: then edit the file by hand)."""
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        before = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not saved, cannot read the file: {exc}") from exc
    after_text = rewrite_watchlist(text, symbols)
    try:
        after = tomllib.loads(after_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not saved, edit watchlist by hand ({exc})") from exc
    if after.get("quotes", {}).get("watchlist") != list(symbols) or _without_watchlist(
        before
    ) != _without_watchlist(after):
        raise ConfigError(f"{path}: not saved, edit [quotes] watchlist by hand")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".lockstep-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(after_text)
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"{path}: not saved: {exc}") from exc
