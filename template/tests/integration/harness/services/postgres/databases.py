# Managed by it-template: local changes may conflict on copier update.
"""The run's template database and each process's own copy of it, built without the pytest layer.

The template holds the schema, built from the models' metadata (`create_all`) or by the
project's Alembic migrations in a subprocess (`alembic upgrade head`, never inside the tests'
event loop); every process of the run then works in a clone of it. The template carries the
schema key it was built for (a hash of the DDL or of the migrations, and of the project's
sources) as its comment: a run that finds a template with its own key uses it as it is, which
the `local` backend makes the rule by keeping the cluster of the last build (server.py).
IT_TEMPLATE_REUSE=0 builds it every run.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import psycopg
import sqlalchemy
from sqlalchemy import MetaData, create_engine
from sqlalchemy.dialects import postgresql
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateIndex, CreateTable

from ... import config
from ...app_env import app_env
from ...base import Server, ServiceUnavailable
from .server import (
    KEEP_TEMPLATE,
    libpq_url,
    migration_files,
    sqlalchemy_url,
    template_name,
    with_database,
    worker_database,
)

# How this process found the run's template database, for the header: "built" or "reused".
TEMPLATE: dict[str, str] = {}


def metadata_of(tables: object) -> MetaData:
    """The tables of a MetaData, or of a declarative base (its `.metadata`)."""
    metadata = tables if isinstance(tables, MetaData) else getattr(tables, "metadata", None)
    if not isinstance(metadata, MetaData):
        raise TypeError(f"{tables!r} is neither a SQLAlchemy MetaData nor a declarative base")
    return metadata


def models_metadata() -> MetaData:
    """config.MODELS' tables; its module must import every model, or their tables are missing."""
    return metadata_of(pkgutil.resolve_name(config.MODELS))


def schema_key() -> str:
    """What the template's schema is built from, hashed: the tables' and indexes' DDL (or the
    Alembic project's files), the project's own sources, the extensions and SQLAlchemy's
    version. A change to any of them builds the template again."""
    digest = hashlib.sha256()
    digest.update(f"{config.SCHEMA_SOURCE} {sqlalchemy.__version__} ".encode())
    digest.update(os.environ.get("IT_POSTGRES_EXTENSIONS", "").encode())
    if config.SCHEMA_SOURCE == "alembic":
        ini = config.PROJECT_ROOT / config.ALEMBIC_INI
        files = [ini, *migration_files(ini)]
        if files[1:]:
            files += sorted(files[1].parent.parent.glob("*.py"))  # env.py beside versions/
    else:
        dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
        for table in models_metadata().sorted_tables:
            digest.update(str(CreateTable(table).compile(dialect=dialect)).encode())
            for index in sorted(table.indexes, key=lambda index: str(index.name)):
                digest.update(str(CreateIndex(index).compile(dialect=dialect)).encode())
        files = []
    for path in [*files, *project_sources()]:
        digest.update(str(path).encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()[:16]


def project_sources() -> list[Path]:
    """The Python files of the package config.MODELS is in: DDL attached to the models by
    events, or imported by the migrations, is there too."""
    top = config.MODELS.split(":")[0].split(".")[0]
    spec = importlib.util.find_spec(top) if top else None
    if spec is None or not spec.submodule_search_locations:
        return [Path(spec.origin)] if spec and spec.origin else []
    return sorted(
        path
        for location in spec.submodule_search_locations
        for path in Path(location).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def template_key(url: str) -> str | None:
    """The schema key the server's template database was built for, if it has one."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (template_name(url),),
        ).fetchone()
    return str(row[0]) if row and row[0] else None


def ensure_template(servers: dict[str, Server]) -> None:
    """Build the template unless the server has one for this schema key; on `local`, the
    cluster is kept for the next run once this one ends (`keep_template`)."""
    server = servers["postgres"]
    key = schema_key()
    reuse = os.environ.get("IT_TEMPLATE_REUSE", "").strip() != "0"
    if reuse and template_key(server.url) == key:
        TEMPLATE["outcome"] = f"reused (schema key {key})"
        return
    build_template(servers)
    with psycopg.connect(libpq_url(server.url), autocommit=True) as conn:
        conn.execute(f"COMMENT ON DATABASE \"{template_name(server.url)}\" IS '{key}'")
    TEMPLATE["outcome"] = f"built (schema key {key})"
    if reuse and "workdir" in server.extra:
        TEMPLATE["keep"] = str(Path(server.extra["workdir"], KEEP_TEMPLATE))


def keep_template() -> None:
    """At the end of a run that built the template on `local` (its other databases dropped):
    ask for the cluster to be kept when the server stops. A run cut short keeps nothing."""
    marker = TEMPLATE.pop("keep", None)
    if marker is not None:
        Path(marker).touch()


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
    """Get the template unless the run has, then make this process's database; its URL."""
    url = servers["postgres"].url
    if not template_built:
        ensure_template(servers)
    name = worker_database(url)
    clone_template(url, name)
    return sqlalchemy_url(with_database(url, name))
