"""Redis for tests: one logical database per xdist worker, flushed around each test."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from .servers.plugin import Servers

DATABASES = 16  # Redis's default number of logical databases


def worker_database_url(url: str) -> str:
    """`url` pointing at this worker's logical database (gw0 → 0, gw1 → 1, ...)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = int(re.sub(r"\D", "", worker) or 0)
    if number >= DATABASES:
        raise pytest.UsageError(f"Redis has {DATABASES} logical databases: run at most -n 16.")
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))


@pytest.fixture(scope="session")
def redis_url(servers: Servers) -> str:
    """URL of this worker's Redis database."""
    return worker_database_url(servers["redis"].url)


@pytest.fixture(scope="session")
def redis_connection(redis_url: str) -> Iterator[redis.Redis]:
    """One client per worker, shared by the tests that run on it."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def redis_client(redis_connection: redis.Redis) -> Iterator[redis.Redis]:
    """This worker's Redis database, empty when the test starts and emptied when it ends."""
    redis_connection.flushdb()
    yield redis_connection
    redis_connection.flushdb()
