# Managed by it-template: local changes may conflict on copier update.
"""Three ways to get a server (url, local, docker) behind one interface, and `auto`."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import config
from .base import Server, Service, ServiceUnavailable, wait_until_ready
from .process import free_port, spawn, started_at, tail
from .process import stop as stop_process

RUN_LABEL = "it-template.run"
RYUK_SWITCH = threading.Lock()


class Backend(ABC):
    """Starts and stops one service's server for a run."""

    name: str

    @abstractmethod
    def start(self, service: Service, run_dir: Path, run_id: str) -> Server:
        """Provide a server that answered a real round trip."""

    def stop(self, service: Service, server: Server) -> None:
        """Stop a server this backend started; on a server someone else runs, tidy up only."""
        service.tidy_shared(server.url)


class UrlBackend(Backend):
    """A server someone else started, given by TEST_<SERVICE>_URL."""

    name = "url"

    def start(self, service: Service, run_dir: Path, run_id: str) -> Server:
        """Check the URL, then wait for a real round trip."""
        url = os.environ.get(service.url_variable, "").strip()
        if not url:
            raise ServiceUnavailable(
                f"IT_BACKEND=url needs {service.url_variable} (e.g. from "
                '`eval "$(python tests/integration/compose_env.py)"`)'
            )
        service.check_url(url)
        began = time.monotonic()
        version = wait_until_ready(lambda: service.probe(url), config.START_TIMEOUT_SECONDS)
        where = urlsplit(url).netloc.rsplit("@", 1)[-1]
        return Server(
            service.name,
            url,
            version,
            f"{service.url_variable} ({where})",
            time.monotonic() - began,
        )


class LocalBackend(Backend):
    """A server binary run in the run's directory on a free loopback port, no Docker."""

    name = "local"

    def start(self, service: Service, run_dir: Path, run_id: str) -> Server:
        """Start the binary, then wait for a real round trip; retry if the port was taken."""
        began = time.monotonic()
        workdir = run_dir / service.name
        for attempt in range(3):
            workdir.mkdir(mode=0o711, exist_ok=attempt > 0)
            port = free_port()
            command = service.local_command(workdir, port)
            log = run_dir / f"{service.name}.log"
            process = spawn(command.argv, workdir, log, command.user, command.env)
            url = service.local_url(port)
            try:
                version = wait_until_ready(
                    lambda url=url: service.probe(url),  # type: ignore[misc]
                    config.START_TIMEOUT_SECONDS,
                    alive=lambda process=process: process.poll() is None,  # type: ignore[misc]
                )
            except BaseException as error:
                stop_process(process.pid, None, command.stop_signal)
                process.wait()
                last_lines = tail(log)
                port_taken = "already in use" in last_lines or "eaddrinuse" in last_lines
                if port_taken and attempt < 2:
                    shutil.rmtree(workdir, ignore_errors=True)
                    continue
                if isinstance(error, ServiceUnavailable):
                    raise ServiceUnavailable(
                        f"{command.source} did not start: {last_lines}"
                    ) from error
                raise
            return Server(
                service.name,
                url,
                version,
                command.source,
                time.monotonic() - began,
                pid=process.pid,
                pid_started=started_at(process.pid),
                stop_signal=command.stop_signal,
            )
        raise AssertionError("unreachable")

    def stop(self, service: Service, server: Server) -> None:
        """Stop the process with the signal its server shuts down cleanly on."""
        if server.pid is not None:
            stop_process(server.pid, server.pid_started, server.stop_signal)


