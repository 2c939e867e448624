# Managed by it-template: local changes may conflict on copier update.
"""Print the url backend's variables for the services of docker-compose.test.yml.

    docker-compose -f docker-compose.test.yml up -d
    eval "$(python tests/integration/harness/compose_env.py)"
    IT_BACKEND=url pytest tests/integration

It waits until every service of the file reports healthy (docker-compose 1.29 has no
`up --wait`), asks compose which loopback ports it published, reads the test credentials from
each container's environment, and prints one `export TEST_<SERVICE>_URL=...` per service.
It uses `docker-compose` and falls back to `docker compose` (v2). Pass the same
`-p`/`--project-name` as to `up` if you gave one (COMPOSE_PROJECT_NAME works too).
Only the standard library is needed.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

PROJECT_DIR = Path(__file__).resolve().parents[3]
DEFAULT_FILE = PROJECT_DIR / "docker-compose.test.yml"
# The port each known service listens on inside its container.
PORTS = {
    "postgres": 5432,
    "mysql": 3306,
    "redis": 6379,
    "rabbitmq": 5672,
    "memcached": 11211,
    "kafka": 9092,
    "mongodb": 27017,
    "opensearch": 9200,
    "localstack": 4566,
}


class ComposeError(RuntimeError):
    """Compose or Docker did not give the answer needed; the message says what to do."""


def compose_command() -> list[str]:
    """`docker-compose` (v1 or the v2 standalone binary), else the `docker compose` plugin."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    raise ComposeError("neither `docker-compose` nor `docker compose` is available")


def _run(args: list[str]) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False, cwd=PROJECT_DIR)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise ComposeError(f"`{shlex.join(args)}` failed: {detail}")
    return done.stdout.strip()


class Compose:
    """The few compose questions this script asks, for one file and project name."""

    def __init__(self, file: Path, project: str | None = None) -> None:
        self.base = [*compose_command(), "-f", str(file)]
        if project:
            self.base += ["-p", project]

    def services(self) -> list[str]:
        """The services of the file this script knows how to reach, in the file's order."""
        declared = _run([*self.base, "config", "--services"]).split()
        return [service for service in declared if service in PORTS]

    def container(self, service: str) -> str:
        container_id = _run([*self.base, "ps", "-q", service]).splitlines()
        if not container_id:
            raise ComposeError(
                f"service {service!r} is not running: start it first with "
                f"`{shlex.join(self.base)} up -d`"
            )
        return container_id[0]

    def port(self, service: str, container_port: int) -> tuple[str, int]:
        out = _run([*self.base, "port", service, str(container_port)])
        host, _, port = (out.splitlines() or [""])[0].rpartition(":")
        if not port.isdigit():
            raise ComposeError(f"{service}:{container_port} is not published ({out!r})")
        # A port published on every interface is still reached over loopback.
        if host in {"", "0.0.0.0", "[::]", "::"}:
            host = "127.0.0.1"
        return host, int(port)


def health(container: str) -> str:
    """The health status of a container: starting, healthy, unhealthy, or none (no check)."""
    state = inspect(container)["State"]
    if not state.get("Running"):
        return "exited"
    return str((state.get("Health") or {}).get("Status", "none"))


def wait_healthy(compose: Compose, services: list[str], timeout: float) -> None:
    """Poll until every service is healthy (docker-compose 1.x has no `up --wait`)."""
    deadline = time.monotonic() + timeout
    pending = dict.fromkeys(services, "starting")
    while True:
        for service in list(pending):
            status = health(compose.container(service))
            if status in {"healthy", "none"}:
                del pending[service]
            elif status in {"unhealthy", "exited"}:
                logs = shlex.join([*compose.base, "logs", service])
                raise ComposeError(f"service {service!r} is {status}: see `{logs}`")
            else:
                pending[service] = status
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise ComposeError(f"not healthy after {timeout:g}s: {pending}")
        time.sleep(0.25)


def inspect(container: str) -> dict[str, Any]:
    """What `docker inspect` says of one container."""
    found: list[dict[str, Any]] = json.loads(_run(["docker", "inspect", container]))
    return found[0]


def container_env(container: str) -> dict[str, str]:
    """The environment variables a container was started with."""
    pairs = (item.partition("=") for item in inspect(container)["Config"]["Env"] or [])
    return {key: value for key, _, value in pairs}


def credentials(user: str, password: str) -> str:
    """`user:password@` for a URL, each part quoted."""
    return quote(user, safe="") + (":" + quote(password, safe="") if password else "") + "@"


def url(service: str, env: dict[str, str], host: str, port: int) -> str:
    """The TEST_<SERVICE>_URL of one service, from its container's environment and port."""
    if service == "postgres":
        user = env.get("POSTGRES_USER", "postgres")
        database = env.get("POSTGRES_DB", user)
        login = credentials(user, env.get("POSTGRES_PASSWORD", ""))
        return f"postgresql://{login}{host}:{port}/{quote(database, safe='')}"
    if service == "mysql":
        # Root: the images grant their ordinary user one database, the suite makes more.
        password = env.get("MARIADB_ROOT_PASSWORD") or env.get("MYSQL_ROOT_PASSWORD", "")
        database = env.get("MARIADB_DATABASE") or env.get("MYSQL_DATABASE", "")
        return f"mysql://{credentials('root', password)}{host}:{port}/{quote(database, safe='')}"
    if service == "rabbitmq":
        login = credentials(
            env.get("RABBITMQ_DEFAULT_USER", "guest"), env.get("RABBITMQ_DEFAULT_PASS", "guest")
        )
        vhost = quote(env.get("RABBITMQ_DEFAULT_VHOST", "/"), safe="")
        return f"amqp://{login}{host}:{port}/{vhost}"
    if service == "mongodb":
        login = credentials(
            env.get("MONGO_INITDB_ROOT_USERNAME", "test"),
            env.get("MONGO_INITDB_ROOT_PASSWORD", "test"),
        )
        database = quote(env.get("MONGO_INITDB_DATABASE", "test"), safe="")
        return f"mongodb://{login}{host}:{port}/{database}?authSource=admin"
    if service == "redis":
        return f"redis://{host}:{port}/0"
    if service == "memcached":
        return f"memcached://{host}:{port}"
    if service == "kafka":
        # The port Kafka advertises; published unchanged (IT_KAFKA_PORT, default 29092).
        return f"kafka://{host}:{port}"
    return f"http://{host}:{port}"  # opensearch, localstack


def urls(file: Path = DEFAULT_FILE, project: str | None = None, wait: float = 60) -> dict[str, str]:
    """TEST_<SERVICE>_URL of every running compose service this script knows."""
    compose = Compose(file, project)
    services = compose.services()
    if wait > 0:
        wait_healthy(compose, services, wait)
    found = {}
    for service in services:
        host, port = compose.port(service, PORTS[service])
        env = container_env(compose.container(service))
        found[f"TEST_{service.upper()}_URL"] = url(service, env, host, port)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-f", "--file", type=Path, default=DEFAULT_FILE, help="compose file")
    parser.add_argument("-p", "--project-name", help="compose project name, as given to `up`")
    parser.add_argument(
        "--wait", type=float, default=60, help="seconds to wait for health (0: do not wait)"
    )
    args = parser.parse_args(argv)
    try:
        found = urls(args.file.resolve(), args.project_name, args.wait)
    except ComposeError as error:
        print(f"compose_env: {error}", file=sys.stderr)
        return 1
    for name, value in found.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
