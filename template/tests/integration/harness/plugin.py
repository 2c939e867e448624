# Managed by it-template: local changes may conflict on copier update.
"""The suite's pytest hooks: start the servers once per run, show them, stop them.

Load it first, from the pytest configuration (`-p tests.integration.harness.plugin` in
`addopts`, with the project's root on `pythonpath`): then pytest's controlling process starts
the servers before any test or xdist worker, whether you run `pytest`, `pytest tests` or
`pytest tests/integration`. A run that does not collect the suite starts nothing and sets no
environment variable, and this module imports nothing more of the harness until a run does.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import uuid
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import pytest

from .base import ServiceUnavailable
from .config import backend_name

if TYPE_CHECKING:
    from .lifecycle import Servers

SUITE = Path(__file__).resolve().parent.parent
RUN = pytest.StashKey["Servers"]()
MARKERS = (
    "integration: tests that talk to real services",
    "isolation(strategy): 'rollback', 'delete', 'truncate', 'schema' or 'database'",
)


def selects_suite(config: pytest.Config) -> bool:
    """Whether this run collects the suite: one of its paths is in the suite or contains it."""
    here = config.invocation_params.dir
    ignored = [Path(here, path).resolve() for path in config.getoption("ignore") or []]
    if any(path == SUITE or path in SUITE.parents for path in ignored):
        return False
    for arg in config.args:
        path = Path(here, arg.split("::", 1)[0]).resolve()
        if path == SUITE or SUITE in path.parents or path in SUITE.parents:
            return True
    return False


def register(config: pytest.Config) -> None:
    """Load this plugin from a conftest.py, when the pytest configuration does not (`-p`)."""
    plugin = sys.modules[__name__]
    if not config.pluginmanager.is_registered(plugin):
        config.pluginmanager.register(plugin, __name__)


def join_run(config: pytest.Config, owner_stops: bool) -> Servers:
    """Join this pytest run's servers (starting them if this process is the first)."""
    from .lifecycle import join

    servers = join(run_id(config), owner_stops)
    config.stash[RUN] = servers
    return servers


def run_id(config: pytest.Config) -> str:
    """IT_RUN_ID if set, else xdist's testrun uid (the workers get it), else a fresh one."""
    chosen = os.environ.get("IT_RUN_ID", "").strip()
    if chosen:
        return chosen
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        return str(worker_input["testrunuid"])[:16]
    if hasattr(config.option, "testrunuid"):  # xdist's controller hands it to every worker
        config.option.testrunuid = config.option.testrunuid or uuid.uuid4().hex
        return str(config.option.testrunuid)[:16]
    return uuid.uuid4().hex[:16]


def raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into Ctrl-C, so pytest tears down and the servers stop."""
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """Register the suite's markers; in a run of the suite, SIGTERM tears down like Ctrl-C."""
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    if selects_suite(config) and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, raise_keyboard_interrupt)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this suite `integration`, so `-m integration` selects them."""
    for item in items:
        if SUITE in item.path.resolve().parents:
            item.add_marker(pytest.mark.integration)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the servers in the controlling process, before the header is printed."""
    config = session.config
    if hasattr(config, "workerinput") or config.option.collectonly or not selects_suite(config):
        return
    try:
        join_run(config, owner_stops=True)
    except (ServiceUnavailable, ValueError) as error:
        raise pytest.UsageError(str(error)) from None


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Show the backend, server versions and start-up times."""
    servers = config.stash.get(RUN, None)
    if servers is None:
        return []
    lines = [f"integration servers (IT_BACKEND={backend_name()}):"]
    return lines + [
        f"  {s.service}: {s.version} via {s.backend} ({s.source}), ready in {s.ready_seconds:.2f} s"
        for s in servers.by_name.values()
    ]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Leave the run; the process that started the servers stops them."""
    servers = session.config.stash.get(RUN, None)
    if servers is not None:
        from .lifecycle import leave

        leave(servers)
