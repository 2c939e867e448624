# Managed by it-template: local changes may conflict on copier update.
"""The `docker` backend: a Testcontainers container per service, labelled with the run."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .. import config
from ..base import Backend, Server, Service, ServiceUnavailable, wait_until_ready

RUN_LABEL = "it-template.run"
REMOVAL_TIMEOUT_SECONDS = 60  # how long a removal may wait for the engine (pings wait 5 s)
RYUK_SWITCH = threading.Lock()


class DockerBackend(Backend):
    """A container per service, labelled with the run so that a killed run is reaped."""

    name = "docker"

    def start(self, service: Service, run_dir: Path, run_id: str) -> Server:
        """Start the pinned (or overridden) image and wait for a real round trip."""
        docker_client()  # one sentence, not a traceback, when no daemon answers
        hand_engine_over()
        image = os.environ.get(service.image_variable, "").strip() or service.default_image
        container = service.container(image).with_kwargs(labels={RUN_LABEL: run_id})
        began = time.monotonic()
        # A worker may finish before the others; its Ryuk would then remove a container they
        # still use (testcontainers-python #567). There, the run's last user removes it instead.
        in_worker = config.worker_id() != "main"
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
            url = direct_url(service, container, service.container_url(container))
            version = wait_until_ready(lambda: service.probe(url), config.START_TIMEOUT_SECONDS)
        except BaseException:
            container.stop()
            raise
        return Server(
            service.name,
            self.name,
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


def direct_url(service: Service, container: Any, published: str) -> str:
    """`published` sent straight to the container's own address when this host can reach it.

    On Linux the host routes to its containers' bridge addresses, and a connection there skips
    Docker's userland proxy behind the published port: a round trip takes half the time. Where
    the address is not on one of this host's bridges or not reachable (Docker Desktop, rootless
    Docker, a remote daemon), or with IT_DOCKER_DIRECT=0, or for a service whose clients must
    use the published port, the published URL stays: test traffic never leaves this machine.
    """
    if not service.direct_route or os.environ.get("IT_DOCKER_DIRECT", "").strip() == "0":
        return published
    with suppress(Exception):
        wrapped = container.get_wrapped_container()
        wrapped.reload()
        networks = wrapped.attrs["NetworkSettings"]["Networks"].values()
        address = next((n["IPAddress"] for n in networks if n.get("IPAddress")), "")
        if address and on_local_bridge(address) and reachable(address, service.port):
            parts = urlsplit(published)
            credentials = parts.netloc.rpartition("@")[0]
            netloc = f"{credentials}@" if credentials else ""
            return urlunsplit(parts._replace(netloc=f"{netloc}{address}:{service.port}"))
    return published


def on_local_bridge(address: str) -> bool:
    """Whether this Linux host routes `address` straight to one of its own bridges (docker0,
    br-...), not through a gateway or the default route: then a connection there can only reach
    a container of this machine's Docker."""
    try:
        routes = Path("/proc/net/route").read_text().splitlines()[1:]
        target = int.from_bytes(socket.inet_aton(address), sys.byteorder)  # as the kernel prints
    except (OSError, ValueError):
        return False
    best: tuple[int, str] | None = None
    for line in routes:
        fields = line.split()
        if len(fields) < 8:
            continue
        interface, destination, mask = fields[0], int(fields[1], 16), int(fields[7], 16)
        through_gateway = int(fields[3], 16) & 0x2  # RTF_GATEWAY: the address is elsewhere
        if not mask or through_gateway or target & mask != destination:
            continue
        if best is None or mask.bit_count() > best[0]:
            best = (mask.bit_count(), interface)
    return best is not None and Path("/sys/class/net", best[1], "bridge").is_dir()


def reachable(address: str, port: int) -> bool:
    """Whether this host reaches `address`: a connection made or refused (by a server still
    starting) says so; a timeout or no route says not."""
    try:
        with socket.create_connection((address, port), timeout=0.2):
            return True
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


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


@dataclass(frozen=True)
class Engine:
    """A Docker (or Podman) engine endpoint, and where the suite found it."""

    host: str  # as DOCKER_HOST spells it: unix:///path, tcp://host:port, ssh://...
    origin: str  # for the header and the error sentence
    socket_inside: str | None = None  # the engine's socket as its containers see it (Ryuk)


def docker_config_dir() -> Path:
    """Where the Docker CLI keeps its configuration and contexts."""
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def context_engine() -> Engine | None:
    """The active Docker context's endpoint (`docker context use`, DOCKER_CONTEXT), read from the
    files the Docker CLI writes; None for the `default` context or without one."""
    with suppress(OSError, ValueError, KeyError, TypeError):
        config = docker_config_dir()
        name = os.environ.get("DOCKER_CONTEXT", "").strip()
        if not name:
            name = json.loads((config / "config.json").read_text()).get("currentContext", "")
        if not name or name == "default":
            return None
        digest = hashlib.sha256(name.encode()).hexdigest()
        meta = json.loads((config / "contexts" / "meta" / digest / "meta.json").read_text())
        host = meta["Endpoints"]["docker"]["Host"]
        return Engine(host, f"the Docker context {name!r}") if host else None
    return None


