# Managed by it-template: local changes may conflict on copier update.
"""Whether what is installed satisfies the suite's requirements.txt.

`copier update` keeps `tests/integration/requirements.txt` current, but not the `integration`
group in pyproject.toml (the user's file) nor what is installed: a release that raises a
requirement would otherwise show up as a confusing failure somewhere in the run.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from .run import cache_root

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"


def fingerprint(text: str) -> str:
    """What the check's outcome depends on: the interpreter, the requirements, and when each
    directory on sys.path last changed (an install or removal changes its site-packages)."""
    parts = [sys.executable, text]
    for entry in sys.path:
        try:
            parts.append(f"{entry}:{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            continue
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def unmet(requirements: Path = REQUIREMENTS) -> list[str]:
    """The requirements of `requirements` that what is installed does not satisfy, each with
    what is installed; none when the file is missing. A passed check is remembered in the
    cache directory until the requirements or the installed packages change."""
    try:
        text = requirements.read_text()
    except OSError:
        return []
    passed = cache_root() / f"requirements-{fingerprint(text)}.ok"
    if passed.exists():
        return []
    found = check(text.splitlines())
    if not found:
        passed.touch()
    return found


def check(lines: list[str]) -> list[str]:
    """The requirements among `lines` that what is installed does not satisfy."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import InvalidRequirement, Requirement

    found = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith(("#", "-")):
            continue
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            found.append(f"{text} (not installed)")
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            found.append(f"{text} (installed: {installed})")
    return found


def sentence(missing: list[str]) -> str:
    """What to do about `missing`, in one sentence."""
    return (
        f"The installed packages do not satisfy tests/integration/requirements.txt, which "
        f"copier update keeps current: {'; '.join(missing)}. Update the `integration` group in "
        "pyproject.toml to match and run `uv sync --group integration`, or run "
        "`pip install -r tests/integration/requirements.txt` (IT_REQUIREMENTS_CHECK=0 skips "
        "this check)"
    )
