"""Adopting the suite into an existing project: nothing of the project changes, its code is wired.

tests/projects/ holds two small existing services, each with its own pyproject.toml:
- billing: FastAPI, an app factory, a declarative base, a `get_session` dependency, an HS256
  secret the app reads from BILLING_JWT_SECRET on first use, tokens with only `sub` and `exp`;
- notes: Flask, views that call `db.get_session()` and `auth.current_author(session)` through
  their modules, a `MetaData` object, a secret read at import into `settings.jwt_secret`, tokens
  with `uid`, `aud` and `exp`, ruff at line length 88.
tests/projects/wiring/ holds what each team would write next with the rendered fixtures: tests
of their endpoints, which prove the wiring end to end (the app accepts make_token's tokens, and
the app, `db_session` and a factory on `BaseFactory` share one transaction).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import copier
import pytest

from tests.conftest import LINT_TOOLS, PROVEN_SERVICES
from tests.counts import expected_tests
from tests.helpers import ROOT, cached_venv, render, rendered_files, run
from tests.suite import assert_all_passed, leftovers, run_suite
from tests.test_migrations import append, commit, release
from tests.test_render import check_project
from tests.test_update import snapshot_of_template

PROJECTS = ROOT / "tests" / "projects"
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
NOTES_ANSWERS: dict[str, Any] = {
    "project_name": "Notes",
    "package_name": "notes",
    "example_app": False,
    "web_framework": "flask",
    "app_factory": "notes.app:create_app",
    "models_metadata": "notes.models:metadata",
    "session_dependency": "notes.db:get_session",
    "current_user_dependency": "notes.auth:current_author",
    "jwt_key": "notes.settings:settings.jwt_secret",
    "jwt_subject_claim": "uid",
    "jwt_extra_claims": "aud=notes",
}
# Project, answers, and the tests its run has: the examples (tests/counts.py, with the
# project's 3 tables) and, with a web framework, the project's wiring tests (3).
ADOPTIONS: dict[str, tuple[str, dict[str, Any], int]] = {
    "billing": ("billing", BILLING_ANSWERS, expected_tests(BILLING_ANSWERS, tables=3) + 3),
    "notes": ("notes", NOTES_ANSWERS, expected_tests(NOTES_ANSWERS, tables=3) + 3),
    "billing-models-only": (
        "billing",
        {**BILLING_ANSWERS, "web_framework": "none"},
        expected_tests({**BILLING_ANSWERS, "web_framework": "none"}, tables=3),
    ),
    # Every service this machine can run, each with its example tests.
    "notes-with-services": (
        "notes",
        {**NOTES_ANSWERS, "services": PROVEN_SERVICES},
        expected_tests({**NOTES_ANSWERS, "services": PROVEN_SERVICES}, tables=3) + 3,
    ),
}
EXAMPLE_ONLY = ["builders.py", "test_factories.py", "test_isolation.py", "test_users_api.py"]


def snapshot(project: Path) -> dict[str, str]:
    """The SHA-256 of every file of `project`, by relative path."""
    return {
        str(path): hashlib.sha256((project / path).read_bytes()).hexdigest()
        for path in rendered_files(project)
    }


def existing_project(tmp_path: Path, name: str = "billing") -> Path:
    """A copy of project `name`, committed in a git repository of its own."""
    project = Path(shutil.copytree(PROJECTS / name, tmp_path / name))
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
    assert 'addopts = ["-p", "tests.integration.harness.plugin"]' in snippet
    assert "pyproject-snippet.toml" in readme
    assert "BILLING_JWT_SECRET" in readme


def test_the_suite_is_wired_into_the_project_code(adopted: tuple[Path, dict[str, str]]) -> None:
    project, _ = adopted

    config = (project / "tests" / "integration" / "harness" / "config.py").read_text()

    # Import paths the harness resolves at run time (pkgutil.resolve_name), not import lines.
    assert 'MODELS = "billing.models:Base"' in config
    assert 'APP = "billing.main:create_app"' in config
    assert 'SESSION_DEPENDENCY = "billing.db:get_session"' in config
    assert 'CURRENT_USER = "billing.auth:get_current_user"' in config
    assert 'JWT_KEY = "BILLING_JWT_SECRET"' in config


def test_an_adopted_project_updates_with_its_own_answers_file(tmp_path: Path) -> None:
    template = snapshot_of_template(tmp_path / "template")
    release(template, "v0.1.0")
    project = existing_project(tmp_path)
    answers_file = ".copier-answers.integration.yml"
    copier.run_copy(
        str(template),
        project,
        data=BILLING_ANSWERS,
        answers_file=answers_file,
        vcs_ref="v0.1.0",
        defaults=True,
        quiet=True,
    )
    (project / "tests" / "integration" / "test_cache_isolation.py").unlink()
    commit(project, "adopt the integration suite, without an example we do not need")
    before = snapshot(project)
    isolation = "tests/integration/harness/services/postgres/isolation.py"
    append(template / "template" / f"{isolation}.jinja", "\nV0_1_1 = True\n")
    release(template, "v0.1.1")

    copier.run_update(
        project,
        answers_file=answers_file,
        vcs_ref="v0.1.1",
        defaults=True,
        overwrite=True,
        conflict="inline",
        quiet=True,
    )

    after = snapshot(project)
    changed = {path for path in before if after.get(path) != before[path]}
    assert changed == {answers_file, isolation}
    assert "V0_1_1 = True" in (project / isolation).read_text()
    assert not (project / "tests" / "integration" / "test_cache_isolation.py").exists()
    assert not (project / ".copier-answers.yml").exists()
    assert "app_factory: billing.main:create_app" in (project / answers_file).read_text()


def merge_mypy_overrides(project: Path) -> None:
    """Do what the snippet asks for mypy: append its overrides to the project's pyproject.toml."""
    snippet = (project / "tests/integration/pyproject-snippet.toml").read_text()
    overrides = snippet.partition("[[tool.mypy.overrides]]")
    if overrides[1]:
        with (project / "pyproject.toml").open("a") as pyproject:
            pyproject.write("\n" + overrides[1] + overrides[2])


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["sequential", "xdist"])
@pytest.mark.parametrize("adoption", ADOPTIONS)
def test_the_adopted_suite_lints_types_and_passes(
    tmp_path: Path, state_dir: Path, adoption: str, workers: list[str]
) -> None:
    name, answers, expected = ADOPTIONS[adoption]
    project = existing_project(tmp_path, name)
    render(project, **answers)
    suite = project / "tests" / "integration"
    if answers.get("web_framework") != "none":
        shutil.copy(PROJECTS / "wiring" / f"test_{name}.py", suite / f"test_{name}.py")
    check_project(project)
    merge_mypy_overrides(project)
    python = cached_venv(suite / "requirements.txt", LINT_TOOLS)

    # The suite and what it imports of the project (the suite's requirements stand in for the
    # project's own, so its modules the suite never imports may need packages not installed).
    typed = run([str(python), "-m", "mypy", "--no-incremental", "tests"], project)
    outcome = run_suite(
        python, project, {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}, *workers
    )

    assert typed.returncode == 0, typed.stdout + typed.stderr
    assert_all_passed(outcome)
    assert outcome.passed == expected
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
        {"web_framework": "flask", "jwt_key": "billing.config:settings.secret"},
    ],
    ids=lambda answers: "-".join(map(str, answers.values())),
)
def test_other_answers_render_cleanly(tmp_path: Path, answers: dict[str, Any]) -> None:
    project = render(tmp_path / "project", **{**BILLING_ANSWERS, **answers})

    check_project(project)
    assert not (project / "src").exists()


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
