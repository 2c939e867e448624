"""Render the template in tests: a base set of answers plus the overrides of one test."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import copier

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PACKAGE = "order_service"
JINJA_LEFTOVER = re.compile(r"\{\{|\{%|%\}|\}\}")


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
    """Every rendered file, relative to the project, outside .git."""
    return sorted(
        path.relative_to(project)
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    )


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output as text; never raises on a non-zero exit."""
    return subprocess.run(
        args,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def tool(name: str) -> str:
    """Path of a console script installed next to the interpreter running the tests."""
    return str(Path(sys.executable).parent / name)
