# Managed by it-template: local changes may conflict on copier update.
"""Watch a run from outside it: reap it within seconds of a SIGKILL, stop it when a server dies.

The process that starts a run's servers also starts this one, in a session of its own, so that
neither Ctrl-C nor a SIGKILL of the whole process group (a cancelled CI job) reaches it. It
sleeps on the kernel's word (a pidfd per process, Docker's event stream per container) and
wakes when:

- the run's owner exits. A run that ended normally has stopped its servers and removed its
  directory by then, and the watchdog exits too. Otherwise the run was killed: it stops the
  servers and removes the containers the run left (Ryuk's job, for every backend); the next
  run's janitor (`run.reap_abandoned`) stays as a second line.
- a server's process exits or its container stops while the run uses it. It writes one
  sentence (the service, how it ended, the tail of its log) to the run's `ended` file; each
  process of the run reads it before its next test and stops the run with it (`plugin.py`).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .base import Server
from .process import is_alive, tail
from .run import Run

POLL_SECONDS = 0.5  # where the kernel cannot say when a process exits (no pidfd)
REAP_SECONDS = 60  # how long a killed run's reaping is retried (a busy Docker engine)


def start(run: Run) -> subprocess.Popen[bytes]:
    """Start the watchdog of `run`, which this process has just started the servers of."""
    package = __package__ or "harness"
    root = Path(__file__).resolve().parents[len(package.split("."))]  # where `package` is found
    with (run.dir / "watchdog.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", f"{package}.watchdog", run.id],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def log(message: str) -> None:
    """A line of the watchdog's log (`watchdog.log` in the run's directory, kept on failure)."""
    print(f"{time.strftime('%H:%M:%S')}.{int(time.time() * 1000) % 1000:03d} {message}", flush=True)


def watched(state: dict[str, Any]) -> list[list[Any]]:
    """The processes whose exit ends the run: its owner, else each of its users."""
    owner = state.get("owner")
    return [owner] if owner else list(state.get("users", []))


def how_it_ended(pid: int) -> str:
    """How process `pid` ended, read from its zombie's /proc entry while its parent has not
    collected it (the kernel keeps the wait status there: field 52 of `stat`)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = int(fields[49])
    except (OSError, IndexError, ValueError):
        return "exited"
    if status & 0x7F:
        return f"was killed by {signal.Signals(status & 0x7F).name}"
    return f"exited with status {status >> 8}"


def report_end(run: Run, server: Server, how: str, log_tail: str) -> None:
    """Write the sentence that stops the run, unless the run is stopping its servers itself."""
    state = run.read()
    if state is None or state.get("stopping"):
        return
    sentence = (
        f"The {server.service} server ({server.source}) {how} during the run, so the run "
        f"stops here; its log ends: {log_tail or '(nothing)'}"
    )
    partial = run.ended_file.with_suffix(".partial")
    try:
        partial.write_text(sentence)
        partial.replace(run.ended_file)
    except OSError:
        pass  # the run's directory is gone: it ended meanwhile


class Pidfds:
    """The processes to wake on: the run's owner (or users) and its local servers."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers: dict[int, Server] = {}
        for server in servers:
            if server.pid is not None and is_alive(server.pid, server.pid_started):
                self.servers[open_pidfd(server.pid)] = server

    def wait(self, watched_pid: int, started: str | None) -> Server | None:
        """Sleep until the watched process or a server exits; the server, or None."""
        try:
            handle = open_pidfd(watched_pid)
        except ProcessLookupError:  # it exited, and was collected, since it was seen alive
            return None
        try:
            if not is_alive(watched_pid, started):  # the pid was reused before it was opened
                return None
            poller = select.poll()
            for fd in [handle, *self.servers]:
                poller.register(fd, select.POLLIN)
            ready = {fd for fd, _ in poller.poll()}
        finally:
            os.close(handle)
        for fd in ready & self.servers.keys():
            os.close(fd)
            return self.servers.pop(fd)
        return None


def open_pidfd(pid: int) -> int:
    """A pidfd of `pid`; OSError where the kernel has none (before Linux 5.3, not Linux)."""
    if not hasattr(os, "pidfd_open"):
        raise OSError("no pidfd here")
    return os.pidfd_open(pid)


def watch_processes(run: Run, servers: list[Server]) -> None:
    """Return when every process of the run has exited; report a local server that ends first."""
    try:
        pidfds: Pidfds | None = Pidfds(servers)
    except OSError:
        pidfds = None
    local = [s for s in servers if s.pid is not None]
    while (state := run.read()) is not None:
        alive = [process for process in watched(state) if is_alive(*process)]
        if not alive:
            return
        if pidfds is None:  # poll
            for server in [s for s in local if not is_alive(s.pid or 0, s.pid_started)]:
                local.remove(server)
                log = tail(run.dir / f"{server.service}.log")
                report_end(run, server, "exited", log)
            time.sleep(POLL_SECONDS)
            continue
        ended = pidfds.wait(*alive[0])
        if ended is not None and ended.pid is not None:
            log = tail(run.dir / f"{ended.service}.log")
            report_end(run, ended, how_it_ended(ended.pid), log)


def watch_containers(run: Run, servers: list[Server]) -> None:
    """Report a container of the run that stops while the run uses it (Docker's events)."""
    from .backends.docker import RUN_LABEL, docker_client

    by_id = {s.container_id: s for s in servers if s.container_id}
    client = docker_client()
    filters = {"event": "die", "label": f"{RUN_LABEL}={run.id}"}
    events = client.events(decode=True, filters=filters)
    for container_id, server in by_id.items():  # one that stopped before the stream began
        if not client.api.inspect_container(container_id)["State"]["Running"]:
            report_container(run, client, server, container_id)
    for event in events:
        stopped = by_id.get(event.get("id", ""))
        if stopped is not None:
            report_container(run, client, stopped, event["id"])


def report_container(run: Run, client: Any, server: Server, container_id: str) -> None:
    """Report that the container of `server` stopped, with its exit code and last log lines."""
    state = client.api.inspect_container(container_id)["State"]
    logs = client.api.logs(container_id, tail=5).decode(errors="replace").strip()
    how = f"stopped (container {container_id[:12]}, exit code {state.get('ExitCode')})"
    report_end(run, server, how, " | ".join(logs.splitlines()))


def watch(run: Run) -> None:
    """Watch the run until it ends; then stop what it left running, if it was killed."""
    state = run.read()
    if state is None:
        return
    servers = [Server.from_json(data) for data in state["servers"].values()]
    log(f"watching run {run.id}: {', '.join(s.service for s in servers)}; owner {watched(state)}")
    if any(s.container_id for s in servers):
        threading.Thread(target=watch_containers, args=(run, servers), daemon=True).start()
    watch_processes(run, servers)
    if run.read() is None:
        return  # the run stopped its own servers
    reap(run)


def reap(run: Run) -> None:
    """Stop the servers of a killed run, retrying while the engine or a server is slow."""
    from .lifecycle import stop_all

    log("the run's processes are gone without stopping its servers: stopping them")
    began = time.monotonic()
    while True:
        try:
            run.reap(stop_all, timeout=REAP_SECONDS)
        except Exception as error:
            log(f"stopping failed ({type(error).__name__}: {error})")
            if time.monotonic() - began > REAP_SECONDS:
                raise
            time.sleep(POLL_SECONDS)
        else:
            log(f"stopped in {time.monotonic() - began:.2f} s")
            return


def main() -> None:
    """`python -m <package>.watchdog RUN_ID`."""
    watch(Run(sys.argv[1]))


if __name__ == "__main__":
    main()
