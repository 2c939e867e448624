# Managed by it-template: local changes may conflict on copier update.
"""The interface every service module and every backend shares."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import config


class ServiceUnavailable(Exception):
    """No backend could provide a server; the message is one sentence naming the ways out."""


@dataclass(frozen=True)
class LocalCommand:
    """How to run a service's server binary in a directory of its own."""

    argv: list[str]
    source: str
    user: str | None = None
    stop_signal: str = "SIGTERM"
    env: dict[str, str] = field(default_factory=dict)  # added to the server's environment


@dataclass(frozen=True)
class Server:
    """A running server, as every process of the run sees it."""

    service: str
    backend: str  # the name of the backend that started it, which also stops it
    url: str
    version: str
    source: str
    ready_seconds: float
    pid: int | None = None
    pid_started: str | None = None
    container_id: str | None = None
    stop_signal: str = "SIGTERM"
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The server as a JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Server:
        """The server described by `to_json`'s output."""
        if "backend" not in data:  # a run of it-template 0.1, found when reaping it
            guess = "docker" if data.get("container_id") else "local" if data.get("pid") else "url"
            data = {**data, "backend": guess}
        return cls(**data)


class Service(ABC):
    """One service (PostgreSQL, Redis, ...): the same recipe for every backend."""

    name: str
    port: int  # the port it listens on inside its container
    # Whether the docker backend may connect to the container's own address on `port` instead
    # of the published port (backends/docker.py): not for servers that advertise an address.
    direct_route = False

    @property
    def url_variable(self) -> str:
        """The variable that gives the `url` backend a server: TEST_<NAME>_URL."""
        return f"TEST_{self.name.upper()}_URL"

    @property
    def image_variable(self) -> str:
        """The variable that replaces the pinned image: IT_<NAME>_IMAGE."""
        return f"IT_{self.name.upper()}_IMAGE"

    @property
    def default_image(self) -> str:
        """The image pinned in config.py: <NAME>_IMAGE."""
        return str(getattr(config, f"{self.name.upper()}_IMAGE"))

    @abstractmethod
    def probe(self, url: str) -> str:
        """Do a real round trip (log in, query) and return the server's version."""

    def local_command(self, workdir: Path, port: int) -> LocalCommand:
        """Prepare `workdir` and return the command that serves on 127.0.0.1:`port`.

        The default says that this service has no server to run without Docker.
        """
        raise ServiceUnavailable(
            f"{self.name} has no server that runs without Docker; run it with "
            f"IT_BACKEND=docker, or start one yourself and give IT_BACKEND=url its "
            f"{self.url_variable}"
        )

    def stop_local(self, workdir: Path, stop: Callable[[str], None], stop_signal: str) -> None:
        """Stop the local server run in `workdir` (`stop` sends a signal and waits); a service
        that keeps something of the run for the next one does it here."""
        stop(stop_signal)

    def local_url(self, port: int) -> str:
        """URL of a local server started by `local_command`."""
        raise NotImplementedError(f"{self.name} has no local server")

    @abstractmethod
    def container(self, image: str) -> Any:
        """A not-yet-started Testcontainers container for `image`."""

    @abstractmethod
    def container_url(self, container: Any) -> str:
        """URL of a started container, on a loopback-published port."""

    def check_url(self, url: str) -> None:  # noqa: B027 - optional, most services accept any
        """Refuse a URL before anything is sent to it; the default accepts all."""

    def tidy_shared(self, url: str) -> None:  # noqa: B027 - optional, most leave nothing
        """Remove what the run made on a server someone else runs; the default has nothing."""


class Backend(ABC):
    """Starts and stops one service's server for a run: `url`, `local` or `docker`."""

    name: str

    @abstractmethod
    def start(self, service: Service, run_dir: Path, run_id: str) -> Server:
        """Provide a server that answered a real round trip."""

    def stop(self, service: Service, server: Server) -> None:
        """Stop a server this backend started; on a server someone else runs, tidy up only."""
        service.tidy_shared(server.url)


def wait_until_ready(
    probe: Callable[[], str], timeout: float, alive: Callable[[], bool] = lambda: True
) -> str:
    """Call `probe` until it succeeds, the server dies, or `timeout` seconds pass."""
    began = time.monotonic()
    deadline = began + timeout
    delay = 0.005  # a refused connection costs little: poll often in the first seconds
    while True:
        try:
            return probe()
        except Exception as error:
            if not alive():
                raise ServiceUnavailable(f"the server exited while starting ({error})") from error
            if time.monotonic() > deadline:
                raise ServiceUnavailable(f"no answer after {timeout:.0f} s ({error})") from error
        time.sleep(delay)
        delay = min(delay * 1.5, 0.02 if time.monotonic() - began < 5 else 0.1)
