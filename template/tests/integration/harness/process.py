# Managed by it-template: local changes may conflict on copier update.
"""Local server processes: free ports, an unprivileged user under root, start and stop."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

UNPRIVILEGED_USER = "nobody"
CHILDREN: dict[int, subprocess.Popen[bytes]] = {}  # servers this process started, until stopped


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def running_as_root() -> bool:
    """Whether this process has the effective uid 0."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def hand_over(path: Path, user: str | None) -> None:
    """Give `path` and everything under it to `user` (no-op without one)."""
    if user is None:
        return
    account = pwd.getpwnam(user)
    chown = shutil.which("chown")
    if chown is not None:  # one process, holding no lock of this one (see copy_tree)
        owner = f"{account.pw_uid}:{account.pw_gid}"
        if subprocess.run([chown, "-R", owner, str(path)], check=False).returncode == 0:
            return
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            os.chown(os.path.join(root, name), account.pw_uid, account.pw_gid)
    os.chown(path, account.pw_uid, account.pw_gid)


def started_at(pid: int) -> str | None:
    """The start time of process `pid` as the kernel reports it, to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def is_alive(pid: int, started: str | None) -> bool:
    """Whether `pid` runs and is still the process that started at `started`."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if started is None or not Path("/proc").is_dir():
        return True
    return started_at(pid) == started


def spawn(
    argv: list[str], cwd: Path, log: Path, user: str | None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a server detached from the terminal, so Ctrl-C reaches pytest and not the server."""
    account = pwd.getpwnam(user) if user else None
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, **env} if env else None,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )
    CHILDREN[process.pid] = process
    return process


def run_as(argv: list[str], user: str | None, stdin: str = "") -> None:
    """Run a short command to completion as `user`; its output is shown only if it fails."""
    account = pwd.getpwnam(user) if user else None
    result = subprocess.run(
        argv,
        input=stdin.encode(),
        capture_output=True,
        env={**os.environ, "LC_ALL": "C"},
        user=account.pw_uid if account else None,
        group=account.pw_gid if account else None,
        extra_groups=[] if account else None,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace").strip()
        raise RuntimeError(f"{' '.join(argv[:2])} failed: {output[-500:]}")


def stop(pid: int, started: str | None, stop_signal: str, timeout: float = 15.0) -> None:
    """Stop a server process with its own shutdown signal, then SIGKILL if it lingers."""
    child = CHILDREN.pop(pid, None)
    if not is_alive(pid, started):
        return
    os.kill(pid, signal.Signals[stop_signal])
    if child is not None:
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        if not is_alive(pid, started):
            return
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)


def processes_in(directory: Path) -> list[int]:
    """Pids of the processes started in `directory` or naming it on their command line."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cwd = os.readlink(proc / "cwd")
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if cwd.startswith(str(directory)) or str(directory).encode() in cmdline:
            found.append(int(proc.name))
    return [pid for pid in found if pid != os.getpid()]


def copy_tree(source: Path, target: Path) -> None:
    """Copy a directory (a data directory, before each run): with `cp -a` where there is one,
    which holds no lock of this process, so the copy overlaps the imports of startup."""
    cp = shutil.which("cp")
    if cp is None:
        shutil.copytree(source, target, symlinks=True)
        return
    done = subprocess.run([cp, "-a", str(source), str(target)], capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"cp -a {source} {target} failed: {done.stderr.decode().strip()}")


def reachable_by(path: Path, user: str | None) -> bool:
    """Whether every directory above `path` lets other users pass (always true without `user`)."""
    return user is None or all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])


def readable_copy(source: Path, cache: Path, user: str | None) -> Path:
    """`source` itself, or a copy under `cache` when `user` cannot reach it (e.g. under /root)."""
    if reachable_by(source, user):
        return source
    digest = hashlib.sha256(str(source).encode()).hexdigest()[:12]
    target = cache / f"{source.name}-{digest}"
    if not target.exists():
        partial = target.with_suffix(".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(source, partial, symlinks=True)
        partial.rename(target)
    return target


def tail(path: Path, lines: int = 5) -> str:
    """The last lines of a log file, for an error message."""
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""
