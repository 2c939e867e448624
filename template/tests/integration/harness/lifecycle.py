# Managed by it-template: local changes may conflict on copier update.
"""A run's servers from start to stop: join the run, start what it needs, stop it, reap the dead.

Top-down: `join` makes this process a user of the run (`run.py`); the first user starts every
service of the catalog (`services/`) in parallel, each with the backend `IT_BACKEND` chose
(`backends/`); `leave` stops them when the owner or the last user goes. Nothing here knows
about pytest or the fixtures that use the servers.
"""

from __future__ import annotations

import atexit
import subprocess
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from .backends import backend_of, choose
from .backends.docker import remove_containers
from .base import Server, Service, ServiceUnavailable
from .config import backend_name
from .run import Run, reap_abandoned
from .services import SERVICES
from .watchdog import start as start_watchdog

SERVICES_BY_NAME = {service.name: service for service in SERVICES}


@dataclass
class Servers:
    """The run's servers by service name, and the run they belong to."""

    run: Run
    by_name: dict[str, Server]
    watchdog: subprocess.Popen[bytes] | None = None  # with the servers this process started

    def __getitem__(self, name: str) -> Server:
        return self.by_name[name]

    def ended(self) -> str | None:
        """The watchdog's sentence if one of the servers ended while the run used it."""
        try:
            return self.run.ended_file.read_text()
        except FileNotFoundError:
            return None


def join(run_id: str, owner_stops: bool) -> Servers:
    """Use the run's servers, starting them if this process is the run's first.

    With `owner_stops`, this process stops them when it leaves; otherwise the last to leave
    does. A process that exits without leaving leaves at exit; one that is killed leaves them
    to the watchdog (`watchdog.py`) that the process which started them starts.
    """
    run = Run(run_id)
    servers = Servers(run, run.join(start_all, owner_stops=owner_stops))
    atexit.register(run.leave, stop_all)
    if run.started_here:
        servers.watchdog = start_watchdog(run)
    return servers


def leave(servers: Servers) -> None:
    """Stop using the run's servers; stop them if this process is their owner or last user."""
    servers.run.leave(stop_all)
    if servers.watchdog is not None and servers.run.read() is None:
        servers.watchdog.terminate()  # the servers are stopped: nothing is left to watch
        servers.watchdog.wait()
        servers.watchdog = None


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

    def stop(server: Server) -> None:
        backend_of(server).stop(SERVICES_BY_NAME[server.service], server)

    pool = ThreadPoolExecutor(max(len(servers), 1))  # all at once
    try:
        futures = [pool.submit(stop, server) for server in servers.values()]
    except RuntimeError:
        # In atexit (a Ctrl-C cut pytest's teardown short) no thread may start: one after
        # another instead; stopping a server twice is harmless.
        futures = []
        for server in servers.values():
            stop(server)
    finally:
        pool.shutdown(wait=True)
    for future in futures:
        future.result()


def reap(keep: str, docker: bool) -> None:
    """Stop what killed runs left behind: their processes, and their containers with Docker."""
    reaped = reap_abandoned(stop_all, keep=keep)
    if docker and reaped:
        remove_containers(run_ids=set(reaped))
