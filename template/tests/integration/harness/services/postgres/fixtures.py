# Managed by it-template: local changes may conflict on copier update.
"""One database per xdist worker, cloned from a template database built once per run."""

from __future__ import annotations

import pkgutil
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, MetaData, create_engine
from sqlalchemy.pool import NullPool

from ... import config
from ...lifecycle import Servers
from .server import database_name, libpq_url, sqlalchemy_url, template_name, with_database


def metadata_of(tables: object) -> MetaData:
    """The tables of a MetaData, or of a declarative base (its `.metadata`)."""
    metadata = tables if isinstance(tables, MetaData) else getattr(tables, "metadata", None)
    if not isinstance(metadata, MetaData):
        raise TypeError(f"{tables!r} is neither a SQLAlchemy MetaData nor a declarative base")
    return metadata


# The module of config.MODELS must import every model, or their tables are missing.
METADATA = metadata_of(pkgutil.resolve_name(config.MODELS))


def worker_database(url: str) -> str:
    """This worker's database name, next to the database `url` names."""
    return f"{database_name(url)}_{config.worker_id()}"


def build_template(url: str) -> None:
    """Create the template database and its schema; leave no session connected to it."""
    template = template_name(url)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{template}"')
    engine = create_engine(sqlalchemy_url(with_database(url, template)), poolclass=NullPool)
    try:
        METADATA.create_all(engine)
    finally:
        engine.dispose()


def clone_template(url: str, name: str) -> None:
    """(Re)create database `name` as a copy of the template."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name(url)}"')


def drop_database(url: str, name: str) -> None:
    """Drop database `name`, closing any session still connected to it."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(servers: Servers) -> Iterator[str]:
    """SQLAlchemy URL of this worker's database, with the schema in place."""
    url = servers["postgres"].url
    name = worker_database(url)
    with servers.run.locked_state() as state:
        if not state.get("template_built"):
            build_template(url)
            state["template_built"] = True
        clone_template(url, name)
    yield sqlalchemy_url(with_database(url, name))
    drop_database(url, name)


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Iterator[Engine]:
    """The engine of this worker's database."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()
