"""The repository's own code is held to the standard of the code it renders."""

from __future__ import annotations

import pytest

from tests.helpers import ROOT, run, tool


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "--no-cache", "."],
        ["ruff", "format", "--check", "--no-cache", "."],
        ["mypy", "--no-incremental"],
    ],
    ids=["ruff", "ruff-format", "mypy"],
)
def test_repository_code_is_lint_and_type_clean(command: list[str]) -> None:
    result = run([tool(command[0]), *command[1:]], ROOT)

    assert result.returncode == 0, result.stdout + result.stderr


def test_shell_scripts_parse() -> None:
    for script in [*ROOT.glob("scripts/*.sh"), ROOT / ".ci" / "run", *ROOT.glob("images/*/*.sh")]:
        result = run(["bash", "-n", str(script)], ROOT)

        assert result.returncode == 0, f"{script}: {result.stderr}"
