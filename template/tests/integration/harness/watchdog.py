# Managed by it-template: local changes may conflict on copier update.
"""Stop a run's servers within seconds of a SIGKILL: Ryuk's job, for every backend.

The process that starts a run's servers also starts this one, in a session of its own, so that
neither Ctrl-C nor a SIGKILL of the whole process group (a cancelled CI job) reaches it. It
sleeps until the run's owner exits; a run that ended normally has stopped its servers and
removed its directory by then, and the watchdog exits too. Otherwise the run was killed: it
stops the servers and removes the containers the run left, and the next run's janitor
(`run.reap_abandoned`) stays as a second line.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .process import is_alive
from .run import Run

POLL_SECONDS = 0.5  # where the kernel cannot say when a process exits (no pidfd)


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


def wait_for_exit(pid: int, started: str | None) -> None:
    """Return when process `pid` (the one that started at `started`) has exited."""
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux, or the process is already gone
        while is_alive(pid, started):
            time.sleep(POLL_SECONDS)
        return
    try:
        if is_alive(pid, started):  # the pid was not reused before it was opened
            poller = select.poll()
            poller.register(handle, select.POLLIN)
            poller.poll()
    finally:
        os.close(handle)


def watched(state: dict[str, Any]) -> list[list[Any]]:
    """The processes whose exit ends the run: its owner, else each of its users."""
    owner = state.get("owner")
    return [owner] if owner else list(state.get("users", []))


def watch(run: Run) -> None:
    """Wait until every process of the run has exited; then stop what it left running."""
    while (state := run.read()) is not None:
        alive = [process for process in watched(state) if is_alive(*process)]
        if not alive:
            break
        wait_for_exit(*alive[0])
    if run.read() is None:
        return  # the run stopped its own servers
    from .lifecycle import stop_all

    run.reap(stop_all, timeout=60)


def main() -> None:
    """`python -m <package>.watchdog RUN_ID`."""
    watch(Run(sys.argv[1]))


if __name__ == "__main__":
    main()
