"""Adopting the suite into an existing project: nothing of the project changes, its code is wired.

tests/projects/ holds existing services, each with its own pyproject.toml (fullstack and
asyncapp are described at their answers below):
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
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import copier
import psycopg
import pytest

from tests.conftest import LINT_TOOLS, PROVEN_SERVICES
from tests.counts import expected_tests
from tests.helpers import ROOT, cached_venv, render, rendered_files, run
from tests.servers import postgres_server
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
# fullstack: FastAPI with SQLModel models, Alembic migrations (one creates uuid-ossp, one seeds
# a row), pydantic-settings read at import from POSTGRES_SERVER, POSTGRES_PORT, ..., a module-
# level engine, routes under /api/v1 with a tag-based unique-id function, EmailStr fields, a
# login route, and a parent tests/conftest.py whose session autouse fixture commits a superuser
# through the app's engine and deletes every user when the session ends; SMTP settings (TLS on by
# default) and a password-recovery route that mails a reset link with smtplib.
FULLSTACK_ANSWERS: dict[str, Any] = {
    "project_name": "Full Stack",
    "package_name": "fullstack",
    "example_app": False,
    "orm": "sqlmodel",
    "schema_source": "alembic",
    "services": ["postgres"],
    "app_factory": "app.main:app",
    "models_metadata": "app.models:SQLModel",
    "session_dependency": "app.api.deps:get_db",
    "current_user_dependency": "app.api.deps:get_current_user",
    "jwt_key": "app.core.config:settings.SECRET_KEY",
    "app_env": (
        "POSTGRES_SERVER={postgres.host},POSTGRES_PORT={postgres.port},"
        "POSTGRES_USER={postgres.user},POSTGRES_PASSWORD={postgres.password},"
        "POSTGRES_DB={postgres.database},"
        "SMTP_HOST={smtp.host},SMTP_PORT={smtp.port},SMTP_TLS=false"
    ),
}
# asyncapp: FastAPI on async SQLAlchemy and asyncpg, an engine made at import from nested
# settings (DATABASE__HOSTNAME, ...) read once and cached (lru_cache), Alembic with an async
# env.py (asyncio.run) and a trigger create_all cannot make, JWTs that must carry iss, sub, exp
# and iat, a trusted-host middleware, and its own pytest table: asyncio_mode = "auto", session
# loop scopes, addopts with `-n auto` and a coverage threshold, filterwarnings = error; its own
# tests use polyfactory's async persistence.
ASYNCAPP_ANSWERS: dict[str, Any] = {
    "project_name": "Async App",
    "package_name": "asyncapp",
    "example_app": False,
    "async_db": True,
    "schema_source": "alembic",
    "services": ["postgres"],
    "app_factory": "app.main:app",
    "models_metadata": "app.models:Base",
    "session_dependency": "app.api.deps:get_session",
    "current_user_dependency": "app.api.deps:get_current_user",
    "jwt_key": "SECURITY__JWT_SECRET_KEY",
    "jwt_extra_claims": "iss=asyncapp-api",
    "app_env": (
        "DATABASE__HOSTNAME={postgres.host},DATABASE__PORT={postgres.port},"
        "DATABASE__USERNAME={postgres.user},DATABASE__PASSWORD={postgres.password},"
        "DATABASE__DB={postgres.database}"
    ),
}
# What a project needs beyond the suite's requirements, to import the code the suite uses.
PROJECT_DEPENDENCIES = {
    "fullstack": ["pydantic-settings>=2.2.1,<3", "email-validator>=2.1,<3", "python-multipart<1"],
    "asyncapp": [
        "pydantic-settings>=2.3,<3",
        "email-validator>=2.1,<3",
        "python-multipart<1",
        "polyfactory>=2.16,<4",
        "pytest-cov>=5,<8",
    ],
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
    "fullstack": ("fullstack", FULLSTACK_ANSWERS, expected_tests(FULLSTACK_ANSWERS, tables=3) + 5),
    # Real commits, the truncate strategy, around the row the migrations seeded.
    "fullstack-truncate": (
        "fullstack",
        {**FULLSTACK_ANSWERS, "isolation": "truncate"},
        expected_tests(FULLSTACK_ANSWERS, tables=3) + 5,
    ),
    "asyncapp": ("asyncapp", ASYNCAPP_ANSWERS, expected_tests(ASYNCAPP_ANSWERS, tables=2) + 4),
    # Every service this machine can run, each with its example tests.
    "notes-with-services": (
        "notes",
        {**NOTES_ANSWERS, "services": PROVEN_SERVICES},
        expected_tests({**NOTES_ANSWERS, "services": PROVEN_SERVICES}, tables=3) + 3,
    ),
}
# What a project's own addopts make the suite's run need: asyncapp's coverage gate is for its
# whole test tree, so the suite alone runs with `--no-cov`, as its README says to (the whole
# tree, gate included, is test_an_async_projects_whole_tree_passes_its_own_coverage_gate).
RUN_OPTIONS = {"asyncapp": ["--no-cov"]}
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


def pytest_table(toml: str) -> dict[str, list[str]] | None:
    """The `key = [strings]` lines of a TOML text's pytest table, or None without one."""
    table = toml.partition("[tool.pytest.ini_options]\n")
    if not table[1]:
        return None
    body = table[2].split("\n[", 1)[0]
    found = re.findall(r"(?m)^(\w+) = (\[.*\])$", body)
    return {key: json.loads(value) for key, value in found}


