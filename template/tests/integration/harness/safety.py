# Managed by it-template: local changes may conflict on copier update.
"""The guard that keeps the suite away from any database that is not a test database.

`ensure_test_database` checks the URLs the suite is given; `guard_connections` then refuses,
before it connects, every SQLAlchemy, psycopg or asyncpg connection this process opens to a
database whose name does not look like a test database: the app's own engine and a parent
conftest.py's fixtures included.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .config import allow_non_test_database

TEST_WORD = re.compile(r"(?:^|[^a-z0-9])test", re.IGNORECASE)
GUARDED_DIALECTS = {"postgresql", "mysql", "mariadb"}
_guarded = False


class NotATestDatabase(ValueError):
    """The database URL names a database that does not look like a test database."""


def ensure_test_database(url: str) -> None:
    """Refuse `url` unless its database name has a word starting with "test" (or it is allowed)."""
    parts = urlsplit(url)
    if "dbname" in parse_qs(parts.query):
        raise NotATestDatabase(
            "Refusing a database URL that names its database in ?dbname=: put the test "
            "database in the path instead (e.g. postgresql://user@host:5432/test_app)."
        )
    name = unquote(parts.path.lstrip("/"))
    if TEST_WORD.search(name) or allow_non_test_database():
        return
    raise NotATestDatabase(
        f"Refusing to run against database {name!r}: its name has no word starting with "
        "'test' (e.g. test_app or app_test); point the URL at a test database, or set "
        "IT_ALLOW_NON_TEST_DATABASE=1 if you are sure its data may be deleted."
    )


def ensure_test_database_name(name: str) -> None:
    """Refuse a connection to database `name` unless it looks like a test database."""
    if TEST_WORD.search(name) or allow_non_test_database():
        return
    raise NotATestDatabase(
        f"Refused a connection to database {name!r} before it was made: its name has no word "
        "starting with 'test', so it may hold real data; point the app's settings at the test "
        "servers (the app_env answer sets them before the app is imported), or set "
        "IT_ALLOW_NON_TEST_DATABASE=1 if you are sure its data may be deleted."
    )


def guard_connections() -> None:
    """From now on, refuse this process's connections to databases that are not test ones."""
    global _guarded
    if _guarded:
        return
    _guarded = True
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "do_connect", check_sqlalchemy_connect)
    for module in ("psycopg", "psycopg2"):
        if importlib.util.find_spec(module) is not None:
            guard_driver(importlib.import_module(module))
    if importlib.util.find_spec("asyncpg") is not None:
        guard_asyncpg(importlib.import_module("asyncpg"))


def check_sqlalchemy_connect(
    dialect: Any, record: Any, cargs: list[Any], cparams: Mapping[str, Any]
) -> None:
    """SQLAlchemy's `do_connect` event: check the database any engine is about to open."""
    if dialect.name not in GUARDED_DIALECTS:
        return
    name = next((str(cparams[key]) for key in ("dbname", "database", "db") if key in cparams), "")
    if dialect.name != "postgresql":  # MySQL: a connection to no database holds no tables
        if name:
            ensure_test_database_name(name)
        return
    if cargs:
        name = driver_database(str(cargs[0]), {"dbname": name} if name else {})
    ensure_test_database_name(name or str(cparams.get("user", "")))


def driver_database(conninfo: str, keywords: Mapping[str, Any]) -> str:
    """The database a libpq connection string (URL or key=value) and keywords name.

    libpq connects to the user's own database when none is named, so that is the one checked.
    """
    from psycopg.conninfo import conninfo_to_dict

    named = {
        "dbname" if key == "database" else key: str(value)
        for key, value in keywords.items()
        if key in {"dbname", "database", "user"} and value is not None
    }
    params = conninfo_to_dict(conninfo, **named)
    return str(params.get("dbname") or params.get("user") or "")


def guard_driver(module: Any) -> None:
    """Check the database before psycopg's (or psycopg2's) connect functions open it."""

    def guarded(connect: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(connect)
        def checked(*args: Any, **kwargs: Any) -> Any:
            conninfo = (
                str(args[0]) if args else str(kwargs.get("conninfo") or kwargs.get("dsn") or "")
            )
            ensure_test_database_name(driver_database(conninfo, kwargs))
            return connect(*args, **kwargs)

        return checked

    module.connect = guarded(module.connect)
    for name in ("Connection", "AsyncConnection"):
        cls = getattr(module, name, None)
        if cls is not None and hasattr(cls, "connect"):
            cls.connect = classmethod(guarded(cls.connect.__func__))


def guard_asyncpg(module: Any) -> None:
    """Check the database before asyncpg's `connect` (its pools' too) opens it."""

    def guarded(connect: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(connect)
        async def checked(*args: Any, **kwargs: Any) -> Any:
            dsn = str(args[0]) if args else str(kwargs.get("dsn") or "")
            ensure_test_database_name(driver_database(dsn, kwargs))
            return await connect(*args, **kwargs)

        return checked

    module.connect = guarded(module.connect)
    module.connection.connect = module.connect  # what asyncpg's pools call
