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


def working_tree() -> list[str]:
    """The template's files as the working tree has them: tracked and new, not ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def copy_working_tree(dst: Path) -> None:
    """Copy the template's working tree into `dst`."""
    for name in working_tree():
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dst / name)


def snapshot_of_template(dst: Path) -> Path:
    """A git repository holding the template's working tree as one commit."""
    copy_working_tree(dst)
    git(dst, "init", "-q")
    git(dst, "add", "-A")
    git(dst, "commit", "-qm", "snapshot")
    return dst


def template_with_history(dst: Path) -> Path:
    """A clone of the template's history with the working tree committed on top of it.

    Tags do not travel with the repository: tests tag the releases they need in the clone.
    """
    git(ROOT, "clone", "-q", "--no-local", str(ROOT), str(dst))
    git(dst, "rm", "-rq", "--cached", ".")
    for path in dst.iterdir():
        if path.is_dir() and path.name != ".git":
            shutil.rmtree(path)
        elif path.is_file():
            path.unlink()
    copy_working_tree(dst)
    git(dst, "add", "-A")
    git(dst, "commit", "-qm", "the working tree", "--allow-empty")
    return dst


def release_commit(template: Path, version: str) -> str:
    """The commit of `chore: release <version>` in `template`'s history."""
    found = git(template, "log", "--format=%H", f"--grep=^chore: release {version}$").split()
    assert len(found) == 1, f"no single release commit for {version}: {found}"
    return found[0]


def test_update_of_an_unchanged_render_is_a_no_op(tmp_path: Path) -> None:
    template = snapshot_of_template(tmp_path / "template")
    project = tmp_path / "project"
    copier.run_copy(str(template), project, vcs_ref="HEAD", defaults=True, quiet=True)
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "render")

    copier.run_update(project, vcs_ref="HEAD", defaults=True, overwrite=True, quiet=True)

    assert git(project, "status", "--porcelain") == ""
