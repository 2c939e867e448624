"""Wires the integration suite together; each module imported here holds one concern."""

from .cache import redis_client, redis_connection, redis_url
from .database import database_url, db_engine
from .isolation import db_session
from .servers.plugin import (
    pytest_configure,
    pytest_report_header,
    pytest_sessionfinish,
    pytest_sessionstart,
    servers,
)

__all__ = [
    "database_url",
    "db_engine",
    "db_session",
    "pytest_configure",
    "pytest_report_header",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "redis_client",
    "redis_connection",
    "redis_url",
    "servers",
]
