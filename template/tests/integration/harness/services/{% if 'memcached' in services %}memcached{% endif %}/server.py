# Managed by it-template: local changes may conflict on copier update.
"""Memcached: the same recipe as every service (probe, local process, container, URL)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pymemcache.client.base import Client

from ...base import LocalCommand, Service, ServiceUnavailable
from ...process import UNPRIVILEGED_USER, running_as_root


def address(url: str) -> tuple[str, int]:
    """Host and port of a memcached://host:port URL."""
    parts = urlsplit(url)
    if parts.scheme != "memcached" or not parts.hostname:
        raise ValueError(f"{url!r} is not a memcached://HOST:PORT URL")
    return parts.hostname, parts.port or Memcached.port


def find_server() -> tuple[Path, str]:
    """A `memcached` binary, and where it comes from."""
    on_path = shutil.which("memcached") or shutil.which("memcached", path="/usr/bin:/usr/sbin")
    if on_path:
        return Path(on_path), f"memcached at {on_path}"
    raise ServiceUnavailable(
        "no memcached binary was found (install memcached, or run with IT_BACKEND=docker, "
        "or IT_BACKEND=url with TEST_MEMCACHED_URL)"
    )


class Memcached(Service):
    """Memcached with a small memory limit: a cache for tests."""

    name = "memcached"
    port = 11211
    direct_route = True

    def probe(self, url: str) -> str:
        """Write, read back and delete a key; a `version` answer alone is not a round trip."""
        client = Client(address(url), connect_timeout=3, timeout=3)
        try:
            client.set("it-template:probe", b"1", expire=5)
            if client.get("it-template:probe") != b"1":
                raise RuntimeError("Memcached did not return the value just written")
            client.delete("it-template:probe")
            return str(client.version().decode())
        finally:
            client.close()

    def local_command(self, workdir: Path, port: int) -> LocalCommand:
        """Serve on 127.0.0.1:`port` only, TCP only, with 64 MB of memory."""
        binary, source = find_server()
        argv = [str(binary), "--listen=127.0.0.1", f"--port={port}", "--udp-port=0"]
        argv += ["--memory-limit=64"]
        # memcached refuses to run as root without -u; run it as the unprivileged user instead.
        user = UNPRIVILEGED_USER if running_as_root() else None
        return LocalCommand(argv, source=source, user=user)

    def local_url(self, port: int) -> str:
        """URL of a local server."""
        return f"memcached://127.0.0.1:{port}"

    def container(self, image: str) -> Any:
        """A Memcached container with 64 MB of memory; `probe` decides when it is ready.

        A plain container: testcontainers' MemcachedContainer adds only a readiness check, and
        its module warns of a deprecation on import, which the suite's warning filter fails on.
        """
        from testcontainers.core.container import DockerContainer

        container = DockerContainer(image).with_exposed_ports(self.port)
        return container.with_command("memcached --memory-limit=64")

    def container_url(self, container: Any) -> str:
        """URL of a started container."""
        host = container.get_container_host_ip()
        return f"memcached://{host}:{container.get_exposed_port(self.port)}"


SERVICE = Memcached()
