# Managed by it-template: local changes may conflict on copier update.
"""What each process of a run does before any conftest.py imports the app, top-down.

It guards every database connection (safety.py), sets config.APP_ENV for this process (so the
app's settings and a module-level engine reach only the test servers), builds the template
database once per run, and makes this process's own database from it: a parent conftest.py
fixture that opens the app's engine finds a test database with the schema in place.
"""

from __future__ import annotations

import os

from .app_env import app_env
from .lifecycle import Servers
from .safety import guard_connections
from .services.postgres import databases
from .services.postgres.server import libpq_url, worker_database

_own: dict[str, str] = {}  # this process's database URL, once made


def prepare(servers: Servers) -> str:
    """Get this process ready to run tests on `servers`; return its database's URL."""
    if "url" in _own:
        return _own["url"]
    guard_connections()
    postgres = servers["postgres"].url
    os.environ.update(app_env(servers.by_name, worker_database(postgres)))
    with servers.run.locked_state() as state:
        url = databases.prepare(servers.by_name, bool(state.get("template_built")))
        state["template_built"] = True
    _own["url"] = url
    return url


def finish(servers: Servers) -> None:
    """Drop this process's database, if it made one; keep a template it built (databases.py)."""
    if _own.pop("url", None) is not None:
        postgres = servers["postgres"].url
        databases.drop_database(libpq_url(postgres), worker_database(postgres))
        databases.keep_template()
