"""The template database is reused across runs on `local` while its schema key holds.

The first run builds it and keeps its cluster; the next run copies that cluster and uses the
template as it is; a change to the models (create_all) or a new migration (Alembic) builds it
again, and a test that uses the new column proves the rebuilt schema is the one the tests get.
Each test has a cache directory of its own, so no other test's run can take its kept cluster.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import LINT_TOOLS
from tests.helpers import cached_venv, render
from tests.suite import assert_all_passed, run_suite
from tests.test_migrations import edit

pytestmark = pytest.mark.slow
NEW_COLUMN = "    nickname: Mapped[str | None] = mapped_column(String(50), default=None)\n"
NAME_COLUMN = "    name: Mapped[str] = mapped_column(String(200))\n"
USES_THE_COLUMN = """
from sqlalchemy import select
from sqlalchemy.orm import Session

from order_service.models import User


def test_the_new_column_is_in_the_schema(db_session: Session) -> None:
    db_session.add(User(email="nick@example.test", name="Nick", nickname="nick"))
    db_session.flush()
    assert db_session.scalar(select(User.nickname)) == "nick"
"""
MIGRATION = '''"""Users get a nickname.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("nickname", sa.String(length=50), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "nickname")
'''


def template_outcome(output: str) -> str:
    """What the header says of the template database: built or reused."""
    found = re.search(r"^  template database: (built|reused) \(schema key \w+\)$", output, re.M)
    assert found, output
    return found[1]


@pytest.mark.parametrize("schema_source", ["metadata", "alembic"])
def test_the_template_is_reused_until_its_schema_source_changes(
    tmp_path: Path, state_dir: Path, schema_source: str
) -> None:
    project = render(tmp_path / "project", schema_source=schema_source)
    python = cached_venv(project / "tests/integration/requirements.txt", LINT_TOOLS)
    cache = state_dir / "cache"  # as root, PostgreSQL runs as nobody and must reach it
    cache.mkdir(mode=0o755)
    env = {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir), "IT_CACHE_DIR": str(cache)}
    outcomes = []
    for workers in ([], ["-n", "2"]):
        outcome = run_suite(python, project, env, *workers)
        assert_all_passed(outcome)
        outcomes.append(template_outcome(outcome.output))
    assert outcomes == ["built", "reused"]

    edit(project / "src/order_service/models.py", NAME_COLUMN, NAME_COLUMN + NEW_COLUMN)
    if schema_source == "alembic":
        (project / "migrations/versions/0002_users_get_a_nickname.py").write_text(MIGRATION)
    (project / "tests/integration/test_nickname.py").write_text(USES_THE_COLUMN)
    changed = run_suite(python, project, env, target="tests/integration/test_nickname.py")
    assert_all_passed(changed)
    assert template_outcome(changed.output) == "built"

    again = run_suite(python, project, env, "-n", "2")
    assert_all_passed(again)
    assert template_outcome(again.output) == "reused"
    rebuilt = run_suite(python, project, {**env, "IT_TEMPLATE_REUSE": "0"}, "-n", "2")
    assert_all_passed(rebuilt)
    assert template_outcome(rebuilt.output) == "built"
