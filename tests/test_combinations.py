"""Slow layer: a table of answer combinations, each rendered, linted, typed and run for real."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LINT_TOOLS, PROVEN_SERVICES
from tests.counts import expected_tests
from tests.helpers import cached_venv, render, run
from tests.suite import assert_all_passed, run_suite
from tests.test_render import check_project

pytestmark = pytest.mark.slow

# Every value of every question appears at least once (python_version: see
# test_suite_runs.py::test_render_passes_on_each_offered_python), with the risky pairs: each
# isolation strategy under xdist, and each HTTP client with more than one isolation strategy.
COMBINATIONS: list[dict[str, Any]] = [
    {"isolation": "rollback", "http_client": "httpx", "postgres_version": "14"},
    {"isolation": "truncate", "http_client": "requests", "postgres_version": "15"},
    {
        "isolation": "delete",
        "http_client": "httpx",
        "postgres_version": "16",
        "auth": "jwt-rs256",
        "graphql": True,
    },
    {"isolation": "schema", "http_client": "requests", "redis_version": "7.2", "auth": "none"},
    {"isolation": "database", "http_client": "httpx", "ci": "github-services"},
    {
        "project_name": "Billing API",
        "package_name": "billing",
        "postgres_version": "13",
        "redis_version": "6.2",
        "ci": "none",
        "http_client": "requests",
    },
    {"postgres_version": "18", "ci": "github-testcontainers", "isolation": "schema"},
    {"web_framework": "flask", "auth": "jwt-rs256", "http_client": "httpx"},
    {"web_framework": "flask", "auth": "none", "isolation": "truncate", "graphql": True},
    {"web_framework": "flask", "isolation": "database"},
    {
        "services": PROVEN_SERVICES,
        "mysql_flavor": "mysql",
        "web_framework": "flask",
        "isolation": "truncate",
    },
    {"web_framework": "none", "http_client": "httpx", "isolation": "schema"},
    {"web_framework": "none", "isolation": "delete"},
    # orm x schema_source, with the example app; the commit strategies over seeded migrations.
    {"orm": "sqlmodel", "schema_source": "metadata", "isolation": "rollback"},
    {"orm": "sqlalchemy", "schema_source": "alembic", "isolation": "truncate"},
    {
        "orm": "sqlmodel",
        "schema_source": "alembic",
        "web_framework": "flask",
        "isolation": "delete",
    },
    {"orm": "sqlmodel", "schema_source": "alembic", "web_framework": "none"},
    # async_db x orm x isolation: every strategy on AsyncSession, both ORMs, both frameworks.
    {"async_db": True, "orm": "sqlalchemy", "isolation": "rollback", "http_client": "httpx"},
    {
        "async_db": True,
        "orm": "sqlmodel",
        "isolation": "truncate",
        "schema_source": "alembic",
        "graphql": True,
    },
    {"async_db": True, "orm": "sqlalchemy", "isolation": "delete", "auth": "jwt-rs256"},
    {"async_db": True, "orm": "sqlmodel", "isolation": "schema", "web_framework": "none"},
    {"async_db": True, "orm": "sqlalchemy", "isolation": "database", "auth": "none"},
]


@pytest.mark.parametrize(
    "answers",
    COMBINATIONS,
    ids=[
        "-".join("+".join(v) if isinstance(v, list) else str(v) for v in c.values())
        for c in COMBINATIONS
    ],
)
def test_combination_renders_lints_types_and_passes(
    tmp_path: Path, state_dir: Path, answers: dict[str, Any]
) -> None:
    project = render(tmp_path / "project", **answers)
    check_project(project)
    python = cached_venv(project / "tests" / "integration" / "requirements.txt", LINT_TOOLS)

    typed = run([str(python), "-m", "mypy", "--no-incremental", "src", "tests"], project)
    outcome = run_suite(
        python, project, {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}, "-n", "2"
    )

    assert typed.returncode == 0, typed.stdout + typed.stderr
    assert_all_passed(outcome)
    assert outcome.passed == expected_tests(answers)
