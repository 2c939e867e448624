# Managed by it-template: local changes may conflict on copier update.
"""Per-test database isolation: roll back by default, or commit for real and clean up after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from .database import METADATA

STRATEGIES = ("rollback", "delete", "truncate")


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


def strategy_of(request: pytest.FixtureRequest) -> str:
    """The strategy the test's `isolation` marker asks for (default: rollback)."""
    marker = request.node.get_closest_marker("isolation")
    strategy = str(marker.args[0]) if marker and marker.args else "rollback"
    if strategy not in STRATEGIES:
        raise pytest.UsageError(f"isolation({strategy!r}): use one of {', '.join(STRATEGIES)}")
    return strategy


@pytest.fixture
def db_session(request: pytest.FixtureRequest, db_engine: Engine) -> Iterator[Session]:
    """A session on this worker's database, isolated from every other test."""
    strategy = strategy_of(request)
    if strategy == "rollback":
        with rollback_session(db_engine) as session:
            yield session
    else:
        with committing_session(db_engine, strategy) as session:
            yield session
