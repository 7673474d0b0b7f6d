"""Fixtures: a real redis-server per test (see :mod:`tests.feeds.hub.redis_server`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feeds.hub.redis_server import RedisServer, running


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server on a free loopback port, stopped after the test."""
    with running(tmp_path / "redis") as server:
        yield server
