"""Move rendered files that a template version renamed, before `copier update` merges.

Copier runs this script from `_migrations` in copier.yml, in the destination project, once for
every migration entry whose `version` the update crosses (old < version <= new):

    python hooks/migrate.py --stage before --version v0.2.0

It reads the renames that `version` introduced from `hooks/renames.json` (a JSON object keyed
by version, each value a list of `[old, new]` paths relative to the project root) and, in the
"before" stage, moves every `old` that exists to `new` with `git mv`: the user's edits move with
the file, and the move is staged, because Copier diffs the destination's index against a render
of the old version. It never deletes anything: when `new` already exists it leaves both and
says so. It prints one line per rename, saying what it did. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

RENAMES = Path(__file__).with_name("renames.json")
PREFIX = "it-template migration"


def renames_of(version: str, table: Path = RENAMES) -> list[tuple[str, str]]:
    """The `(old, new)` paths that `version` renamed, in the order the table lists them.

    Versions match with or without their leading "v" (`v0.2.0` is `0.2.0`).
    """
    by_version = json.loads(table.read_text(encoding="utf-8"))
    wanted = version.removeprefix("v")
    entries = [
        row for key, rows in by_version.items() if key.removeprefix("v") == wanted for row in rows
    ]
    return [(str(old), str(new)) for old, new in entries]


def is_tracked(path: str) -> bool:
    """Whether git tracks `path` (a file, or a directory holding tracked files)."""
    listed = subprocess.run(
        ["git", "ls-files", "--", path], capture_output=True, text=True, check=True
    )
    return bool(listed.stdout.strip())


def move(old: str, new: str) -> str:
    """Move `old` to `new` in the working tree and the index; return what was done."""
    if not Path(old).exists():
        return f"{old}: not in this project, nothing to move"
    if Path(new).exists():
        return f"{old}: left in place, {new} already exists; merge the two by hand"
    Path(new).parent.mkdir(parents=True, exist_ok=True)
    if is_tracked(old):
        subprocess.run(["git", "mv", "--", old, new], check=True)
        return f"{old} -> {new} (git mv, your changes moved with it)"
    Path(old).rename(new)
    return f"{old} -> {new} (not tracked by git: moved)"


def main(argv: list[str] | None = None) -> int:
    """Apply the renames of one version in the current directory, the project's root."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=["before", "after"], required=True)
    parser.add_argument("--version", required=True, help="the version that made the renames")
    parser.add_argument("--table", type=Path, default=RENAMES, help="the renames, as JSON")
    args = parser.parse_args(argv)
    if args.stage != "before":
        return 0
    renames = renames_of(args.version, args.table)
    if not renames:
        print(f"{PREFIX} {args.version}: no renames")
    for old, new in renames:
        print(f"{PREFIX} {args.version}: {move(old, new)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
