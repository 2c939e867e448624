# Example from it-template: edit or delete it; a deleted example stays deleted on update.
"""The guard refuses databases that do not look like test databases, before connecting."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from sqlalchemy import create_engine

from .harness.safety import NotATestDatabase, ensure_test_database


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app@db.internal:5432/test_orders",
        "postgresql://app@127.0.0.1:5432/orders_test",
        "postgresql+psycopg://app@127.0.0.1/testdb",
    ],
)
def test_test_databases_are_accepted(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrange
    monkeypatch.delenv("IT_ALLOW_NON_TEST_DATABASE", raising=False)

    # Act / Assert: no exception.
    ensure_test_database(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app@db.internal:5432/orders",
        "postgresql://app@db.internal:5432/latest",
        "postgresql://app@db.internal:5432/",
        "postgresql://app@db.internal:5432/test_orders?dbname=orders",
    ],
)
def test_other_databases_are_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrange
    monkeypatch.delenv("IT_ALLOW_NON_TEST_DATABASE", raising=False)

    # Act / Assert
    with pytest.raises(NotATestDatabase, match="Refusing"):
        ensure_test_database(url)


def test_an_explicit_variable_allows_another_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrange
    monkeypatch.setenv("IT_ALLOW_NON_TEST_DATABASE", "1")

    # Act / Assert: no exception.
    ensure_test_database("postgresql://app@127.0.0.1:5432/orders")


# A port nothing listens on: a connection the guard let through would fail with a network
# error, so NotATestDatabase proves it was refused before anything was sent.
NOWHERE = "127.0.0.1:9"


@pytest.mark.parametrize(
    "connect",
    [
        pytest.param(
            lambda: create_engine(f"postgresql+psycopg://app@{NOWHERE}/orders").connect(),
            id="sqlalchemy",
        ),
        pytest.param(
            lambda: psycopg.connect(f"postgresql://app@{NOWHERE}/orders"), id="psycopg-url"
        ),
        pytest.param(
            lambda: psycopg.connect(host="127.0.0.1", port=9, dbname="orders"),
            id="psycopg-keywords",
        ),
        pytest.param(
            lambda: psycopg.connect(host="127.0.0.1", port=9, user="orders"), id="user-database"
        ),
    ],
)
def test_a_connection_to_another_database_is_refused_before_it_is_made(
    connect: Callable[[], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: the app's own engine, or a fixture's connection, pointed at a real database.
    monkeypatch.delenv("IT_ALLOW_NON_TEST_DATABASE", raising=False)

    # Act / Assert
    with pytest.raises(NotATestDatabase, match="'orders'"):
        connect()


def test_a_connection_to_a_test_database_goes_past_the_guard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange
    monkeypatch.delenv("IT_ALLOW_NON_TEST_DATABASE", raising=False)

    # Act / Assert: the server is not there, but the guard let the connection try.
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://app@{NOWHERE}/test_orders", connect_timeout=2)
