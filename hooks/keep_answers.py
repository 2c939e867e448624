"""Answer, before `copier update`, the questions a release added that would change how an
existing project works, with what the project did before that release.

Copier runs this from `_migrations` in copier.yml, in the destination project, for the
releases that added such a question; it re-reads the answers file afterwards:

    python hooks/keep_answers.py --version v0.3.0 --answers-file .copier-answers.yml

v0.3.0 added `installer` (default `uv`: the workflow runs `uv sync --group integration`). A
project made before it installed the suite with pip, and its `pyproject.toml` (the user's,
never updated) has no `integration` group yet, so it keeps `pip` until the user switches.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

PREFIX = "it-template migration"
KEPT = {
    "v0.3.0": {
        "installer": (
            "pip",
            "how this project installed the suite before; merge the `integration` group of "
            "pyproject-snippet.toml or the README into pyproject.toml, then "
            "`copier update --data installer=uv` to switch",
        )
    },
}


def main(argv: list[str] | None = None) -> int:
    """Add the answers of `--version`'s new questions that the answers file lacks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True)
    parser.add_argument("--answers-file", type=Path, required=True)
    args = parser.parse_args(argv)
    text = args.answers_file.read_text(encoding="utf-8")
    for question, (value, why) in KEPT.get(args.version, {}).items():
        if re.search(rf"^{re.escape(question)}:", text, re.MULTILINE):
            continue
        text = text.rstrip("\n") + f"\n{question}: {value}\n"
        print(f"{PREFIX} {args.version}: {question}: {value} ({why})", flush=True)
    args.answers_file.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
