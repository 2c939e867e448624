"""Database sessions for requests."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from billing.settings import get_settings


@lru_cache
def _sessions(url: str) -> sessionmaker[Session]:
    return sessionmaker(create_engine(url), expire_on_commit=False)


def get_session() -> Iterator[Session]:
    """One session per request."""
    with _sessions(get_settings().database_url)() as session:
        yield session
