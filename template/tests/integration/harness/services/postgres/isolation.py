# Managed by it-template: local changes may conflict on copier update.
"""Per-test database isolation: roll back, commit and clean up, or a schema or database each."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from ...config import DEFAULT_ISOLATION, worker_id
from ...lifecycle import Servers
from .fixtures import METADATA, clone_template, drop_database, worker_database
from .server import sqlalchemy_url, with_database

STRATEGIES = ("rollback", "delete", "truncate", "schema", "database")


@contextmanager
def rollback_session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back; `commit()` makes a savepoint."""
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            transaction.rollback()  # one round trip ends the savepoint and the outer transaction
            session.close()


@contextmanager
def committing_session(engine: Engine, cleanup: str) -> Iterator[Session]:
    """A session that really commits; every table is emptied afterwards by `cleanup`."""
    session = Session(engine)
    try:
        yield session
    finally:
        session.close()
        empty_tables(engine, cleanup)


def empty_tables(engine: Engine, how: str) -> None:
    """Empty every table: DELETE children before parents, or one TRUNCATE of them all."""
    tables = METADATA.sorted_tables
    with engine.begin() as connection:
        if how == "truncate":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(table.delete())


@contextmanager
def schema_session(engine: Engine, schema: str) -> Iterator[Session]:
    """A session on a schema of its own holding every table; the schema is dropped afterwards."""
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        METADATA.create_all(connection.execution_options(schema_translate_map={None: schema}))
    session = Session(engine.execution_options(schema_translate_map={None: schema}))
    try:
        yield session
    finally:
        session.close()
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@contextmanager
def database_session(servers: Servers, name: str) -> Iterator[Session]:
    """A session on a database of its own, cloned from the run's template and dropped after."""
    url = servers["postgres"].url
    with servers.run.lock:
        clone_template(url, name)
    engine = create_engine(sqlalchemy_url(with_database(url, name)), poolclass=NullPool)
    session = Session(engine)
    try:
        yield session
    finally:
        session.close()
        engine.dispose()
        drop_database(url, name)


def strategy_of(request: pytest.FixtureRequest) -> str:
    """The strategy the test's `isolation` marker asks for, else the suite's default."""
    marker = request.node.get_closest_marker("isolation")
    strategy = str(marker.args[0]) if marker and marker.args else DEFAULT_ISOLATION
    if strategy not in STRATEGIES:
        raise pytest.UsageError(f"isolation({strategy!r}): use one of {', '.join(STRATEGIES)}")
    return strategy


def unique_name(prefix: str) -> str:
    """A database or schema name no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def db_session(request: pytest.FixtureRequest, db_engine: Engine) -> Iterator[Session]:
    """A session on this worker's database, isolated from every other test."""
    strategy = strategy_of(request)
    if strategy == "rollback":
        with rollback_session(db_engine) as session:
            yield session
    elif strategy == "schema":
        with schema_session(db_engine, unique_name(f"test_{worker_id()}")) as session:
            yield session
    elif strategy == "database":
        servers: Servers = request.getfixturevalue("servers")
        name = unique_name(worker_database(servers["postgres"].url))
        with database_session(servers, name) as session:
            yield session
    else:
        with committing_session(db_engine, strategy) as session:
            yield session
