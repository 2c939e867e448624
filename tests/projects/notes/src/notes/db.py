"""Sessions: `with db.get_session() as session:` in every view."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from notes.settings import settings

_sessions = sessionmaker(create_engine(settings.database_url), expire_on_commit=False)


def get_session() -> Session:
    """A new session; use it as a context manager."""
    return _sessions()
