# Managed by it-template: local changes may conflict on copier update.
"""The suite's pytest hooks: start the servers once per run, show them, stop them.

Load it first, from the pytest configuration (`-p tests.integration.harness.plugin` in
`addopts`, with the project's root on `pythonpath`): then each process of the run gets the
servers, the guard against non-test databases, config.APP_ENV and its own database before any
conftest.py imports the app (startup.py), and pytest's controlling process starts the servers
before any xdist worker, whether you run `pytest`, `pytest tests` or `pytest tests/integration`.
A run that does not collect the suite starts nothing and sets no environment variable, and this
module imports nothing more of the harness until a run does.
"""

from __future__ import annotations

import gc
import glob
import importlib
import os
import signal
import sys
import threading
import uuid
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

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


def run_paths(config: pytest.Config) -> list[str]:
    """The paths this run collects, as pytest decides them (usable before it has)."""
    namespace = config.known_args_namespace
    paths: list[str] = list(getattr(namespace, "file_or_dir", None) or [])
    here = config.invocation_params.dir
    if not paths and here == config.rootpath:
        for pattern in config.getini("testpaths"):
            paths += sorted(glob.glob(str(Path(here, pattern)), recursive=True))
    return paths or [str(here)]


def selects_suite(config: pytest.Config) -> bool:
    """Whether this run collects the suite: one of its paths is in the suite or contains it."""
    here = config.invocation_params.dir
    namespace = config.known_args_namespace
    ignored = [Path(here, path).resolve() for path in getattr(namespace, "ignore", None) or []]
    if any(path == SUITE or path in SUITE.parents for path in ignored):
        return False
    for arg in run_paths(config):
        path = Path(here, arg.split("::", 1)[0]).resolve()
        if path == SUITE or SUITE in path.parents or path in SUITE.parents:
            return True
    return False


def in_worker() -> bool:
    """Whether this process is a pytest-xdist worker."""
    return bool(os.environ.get("PYTEST_XDIST_WORKER"))


def register(config: pytest.Config) -> None:
    """Load this plugin from a conftest.py, when the pytest configuration does not (`-p`)."""
    plugin = sys.modules[__name__]
    if not config.pluginmanager.is_registered(plugin):
        config.pluginmanager.register(plugin, __name__)


def join_run(config: pytest.Config, owner_stops: bool) -> Servers:
    """Join this pytest run's servers (starting them if this process is the first)."""
    from .lifecycle import join

    servers = join(run_id(), owner_stops)
    config.stash[RUN] = servers
    return servers


def start(config: pytest.Config) -> Servers:
    """Join the run and get this process ready for its tests (startup.py).

    The servers start in a thread while this one loads the libraries the fixtures import
    (config.PRELOAD) and, in the controlling process, checks what is installed against the
    suite's requirements.txt: the wait for the servers, the imports and the check overlap.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="it-servers") as pool:
        joining = pool.submit(join_run, config, not in_worker())
        preload()
        missing = unmet_requirements()
        servers = joining.result()
    if missing:
        from .requirements import sentence

        raise ValueError(sentence(missing))  # the servers stop at exit (lifecycle.join)
    from .startup import prepare

    prepare(servers)
    return servers


def unmet_requirements() -> list[str]:
    """In pytest's controlling process, what is installed but does not satisfy the suite's
    requirements.txt (`requirements.py`); IT_REQUIREMENTS_CHECK=0 skips the check."""
    if in_worker() or os.environ.get("IT_REQUIREMENTS_CHECK", "").strip() == "0":
        return []
    from .requirements import unmet

    return unmet()


def preload() -> None:
    """Import config.PRELOAD; one that is not installed fails later, where it is needed."""
    from .config import PRELOAD

    for name in PRELOAD:
        with suppress(ImportError):
            importlib.import_module(name)


def hand_to_workers(config: pytest.Config, servers: Servers) -> None:
    """In pytest's controlling process, make the run's id xdist's, so its workers join it."""
    if not in_worker() and hasattr(config.option, "testrunuid"):
        config.option.testrunuid = config.option.testrunuid or servers.run.id


def run_id() -> str:
    """IT_RUN_ID if set, else xdist's testrun uid in a worker, else a fresh one."""
    chosen = os.environ.get("IT_RUN_ID", "").strip()
    if chosen:
        return chosen
    shared = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")
    return shared[:16] if shared else uuid.uuid4().hex[:16]


def parent_session_fixtures(config: pytest.Config) -> list[str]:
    """Session-scoped autouse fixtures of the conftest.py files above the suite: they run too."""
    found = []
    for plugin in config.pluginmanager.get_plugins():
        path = Path(getattr(plugin, "__file__", None) or "")
        if path.name != "conftest.py" or path.resolve().parent not in SUITE.parents:
            continue
        for name, value in vars(plugin).items():
            marker = getattr(value, "_fixture_function_marker", None)
            if marker is not None and marker.autouse and marker.scope == "session":
                found.append(f"{path.resolve().relative_to(config.rootpath)}::{name}")
    return sorted(found)


def raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into Ctrl-C, so pytest tears down and the servers stop."""
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Loaded first: servers, guard, APP_ENV and this process's database before any conftest."""
    namespace = early_config.known_args_namespace
    if namespace.help or namespace.version or namespace.collectonly:
        return
    if not selects_suite(early_config):
        return
    try:
        start(early_config)
    except (ServiceUnavailable, ValueError) as error:
        raise pytest.UsageError(str(error)) from None


