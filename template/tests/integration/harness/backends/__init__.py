# Managed by it-template: local changes may conflict on copier update.
"""Where a run's servers come from: one module per backend, and the `auto` policy."""

from __future__ import annotations

import os

from ..base import Backend, Server, Service
from .docker import DockerBackend, docker_answers
from .local import LocalBackend
from .url import UrlBackend

BACKENDS: dict[str, type[Backend]] = {
    UrlBackend.name: UrlBackend,
    LocalBackend.name: LocalBackend,
    DockerBackend.name: DockerBackend,
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


def backend_of(server: Server) -> Backend:
    """The backend that started `server`, which is the one that stops it."""
    return BACKENDS[server.backend]()
