# Managed by it-template: local changes may conflict on copier update.
"""RabbitMQ: the same recipe as every service (probe, local process, container, URL)."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pika

from ... import config
from ...base import LocalCommand, Service, ServiceUnavailable
from ...process import (
    UNPRIVILEGED_USER,
    free_port,
    hand_over,
    reachable_by,
    readable_copy,
    running_as_root,
)
from ...run import cache_root

DEBIAN_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
CORE_APPS = ("rabbit", "rabbitmq_prelaunch")  # the broker without any plugin
APP_DEPENDENCIES = re.compile(
    r"\{\s*(?:applications|included_applications|optional_applications)\s*,\s*\[([^\]]*)\]"
)


def find_server() -> tuple[Path, str]:
    """RabbitMQ's home (holding sbin/rabbitmq-server and plugins/), and where it comes from.

    Debian's /usr/sbin/rabbitmq-server is a wrapper that switches to the rabbitmq user and
    writes to /var/lib/rabbitmq: only the broker's own script, inside its home, is used.
    """
    on_path = shutil.which("rabbitmq-server")
    candidates = [DEBIAN_SERVER, *([Path(on_path)] if on_path else [])]
    for candidate in candidates:
        home = candidate.resolve().parent.parent
        if (home / "sbin" / "rabbitmq-server").is_file() and (home / "plugins").is_dir():
            return home, f"RabbitMQ in {home}"
    raise ServiceUnavailable(
        "no rabbitmq-server was found (install rabbitmq-server, or run with IT_BACKEND=docker, "
        "or IT_BACKEND=url with TEST_RABBITMQ_URL)"
    )


def core_plugins(plugins: Path) -> list[Path]:
    """The directories under `plugins` the broker needs: RabbitMQ's own apps and their deps.

    Each app's .app file names what it depends on; anything else (management, MQTT, ...) is
    left out, which halves start-up: the broker scans every module of the apps it can see.
    """
    directories: dict[str, Path] = {}
    depends: dict[str, list[str]] = {}
    for app_file in plugins.glob("*/ebin/*.app"):
        directories[app_file.stem] = app_file.parent.parent
        names = ",".join(APP_DEPENDENCIES.findall(app_file.read_text(errors="replace")))
        depends[app_file.stem] = [n.strip(" \n\t'") for n in names.split(",") if n.strip()]
    needed: set[str] = set()
    pending = list(CORE_APPS)
    while pending:
        app = pending.pop()
        if app in directories and app not in needed:
            needed.add(app)
            pending += depends[app]
    return sorted(directories[app] for app in needed)


def amqp_url(host: str, port: int | str) -> str:
    """URL of the default virtual host for the test user."""
    user, password = quote(config.TEST_USER, safe=""), quote(config.TEST_PASSWORD, safe="")
    return f"amqp://{user}:{password}@{host}:{port}/%2F"


def server_version(connection: Any) -> str:
    """The broker's version, from the properties it sent when the connection opened.

    pika's BlockingConnection has no public accessor for them: they live on the connection it
    wraps (the public `server_properties` of its SelectConnection).
    """
    properties = getattr(getattr(connection, "_impl", None), "server_properties", None) or {}
    version = properties.get("version", "unknown")
    return version.decode() if isinstance(version, bytes) else str(version)


class RabbitMQ(Service):
    """RabbitMQ with the test user on the default virtual host."""

    name = "rabbitmq"
    port = 5672
    direct_route = True

    def probe(self, url: str) -> str:
        """Declare a queue, publish to it, get the same message back and delete it."""
        parameters = pika.URLParameters(url)
        parameters.connection_attempts = 1
        parameters.socket_timeout = 3
        parameters.blocked_connection_timeout = 3
        body = uuid.uuid4().bytes
        connection = pika.BlockingConnection(parameters)
        try:
            channel = connection.channel()
            queue = f"it-template.probe.{uuid.uuid4().hex}"
            channel.queue_declare(queue, auto_delete=True, arguments={"x-expires": 60_000})
            try:
                channel.basic_publish("", queue, body)
                got = None
                for _ in range(100):  # a publish is asynchronous: the message may lag a little
                    _, _, got = channel.basic_get(queue, auto_ack=True)
                    if got is not None:
                        break
                    connection.sleep(0.01)
                if got != body:
                    raise RuntimeError("RabbitMQ did not return the message just published")
            finally:
                channel.queue_delete(queue)
            return server_version(connection)
        finally:
            if connection.is_open:
                connection.close()

    def local_command(self, workdir: Path, port: int) -> LocalCommand:
        """Run a private node from `workdir` on `port`: its own name, files, cookie; no epmd.

        The node starts Erlang distribution itself, on a second free loopback port and with
        no port mapper (`-start_epmd false -erl_epmd_port`), so no epmd daemon outlives it;
        RabbitMQ then skips its own epmd start. Only RabbitMQ's core apps are visible to it.
        """
        home, source = find_server()
        user = UNPRIVILEGED_USER if running_as_root() else None
        if not reachable_by(workdir.parent, user):
            raise ServiceUnavailable(
                f"RabbitMQ runs as {user} under root and {user} cannot reach {workdir.parent}; "
                "set IT_STATE_DIR to a directory every user may pass through (e.g. /tmp)"
            )
        home = readable_copy(home, cache_root(), user)
        node, dist_port = f"it-{port}@localhost", free_port()
        (workdir / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{port}\n"
            f"default_user = {config.TEST_USER}\n"
            f"default_pass = {config.TEST_PASSWORD}\n"
            "loopback_users = none\n"
            "log.console.level = warning\n"
        )
        (workdir / "enabled_plugins").write_text("[].\n")
        (workdir / "rabbitmq-env.conf").write_text("")  # instead of /etc/rabbitmq's
        hand_over(workdir, user)  # before the links below: chown would follow them
        slim = workdir / "home"
        shutil.rmtree(slim, ignore_errors=True)
        (slim / "sbin").mkdir(parents=True)
        (slim / "plugins").mkdir()
        for script in ("rabbitmq-env", "rabbitmq-defaults"):
            (slim / "sbin" / script).symlink_to(home / "sbin" / script)
        for app in core_plugins(home / "plugins"):
            (slim / "plugins" / app.name).symlink_to(app)
        erl_args = [
            *("-noinput", "-sname", node, "-start_epmd", "false"),
            *("-erl_epmd_port", str(dist_port)),
            *("-kernel", "inet_dist_use_interface", "{127,0,0,1}"),
        ]
        env = {
            "HOME": str(workdir),  # the Erlang cookie
            "RABBITMQ_SCRIPTS_DIR": str(slim / "sbin"),  # makes `slim` RabbitMQ's home
            "RABBITMQ_PLUGINS_DIR": str(slim / "plugins"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(workdir / "plugins-expand"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(workdir / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(workdir / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(workdir / "rabbitmq.conf"),
            "RABBITMQ_CONFIG_FILES": str(workdir / "conf.d"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(workdir / "advanced.config"),
            "RABBITMQ_MOTD_FILE": str(workdir / "motd"),
            "RABBITMQ_MNESIA_BASE": str(workdir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(workdir / "log"),
            "RABBITMQ_LOGS": "-",  # the run's log, where a failed start is reported
            "RABBITMQ_PID_FILE": str(workdir / "rabbitmq.pid"),
            "RABBITMQ_NODENAME": node,
            "RABBITMQ_USE_LONGNAME": "false",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(port),
            "RABBITMQ_DIST_PORT": str(dist_port),
            "RABBITMQ_ENABLED_PLUGINS": "",
            # exec the VM instead of waiting in a shell: the pid stopped is the broker's own
            "RABBITMQ_ALLOW_INPUT": "true",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": " ".join(erl_args),
            "ERL_CRASH_DUMP_SECONDS": "0",  # a failed start is in the log; no dump to write
        }
        # The script hands its arguments to the VM: a flag the VM ignores puts `workdir` on its
        # command line, so a process listing tells which run a broker belongs to.
        argv = [str(home / "sbin" / "rabbitmq-server"), "-it_template_dir", str(workdir)]
        return LocalCommand(argv, source=source, user=user, stop_signal="SIGTERM", env=env)

    def local_url(self, port: int) -> str:
        """URL of a local node's default virtual host."""
        return amqp_url("127.0.0.1", port)

    def container(self, image: str) -> Any:
        """A RabbitMQ container with the test user and its state on tmpfs.

        Testcontainers' RabbitMqContainer is not used: importing it warns (its readiness check
        uses a deprecated decorator), which the suite's `filterwarnings = error` turns into a
        failure; the backend waits with `probe` anyway. The environment is the same.
        """
        from testcontainers.core.container import DockerContainer

        return (
            DockerContainer(image)
            .with_env("RABBITMQ_DEFAULT_USER", config.TEST_USER)
            .with_env("RABBITMQ_DEFAULT_PASS", config.TEST_PASSWORD)
            .with_exposed_ports(self.port)
            .with_tmpfs_mount("/var/lib/rabbitmq")
        )

    def container_url(self, container: Any) -> str:
        """URL of the default virtual host of a started container."""
        host = container.get_container_host_ip()
        return amqp_url(host, container.get_exposed_port(self.port))


SERVICE = RabbitMQ()
