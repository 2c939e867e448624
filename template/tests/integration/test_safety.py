# Example from it-template: edit or delete it; a deleted example stays deleted on update.
"""The guard refuses databases that do not look like test databases."""

from __future__ import annotations

import pytest

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
