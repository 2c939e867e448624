"""Adopting the suite into an existing project: nothing of the project changes, its code is wired.

tests/projects/billing is a small FastAPI + SQLAlchemy 2 service with its own pyproject.toml,
tests and settings (a JWT secret from the environment, only `sub` and `exp` in tokens).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LINT_TOOLS
from tests.helpers import ROOT, cached_venv, render, rendered_files, run
from tests.suite import assert_all_passed, leftovers, run_suite
from tests.test_render import check_project

BILLING = ROOT / "tests" / "projects" / "billing"
BILLING_ANSWERS: dict[str, Any] = {
    "project_name": "Billing",
    "package_name": "billing",
    "example_app": False,
    "app_factory": "billing.main:create_app",
    "models_metadata": "billing.models:Base",
    "session_dependency": "billing.db:get_session",
    "current_user_dependency": "billing.auth:get_current_user",
    "jwt_key": "BILLING_JWT_SECRET",
}
# Counted by hand: test_project_database (3 + one per table: 3), test_project_app (2),
# test_project_auth (6), test_cache_isolation (3), test_safety (8), and WIRING_TEST (3).
BILLING_TESTS = 3 + 3 + 2 + 6 + 3 + 8 + 3
# What the project's team would write next: tests of their endpoints with the rendered fixtures.
# They prove the wiring end to end: the app checks make_token's tokens with the secret the suite
# set, and the app, db_session and a factory built on BaseFactory share one transaction.
WIRING_TEST = """\
# factory-boy's declarations carry no type hints.
# mypy: allow-untyped-calls
from __future__ import annotations

from factory.declarations import Sequence
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing.models import Customer, Invoice

from .auth import AsUser, TokenFactory
from .factories import BaseFactory


class CustomerFactory(BaseFactory):
    class Meta:
        model = Customer

    email = Sequence(lambda n: f"customer{n}@example.test")


def test_a_minted_token_signs_a_customer_in(client: TestClient, make_token: TokenFactory) -> None:
    customer = CustomerFactory.create()

    response = client.get("/me", headers={"Authorization": f"Bearer {make_token(customer.id)}"})

    assert response.status_code == 200
    assert response.json() == {"email": customer.email}


def test_a_token_of_an_unknown_customer_is_refused(
    client: TestClient, make_token: TokenFactory
) -> None:
    response = client.get("/me", headers={"Authorization": f"Bearer {make_token(2_000_000)}"})

    assert response.status_code == 401


def test_an_invoice_is_written_through_the_test_session(
    as_user: AsUser, db_session: Session
) -> None:
    customer = CustomerFactory.create()

    response = as_user(customer).post(
        "/invoices", json=[{"description": "Hosting", "amount_cents": 1_250}]
    )

    assert response.status_code == 201
    assert response.json()["total_cents"] == 1_250
    assert db_session.scalar(select(func.count()).select_from(Invoice)) == 1
"""
EXAMPLE_ONLY = ["builders.py", "test_factories.py", "test_isolation.py", "test_users_api.py"]


def snapshot(project: Path) -> dict[str, str]:
    """The SHA-256 of every file of `project`, by relative path."""
    return {
        str(path): hashlib.sha256((project / path).read_bytes()).hexdigest()
        for path in rendered_files(project)
    }


def existing_project(tmp_path: Path) -> Path:
    """A copy of the billing project, committed in a git repository of its own."""
    project = Path(shutil.copytree(BILLING, tmp_path / "billing"))
    for command in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qm", "x"],
    ):
        subprocess.run(command, cwd=project, check=True)
    return project


@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The billing project with the suite rendered into it, and its files from before."""
    project = existing_project(tmp_path_factory.mktemp("adopt"))
    before = snapshot(project)
    render(project, **BILLING_ANSWERS)
    return project, before


def test_no_file_of_the_project_is_changed(adopted: tuple[Path, dict[str, str]]) -> None:
    project, before = adopted

    after = snapshot(project)

    assert {path: after.get(path) for path in before} == before
    status = run(["git", "status", "--porcelain", "--untracked-files=no"], project)
    assert status.stdout == ""


def test_the_example_app_and_its_tests_are_left_out(adopted: tuple[Path, dict[str, str]]) -> None:
    project, before = adopted

    added = set(snapshot(project)) - set(before)

    assert not any(path.startswith("src/") for path in added)
    assert "pyproject.toml" not in added
    for name in EXAMPLE_ONLY:
        assert not (project / "tests" / "integration" / name).exists(), name
    assert "tests/integration/test_project_database.py" in added


def test_the_suite_says_what_to_merge_by_hand(adopted: tuple[Path, dict[str, str]]) -> None:
    project, _ = adopted

    snippet = (project / "tests" / "integration" / "pyproject-snippet.toml").read_text()
    readme = (project / "tests" / "integration" / "README.md").read_text()

    assert "[tool.pytest.ini_options]" in snippet
    assert "isolation(strategy)" in snippet
    assert "pyproject-snippet.toml" in readme
    assert "BILLING_JWT_SECRET" in readme


