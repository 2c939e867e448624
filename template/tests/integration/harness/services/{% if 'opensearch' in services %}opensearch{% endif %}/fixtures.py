# Managed by it-template: local changes may conflict on copier update.
"""OpenSearch for tests: index names prefixed per worker, every such index deleted per test.

A cluster has one index namespace shared by the workers, so a test's indices are named
`test_<project>_<worker>_<suffix>`; before and after each test every index under the
worker's prefix is deleted (also those that indexing a document created on the fly).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import opensearchpy
import pytest

from ...config import PROJECT, worker_id
from ...lifecycle import Servers
from .server import client

LEGAL = re.compile(r"[a-z0-9][a-z0-9._-]*")
MAX_BYTES = 255  # OpenSearch's limit for an index name


def worker_prefix() -> str:
    """The prefix every index of this xdist worker starts with."""
    return f"test_{PROJECT}_{worker_id()}_".lower()


def index_name(prefix: str, suffix: str) -> str:
    """`prefix` + `suffix`, refused unless OpenSearch accepts it as an index name."""
    name = f"{prefix}{suffix}"
    if not LEGAL.fullmatch(suffix) or len(name.encode()) > MAX_BYTES:
        raise ValueError(
            f"{suffix!r} gives no valid index name: use lower-case letters, digits, '.', '_' "
            f"or '-', starting with a letter or digit (at most {MAX_BYTES} bytes with the prefix)."
        )
    return name


def indices_under(search: opensearchpy.OpenSearch, prefix: str) -> list[str]:
    """Every index (open, closed or hidden) whose name starts with `prefix`."""
    found = search.indices.get(
        index=f"{prefix}*", expand_wildcards="all", allow_no_indices=True, ignore_unavailable=True
    )
    return sorted(str(name) for name in found)


def delete_indices(search: opensearchpy.OpenSearch, prefix: str) -> None:
    """Delete every index under `prefix`, by name (wildcard deletes may be forbidden)."""
    names = indices_under(search, prefix)
    if names:
        search.indices.delete(index=",".join(names), ignore_unavailable=True)


class OpenSearchIndices:
    """The indices of one test: names under the worker's prefix, deleted when the test ends."""

    def __init__(self, search: opensearchpy.OpenSearch, prefix: str) -> None:
        self.search = search
        self.prefix = prefix

    def name(self, suffix: str) -> str:
        """The full name of this test's index `suffix` (indexing a document creates it)."""
        return index_name(self.prefix, suffix)

    def create(self, suffix: str, body: dict[str, Any] | None = None) -> str:
        """Create this test's index `suffix` (with settings and mappings in `body`)."""
        name = self.name(suffix)
        self.search.indices.create(index=name, body=body or {})
        return name


@contextmanager
def indices_removed(search: opensearchpy.OpenSearch) -> Iterator[OpenSearchIndices]:
    """A test's indices under the worker's prefix; none exist before or after the block."""
    prefix = worker_prefix()
    delete_indices(search, prefix)
    try:
        yield OpenSearchIndices(search, prefix)
    finally:
        delete_indices(search, prefix)


@pytest.fixture(scope="session")
def opensearch_client(servers: Servers) -> Iterator[opensearchpy.OpenSearch]:
    """One client per worker, shared by the tests that run on it."""
    search = client(servers["opensearch"].url)
    yield search
    delete_indices(search, worker_prefix())
    search.close()


@pytest.fixture
def opensearch_indices(opensearch_client: opensearchpy.OpenSearch) -> Iterator[OpenSearchIndices]:
    """This test's index names (`opensearch_indices.name("orders")`); deleted when it ends."""
    with indices_removed(opensearch_client) as indices:
        yield indices
