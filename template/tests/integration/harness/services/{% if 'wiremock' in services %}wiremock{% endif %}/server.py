# Managed by it-template: local changes may conflict on copier update.
"""WireMock, the HTTP API mock server: the same recipe as every service.

The `local` backend runs WireMock's standalone jar with `java` (17 or later) from PATH. The jar
is the one the npm package `wiremock` ships (`npm install --global wiremock@3.13.2`, or into
the project's node_modules), or any jar `IT_WIREMOCK_JAR` names. The `docker` backend runs the
official image, `url` any WireMock a team already runs (`http://host:port`).

A team's shared mappings (WireMock's own layout: `mappings/*.json` and `__files/`) are served
from `tests/integration/wiremock/` when that folder exists, or from the folder
`IT_WIREMOCK_ROOT` names; the tests' own stubs come through the admin API (`fixtures.py`).
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ... import config
from ...base import LocalCommand, Service, ServiceUnavailable

NPM_PACKAGE = "wiremock@3.13.2"  # the same release as the pinned image
# The JVM of a throw-away server: C1 only and the serial collector start it ~30% sooner.
JAVA_OPTIONS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
CONTAINER_HOME = "/home/wiremock"  # the official image's root directory


def admin(url: str, path: str, body: Any = None, method: str | None = None) -> Any:
    """Call WireMock's admin API at `url` (its base URL) and return the decoded JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url.rstrip('/')}/__admin/{path}",
        data=data,
        method=method or ("GET" if data is None else "POST"),
        headers={"Content-Type": "application/json"} if data is not None else {},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        answer = response.read()
    return json.loads(answer) if answer.strip() else None


def shared_mappings() -> Path | None:
    """The folder of a team's shared mappings, if there is one."""
    named = os.environ.get("IT_WIREMOCK_ROOT")
    root = Path(named) if named else config.PROJECT_ROOT / "tests" / "integration" / "wiremock"
    if named and not root.is_dir():
        raise ServiceUnavailable(f"IT_WIREMOCK_ROOT names {root}, which is not a directory")
    return root if root.is_dir() else None


def find_jar() -> tuple[Path, str]:
    """WireMock's standalone jar: IT_WIREMOCK_JAR, the project's node_modules, or the npm
    package of the `wiremock` command on PATH."""
    named = os.environ.get("IT_WIREMOCK_JAR")
    if named:
        if Path(named).is_file():
            return Path(named), f"IT_WIREMOCK_JAR={named}"
        raise ServiceUnavailable(f"IT_WIREMOCK_JAR names {named}, which is not a file")
    packages = [config.PROJECT_ROOT / "node_modules" / "wiremock"]
    command = shutil.which("wiremock")
    if command:  # npm links the package's index.js onto PATH
        packages.append(Path(command).resolve().parent)
    for package in packages:
        jars = sorted(package.glob("build/wiremock-standalone-*.jar"))
        if jars:
            return jars[-1], f"npm package in {package}"
    raise ServiceUnavailable(
        f"no WireMock jar was found (`npm install --global {NPM_PACKAGE}` puts it on PATH, or "
        "set IT_WIREMOCK_JAR to a wiremock-standalone jar; it runs with `java` 17 or later); "
        "or run with IT_BACKEND=docker, or IT_BACKEND=url with TEST_WIREMOCK_URL"
    )


def find_java() -> Path:
    """The `java` of JAVA_HOME, or on PATH."""
    home = os.environ.get("JAVA_HOME")
    java = Path(home) / "bin" / "java" if home else None
    if java is not None and java.is_file():
        return java
    found = shutil.which("java")
    if found:
        return Path(found)
    raise ServiceUnavailable(
        "no `java` was found for WireMock's jar (install a Java 17+ runtime, e.g. "
        "`apt-get install openjdk-17-jre-headless`, or set JAVA_HOME); or run with "
        "IT_BACKEND=docker, or IT_BACKEND=url with TEST_WIREMOCK_URL"
    )


class WireMock(Service):
    """WireMock standalone, stubs and requests through its admin API."""

    name = "wiremock"
    port = 8080

    def probe(self, url: str) -> str:
        """Register a stub, call it, and remove both; the version from /__admin/health."""
        version = str(admin(url, "health")["version"])
        token = uuid.uuid4().hex
        path = f"/it-template-probe/{token}"
        mapping = admin(
            url,
            "mappings",
            {"request": {"method": "GET", "urlPath": path}, "response": {"body": token}},
        )
        try:
            with urllib.request.urlopen(f"{url.rstrip('/')}{path}", timeout=5) as response:
                if response.read().decode() != token:
                    raise RuntimeError("WireMock did not answer with the stub just registered")
        finally:
            admin(url, f"mappings/{mapping['id']}", method="DELETE")
            admin(url, "requests/remove", {"urlPath": path})
        return version

    def check_url(self, url: str) -> None:
        """Refuse anything but an http(s):// URL."""
        if urlsplit(url).scheme not in {"http", "https"}:
            raise ValueError(f"{self.url_variable} must look like http://host:8080, not {url!r}.")

    def local_command(self, workdir: Path, port: int) -> LocalCommand:
        """The jar on 127.0.0.1:`port`, serving a copy of the shared mappings (WireMock adds
        folders to its root, and the team's stays as it is) or nothing, from `workdir`."""
        jar, source = find_jar()
        java = find_java()
        root = workdir / "root"
        shared = shared_mappings()
        if shared is not None:
            shutil.copytree(shared, root)
        for folder in ("mappings", "__files"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        argv = [str(java), *JAVA_OPTIONS, "-jar", str(jar), "--port", str(port)]
        argv += ["--bind-address", "127.0.0.1", "--root-dir", str(root), "--disable-banner"]
        return LocalCommand(argv, source)

    def local_url(self, port: int) -> str:
        """The base URL of a local server."""
        return f"http://127.0.0.1:{port}"

    def container(self, image: str) -> Any:
        """A WireMock container, with the shared mappings mounted read-only if there are any.

        A plain container: Testcontainers for Python has no WireMock module.
        """
        from testcontainers.core.container import DockerContainer

        container = DockerContainer(image).with_exposed_ports(self.port)
        root = shared_mappings()
        if root is not None:
            container = container.with_volume_mapping(str(root), CONTAINER_HOME, "ro")
        return container.with_command("--disable-banner")

    def container_url(self, container: Any) -> str:
        """The base URL of a started container."""
        host = container.get_container_host_ip()
        return f"http://{host}:{container.get_exposed_port(self.port)}"


SERVICE = WireMock()
