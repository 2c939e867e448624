"""Carry a project's files across a release that moved them, before `copier update` merges.

Copier runs this script from `_migrations` in copier.yml, in the destination project, once for
every migration entry whose `version` the update crosses (old < version <= new):

    python hooks/migrate.py --stage before --version v0.2.0 --answers-file .copier-answers.yml

It reads the files that `version` moved from `hooks/renames.json` (a JSON object keyed by
version; each value a list of `[old, new]` paths relative to the project root) and, in the
"before" stage, renders the release the project was made from and the one it updates to (with
Copier itself, from the template clone this script runs from, with the project's answers), so
that it can tell your edits from what the template wrote:

- `old` as the template wrote it: nothing to carry; Copier removes it and writes `new`.
- `old` edited: your edits are merged into the new release's `new` (lines you changed that it
  changed too keep your version) and staged there; Copier then shows each of your edits in
  `new` as a conflict to confirm, because it merges a moved file without a common base.
- `old` == `new` (a file that changes owner, e.g. `conftest.py` becomes yours and is never
  updated again): the new release's version with your edits merged in; where the new release
  rewrote the file, the lines you added are kept after its new text, and lines you changed
  that it no longer writes are marked as a conflict.
- `new` already in the project but not from the template: both are left; merge them by hand.

Without a render of both releases (no Copier, an unreachable template) it falls back to
`git mv`. It never deletes an edit and prints one line per row. Moves are staged, because
Copier diffs the destination's index against a render of the old release.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

RENAMES = Path(__file__).with_name("renames.json")
TEMPLATE = Path(__file__).resolve().parent.parent
PREFIX = "it-template migration"


def renames_of(version: str, table: Path = RENAMES) -> list[tuple[str, str]]:
    """The `(old, new)` paths that `version` moved, in the order the table lists them.

    Versions match with or without their leading "v" (`v0.2.0` is `0.2.0`).
    """
    by_version = json.loads(table.read_text(encoding="utf-8"))
    wanted = version.removeprefix("v")
    entries = [
        row for key, rows in by_version.items() if key.removeprefix("v") == wanted for row in rows
    ]
    return [(str(old), str(new)) for old, new in entries]


def git(*args: str) -> str:
    """Run git in the project; fail loudly, since a half-done migration must not go on."""
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


def is_tracked(path: str) -> bool:
    """Whether git tracks `path` (a file, or a directory holding tracked files)."""
    return bool(git("ls-files", "--", path).strip())


class Releases:
    """The project's files as the release it was made from, and the target release, render them."""

    def __init__(self, old: Path | None, new: Path | None) -> None:
        self.old = old
        self.new = new

    @classmethod
    def render(cls, answers_file: str, workdir: Path, version: str) -> Releases:
        """Render both releases into `workdir`; a release that cannot be rendered is None."""
        try:
            import copier
            import yaml
        except ImportError:
            return cls(None, None)
        try:
            answers: dict[str, Any] = yaml.safe_load(Path(answers_file).read_text()) or {}
        except OSError:
            return cls(None, None)
        data = {key: value for key, value in answers.items() if not key.startswith("_")}

        def render(ref: str | None, where: Path) -> Path | None:
            if not ref:
                return None
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    copier.run_copy(
                        str(TEMPLATE),
                        where,
                        data=data,
                        vcs_ref=ref,
                        defaults=True,
                        overwrite=True,
                        quiet=True,
                        unsafe=False,
                    )
            except Exception as error:
                print(f"{PREFIX} {version}: could not render {ref} ({error})", flush=True)
                return None
            return where

        head = subprocess.run(
            ["git", "-C", str(TEMPLATE), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        return cls(render(answers.get("_commit"), workdir / "old"), render(head, workdir / "new"))

    def old_text(self, path: str) -> str | None:
        """`path` as the project's release wrote it, or None."""
        return read(self.old / path) if self.old else None

    def new_text(self, path: str) -> str | None:
        """`path` as the target release writes it, or None."""
        return read(self.new / path) if self.new else None


def read(path: Path) -> str | None:
    """The text of `path`, or None if there is no such file."""
    try:
        return path.read_text()
    except (FileNotFoundError, IsADirectoryError):
        return None


def merge(ours: str, base: str, theirs: str, *, favour_ours: bool, labels: list[str]) -> str:
    """`git merge-file`: the change from `base` to `theirs` applied to `ours`."""
    with tempfile.TemporaryDirectory() as scratch:
        files = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(scratch, name)
            path.write_text(text)
            files.append(str(path))
        options = ["--ours"] if favour_ours else []
        label_options = [option for label in labels for option in ("-L", label)]
        done = subprocess.run(
            ["git", "merge-file", "-p", *options, *label_options, *files],
            capture_output=True,
            text=True,
        )
    if done.returncode < 0 or done.returncode > 127:
        raise RuntimeError(f"git merge-file failed: {done.stderr}")
    return done.stdout


def imports_end(text: str) -> int:
    """The number of lines up to the end of the module's leading imports (0 without any)."""
    try:
        body = ast.parse(text).body
    except SyntaxError:
        return 0
    end = 0
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            end = node.end_lineno or end
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            break
    return end


def hand_over(ours: str, base: str, theirs: str, labels: list[str]) -> str:
    """The new release's text with what you added to the old one: for a rewritten file.

    Lines you added before the old file's last import go before the new file's imports, the
    rest after its text; lines of the old release you changed are marked as a conflict.
    """
    base_lines, our_lines = base.splitlines(), ours.splitlines()
    head: list[str] = []
    tail: list[str] = []
    boundary = imports_end(base)
    matcher = difflib.SequenceMatcher(None, base_lines, our_lines, autojunk=False)
    for tag, b1, _b2, o1, o2 in matcher.get_opcodes():
        if tag == "insert":
            (head if b1 < boundary else tail).extend(our_lines[o1:o2])
        elif tag == "replace":
            tail += [f"<<<<<<< {labels[0]}", *our_lines[o1:o2], "=======", f">>>>>>> {labels[2]}"]
        # "equal": the old release's lines, replaced by the new text; "delete": you removed them
    their_lines = theirs.splitlines()
    first_import = next(
        (n for n, line in enumerate(their_lines) if line.startswith(("import ", "from "))),
        len(their_lines),
    )
    head = strip_blank(head)
    tail = strip_blank(tail)
    lines = their_lines[:first_import] + ([*head, ""] if head else []) + their_lines[first_import:]
    if tail:
        top_level = tail[0].startswith(("@", "def ", "class ", "async def "))
        lines += [""] * (2 if top_level else 1) + tail
    return "\n".join(lines) + "\n"


def strip_blank(lines: list[str]) -> list[str]:
    """`lines` without blank lines at either end."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def has_conflict(text: str) -> bool:
    """Whether `text` holds a conflict marker line."""
    return any(line.startswith("<<<<<<< ") for line in text.splitlines())


def carry(old: str, new: str, releases: Releases, version: str) -> str:
    """Carry one file across the release; return what was done."""
    ours = Path(old).read_text()
    base, theirs = releases.old_text(old), releases.new_text(new)
    labels = ["yours", "as your release wrote it", f"as {version} writes it"]
    if old == new:
        if base is None or theirs is None:
            return f"{old}: left as it is; compare it with a fresh render of {version}"
        if ours == base:
            Path(old).write_text(theirs)
            git("add", "--", old)
            return f"{old}: replaced by {version}'s version (you had not changed it)"
        merged = merge(ours, base, theirs, favour_ours=False, labels=labels)
        if has_conflict(merged):
            merged = hand_over(ours, base, theirs, labels)
        Path(old).write_text(merged)
        git("add", "--", old)
        if has_conflict(merged):
            return f"{old}: {version}'s version, your edits kept; resolve the conflict markers"
        return f"{old}: {version}'s version with your edits merged in"
    if Path(new).exists():
        return f"{old}: left in place, {new} already exists; merge the two by hand"
    if base is not None and ours == base:
        return f"{old}: unchanged, so {version} replaces it with {new}"
    Path(new).parent.mkdir(parents=True, exist_ok=True)
    if base is None or theirs is None:
        if is_tracked(old):
            git("mv", "--", old, new)
            return f"{old} -> {new} (git mv, your changes moved with it)"
        Path(old).rename(new)
        return f"{old} -> {new} (not tracked by git: moved)"
    Path(new).write_text(merge(ours, base, theirs, favour_ours=True, labels=labels))
    git("add", "--", new)
    if is_tracked(old):
        git("rm", "-q", "--", old)
    else:
        Path(old).unlink()
    return f"{old} -> {new}: your edits merged into {version}'s version; confirm each conflict"


def main(argv: list[str] | None = None) -> int:
    """Apply the moves of one version in the current directory, the project's root."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=["before", "after"], required=True)
    parser.add_argument("--version", required=True, help="the version that moved the files")
    parser.add_argument("--table", type=Path, default=RENAMES, help="the moves, as JSON")
    parser.add_argument(
        "--answers-file", default=None, help="the project's answers (renders both releases)"
    )
    args = parser.parse_args(argv)
    if args.stage != "before":
        return 0
    renames = renames_of(args.version, args.table)
    if not renames:
        print(f"{PREFIX} {args.version}: no renames")
        return 0
    with tempfile.TemporaryDirectory(prefix="it-template-migration-") as scratch:
        needed = any(Path(old).exists() for old, _ in renames) and args.answers_file
        releases = (
            Releases.render(args.answers_file, Path(scratch), args.version)
            if needed
            else Releases(None, None)
        )
        absent = [old for old, _ in renames if not Path(old).exists()]
        for old, new in renames:
            if old not in absent:
                done = carry(old, new, releases, args.version)
                print(f"{PREFIX} {args.version}: {done}", flush=True)
    if absent:
        files = "file is" if len(absent) == 1 else "files are"
        print(f"{PREFIX} {args.version}: {len(absent)} other moved {files} not in this project")
    return 0


if __name__ == "__main__":
    sys.exit(main())
