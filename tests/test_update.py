"""Update layer: `copier update` on an unchanged, git-tracked render changes nothing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import copier

from tests.helpers import ROOT, run

GIT = ["git", "-c", "user.name=it-template tests", "-c", "user.email=tests@example.invalid"]


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` and return its output; fail the test on an error."""
    result = run([*GIT, *args], cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def snapshot_of_template(dst: Path) -> Path:
    """A git repository holding the template's working tree as one commit."""
    files = (
        subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dst / name)
    git(dst, "init", "-q")
    git(dst, "add", "-A")
    git(dst, "commit", "-qm", "snapshot")
    return dst


def test_update_of_an_unchanged_render_is_a_no_op(tmp_path: Path) -> None:
    template = snapshot_of_template(tmp_path / "template")
    project = tmp_path / "project"
    copier.run_copy(str(template), project, vcs_ref="HEAD", defaults=True, quiet=True)
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "render")

    copier.run_update(project, vcs_ref="HEAD", defaults=True, overwrite=True, quiet=True)

    assert git(project, "status", "--porcelain") == ""