def merge_pytest_table(project: Path) -> None:
    """Do what the README says of the snippet's pytest table: merge it into pyproject.toml."""
    wanted = pytest_table((project / "tests/integration/pyproject-snippet.toml").read_text())
    assert wanted, "the snippet has no pytest table"
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    own = pytest_table(text)
    if own is None:
        lines = [f"{key} = {json.dumps(value)}" for key, value in wanted.items()]
        pyproject.write_text(text + "\n[tool.pytest.ini_options]\n" + "\n".join(lines) + "\n")
        return
    header = "[tool.pytest.ini_options]\n"
    for key, value in wanted.items():
        merged = own.get(key, []) + [item for item in value if item not in own.get(key, [])]
        line = f"{key} = {json.dumps(merged)}\n"
        if key in own:
            text = re.sub(rf"(?m)^{key} = .*\n", line, text, count=1)
        else:
            text = text.replace(header, header + line, 1)
    pyproject.write_text(text)


def merge_mypy_overrides(project: Path) -> None:
    """Do what the snippet asks for mypy: append its overrides to the project's pyproject.toml."""
    snippet = (project / "tests/integration/pyproject-snippet.toml").read_text()
    overrides = snippet.partition("[[tool.mypy.overrides]]")
    if overrides[1]:
        with (project / "pyproject.toml").open("a") as pyproject:
            pyproject.write("\n" + overrides[1] + overrides[2])


def own_tests_outcome(project: Path, python: Path, state_dir: Path) -> tuple[int, str] | None:
    """How the project's own tests end (exit code, summary line); None if it has none."""
    own_tests = sorted(str(path.relative_to(project)) for path in project.glob("tests/test_*.py"))
    if not own_tests:
        return None
    env = {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}
    command = [str(python.parent / "pytest"), *own_tests, "-p", "no:cacheprovider", "-q"]
    result = run(command, project, env)
    assert "integration servers" not in result.stdout
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    return result.returncode, re.sub(r" in [0-9.]+s.*", "", summary)