class DockerBackend(Backend):
    """A Testcontainers container per service, labelled with the run so a killed run is reaped."""

    name = "docker"

    def start(self, service: Service, run_dir: Path, run_id: str) -> Server:
        """Start the pinned (or overridden) image and wait for a real round trip."""
        docker_client()  # one sentence, not a traceback, when no daemon answers
        image = os.environ.get(service.image_variable, "").strip() or service.default_image
        container = service.container(image).with_kwargs(labels={RUN_LABEL: run_id})
        began = time.monotonic()
        # A worker may finish before the others; its Ryuk would then remove a container they
        # still use (testcontainers-python #567). There, the run's last user removes it instead.
        in_worker = bool(os.environ.get("PYTEST_XDIST_WORKER"))
        try:
            with ryuk_switched_off() if in_worker else ryuk_started():
                container.start()
        except BaseException as error:
            # A start that failed after the container was made (a wait that timed out, Ctrl-C)
            # would leave it running: testcontainers removes it only in `with` blocks.
            with suppress(Exception):
                container.stop()
            if not isinstance(error, Exception):
                raise
            reason = str(error).splitlines()[0][:300]
            raise ServiceUnavailable(
                f"the container {image} did not start ({reason}); set {service.image_variable} "
                "to an image this Docker has, or run with IT_BACKEND=local or IT_BACKEND=url"
            ) from error
        try:
            url = service.container_url(container)
            version = wait_until_ready(lambda: service.probe(url), config.START_TIMEOUT_SECONDS)
        except BaseException:
            container.stop()
            raise
        return Server(
            service.name,
            url,
            version,
            image,
            time.monotonic() - began,
            container_id=container.get_wrapped_container().id,
        )

    def stop(self, service: Service, server: Server) -> None:
        """Remove the container and its anonymous volumes."""
        if server.container_id is not None:
            remove_containers(container_id=server.container_id)


@contextmanager
def ryuk_switched_off() -> Iterator[None]:
    """Start containers without Ryuk; the switch is global, and services start in threads."""
    from testcontainers.core.config import testcontainers_config

    with RYUK_SWITCH:
        before = testcontainers_config.ryuk_disabled
        testcontainers_config.ryuk_disabled = True
        try:
            yield
        finally:
            testcontainers_config.ryuk_disabled = before


@contextmanager
def ryuk_started() -> Iterator[None]:
    """Make sure the session's Ryuk runs before a container starts.

    Services start in threads, and testcontainers creates Ryuk on first use without a lock: two
    threads would both try to create it (testcontainers-python #746).
    """
    from testcontainers.core.config import testcontainers_config
    from testcontainers.core.container import Reaper

    if not testcontainers_config.ryuk_disabled:
        with RYUK_SWITCH:
            Reaper.get_instance()
    yield


def docker_client() -> Any:
    """A Docker SDK client, or ServiceUnavailable in one sentence naming the ways out."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
    except Exception as error:
        reason = str(error).split(":")[0].strip() or type(error).__name__
        raise ServiceUnavailable(
            f"no Docker daemon answered at {host} ({reason}); start Docker, or run with "
            "IT_BACKEND=local (server binaries, no Docker) or IT_BACKEND=url "
            "(a TEST_<SERVICE>_URL per service, e.g. TEST_POSTGRES_URL)"
        ) from error
    return client


def docker_answers() -> bool:
    """Whether a Docker daemon answers, checked cheaply before the SDK is imported."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://"):
        path = host.removeprefix("unix://")
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(1)
                sock.connect(path)
        except OSError:
            return False
    try:
        docker_client()
    except ServiceUnavailable:
        return False
    return True


def remove_containers(container_id: str | None = None, run_ids: set[str] | None = None) -> None:
    """Remove one container, or every container labelled with one of `run_ids`."""
    from docker.errors import NotFound

    client = docker_client()
    if container_id is not None:
        try:
            containers = [client.containers.get(container_id)]
        except NotFound:
            return  # already gone
    else:
        containers = [
            c
            for c in client.containers.list(all=True, filters={"label": RUN_LABEL})
            if c.labels.get(RUN_LABEL) in (run_ids or set())
        ]
    for container in containers:
        container.remove(force=True, v=True)


BACKENDS: dict[str, type[Backend]] = {
    "url": UrlBackend,
    "local": LocalBackend,
    "docker": DockerBackend,
}


def choose(service: Service, asked: str) -> Backend:
    """The backend for `service`: the one asked for, or url > docker > local under `auto`."""
    if asked != "auto":
        return BACKENDS[asked]()
    if os.environ.get(service.url_variable, "").strip():
        return UrlBackend()
    if docker_answers():
        return DockerBackend()
    return LocalBackend()
