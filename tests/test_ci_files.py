"""Fast layer: the rendered CI workflow and compose file, and the repository's own workflow.

Each file is validated against its schema (check-jsonschema's vendored schemas, offline),
audited with `zizmor --offline` (no findings allowed), and held to the hardening rules:
`permissions: {}` at the top, read-only job tokens, actions pinned to full commit SHAs,
no `pull_request_target`, checkout without persisted credentials.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]

from tests.helpers import DEFAULT_PACKAGE, JINJA_LEFTOVER, ROOT, render, run, tool

WORKFLOW = Path(".github/workflows/integration-tests.yml")
COMPOSE = Path("docker-compose.test.yml")
REPO_WORKFLOW = ROOT / ".github/workflows/tests.yml"
CI_WORKFLOWS = ["github-services", "github-testcontainers"]
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", re.MULTILINE)


def load_yaml(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    return data


def check_schema(schema: str, path: Path) -> None:
    done = run([tool("check-jsonschema"), "--builtin-schema", schema, str(path)], cwd=path.parent)
    assert done.returncode == 0, f"{path} does not match {schema}:\n{done.stdout}{done.stderr}"


def check_zizmor(path: Path) -> None:
    done = run([tool("zizmor"), "--offline", "--format", "json", str(path)], cwd=path.parent)
    assert done.returncode == 0, f"zizmor failed on {path}:\n{done.stdout}{done.stderr}"
    assert json.loads(done.stdout) == [], f"zizmor findings on {path}:\n{done.stdout}"


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """The `on:` mapping (PyYAML reads a bare `on` key as the boolean True)."""
    on = workflow.get("on", workflow.get(True))
    assert isinstance(on, dict), "triggers must be a mapping"
    return on


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if str(step.get("uses", "")).startswith(f"{action}@")]


def assert_hardened(path: Path) -> dict[str, Any]:
    """The hardening rules every workflow here follows; returns the parsed workflow."""
    text = path.read_text(encoding="utf-8")
    workflow = load_yaml(path)
    assert "pull_request_target" not in text
    assert set(triggers(workflow)) == {"push", "pull_request"}
    assert workflow["permissions"] == {}
    uses = USES_LINE.findall(text)
    assert uses, f"{path} uses no actions"
    for ref, comment in uses:
        assert PINNED.match(ref), f"{ref} is not pinned to a full commit SHA"
        assert re.match(r"\s+# v\d+(\.\d+)*\s*$", comment), f"{ref} lacks its `# vX.Y.Z` comment"
    for name, job in workflow["jobs"].items():
        assert job["permissions"] == {"contents": "read"}, name
        assert isinstance(job["timeout-minutes"], int), name
        checkouts = steps_using(job, "actions/checkout")
        assert checkouts, f"job {name} does not check out"
        for step in checkouts:
            assert step["with"]["persist-credentials"] is False
    return workflow


@pytest.fixture(scope="module", params=CI_WORKFLOWS)
def ci_project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ci = str(request.param)
    return render(tmp_path_factory.mktemp(ci), ci=ci)


def test_workflow_validates(ci_project: Path) -> None:
    check_schema("vendor.github-workflows", ci_project / WORKFLOW)


def test_workflow_has_no_zizmor_findings(ci_project: Path) -> None:
    check_zizmor(ci_project / WORKFLOW)


def test_workflow_is_hardened(ci_project: Path) -> None:
    text = (ci_project / WORKFLOW).read_text(encoding="utf-8")
    assert not JINJA_LEFTOVER.search(text.replace("${{", "").replace("}}", ""))
    assert_hardened(ci_project / WORKFLOW)


def test_workflow_runs_the_suite(ci_project: Path) -> None:
    workflow = load_yaml(ci_project / WORKFLOW)
    (job,) = workflow["jobs"].values()
    (setup,) = steps_using(job, "astral-sh/setup-uv")
    assert setup["with"] == {
        "python-version": "3.11",
        "activate-environment": True,
        "enable-cache": True,
        "cache-dependency-glob": "pyproject.toml\ntests/integration/requirements.txt\n",
    }
    assert steps_using(job, "actions/setup-python") == []
    runs = " ".join(str(step.get("run", "")) for step in job["steps"])
    assert "uv sync --group integration" in runs
    assert "pip install" not in runs
    assert re.search(r"pytest tests/integration -n 2 --junitxml=\S+", runs)
    junit_upload, coverage_upload = steps_using(job, "actions/upload-artifact")
    assert junit_upload["if"] == coverage_upload["if"] == "always()"
    junit = re.search(r"--junitxml=(\S+)", runs)
    assert junit is not None
    assert junit_upload["with"]["path"] == junit.group(1)
    assert coverage_upload["with"]["path"] == "coverage.xml"


@pytest.mark.parametrize("example_app", [True, False], ids=["new-project", "adopted"])
def test_the_pip_installer_uses_setup_python_and_requirements(
    tmp_path: Path, example_app: bool
) -> None:
    project = render(tmp_path / "project", installer="pip", example_app=example_app)
    assert_hardened(project / WORKFLOW)
    check_zizmor(project / WORKFLOW)
    (job,) = load_yaml(project / WORKFLOW)["jobs"].values()

    (setup,) = steps_using(job, "actions/setup-python")
    assert setup["with"] == {
        "python-version": "3.11",
        "cache": "pip",
        "cache-dependency-path": "tests/integration/requirements.txt",
    }
    assert steps_using(job, "astral-sh/setup-uv") == []
    runs = " ".join(str(step.get("run", "")) for step in job["steps"])
    assert "pip install -r tests/integration/requirements.txt" in runs
    assert ("pip install -e ." in runs) is not example_app
    readme = (project / "tests" / "integration" / "README.md").read_text()
    assert "pip install -r tests/integration/requirements.txt" in readme
    assert "uv sync" not in readme.split("```")[1]


def test_services_workflow_uses_url_backend(tmp_path: Path) -> None:
    project = render(tmp_path, ci="github-services", postgres_version="18", redis_version="7.2")
    (job,) = load_yaml(project / WORKFLOW)["jobs"].values()
    assert job["env"]["IT_BACKEND"] == "url"
    postgres, redis = job["services"]["postgres"], job["services"]["redis"]
    assert postgres["image"] == "postgres:18"
    assert redis["image"] == "redis:7.2"
    assert postgres["env"] == {
        "POSTGRES_USER": "test",
        "POSTGRES_PASSWORD": "test",
        "POSTGRES_DB": f"test_{DEFAULT_PACKAGE}",
    }
    # Container ports only: the runner maps them to random host ports.
    assert postgres["ports"] == [5432]
    assert redis["ports"] == [6379]
    assert "--health-cmd" in postgres["options"]
    assert "--health-cmd" in redis["options"]
    assert "--tmpfs /var/lib/postgresql " in postgres["options"] + " "
    (pytest_step,) = [step for step in job["steps"] if "pytest" in str(step.get("run", ""))]
    env = pytest_step["env"]
    assert env["TEST_POSTGRES_URL"] == (
        "postgresql://test:test@127.0.0.1:${{ job.services.postgres.ports['5432'] }}"
        f"/test_{DEFAULT_PACKAGE}"
    )
    assert env["TEST_REDIS_URL"] == "redis://127.0.0.1:${{ job.services.redis.ports['6379'] }}/0"


def test_testcontainers_workflow_uses_docker_backend(tmp_path: Path) -> None:
    project = render(tmp_path, ci="github-testcontainers", python_version="3.13")
    (job,) = load_yaml(project / WORKFLOW)["jobs"].values()
    assert job["env"] == {"IT_BACKEND": "docker"}
    assert "services" not in job
    (setup,) = steps_using(job, "astral-sh/setup-uv")
    assert setup["with"]["python-version"] == "3.13"
    assert "TEST_POSTGRES_URL" not in (project / WORKFLOW).read_text(encoding="utf-8")


def test_ci_none_renders_no_github_directory(tmp_path: Path) -> None:
    project = render(tmp_path, ci="none")
    assert not (project / ".github").exists()
    assert (project / COMPOSE).is_file()


@pytest.mark.parametrize(
    ("postgres_version", "data_dir"),
    [("17", "/var/lib/postgresql/data"), ("18", "/var/lib/postgresql")],
)
def test_compose_file(tmp_path: Path, postgres_version: str, data_dir: str) -> None:
    project = render(tmp_path, postgres_version=postgres_version, ci="none")
    path = project / COMPOSE
    assert not JINJA_LEFTOVER.search(path.read_text(encoding="utf-8"))
    check_schema("vendor.compose-spec", path)
    compose = load_yaml(path)
    assert "version" not in compose
    postgres, redis = compose["services"]["postgres"], compose["services"]["redis"]
    assert postgres["image"] == f"${{IT_POSTGRES_IMAGE:-postgres:{postgres_version}}}"
    assert redis["image"] == "${IT_REDIS_IMAGE:-redis:7.4}"
    assert postgres["tmpfs"] == [data_dir]
    assert postgres["environment"] == {
        "POSTGRES_USER": "test",
        "POSTGRES_PASSWORD": "test",
        "POSTGRES_DB": f"test_{DEFAULT_PACKAGE}",
    }
    assert "fsync=off" in postgres["command"]
    assert postgres["ports"] == ["127.0.0.1:${IT_POSTGRES_PORT:-}:5432"]
    assert redis["ports"] == ["127.0.0.1:${IT_REDIS_PORT:-}:6379"]
    for service in compose["services"].values():
        assert all(str(port).startswith("127.0.0.1:") for port in service.get("ports", []))
        assert service["labels"] == {"it-template.compose": DEFAULT_PACKAGE}
    pg_check = " ".join(postgres["healthcheck"]["test"])
    database = f"-d test_{DEFAULT_PACKAGE}"
    assert f"pg_isready -q -h 127.0.0.1 -U test {database}" in pg_check
    assert f"psql -h 127.0.0.1 -U test {database}" in pg_check
    assert "select 1" in pg_check
    assert "redis-cli -h 127.0.0.1 ping" in " ".join(redis["healthcheck"]["test"])
    # The suite inside compose: behind a profile, built from tests/integration, publishing nothing.
    suite = compose["services"]["test-api"]
    assert suite["profiles"] == ["tests"]
    assert suite["build"] == {
        "context": "tests/integration",
        "dockerfile": "harness/Dockerfile",
        "args": {"PYTHON_IMAGE": "${IT_PYTHON_IMAGE:-python:3.11-slim}"},
    }
    assert "ports" not in suite
    assert suite["volumes"] == [".:/project:ro"]
    assert suite["depends_on"] == {
        name: {"condition": "service_healthy"} for name in ("postgres", "redis")
    }
    assert suite["environment"] == {
        "IT_BACKEND": "url",
        "TEST_POSTGRES_URL": f"postgresql://test:test@postgres:5432/test_{DEFAULT_PACKAGE}",
        "TEST_REDIS_URL": "redis://redis:6379/0",
    }
    dockerfile = (project / "tests" / "integration" / "harness" / "Dockerfile").read_text(
        encoding="utf-8"
    )
    assert "ARG PYTHON_IMAGE=python:3.11-slim\nFROM ${PYTHON_IMAGE}\n" in dockerfile
    assert not (project / "Dockerfile").exists()


def test_repository_workflow() -> None:
    check_schema("vendor.github-workflows", REPO_WORKFLOW)
    check_zizmor(REPO_WORKFLOW)
    workflow = assert_hardened(REPO_WORKFLOW)
    runs = " ".join(
        str(step.get("run", "")) for job in workflow["jobs"].values() for step in job["steps"]
    )
    assert "make test" in runs