def pytest_configure(config: pytest.Config) -> None:
    """Register the suite's markers; in a run of the suite, SIGTERM tears down like Ctrl-C."""
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    servers = config.stash.get(RUN, None)
    if servers is not None:
        hand_to_workers(config, servers)
    if selects_suite(config) and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, raise_keyboard_interrupt)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of this suite `integration`, so `-m integration` selects them, and give
    each the suite's timeout (suite_timeout) unless it has a `timeout` marker of its own."""
    timeout = suite_timeout(config)
    in_suite: dict[Path, bool] = {}  # by module: resolving a path per test costs a syscall each
    for item in items:
        if item.path not in in_suite:
            in_suite[item.path] = SUITE in item.path.resolve().parents
        if in_suite[item.path]:
            item.add_marker(pytest.mark.integration)
            if timeout is not None and item.get_closest_marker("timeout") is None:
                item.add_marker(timeout)


def suite_timeout(config: pytest.Config) -> pytest.MarkDecorator | None:
    """pytest-timeout's marker for the suite's tests: config.TEST_TIMEOUT_SECONDS, set-up and
    tear-down included, by SIGALRM where there is one (the test fails; its xdist worker, the
    servers and the run go on), unless pytest-timeout is not loaded, the answer is 0, or the run
    sets a timeout of its own (`--timeout`, the `timeout` ini option, PYTEST_TIMEOUT)."""
    from .config import TEST_TIMEOUT_SECONDS

    if not TEST_TIMEOUT_SECONDS or not config.pluginmanager.hasplugin("timeout"):
        return None
    if config.getoption("timeout", None) is not None or config.getini("timeout"):
        return None
    if os.environ.get("PYTEST_TIMEOUT"):
        return None
    method = "signal" if hasattr(signal, "SIGALRM") else "thread"
    return pytest.mark.timeout(TEST_TIMEOUT_SECONDS, method=method)


def pytest_collection_finish(session: pytest.Session) -> None:
    """In a run of the suite, keep the garbage collector off what is loaded by now.

    The libraries, the app and the collected tests stay to the end of the run; `gc.freeze()`
    moves them out of the collector's generations, so that neither the collections a test's
    objects trigger nor the full collections pytest and Python run at the end walk them again
    (on the default render, 0.2-0.3 s less per run).
    """
    if RUN in session.config.stash:
        gc.collect()
        gc.freeze()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start or join the servers here when the plugin was not loaded first (the module's doc).

    xdist's workers join too, before their first test: the guard against non-test databases
    then holds from the first test on, whichever test random order runs first.
    """
    config = session.config
    if config.option.collectonly or RUN in config.stash:
        return
    if not selects_suite(config):
        return
    try:
        servers = start(config)
    except (ServiceUnavailable, ValueError) as error:
        raise pytest.UsageError(str(error)) from None
    hand_to_workers(config, servers)  # xdist starts its workers after this hook (trylast)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Show the backend, server versions and start-up times, the timeout, parent fixtures."""
    servers = config.stash.get(RUN, None)
    if servers is None:
        return []
    lines = [f"integration servers (IT_BACKEND={backend_name()}):"]
    lines += [
        f"  {s.service}: {s.version} via {s.backend} ({s.source}){address(s.url)}, "
        f"ready in {s.ready_seconds:.2f} s"
        for s in servers.by_name.values()
    ]
    if any(s.backend == "docker" for s in servers.by_name.values()):
        from .backends.docker import engine

        found = engine()
        lines.append(f"  docker engine: {found.host} (from {found.origin})")
    from .services.postgres.databases import TEMPLATE

    if "outcome" in TEMPLATE:
        lines.append(f"  template database: {TEMPLATE['outcome']}")
    timeout = suite_timeout(config)
    if timeout is not None:
        seconds, method = timeout.args[0], timeout.kwargs["method"]
        lines.append(f"timeout: {seconds} s per test, set-up and tear-down included ({method})")
    parents = parent_session_fixtures(config)
    if parents:
        lines.append(f"runs for this suite too (session, autouse): {', '.join(parents)}")
    return lines


def address(url: str) -> str:
    """The header's "at host:port" for a server's URL (never its credentials), or nothing."""
    try:
        parts = urlsplit(url)
        return f" at {parts.hostname}:{parts.port}" if parts.hostname and parts.port else ""
    except ValueError:
        return ""


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> bool | None:
    """A server that ended while the run used it (the watchdog says which) stops the run here,
    before this test: no test goes on against a dead server."""
    servers = item.config.stash.get(RUN, None)
    if servers is None:
        return None
    ended = servers.ended()
    if ended is None:
        return None
    item.session.shouldstop = ended
    return True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A refused connection to a non-test database ends the run: no test goes on to write."""
    report = yield
    if call.excinfo is not None:
        from .safety import NotATestDatabase

        if call.excinfo.errisinstance(NotATestDatabase):
            item.session.shouldstop = str(call.excinfo.value)
    return report


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Leave the run; the process that started the servers stops them."""
    servers = session.config.stash.get(RUN, None)
    if servers is not None:
        from .lifecycle import leave
        from .startup import finish

        if servers.ended() is None:  # else the server this process cleans up is gone
            finish(servers)
        leave(servers)
