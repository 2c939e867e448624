# Managed by it-template: local changes may conflict on copier update.
"""One database per xdist worker, cloned from a template database built once per run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine

from ...lifecycle import Servers
from ...startup import prepare
from .databases import clone_template, drop_database, models_metadata
from .server import worker_database

__all__ = [
    "METADATA",
    "clone_template",
    "database_url",
    "db_engine",
    "drop_database",
    "worker_database",
]

METADATA = models_metadata()


@pytest.fixture(scope="session")
def database_url(servers: Servers) -> str:
    """SQLAlchemy URL of this worker's database, with the schema in place.

    The plugin makes it when the worker starts (startup.py), before any conftest imports the
    app; it is made here when pytest's configuration does not load the plugin first.
    """
    return prepare(servers)


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Iterator[Engine]:
    """The engine of this worker's database."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()