def tc_host_engine() -> Engine | None:
    """testcontainers' `tc.host` in ~/.testcontainers.properties, which it prefers to
    DOCKER_HOST: the suite prefers it too, so both talk to the same engine."""
    with suppress(OSError):
        for line in (Path.home() / ".testcontainers.properties").read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "tc.host" and value.strip():
                return Engine(value.strip(), "tc.host in ~/.testcontainers.properties")
    return None


def usual_sockets() -> list[Engine]:
    """Where Docker, rootless Docker, Podman and the desktop VMs put their socket.

    The desktop engines run in a VM: their containers see the engine's socket at the VM's own
    path, which Ryuk needs (TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE).
    """
    home = Path.home()
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    vm = "/var/run/docker.sock"
    return [
        Engine("unix:///var/run/docker.sock", "Docker's socket"),
        Engine(f"unix://{runtime}/docker.sock", "rootless Docker's socket"),
        Engine(f"unix://{runtime}/podman/podman.sock", "rootless Podman's socket"),
        Engine("unix:///run/podman/podman.sock", "Podman's socket"),
        Engine(f"unix://{home}/.docker/run/docker.sock", "Docker Desktop's socket", vm),
        Engine(f"unix://{home}/.colima/default/docker.sock", "Colima's socket", vm),
        Engine(f"unix://{home}/.orbstack/run/docker.sock", "OrbStack's socket", vm),
        Engine(f"unix://{home}/.rd/docker.sock", "Rancher Desktop's socket", vm),
    ]


def configured_engine() -> Engine | None:
    """The engine the user named: tc.host, DOCKER_HOST, or the active Docker context."""
    from_env = os.environ.get("DOCKER_HOST", "").strip()
    env = Engine(from_env, "DOCKER_HOST") if from_env else None
    return tc_host_engine() or env or context_engine()


def socket_answers(host: str) -> bool:
    """Whether something listens on a unix:// endpoint (others are left to the ping)."""
    if not host.startswith("unix://"):
        return True
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(1)
            sock.connect(host.removeprefix("unix://"))
    except OSError:
        return False
    return True


@functools.cache
def engine() -> Engine:
    """The engine this run uses: the one the user named, else the first usual socket that
    answers, else Docker's default socket (for the error sentence)."""
    chosen = configured_engine()
    if chosen is None:
        found = (e for e in usual_sockets() if socket_answers(e.host))
        chosen = next(found, usual_sockets()[0])
    return chosen


def hand_engine_over() -> Engine:
    """Make the engine Testcontainers' and the Docker SDK's (DOCKER_HOST, and Ryuk's socket
    for a VM's engine), here and in the processes this one starts; only once a container is
    started, so a run without Docker sets no variable."""
    chosen = engine()
    os.environ["DOCKER_HOST"] = chosen.host
    if chosen.socket_inside and not os.environ.get("TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE"):
        os.environ["TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE"] = chosen.socket_inside
    return chosen


def docker_client(timeout: int = 5) -> Any:
    """A Docker SDK client whose calls wait `timeout` seconds for an answer, or
    ServiceUnavailable in one sentence naming the ways out."""
    found = engine()
    try:
        import docker

        environment = {**os.environ, "DOCKER_HOST": found.host}
        client = docker.from_env(environment=environment, timeout=timeout)
        client.ping()
    except Exception as error:
        reason = str(error).split(":")[0].strip() or type(error).__name__
        tried = found.origin if found.origin != "Docker's socket" else "the usual sockets"
        raise ServiceUnavailable(
            f"no Docker daemon answered at {found.host} ({reason}; from {tried}); start "
            "Docker or name it (DOCKER_HOST, `docker context use`, tc.host), or run with "
            "IT_BACKEND=local (server binaries, no Docker) or IT_BACKEND=url "
            "(a TEST_<SERVICE>_URL per service, e.g. TEST_POSTGRES_URL)"
        ) from error
    return client


def docker_answers() -> bool:
    """Whether a Docker daemon answers, checked cheaply before the SDK is imported."""
    if not socket_answers(engine().host):
        return False
    try:
        docker_client()
    except ServiceUnavailable:
        return False
    return True


def remove_containers(container_id: str | None = None, run_ids: set[str] | None = None) -> None:
    """Remove one container, or every container labelled with one of `run_ids`.

    The low-level listing reads the labels from the list itself: the SDK's `containers.list()`
    inspects each container in turn and fails on one that another run removes meanwhile. A
    container already gone, or being removed by someone else, counts as removed.
    """
    from docker.errors import APIError, NotFound

    # A forced removal waits for the container's processes to die and its volumes to go: on a
    # busy engine that takes longer than a ping's 5 s, and a timeout would leave it running.
    api = docker_client(timeout=REMOVAL_TIMEOUT_SECONDS).api
    if container_id is not None:
        ids = [container_id]
    else:
        listed: list[dict[str, Any]] = api.containers(all=True, filters={"label": RUN_LABEL})
        wanted = run_ids or set()
        ids = [c["Id"] for c in listed if (c.get("Labels") or {}).get(RUN_LABEL) in wanted]
    for found in ids:
        try:
            api.remove_container(found, force=True, v=True)
        except NotFound:
            continue  # already gone
        except APIError as exc:
            if exc.status_code != 409:  # 409: its removal is already in progress
                raise
