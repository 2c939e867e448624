# Managed by it-template: local changes may conflict on copier update.
"""The run's template database and each process's own copy of it, built without the pytest layer.

The template holds the schema, built once per run from the models' metadata (`create_all`) or
by the project's Alembic migrations in a subprocess (`alembic upgrade head`, never inside the
tests' event loop); every process of the run then works in a clone of it.
"""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys

import psycopg
from sqlalchemy import MetaData, create_engine
from sqlalchemy.pool import NullPool

from ... import config
from ...app_env import app_env
from ...base import Server, ServiceUnavailable
from .server import libpq_url, sqlalchemy_url, template_name, with_database, worker_database


def metadata_of(tables: object) -> MetaData:
    """The tables of a MetaData, or of a declarative base (its `.metadata`)."""
    metadata = tables if isinstance(tables, MetaData) else getattr(tables, "metadata", None)
    if not isinstance(metadata, MetaData):
        raise TypeError(f"{tables!r} is neither a SQLAlchemy MetaData nor a declarative base")
    return metadata


def models_metadata() -> MetaData:
    """config.MODELS' tables; its module must import every model, or their tables are missing."""
    return metadata_of(pkgutil.resolve_name(config.MODELS))


def build_template(servers: dict[str, Server]) -> None:
    """Create the template database and its schema; leave no session connected to it."""
    url = servers["postgres"].url
    template = template_name(url)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{template}"')
    if config.SCHEMA_SOURCE == "alembic":
        migrate(servers, template)
        return
    engine = create_engine(sqlalchemy_url(with_database(url, template)), poolclass=NullPool)
    try:
        models_metadata().create_all(engine)
    finally:
        engine.dispose()


def migrate(servers: dict[str, Server], database: str) -> None:
    """Run `alembic upgrade head` on `database`, in a subprocess, with APP_ENV pointing there."""
    ini = config.PROJECT_ROOT / config.ALEMBIC_INI
    if not ini.is_file():
        raise ServiceUnavailable(f"there is no {ini} for the migrations (ALEMBIC_INI in config.py)")
    # The guard runs in the subprocess too: migrations never reach a non-test database.
    guarded = (
        "import sys; sys.path.insert(0, sys.argv.pop(1)); "
        f"from {__package__.rsplit('.', 2)[0]}.safety import guard_connections; "
        "guard_connections(); from alembic.config import main; main(prog='alembic')"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            guarded,
            str(config.PROJECT_ROOT),
            "-c",
            ini.name,
            "upgrade",
            "head",
        ],
        cwd=ini.parent,
        env={**os.environ, **app_env(servers, database)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise ServiceUnavailable(f"alembic upgrade head failed on {database} ({tail})")


def clone_template(url: str, name: str) -> None:
    """(Re)create database `name` as a copy of the template."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name(url)}"')


def drop_database(url: str, name: str) -> None:
    """Drop database `name`, closing any session still connected to it."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(servers: dict[str, Server], template_built: bool) -> str:
    """Build the template unless the run has, then make this process's database; its URL."""
    url = servers["postgres"].url
    if not template_built:
        build_template(servers)
    name = worker_database(url)
    clone_template(url, name)
    return sqlalchemy_url(with_database(url, name))
