"""schema_source=alembic: the example that compares the models with the migrations can fail.

The rendered test_migrations.py passes on the example app's own migrations; after a model gains
a column with no migration for it, the comparison must fail and name the column.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import LINT_TOOLS
from tests.helpers import cached_venv, render, run
from tests.test_migrations import edit

pytestmark = pytest.mark.slow
NEW_COLUMN = "    nickname: Mapped[str | None] = mapped_column(String(50))\n"


def test_a_model_change_without_its_migration_fails_the_comparison(
    tmp_path: Path, state_dir: Path
) -> None:
    project = render(tmp_path / "project", schema_source="alembic")
    python = cached_venv(project / "tests/integration/requirements.txt", LINT_TOOLS)
    env = {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}
    target = ["-m", "pytest", "tests/integration/test_migrations.py", "-p", "no:cacheprovider"]
    assert run([str(python), *target], project, env).returncode == 0

    edit(
        project / "src/order_service/models.py",
        "    name: Mapped[str] = mapped_column(String(200))\n",
        "    name: Mapped[str] = mapped_column(String(200))\n" + NEW_COLUMN,
    )
    result = run([str(python), *target, "-q"], project, env)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 1 passed" in result.stdout
    assert "test_the_models_match_the_migrations" in result.stdout
    assert "'add_column'" in result.stdout
    assert "nickname" in result.stdout
