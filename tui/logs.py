"""Logging to a rotating file (never to the terminal while the TUI runs), with
secrets redacted and repeated lines rate-limited."""

from __future__ import annotations

import logging
import re
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path

_SECRET = re.compile(
    r"(?i)((?:api[_-]?key|key|token|secret|signature|crumb|password|authorization)"
    r"[\"']?\s*[=:]\s*[\"']?)([^\s&\"',;]+)"
)


class RedactFilter(logging.Filter):
    """Masks values of key=, token=, crumb= ... in every message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message with secrets masked."""
        msg = record.getMessage()
        clean = _SECRET.sub(r"\1***", msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True


class RateLimitFilter(logging.Filter):
    """The same message at most once per ``period`` seconds; the rest are counted."""

    def __init__(self, period: float = 60.0) -> None:
        super().__init__()
        self.period = period
        self._seen: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Let through the first of a kind per period, with a count of the suppressed."""
        key = f"{record.name}:{record.msg}"
        now = time.monotonic()
        last, skipped = self._seen.get(key, (0.0, 0))
        if now - last < self.period:
            self._seen[key] = (last, skipped + 1)
            return False
        if len(self._seen) > 2000:
            self._seen.clear()
        self._seen[key] = (now, 0)
        if skipped:
            record.msg = f"{record.msg} (and {skipped} more in the last {self.period:g} s)"
        return True


def setup_logging(directory: Path, level: int = logging.INFO) -> Path:
    """Log to ``directory/lockstep.log`` (5 MB × 3, mode 0600)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "lockstep.log"
    handler = RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    path.touch(exist_ok=True)
    path.chmod(0o600)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter())
    handler.addFilter(RateLimitFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs full URLs (query strings included) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("websockets").setLevel(logging.WARNING)
    return path