@pytest.mark.slow
# `-n 0`: sequential even where the project's own addopts ask for `-n auto`.
@pytest.mark.parametrize("workers", [["-n", "0"], ["-n", "2"]], ids=["sequential", "xdist"])
@pytest.mark.parametrize("adoption", ADOPTIONS)
def test_the_adopted_suite_lints_types_and_passes(
    tmp_path: Path, state_dir: Path, adoption: str, workers: list[str]
) -> None:
    name, answers, expected = ADOPTIONS[adoption]
    project = existing_project(tmp_path, name)
    before = snapshot(project)
    render(project, **answers)
    after = snapshot(project)
    assert {path: after.get(path) for path in before} == before
    suite = project / "tests" / "integration"
    if answers.get("web_framework") != "none":
        shutil.copy(PROJECTS / "wiring" / f"test_{name}.py", suite / f"test_{name}.py")
    check_project(project)
    python = cached_venv(
        suite / "requirements.txt", LINT_TOOLS + PROJECT_DEPENDENCIES.get(name, [])
    )
    own_state = tmp_path / "own-tests-state"
    own_state.mkdir()
    sequential = workers == ["-n", "0"]
    own_tests_before = own_tests_outcome(project, python, own_state) if sequential else None
    merge_pytest_table(project)
    merge_mypy_overrides(project)

    # The suite and what it imports of the project (the suite's requirements stand in for the
    # project's own, so its modules the suite never imports may need packages not installed).
    typed = run([str(python), "-m", "mypy", "--no-incremental", "tests"], project)
    outcome = run_suite(
        python,
        project,
        {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)},
        *workers,
        *RUN_OPTIONS.get(name, []),
    )

    assert typed.returncode == 0, typed.stdout + typed.stderr
    assert_all_passed(outcome)
    assert outcome.passed == expected
    assert leftovers(state_dir) == []
    # The merged pytest table changes nothing for the project's own tests: they end as they did
    # before adoption, and no integration server starts for them.
    if own_tests_before is not None:
        assert own_tests_outcome(project, python, own_state) == own_tests_before
        assert not any(own_state.iterdir())


@pytest.mark.slow
def test_an_async_projects_whole_tree_passes_its_own_coverage_gate(
    tmp_path: Path, state_dir: Path
) -> None:
    # `pytest` as the project runs it: its testpaths, its addopts (`-n auto`, the coverage gate)
    # and the merged plugin; its own tests then run on the suite's servers too.
    project = existing_project(tmp_path, "asyncapp")
    render(project, **ASYNCAPP_ANSWERS)
    shutil.copy(PROJECTS / "wiring" / "test_asyncapp.py", project / "tests" / "integration")
    merge_pytest_table(project)
    suite = project / "tests" / "integration"
    python = cached_venv(suite / "requirements.txt", LINT_TOOLS + PROJECT_DEPENDENCIES["asyncapp"])
    env = {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}
    own = len(
        re.findall(
            r"(?m)^async def test_|^def test_",
            "".join(path.read_text() for path in (project / "tests").glob("test_*.py")),
        )
    )

    result = run([str(python.parent / "pytest"), "-p", "no:cacheprovider"], project, env)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    passed = ADOPTIONS["asyncapp"][2] + own
    assert re.search(rf"^=+ {passed} passed in ", result.stdout, re.MULTILINE), output
    assert "Required test coverage of 90% reached" in output, output
    assert "created: 2/2 workers" in output, output
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
        ("app_env", "X=1,BILLING_JWT_SECRET=s", "leave BILLING_JWT_SECRET out of app_env"),
        ("app_env", "DATABASE_URL={postgres.url}\nX=1", "Type NAME=TEMPLATE pairs"),
        ("app_env", "DATABASE_URL={postgres.uri}", "is no field of a selected service"),
        ("app_env", "X={redis.url},X={postgres.url}", "X is set twice"),
        ("app_env", 'X="{postgres.url}"', "Type NAME=TEMPLATE pairs"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(
    tmp_path: Path, question: str, value: str, message: str
) -> None:
    destination = tmp_path / "project"

    with pytest.raises(ValueError, match=message):
        render(destination, **{**BILLING_ANSWERS, question: value})

    assert not destination.exists() or not any(destination.iterdir())


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"alembic_ini": "../alembic.ini"}, "without '..'"),
        ({"alembic_ini": "alembic.cfg"}, "ends in .ini"),
        ({"alembic_ini": "/etc/alembic.ini"}, "relative to the project's root"),
        ({"app_env": ""}, "With schema_source=alembic, answer app_env"),
    ],
    ids=["parent", "not-ini", "absolute", "alembic-without-app_env"],
)
def test_bad_migration_answers_are_refused_and_nothing_is_written(
    tmp_path: Path, answers: dict[str, str], message: str
) -> None:
    destination = tmp_path / "project"

    with pytest.raises(ValueError, match=re.escape(message)):
        render(destination, **{**FULLSTACK_ANSWERS, **answers})

    assert not destination.exists() or not any(destination.iterdir())


