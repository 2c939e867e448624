# Managed by it-template: local changes may conflict on copier update.
"""pytest hooks and session fixtures: start the servers once per run, show them, stop them."""

from __future__ import annotations

import atexit
import os
import signal
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import pytest

from .backends import (
    Backend,
    DockerBackend,
    LocalBackend,
    UrlBackend,
    choose,
    remove_containers,
)
from .base import Server, Service, ServiceUnavailable
from .catalog import SERVICES
from .config import backend_name
from .run import Run, reap_abandoned

SERVICES_BY_NAME = {service.name: service for service in SERVICES}
RUN = pytest.StashKey["Servers"]()


@dataclass
class Servers:
    """The run's servers by service name, and the run they belong to."""

    run: Run
    by_name: dict[str, Server]

    def __getitem__(self, name: str) -> Server:
        return self.by_name[name]


def start_all(run: Run, services: tuple[Service, ...] = SERVICES) -> dict[str, Server]:
    """Start every service in parallel; if one fails, stop the others and say why."""
    asked = backend_name()
    chosen = {service.name: choose(service, asked) for service in services}
    reap(keep=run.id, docker=any(b.name == "docker" for b in chosen.values()))
    pool = ThreadPoolExecutor(len(services))
    futures = {
        service.name: pool.submit(chosen[service.name].start, service, run.dir, run.id)
        for service in services
    }
    try:
        wait(futures.values())
    except BaseException:
        # Ctrl-C while the servers start: let each start finish, then stop what it started.
        wait(futures.values())
        stop_all({n: f.result() for n, f in futures.items() if f.exception() is None})
        raise
    finally:
        pool.shutdown()
    started = {name: f.result() for name, f in futures.items() if f.exception() is None}
    failed = {name: f.exception() for name, f in futures.items() if f.exception() is not None}
    if failed:
        stop_all(started)
        name, error = next(iter(failed.items()))
        if isinstance(error, ServiceUnavailable):
            raise ServiceUnavailable(f"No {name} server for the integration tests: {error}.")
        assert error is not None
        raise error
    return started


def stop_all(servers: dict[str, Server]) -> None:
    """Stop every server with the backend that started it."""
    for server in servers.values():
        backend_for(server).stop(SERVICES_BY_NAME[server.service], server)


def backend_for(server: Server) -> Backend:
    """The backend that can stop `server`."""
    if server.container_id:
        return DockerBackend()
    if server.pid:
        return LocalBackend()
    return UrlBackend()


def reap(keep: str, docker: bool) -> None:
    """Stop what killed runs left behind: their processes, and their containers with Docker."""
    reaped = reap_abandoned(stop_all, keep=keep)
    if docker and reaped:
        remove_containers(run_ids=set(reaped))


def join(config: pytest.Config, owner_stops: bool) -> Servers:
    """Join this pytest run's servers (starting them if this process is first)."""
    run = Run(os.environ.setdefault("IT_RUN_ID", run_id(config)))
    servers = Servers(run, run.join(start_all, owner_stops=owner_stops))
    atexit.register(run.leave, stop_all)
    config.stash[RUN] = servers
    return servers


def run_id(config: pytest.Config) -> str:
    """The id shared by the xdist controller and its workers, or a fresh one."""
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        return str(worker_input["testrunuid"])[:16]
    return uuid.uuid4().hex[:16]


def raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into Ctrl-C, so pytest tears down and the servers stop."""
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """Register the suite's markers; make SIGTERM tear down like Ctrl-C."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
    config.addinivalue_line("markers", "integration: tests that talk to real services")
    config.addinivalue_line(
        "markers",
        "isolation(strategy): 'rollback', 'delete', 'truncate', 'schema' or 'database'",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this suite `integration`, so `-m integration` selects them."""
    suite = Path(__file__).resolve().parent.parent
    for item in items:
        if suite in item.path.resolve().parents:
            item.add_marker(pytest.mark.integration)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start the servers in the controlling process, before the header is printed."""
    if hasattr(session.config, "workerinput") or session.config.option.collectonly:
        return
    try:
        join(session.config, owner_stops=True)
    except (ServiceUnavailable, ValueError) as error:
        raise pytest.UsageError(str(error)) from None


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Show the backend, server versions and start-up times."""
    servers = config.stash.get(RUN, None)
    if servers is None:
        return []
    lines = [f"integration servers (IT_BACKEND={backend_name()}):"]
    return lines + [
        f"  {s.service}: {s.version} via {backend_for(s).name} ({s.source}), "
        f"ready in {s.ready_seconds:.2f} s"
        for s in servers.by_name.values()
    ]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Leave the run; the process that started the servers stops them."""
    servers = session.config.stash.get(RUN, None)
    if servers is not None:
        servers.run.leave(stop_all)


@pytest.fixture(scope="session")
def servers(pytestconfig: pytest.Config) -> Iterator[Servers]:
    """The run's servers; started here when the controlling process did not start them."""
    existing = pytestconfig.stash.get(RUN, None)
    if existing is not None:
        yield existing
        return
    try:
        joined = join(pytestconfig, owner_stops=False)
    except (ServiceUnavailable, ValueError) as error:
        pytest.exit(str(error), returncode=pytest.ExitCode.USAGE_ERROR)
    yield joined
