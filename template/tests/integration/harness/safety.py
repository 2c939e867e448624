# Managed by it-template: local changes may conflict on copier update.
"""The guard that keeps the suite away from any database that is not a test database."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

from .config import allow_non_test_database

TEST_WORD = re.compile(r"(?:^|[^a-z0-9])test", re.IGNORECASE)


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
