"""Render the template in tests: a base set of answers plus the overrides of one test."""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import copier
from filelock import FileLock

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PACKAGE = "order_service"
JINJA_LEFTOVER = re.compile(r"\{\{|\{%|%\}|\{#")
VENVS = ROOT / "build" / "venvs"


def render(dst: Path, **answers: Any) -> Path:
    """Render the working tree of the template (HEAD plus uncommitted changes) into `dst`."""
    copier.run_copy(
        str(ROOT),
        dst,
        data=answers,
        vcs_ref="HEAD",
        defaults=True,
        overwrite=True,
        quiet=True,
        unsafe=False,
    )
    return dst


def rendered_files(project: Path) -> list[Path]:
    """Every rendered file, relative to the project, outside .git and tool caches."""
    skipped = {".git", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
    return sorted(
        path.relative_to(project)
        for path in project.rglob("*")
        if path.is_file() and not skipped & set(path.relative_to(project).parts)
    )


def environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without pytest-xdist's variables, plus `extra`.

    A rendered suite started from one of this suite's xdist workers would otherwise inherit
    PYTEST_XDIST_WORKER and take its own pytest controller for a worker (and the outer run's
    PYTEST_XDIST_TESTRUNUID for its run id), which is never how a user runs it.
    """
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}
    return {**inherited, **(extra or {})}


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output as text; never raises on a non-zero exit."""
    return subprocess.run(
        args,
        cwd=cwd,
        env=environ(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def tool(name: str) -> str:
    """Path of a console script installed next to the interpreter running the tests."""
    return str(Path(sys.executable).parent / name)


def cached_venv(
    requirements: Path,
    extra: list[str],
    base: str = sys.executable,
    inside: list[str] | None = None,
) -> Path:
    """Python of a virtual environment with `requirements` and `extra` installed.

    Cached in build/venvs/<major.minor>-<hash of both> and built once under a file lock, so
    every test session and script asking for the same set shares it (the scheme of the
    `rendered_python` fixture). `base` is the interpreter the environment is made from; with
    `inside` (a command prefix, as from `newer_python`) `base` runs through it, and so does the
    returned path: a script that runs the environment's Python there.
    """
    prefix = inside or []
    quiet = ["-q", "--disable-pip-version-check"]
    version = subprocess.run(
        [*prefix, base, "-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    digest = hashlib.sha256(requirements.read_bytes() + str(extra).encode()).hexdigest()
    venv = VENVS / f"{version}-{digest[:12]}"
    python = venv / "bin" / "python"
    VENVS.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{venv}.lock"):
        if not (venv / "ready").exists():
            subprocess.run([*prefix, base, "-m", "venv", "--clear", str(venv)], check=True)
            pip = [*prefix, str(python), "-m", "pip", "install", *quiet]
            subprocess.run([*pip, "-r", str(requirements), *extra], check=True)
            (venv / "ready").touch()
    if not prefix:
        return python
    wrapper = venv / "bin" / "python-inside"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.join(prefix)} {python} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def newer_python(version: str) -> list[str] | None:
    """The command prefix that runs `python<version>` in the root of scripts/newer-pythons.sh
    (Debian forky's 3.14 and 3.15), if that root exists and has it."""
    inside = ["bash", str(ROOT / "scripts" / "newer-pythons.sh"), "run"]
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return None
    probe = subprocess.run([*inside, f"python{version}", "-c", "pass"], capture_output=True)
    return inside if probe.returncode == 0 else None


def find_python(version: str) -> str | None:
    """An interpreter for `version` (e.g. "3.12") that runs: installed by pyenv, or on PATH."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [str(p) for p in sorted(pyenv.glob(f"{version}.*/bin/python"), reverse=True)]
    candidates += filter(None, [shutil.which(f"python{version}")])
    for candidate in candidates:
        probe = subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    return None
