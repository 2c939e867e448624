# Managed by it-template: local changes may conflict on copier update.
"""The environment the app (and Alembic) reads: config.APP_ENV filled from the run's servers."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from . import config
from .base import Server

FIELD = re.compile(r"\{([a-z0-9_]+)\.([a-z]+)\}")


def fields(servers: dict[str, Server], database: str) -> dict[str, str]:
    """Every `{service.field}` value: url, host, port, user, password, database of each server.

    PostgreSQL's database is `database` (this process's, or the template being built), and
    its url the plain `postgresql://user:password@host:port/database`, without a driver.
    """
    values: dict[str, str] = {}
    for name, server in servers.items():
        parts = urlsplit(server.url)
        path = database if name == "postgres" else unquote(parts.path.lstrip("/"))
        url = server.url
        if name == "postgres":
            scheme = parts.scheme.split("+", 1)[0]
            url = urlunsplit((scheme, parts.netloc, f"/{quote(path, safe='')}", "", ""))
        found = {
            "url": url,
            "host": parts.hostname or "",
            "port": str(parts.port or ""),
            "user": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "database": path,
        }
        values |= {f"{name}.{field}": value for field, value in found.items()}
    return values


def app_env(servers: dict[str, Server], database: str) -> dict[str, str]:
    """config.APP_ENV with its fields filled: what to set before the app is imported.

    `{smtp.host}` and `{smtp.port}` are where this process's `smtp_server` will listen.
    """
    known = fields(servers, database)
    if any("{smtp." in template for template in config.APP_ENV.values()):
        from .mail import address

        host, port = address()
        known |= {"smtp.host": host, "smtp.port": str(port)}
    return {
        name: FIELD.sub(lambda match: known[f"{match[1]}.{match[2]}"], template)
        for name, template in config.APP_ENV.items()
    }
