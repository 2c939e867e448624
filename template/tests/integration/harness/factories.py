# Managed by it-template: local changes may conflict on copier update.
"""The plumbing of the factories in tests/integration/factories.py: they save into `db_session`.

Every factory built on `BaseFactory` takes its session from `factory_session()`, which reads a
ContextVar. The autouse fixture `bind_factories` points that ContextVar at the running test's
`db_session` and resolves the fixture only when a factory is first called, so tests that use no
factory open no transaction. Rows are flushed, not committed: they vanish with the test's
transaction (or with the clean-up of a test marked `isolation`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar

import pytest
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session

__all__ = ["BaseFactory", "bind_factories", "factory_session"]

_session_source: ContextVar[Callable[[], Session]] = ContextVar("factory_session_source")


def factory_session() -> Session:
    """Return the session the factories save into: the running test's `db_session`."""
    try:
        source = _session_source.get()
    except LookupError:
        raise RuntimeError("factories run only inside tests: see bind_factories") from None
    return source()


@pytest.fixture(autouse=True)
def bind_factories(request: pytest.FixtureRequest) -> Iterator[None]:
    """Let the factories save into this test's `db_session`, set up on their first use."""
    token = _session_source.set(lambda: request.getfixturevalue("db_session"))
    yield
    _session_source.reset(token)


class BaseFactory(SQLAlchemyModelFactory):
    """Options shared by every factory: the test's session, rows flushed but not committed."""

    class Meta:
        abstract = True
        sqlalchemy_session_factory = factory_session
        sqlalchemy_session_persistence = "flush"
