# Managed by it-template: local changes may conflict on copier update.
"""MongoDB for tests: one database per xdist worker, its collections dropped around each test.

The worker's database is the URL's test database plus the worker name
(`test_<project>_gw0`); it is dropped when the worker starts (a killed run's leftovers) and
when it ends. `mongodb_client.get_default_database()` is that database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from ...config import worker_id
from ...lifecycle import Servers
from .server import database_name, with_database

Document = dict[str, Any]


def worker_url(url: str) -> str:
    """`url` naming this worker's database: the URL's own plus `_<worker>`."""
    return with_database(url, f"{database_name(url)}_{worker_id()}")


def drop_collections(database: Database[Document]) -> None:
    """Drop every collection (and view) of `database`, leaving the database itself."""
    for name in database.list_collection_names(filter={"name": {"$not": {"$regex": "^system\\."}}}):
        database.drop_collection(name)


@contextmanager
def emptied(database: Database[Document]) -> Iterator[Database[Document]]:
    """`database` with no collections before and after the block."""
    drop_collections(database)
    try:
        yield database
    finally:
        drop_collections(database)


@pytest.fixture(scope="session")
def mongodb_client(servers: Servers) -> Iterator[MongoClient[Document]]:
    """One client per worker; its default database is the worker's own."""
    client: MongoClient[Document] = MongoClient(worker_url(servers["mongodb"].url))
    name = client.get_default_database().name
    client.drop_database(name)  # a killed run's leftovers
    yield client
    client.drop_database(name)
    client.close()


@pytest.fixture
def mongodb_database(mongodb_client: MongoClient[Document]) -> Iterator[Database[Document]]:
    """This worker's database, with no collections when the test starts and when it ends."""
    with emptied(mongodb_client.get_default_database()) as database:
        yield database