def test_an_rs256_public_key_comes_from_an_environment_variable(tmp_path: Path) -> None:
    destination = tmp_path / "project"

    with pytest.raises(ValueError, match="Type an environment variable"):
        render(
            destination,
            **{**BILLING_ANSWERS, "auth": "jwt-rs256", "jwt_key": "billing.settings:settings.key"},
        )

    assert not destination.exists() or not any(destination.iterdir())


@pytest.fixture
def real_database(tmp_path: Path) -> Iterator[str]:
    """A server holding a database named like a real one, `app`, with rows in its user table."""
    with postgres_server("app") as url, psycopg.connect(url, autocommit=True) as conn:
        conn.execute('CREATE TABLE "user" (id serial PRIMARY KEY, email text NOT NULL)')
        for email in SENTINEL_USERS:
            conn.execute('INSERT INTO "user" (email) VALUES (%s)', (email,))
        yield url


SENTINEL_USERS = ["grace@example.com", "linus@example.com", "barbara@example.com"]


def users_in(url: str) -> list[str]:
    """The e-mail addresses in the user table of the database `url` names."""
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute('SELECT email FROM "user" ORDER BY id')]


def settings_pointing_at(url: str) -> dict[str, str]:
    """The full-stack app's settings, as a developer's shell would set them for `url`."""
    parts = urlsplit(url)
    return {
        "POSTGRES_SERVER": parts.hostname or "",
        "POSTGRES_PORT": str(parts.port),
        "POSTGRES_USER": parts.username or "",
        "POSTGRES_DB": parts.path.lstrip("/"),
    }


@pytest.mark.slow
@pytest.mark.parametrize("answered", [True, False], ids=["app_env", "no-app_env"])
def test_the_real_database_the_apps_settings_name_is_never_written(
    tmp_path: Path, state_dir: Path, real_database: str, answered: bool
) -> None:
    # The developer's environment points the app at a real database; with app_env the suite
    # points it at the test servers before the app is imported, without it the guard refuses.
    # (Without app_env the migrations could not be pointed at the test database: the schema
    # then comes from the models, and copier refuses app_env="" with schema_source=alembic.)
    unanswered = {**FULLSTACK_ANSWERS, "app_env": "", "schema_source": "metadata"}
    answers = FULLSTACK_ANSWERS if answered else unanswered
    project = existing_project(tmp_path, "fullstack")
    render(project, **answers)
    merge_pytest_table(project)
    suite = project / "tests" / "integration"
    python = cached_venv(suite / "requirements.txt", LINT_TOOLS + PROJECT_DEPENDENCIES["fullstack"])
    env = {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}
    env |= settings_pointing_at(real_database)

    result = run([str(python.parent / "pytest"), "tests/integration", "-n", "2"], project, env)

    output = result.stdout + result.stderr
    if answered:
        assert result.returncode == 0, output
        assert re.search(r"^=+ \d+ passed", result.stdout, re.MULTILINE), output
    else:
        assert result.returncode != 0, output
        assert "Refused a connection to database 'app' before it was made" in output
    assert users_in(real_database) == SENTINEL_USERS
    assert leftovers(state_dir) == []