def test_the_suite_is_wired_into_the_project_code(adopted: tuple[Path, dict[str, str]]) -> None:
    project, _ = adopted
    suite = project / "tests" / "integration"

    app, database, auth = (
        (suite / name).read_text() for name in ("app.py", "database.py", "auth.py")
    )

    assert "from billing.main import create_app as project_app" in app
    assert "from billing.db import get_session as project_session" in app
    assert "from billing.models import Base as project_tables" in database
    assert "from billing.auth import get_current_user as project_current_user" in auth
    assert 'KEY_VARIABLE = "BILLING_JWT_SECRET"' in auth


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["sequential", "xdist"])
def test_the_adopted_suite_lints_types_and_passes(
    tmp_path: Path, state_dir: Path, workers: list[str]
) -> None:
    project = existing_project(tmp_path)
    render(project, **BILLING_ANSWERS)
    (project / "tests" / "integration" / "test_billing.py").write_text(WIRING_TEST)
    check_project(project)
    python = cached_venv(project / "tests" / "integration" / "requirements.txt", LINT_TOOLS)

    typed = run([str(python), "-m", "mypy", "--no-incremental", "src", "tests"], project)
    outcome = run_suite(
        python, project, {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}, *workers
    )

    assert typed.returncode == 0, typed.stdout + typed.stderr
    assert_all_passed(outcome)
    assert outcome.passed == BILLING_TESTS
    assert leftovers(state_dir) == []


@pytest.mark.parametrize(
    "answers",
    [
        {"web_framework": "flask"},
        {"web_framework": "flask", "auth": "jwt-rs256", "jwt_key": "JWT_PUBLIC_KEY"},
        {"auth": "jwt-rs256", "jwt_key": "JWT_PUBLIC_KEY", "http_client": "httpx"},
        {"auth": "none"},
        {"web_framework": "none", "isolation": "truncate"},
        {"jwt_key": "billing.settings:settings.jwt_secret", "jwt_subject_claim": "uid"},
        {"jwt_extra_claims": "aud=billing,iss=https://auth.example.test", "python_version": "3.10"},
        {"app_factory": "billing.main:app", "models_metadata": "billing.db:metadata"},
    ],
    ids=lambda answers: "-".join(map(str, answers.values())),
)
def test_other_answers_render_cleanly(tmp_path: Path, answers: dict[str, Any]) -> None:
    project = render(tmp_path / "project", **{**BILLING_ANSWERS, **answers})

    check_project(project)
    assert not (project / "src").exists() or not any((project / "src").iterdir())


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        ("app_factory", "billing.main.create_app", "Type an import path as module:attribute"),
        ("app_factory", "billing.main:create_app()", "Type an import path"),
        ("app_factory", "billing.main:create_app\n", "Type an import path"),
        ("app_factory", "billing.class:create_app", "Python keyword"),
        ("models_metadata", "billing/models:Base", "Type an import path"),
        ("models_metadata", ":Base", "Type an import path"),
        ("session_dependency", "billing.db:get_session; import os", "Type an import path"),
        ("session_dependency", "billing.db:get..session", "Type an import path"),
        ("current_user_dependency", "billing.auth:", "Type an import path"),
        ("current_user_dependency", "billing.auth:None", "Python keyword"),
        ("jwt_key", "jwt_secret", "Type an environment variable"),
        ("jwt_key", "JWT_SECRET\n", "Type an environment variable"),
        ("jwt_key", "billing.settings:for.x", "Python keyword"),
        ("jwt_subject_claim", "user-id", "Type a claim name"),
        ("jwt_subject_claim", "exp", "the expiry the suite always sets"),
        ("jwt_extra_claims", "aud billing", "Type name=value pairs"),
        ("jwt_extra_claims", 'aud="x"', "Type name=value pairs"),
        ("jwt_extra_claims", "aud=x,", "Type name=value pairs"),
        ("jwt_extra_claims", "exp=1", "leave them out"),
        ("jwt_extra_claims", "sub=1", "leave them out"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(
    tmp_path: Path, question: str, value: str, message: str
) -> None:
    destination = tmp_path / "project"

    with pytest.raises(ValueError, match=message):
        render(destination, **{**BILLING_ANSWERS, question: value})

    assert not destination.exists() or not any(destination.iterdir())


def test_an_rs256_public_key_comes_from_an_environment_variable(tmp_path: Path) -> None:
    destination = tmp_path / "project"

    with pytest.raises(ValueError, match="Type an environment variable"):
        render(
            destination,
            **{**BILLING_ANSWERS, "auth": "jwt-rs256", "jwt_key": "billing.settings:settings.key"},
        )

    assert not destination.exists() or not any(destination.iterdir())
