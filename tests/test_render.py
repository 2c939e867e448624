"""Fast layer: every answer renders, nothing unrendered is left, and bad answers are refused."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import tomllib
import yaml

from tests.helpers import DEFAULT_PACKAGE, JINJA_LEFTOVER, render, rendered_files, run, tool

CORE_FILES = [
    ".copier-answers.yml",
    "pyproject.toml",
    "docker-compose.test.yml",
    "src/order_service/api.py",
    "src/order_service/models.py",
    "tests/integration/conftest.py",
    "tests/integration/requirements.txt",
    "tests/integration/harness/plugin.py",
    "tests/integration/harness/fixtures.py",
    "tests/integration/harness/services/postgres/server.py",
    "tests/integration/harness/services/redis/server.py",
    "tests/integration/harness/services/postgres/isolation.py",
    "tests/integration/harness/safety.py",
]

ONE_CHANGE = [
    ("project_name", "Billing API"),
    ("package_name", "billing"),
    ("python_version", "3.10"),
    ("python_version", "3.12"),
    ("python_version", "3.13"),
    ("postgres_version", "13"),
    ("postgres_version", "14"),
    ("postgres_version", "15"),
    ("postgres_version", "16"),
    ("postgres_version", "18"),
    ("redis_version", "6.2"),
    ("web_framework", "flask"),
    ("web_framework", "none"),
    ("http_client", "httpx"),
    ("auth", "jwt-hs256"),
    ("auth", "jwt-rs256"),
    ("auth", "none"),
    ("isolation", "truncate"),
    ("isolation", "delete"),
    ("isolation", "schema"),
    ("isolation", "database"),
    ("orm", "sqlmodel"),
    ("async_db", True),
    ("schema_source", "alembic"),
    ("ci", "github-testcontainers"),
    ("installer", "pip"),
    ("ci", "none"),
]


def check_project(project: Path) -> None:
    """What every render must satisfy, whatever the answers."""
    files = rendered_files(project)
    assert files, "nothing was rendered"
    for path in files:
        assert '"' not in str(path), f"double quote in a path breaks Windows checkouts: {path}"
        text = (project / path).read_text()
        if ".github" not in path.parts:
            assert not JINJA_LEFTOVER.search(text), f"unrendered Jinja in {path}"
        if path.suffix == ".py":
            ast.parse(text, filename=str(path))
        if path.suffix in {".yml", ".yaml"}:
            assert yaml.safe_load(text) is not None, f"{path} is empty"
    lint = run([tool("ruff"), "check", "--no-cache", "."], cwd=project)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = run([tool("ruff"), "format", "--check", "--no-cache", "."], cwd=project)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_defaults_render_the_example_app_and_the_suite(default_project: Path) -> None:
    files = {str(path) for path in rendered_files(default_project)}

    assert set(CORE_FILES) <= files
    check_project(default_project)


def test_answers_file_records_every_answer(default_project: Path) -> None:
    answers = yaml.safe_load((default_project / ".copier-answers.yml").read_text())

    assert answers["package_name"] == "order_service"
    assert {"_src_path", "_commit", "python_version", "postgres_version"} <= set(answers)


@pytest.mark.parametrize(("question", "value"), ONE_CHANGE)
def test_each_answer_changed_once_renders_cleanly(
    tmp_path: Path, question: str, value: str
) -> None:
    project = render(tmp_path / "project", **{question: value})

    check_project(project)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers[question] == value


def test_package_name_names_the_source_directory(tmp_path: Path) -> None:
    project = render(tmp_path / "project", package_name="billing")

    assert (project / "src" / "billing" / "models.py").is_file()
    config = (project / "tests/integration/harness/config.py").read_text()
    assert 'MODELS = "billing.models:Base"' in config


def test_postgres_version_pins_the_image_and_the_data_volume(tmp_path: Path) -> None:
    project = render(tmp_path / "project", postgres_version="18")

    config = (project / "tests/integration/harness/config.py").read_text()
    assert 'POSTGRES_IMAGE = "postgres:18"' in config
    assert 'POSTGRES_DATA_VOLUME = "/var/lib/postgresql"' in config


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        ("package_name", "Order-Service", "Type a lower-case Python identifier"),
        ("package_name", "class", "is a Python keyword"),
        ("package_name", "tests", "would shadow a module"),
        ("package_name", "../escape", "Type a lower-case Python identifier"),
        ("package_name", "order\nservice", "Type a lower-case Python identifier"),
        ("project_name", 'Order "Service"', "Type 2-64 characters"),
        ("project_name", "Order\nService", "Type 2-64 characters"),
        ("project_name", "{{ 7 * 7 }}", "Type 2-64 characters"),
        ("redis_version", "7.4\n      run: curl evil.example", "Type a Redis version"),
        ("redis_version", "latest", "Type a Redis version"),
        ("python_version", "3.11\n    - run: id", "Invalid choice"),
        ("postgres_version", "17; rm -rf /", "Invalid choice"),
        ("ci", "github", "Invalid choice"),
        ("http_client", "urllib3", "Invalid choice"),
        ("web_framework", "django", "Invalid choice"),
        ("auth", "none\n  - run: id", "Invalid choice"),
        ("isolation", "rollback\n    - run: id", "Invalid choice"),
        ("postgres_data_volume", "/x\n    steps:\n      - run: curl evil.example", "computed"),
        ("postgres_data_volume", "/var/lib/postgresql\n    privileged: true", "computed"),
    ],
)
def test_invalid_answers_are_refused_and_nothing_is_written(
    tmp_path: Path, question: str, value: str, message: str
) -> None:
    destination = tmp_path / "project"

    with pytest.raises(ValueError, match=message):
        render(destination, **{question: value})

    assert not destination.exists() or not any(destination.iterdir())


def test_async_db_with_flask_is_refused_with_what_to_answer(tmp_path: Path) -> None:
    destination = tmp_path / "project"

    with pytest.raises(ValueError, match=r"Flask views are synchronous.*answer async_db=false"):
        render(destination, web_framework="flask", async_db=True)

    assert not destination.exists() or not any(destination.iterdir())


def test_graphql_without_a_web_framework_is_refused_with_what_to_answer(tmp_path: Path) -> None:
    destination = tmp_path / "project"

    with pytest.raises(ValueError, match=r"no HTTP endpoint to serve GraphQL on.*graphql=false"):
        render(destination, web_framework="none", graphql=True)

    assert not destination.exists() or not any(destination.iterdir())


def test_graphql_renders_its_module_and_tests_only_when_asked(tmp_path: Path) -> None:
    with_graphql = render(tmp_path / "with", graphql=True)
    without = render(tmp_path / "without")

    for project, present in ((with_graphql, True), (without, False)):
        assert (project / "src" / DEFAULT_PACKAGE / "graphql_api.py").exists() is present
        assert (project / "tests" / "integration" / "test_graphql.py").exists() is present
        requirements = (project / "tests" / "integration" / "requirements.txt").read_text()
        assert ("strawberry-graphql" in requirements) is present


def requirement_lines(project: Path) -> list[str]:
    """The requirements of the rendered requirements.txt, without its comments."""
    text = (project / "tests" / "integration" / "requirements.txt").read_text()
    return [line for line in text.splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("example_app", [True, False], ids=["pyproject", "snippet"])
def test_the_integration_group_is_the_requirements_list(tmp_path: Path, example_app: bool) -> None:
    project = render(tmp_path / "project", example_app=example_app, async_db=True)
    where = "pyproject.toml" if example_app else "tests/integration/pyproject-snippet.toml"

    group = tomllib.loads((project / where).read_text())["dependency-groups"]["integration"]

    assert group == requirement_lines(project)
    assert any(line.startswith("asyncpg") for line in group)  # the answers' own rows
