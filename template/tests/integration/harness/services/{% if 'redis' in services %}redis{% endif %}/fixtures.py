# Managed by it-template: local changes may conflict on copier update.
"""Redis for tests: one logical database per xdist worker, flushed around each test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from ...config import worker_number
from ...lifecycle import Servers

DATABASES = 16  # Redis's default number of logical databases


def worker_database_url(url: str) -> str:
    """`url` pointing at this worker's logical database: the URL's own, plus the worker number."""
    parts = urlsplit(url)
    first = int(parts.path.strip("/") or 0)
    number = first + worker_number()
    if number >= DATABASES:
        raise pytest.UsageError(
            f"Redis has {DATABASES} logical databases: with the URL's database {first}, "
            f"run at most -n {DATABASES - first}."
        )
    return urlunsplit(parts._replace(path=f"/{number}"))


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


@contextmanager
def flushed(client: redis.Redis) -> Iterator[redis.Redis]:
    """`client`'s database emptied before and after the block."""
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()


@pytest.fixture
def redis_client(redis_connection: redis.Redis) -> Iterator[redis.Redis]:
    """This worker's Redis database, empty when the test starts and emptied when it ends."""
    with flushed(redis_connection) as client:
        yield client
