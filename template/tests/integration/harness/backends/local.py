# Managed by it-template: local changes may conflict on copier update.
"""The `local` backend: a server binary run in the run's directory on a free loopback port."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from .. import config
from ..base import Backend, Server, Service, ServiceUnavailable, wait_until_ready
from ..process import free_port, spawn, started_at, tail
from ..process import stop as stop_process

# How a server says its port was taken between free_port() and its bind: PostgreSQL and MariaDB,
# RabbitMQ (Erlang), WireMock (Jetty, whose last lines name only the port). Matched in lower case.
PORT_TAKEN = ("already in use", "eaddrinuse", "failed to bind")


def log_text(log: Path) -> str:
    """A server's whole log in lower case, or "" if it wrote none."""
    try:
        return log.read_text(errors="replace").lower()
    except OSError:
        return ""


class LocalBackend(Backend):
    """A server binary started by the run, no Docker."""

    name = "local"

    def start(self, service: Service, run_dir: Path, run_id: str) -> Server:
        """Start the binary, then wait for a real round trip; retry if the port was taken."""
        began = time.monotonic()
        workdir = run_dir / service.name
        for attempt in range(3):
            workdir.mkdir(mode=0o711, exist_ok=attempt > 0)
            port = free_port()
            command = service.local_command(workdir, port)
            log = run_dir / f"{service.name}.log"
            process = spawn(command.argv, workdir, log, command.user, command.env)
            url = service.local_url(port)
            try:
                version = wait_until_ready(
                    lambda url=url: service.probe(url),  # type: ignore[misc]
                    config.START_TIMEOUT_SECONDS,
                    alive=lambda process=process: process.poll() is None,  # type: ignore[misc]
                )
            except BaseException as error:
                stop_process(process.pid, None, command.stop_signal)
                process.wait()
                last_lines = tail(log)
                port_taken = any(marker in log_text(log) for marker in PORT_TAKEN)
                if port_taken and attempt < 2:
                    shutil.rmtree(workdir, ignore_errors=True)
                    continue
                if isinstance(error, ServiceUnavailable):
                    raise ServiceUnavailable(
                        f"{command.source} did not start: {last_lines}"
                    ) from error
                raise
            return Server(
                service.name,
                self.name,
                url,
                version,
                command.source,
                time.monotonic() - began,
                pid=process.pid,
                pid_started=started_at(process.pid),
                stop_signal=command.stop_signal,
                extra={"workdir": str(workdir)},
            )
        raise AssertionError("unreachable")

    def stop(self, service: Service, server: Server) -> None:
        """Stop the process with the signal its server shuts down cleanly on."""
        pid = server.pid
        if pid is None:
            return
        if "workdir" not in server.extra:  # a server of a release that did not record it
            stop_process(pid, server.pid_started, server.stop_signal)
            return
        service.stop_local(
            Path(server.extra["workdir"]),
            lambda stop_signal: stop_process(pid, server.pid_started, stop_signal),
            server.stop_signal,
        )
