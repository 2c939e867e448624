# Managed by it-template: local changes may conflict on copier update.
"""Wires the integration suite together; each module imported here holds one concern."""

from .app import app, client, settings
from .auth import auth_client, auth_headers, current_user, make_token
from .cache import redis_client, redis_connection, redis_url
from .database import database_url, db_engine
from .factories import bind_factories
from .http_mocks import payment_api
from .isolation import db_session
from .servers.plugin import (
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_report_header,
    pytest_sessionfinish,
    pytest_sessionstart,
    servers,
)

__all__ = [
    "app",
    "auth_client",
    "auth_headers",
    "bind_factories",
    "client",
    "current_user",
    "database_url",
    "db_engine",
    "db_session",
    "make_token",
    "payment_api",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_report_header",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "redis_client",
    "redis_connection",
    "redis_url",
    "servers",
    "settings",
]
