# Managed by it-template: local changes may conflict on copier update.
"""MySQL or MariaDB for tests: a database per xdist worker, each test in a rolled-back transaction.

DDL (CREATE, ALTER, DROP, TRUNCATE) commits implicitly in MySQL and MariaDB: make tables in a
session- or module-scoped fixture on `mysql_engine`, not inside a test's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

from ...config import TEST_DATABASE, worker_id
from ...lifecycle import Servers
from .server import sqlalchemy_url, with_database


def worker_database() -> str:
    """The name of this xdist worker's database."""
    return f"{TEST_DATABASE}_{worker_id()}"


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back when the block ends."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture(scope="session")
def mysql_url(servers: Servers) -> Iterator[str]:
    """URL of this worker's database, made empty for the run and dropped at its end."""
    server = create_engine(sqlalchemy_url(servers["mysql"].url), poolclass=NullPool)
    name = worker_database()
    with server.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        connection.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    yield with_database(servers["mysql"].url, name)
    with server.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    server.dispose()


@pytest.fixture(scope="session")
def mysql_engine(mysql_url: str) -> Iterator[Engine]:
    """One engine per worker, on the worker's database."""
    engine = create_engine(sqlalchemy_url(mysql_url), pool_pre_ping=True)
    yield engine
    engine.dispose()


@pytest.fixture
def mysql_connection(mysql_engine: Engine) -> Iterator[Connection]:
    """A connection whose writes are rolled back when the test ends."""
    with rolled_back(mysql_engine) as connection:
        yield connection
