# Managed by it-template: local changes may conflict on copier update.
"""MySQL or MariaDB: the same recipe as every service (probe, local process, container, URL)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import pymysql
from filelock import FileLock

from ... import config
from ...base import LocalCommand, Service, ServiceUnavailable
from ...process import (
    UNPRIVILEGED_USER,
    copy_tree,
    hand_over,
    reachable_by,
    run_as,
    running_as_root,
)
from ...run import cache_root
from ...safety import ensure_test_database

SBIN = "/usr/sbin:/usr/local/sbin:/usr/local/mysql/bin"
# Durability off and small buffers: a crash loses nothing worth keeping in a test database.
SPEED_SETTINGS = (
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-log-file-size=8M",
    "--innodb-buffer-pool-size=64M",
    "--skip-log-bin",
)


def connect_arguments(url: str) -> dict[str, Any]:
    """PyMySQL's keyword arguments for a mysql://user:password@host:port/database URL."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("mysql") or not parts.hostname:
        raise ValueError(f"{url!r} is not a mysql://USER:PASSWORD@HOST:PORT/DATABASE URL")
    return {
        "host": parts.hostname,
        "port": parts.port or MySQL.port,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
        "database": unquote(parts.path.lstrip("/")) or None,
    }


def sqlalchemy_url(url: str) -> str:
    """`url` with the PyMySQL driver named, as SQLAlchemy reads it."""
    return "mysql+pymysql://" + url.split("://", 1)[1]


def with_database(url: str, name: str) -> str:
    """`url` naming database `name` instead."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def find_server() -> tuple[Path, Path, str, str]:
    """The MariaDB server binary, the script that initialises a data directory, where they come
    from, and the server's version."""
    for server_name in ("mariadbd", "mysqld"):
        server = shutil.which(server_name) or shutil.which(server_name, path=SBIN)
        if not server:
            continue
        version = subprocess.run([server, "--version"], capture_output=True, text=True).stdout
        install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        if "MariaDB" in version and install:
            # "/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu ..."
            return Path(server), Path(install), f"MariaDB server at {server}", version.split()[2]
    raise ServiceUnavailable(
        "no MariaDB server binary was found (install mariadb-server, which provides mariadbd "
        "and mariadb-install-db, or run with IT_BACKEND=docker, or IT_BACKEND=url with "
        "TEST_MYSQL_URL)"
    )


class MySQL(Service):
    """MySQL or MariaDB with a test database named after the project."""

    name = "mysql"
    port = 3306
    direct_route = True

    def probe(self, url: str) -> str:
        """Log in to the test database, write, read back and drop a temporary table."""
        connection = pymysql.connect(**connect_arguments(url), connect_timeout=3)
        try:
            with connection.cursor() as cursor:
                cursor.execute("CREATE TEMPORARY TABLE it_template_probe (n INT)")
                cursor.execute("INSERT INTO it_template_probe VALUES (1)")
                cursor.execute("SELECT n FROM it_template_probe")
                if cursor.fetchone() != (1,):
                    raise RuntimeError("the server did not return the row just written")
                cursor.execute("DROP TEMPORARY TABLE it_template_probe")
                cursor.execute("SELECT VERSION()")
                return str(cursor.fetchone()[0])
        finally:
            connection.close()

    def check_url(self, url: str) -> None:
        """Refuse a database that does not look like a test database, before connecting."""
        ensure_test_database(url)

    def local_command(self, workdir: Path, port: int) -> LocalCommand:
        """Copy a cached, initialised data directory into `workdir` and serve it on `port`."""
        server, install, source, version = find_server()
        user = UNPRIVILEGED_USER if running_as_root() else None
        if not reachable_by(workdir.parent, user):
            raise ServiceUnavailable(
                f"MariaDB is run as {user} under root and {user} cannot reach "
                f"{workdir.parent}; set IT_STATE_DIR to a directory every user may pass "
                "through (e.g. /tmp)"
            )
        data = workdir / "data"
        copy_tree(self._cached_data(install, version, user), data)
        # Run at every start: the test database, and a test user that may make more of them.
        (workdir / "init.sql").write_text(
            f"CREATE DATABASE IF NOT EXISTS `{config.TEST_DATABASE}`;\n"
            f"CREATE USER IF NOT EXISTS '{config.TEST_USER}'@'%' "
            f"IDENTIFIED BY '{config.TEST_PASSWORD}';\n"
            f"GRANT ALL PRIVILEGES ON *.* TO '{config.TEST_USER}'@'%';\n"
        )
        hand_over(workdir, user)
        argv = [str(server), "--no-defaults", f"--datadir={data}", f"--port={port}"]
        argv += ["--bind-address=127.0.0.1", f"--socket={workdir / 'mysqld.sock'}"]
        argv += [f"--pid-file={workdir / 'mysqld.pid'}", "--skip-name-resolve"]
        argv += [f"--init-file={workdir / 'init.sql'}", *SPEED_SETTINGS]
        return LocalCommand(argv, source=source, user=user)

    def local_url(self, port: int) -> str:
        """URL of the test database of a local server."""
        credentials = f"{config.TEST_USER}:{config.TEST_PASSWORD}"
        return f"mysql://{credentials}@127.0.0.1:{port}/{config.TEST_DATABASE}"

    def container(self, image: str) -> Any:
        """A MySQL or MariaDB container with the test database and its data on tmpfs.

        The suite logs in as root: the images grant their ordinary user one database only,
        and the suite makes one per xdist worker.
        """
        from testcontainers.community.mysql import MySqlContainer

        container = MySqlContainer(
            image,
            username="root",
            password=config.TEST_PASSWORD,
            dbname=config.TEST_DATABASE,
            # Our probe decides readiness; the images log this line once or twice.
            wait_strategy_check_string=r".*ready for connections.*",
        )
        return container.with_tmpfs_mount("/var/lib/mysql").with_command(" ".join(SPEED_SETTINGS))

    def container_url(self, container: Any) -> str:
        """URL of the test database in a started container."""
        host = container.get_container_host_ip()
        port = container.get_exposed_port(self.port)
        return f"mysql://root:{config.TEST_PASSWORD}@{host}:{port}/{config.TEST_DATABASE}"

    def _cached_data(self, install: Path, version: str, user: str | None) -> Path:
        """A data directory initialised once per server version."""
        cached = cache_root() / f"mariadb-{version}"
        with FileLock(f"{cached}.lock"):
            if not cached.is_dir():
                partial = cached.with_name(f"{cached.name}.partial")
                shutil.rmtree(partial, ignore_errors=True)
                partial.mkdir(parents=True)
                hand_over(partial, user)
                run_as(
                    [
                        str(install),
                        "--no-defaults",
                        f"--datadir={partial}",
                        "--auth-root-authentication-method=normal",
                        "--skip-test-db",
                        "--skip-name-resolve",
                        "--innodb-log-file-size=8M",
                    ],
                    user,
                )
                partial.rename(cached)
        return cached


SERVICE = MySQL()
