"""Database sessions for request handlers."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Annotated

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from .settings import SettingsDep


@cache
def session_factory(database_url: str) -> sessionmaker[Session]:
    """Return the session factory for a database, creating its engine on first use."""
    engine = create_engine(database_url, pool_pre_ping=True)
    return sessionmaker(engine, expire_on_commit=False)


def get_session(settings: SettingsDep) -> Iterator[Session]:
    """Yield a session for one request; route code commits what it changes."""
    with session_factory(settings.database_url)() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
