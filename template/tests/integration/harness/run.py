# Managed by it-template: local changes may conflict on copier update.
"""One run of the suite: a shared directory, a lock, who uses the servers and who stops them."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from .base import Server, ServiceUnavailable
from .process import is_alive, processes_in, running_as_root, started_at
from .process import stop as stop_process

Stopper = Callable[[dict[str, Server]], None]


def state_root() -> Path:
    """Where runs keep their servers' files: tmpfs when there is room, else the temp dir."""
    configured = os.environ.get("IT_STATE_DIR")
    if configured:
        base = Path(configured)
    else:
        shm = Path("/dev/shm")
        roomy = shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2**30
        base = shm if roomy else Path(tempfile.gettempdir())
    root = base / f"it-template-{os.getuid()}"
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o711)  # an unprivileged server user may pass through, not list
    return root


def cache_root() -> Path:
    """Where initialised data directories and copied binaries are kept between runs."""
    configured = os.environ.get("IT_CACHE_DIR")
    if configured:
        root = Path(configured)
    elif running_as_root():
        root = Path("/var/tmp/it-template-cache")
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(xdg) / "it-template"
    root.mkdir(parents=True, exist_ok=True)
    if running_as_root():
        root.chmod(0o755)  # the unprivileged server user reads binaries and clusters here
    return root


def me() -> list[Any]:
    """This process, as it is recorded among a run's users."""
    return [os.getpid(), started_at(os.getpid())]


class Run:
    """The directory shared by every process of one pytest run, and its state file."""

    def __init__(self, run_id: str) -> None:
        self.id = run_id
        self.dir = state_root() / run_id
        self.lock = FileLock(f"{self.dir}.lock")
        self._joined = False
        self.started_here = False  # whether this process started the run's servers

    @property
    def ended_file(self) -> Path:
        """Where the watchdog writes which server ended while the run used it (`watchdog.py`)."""
        return self.dir / "ended"

    @property
    def state_file(self) -> Path:
        """The JSON file every process of the run reads the servers from."""
        return self.dir / "state.json"

    def read(self) -> dict[str, Any] | None:
        """The run's state, or None before the servers are started."""
        try:
            state: dict[str, Any] = json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return None
        return state

    def write(self, state: dict[str, Any]) -> None:
        """Replace the state file atomically."""
        partial = self.state_file.with_suffix(".partial")
        partial.write_text(json.dumps(state, indent=2))
        partial.replace(self.state_file)

    @contextmanager
    def locked_state(self) -> Iterator[dict[str, Any]]:
        """The state under the run's lock; changes to it are written back."""
        with self.lock:
            state = self.read()
            if state is None:
                raise RuntimeError(f"run {self.id} has no servers")
            yield state
            self.write(state)

    def join(
        self, start: Callable[[Run], dict[str, Server]], owner_stops: bool
    ) -> dict[str, Server]:
        """Use the run's servers, starting them first if no process of the run has yet.

        The first process to take the lock starts them. With `owner_stops`, that process
        stops them when it leaves (pytest's controller outlives every xdist worker);
        otherwise the last process to leave does.
        """
        try:
            with self.lock:
                state = self._join_locked(start, owner_stops)
        except BaseException:
            if not self.dir.exists():
                Path(self.lock.lock_file).unlink(missing_ok=True)
            raise
        self._joined = True
        return {name: Server.from_json(data) for name, data in state["servers"].items()}

    def _join_locked(
        self, start: Callable[[Run], dict[str, Server]], owner_stops: bool
    ) -> dict[str, Any]:
        """`join`'s work, under the lock."""
        state = self.read()
        if state is None:
            self.dir.mkdir(mode=0o711, parents=True, exist_ok=True)
            self.dir.chmod(0o711)
            try:
                servers = start(self)
            except BaseException:
                shutil.rmtree(self.dir, ignore_errors=True)
                raise
            self.started_here = True
            state = {
                "servers": {name: s.to_json() for name, s in servers.items()},
                "owner": me() if owner_stops else None,
                "users": [],
                "created": time.time(),
            }
        state["users"].append(me())
        self.write(state)
        return state

    def leave(self, stop: Stopper) -> None:
        """Stop using the servers; stop them if this process is their owner or the last user."""
        if not self._joined:
            return
        with self.lock:
            state = self.read()
            # None: the run is over, its owner's watchdog stopped the servers (a killed owner)
            last = state is None or state["owner"] == me()
            if state is not None:
                state["users"] = [u for u in state["users"] if u != me() and is_alive(*u)]
                last = last or not state["users"]
                if last:
                    self._finish(state, stop)
                else:
                    self.write(state)
        self._joined = False
        if last:
            Path(self.lock.lock_file).unlink(missing_ok=True)

    def _finish(self, state: dict[str, Any], stop: Stopper) -> None:
        """Stop the servers and remove the run's files."""
        # Interrupted here, the state stays behind: this process's atexit or the next run's
        # janitor stops what is left. The watchdog takes the servers' ends for the run's.
        self.write({**state, "stopping": True})
        stop({name: Server.from_json(data) for name, data in state["servers"].items()})
        shutil.rmtree(self.dir, ignore_errors=True)

    def _finish_unrecorded(self) -> None:
        """Stop the servers of a run killed while it started them, before it wrote its state."""
        for pid in processes_in(self.dir):
            stop_process(pid, started_at(pid), "SIGTERM")
        shutil.rmtree(self.dir, ignore_errors=True)

    def reap(self, stop: Stopper, timeout: float = 0) -> bool:
        """Stop the servers if every process that used the run is gone; whether it did.

        Raises filelock's Timeout when a live process holds the run's lock past `timeout`.
        """
        with self.lock.acquire(timeout=timeout):
            if not self.abandoned():
                return False
            state = self.read()
            if state is None:
                self._finish_unrecorded()
            else:
                self._finish(state, stop)
        Path(self.lock.lock_file).unlink(missing_ok=True)
        return True

    def abandoned(self) -> bool:
        """Whether every process that used this run is gone (a killed run); call under the lock."""
        state = self.read()
        if state is None:
            # Servers are started under the lock and the state is written before its release,
            # so no state means a start that was killed; the age check leaves alone a run that
            # created its lock file a moment ago and has not taken the lock yet.
            lock_file = Path(self.lock.lock_file)
            return not lock_file.exists() or time.time() - lock_file.stat().st_mtime > 10
        owner = state.get("owner")
        if owner and not is_alive(*owner):
            return True
        return not any(is_alive(*user) for user in state["users"])


def reap_abandoned(stop: Stopper, keep: str) -> list[str]:
    """Stop the servers of runs whose processes were all killed; return their ids."""
    reaped = []
    for lock_file in state_root().glob("*.lock"):
        run = Run(lock_file.name.removesuffix(".lock"))
        if run.id == keep:
            continue
        try:
            if run.reap(stop):
                reaped.append(run.id)
        except Timeout:
            continue  # a live run holds it
        except ServiceUnavailable:
            continue  # e.g. its containers, with no Docker now: left for a run that reaches them
    return reaped
