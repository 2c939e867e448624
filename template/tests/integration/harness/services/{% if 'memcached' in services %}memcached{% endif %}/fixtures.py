# Managed by it-template: local changes may conflict on copier update.
"""Memcached for tests: keys prefixed per worker and per test, deleted when the test ends.

Memcached has one key space and `flush_all` would empty it under the other workers' feet, so
each test gets a prefix of its own and, at the end, the keys its client stored and any other
keys under that prefix (found with `lru_crawler metadump`, memcached 1.4.31+) are deleted.
"""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

import pytest
from pymemcache.client.base import Client

from ...config import PROJECT, worker_id
from ...lifecycle import Servers
from .server import address

TESTS = itertools.count(1)


def worker_prefix(run_id: str) -> str:
    """The prefix every key of this xdist worker starts with in run `run_id`."""
    return f"test:{PROJECT}:{run_id}:{worker_id()}:"


def metadump(url: str, attempts: int = 50) -> list[str]:
    """Every key the server holds, from `lru_crawler metadump all`.

    Only one crawl runs at a time: while another client's (or the server's own) is running,
    memcached answers BUSY, and the dump is asked for again a little later.
    """
    for _ in range(attempts):
        with socket.create_connection(address(url), timeout=5) as connection:
            connection.sendall(b"lru_crawler metadump all\r\n")
            answer = b""
            while not done(answer):
                chunk = connection.recv(65536)
                if not chunk:
                    break
                answer += chunk
        if answer.startswith(b"BUSY"):
            time.sleep(0.02)
            continue
        if not answer.endswith(b"END\r\n"):
            raise RuntimeError(f"memcached did not dump its keys: {answer[:200]!r}")
        return [
            unquote(line.split(" ", 1)[0].removeprefix("key="))
            for line in answer.decode().splitlines()
            if line.startswith("key=")
        ]
    raise RuntimeError(f"memcached stayed busy crawling for {attempts} attempts")


def done(answer: bytes) -> bool:
    """Whether a metadump answer is complete: the dump and END, or a one-line refusal."""
    refused = answer.startswith((b"BUSY", b"ERROR", b"CLIENT_ERROR", b"SERVER_ERROR"))
    return answer.endswith(b"END\r\n") or (refused and answer.endswith(b"\r\n"))


def keys_under(url: str, prefix: str) -> list[str]:
    """Every key in the server that starts with `prefix` (as stored, prefix included)."""
    return [key for key in metadump(url) if key.startswith(prefix)]


class TrackingClient(Client):  # type: ignore[misc]  # pymemcache ships no type information
    """A client that remembers every key it stores (set, add, replace, append, prepend, cas)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stored: set[str] = set()

    def _store_cmd(self, name: bytes, values: dict[Any, Any], *args: Any, **kwargs: Any) -> Any:
        self.stored.update(key.decode() if isinstance(key, bytes) else key for key in values)
        return super()._store_cmd(name, values, *args, **kwargs)


@contextmanager
def prefixed(url: str, prefix: str) -> Iterator[Client]:
    """A client whose keys all start with `prefix`; every such key is deleted at the end.

    The keys it stored are known; a metadump finds any other key under the prefix. The dump
    alone is not enough: the crawler can miss an item the LRU maintainer moves during its walk.
    """
    client = TrackingClient(address(url), key_prefix=prefix.encode(), connect_timeout=3, timeout=3)
    try:
        yield client
    finally:
        # Keys without the prefix: the client adds it. noreply=False: deleted before the block
        # is left.
        dumped = {key.removeprefix(prefix) for key in keys_under(url, prefix)}
        leftovers = sorted(client.stored | dumped)
        if leftovers:
            client.delete_many(leftovers, noreply=False)
        client.close()


@pytest.fixture(scope="session")
def memcached_url(servers: Servers) -> str:
    """URL of the run's Memcached server (shared by every worker; keys are prefixed)."""
    return servers["memcached"].url


@pytest.fixture
def memcached_client(servers: Servers, memcached_url: str) -> Iterator[Client]:
    """A client whose keys are this test's own; they are deleted when the test ends."""
    with prefixed(memcached_url, f"{worker_prefix(servers.run.id)}{next(TESTS)}:") as client:
        yield client
