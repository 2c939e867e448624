"""Shared fixtures of the template's own tests: renders, one virtual environment, CI rules."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.helpers import cached_venv, render
from tests.suite import processes_mentioning, watchdogs

LINT_TOOLS = ["mypy>=1.13,<3", "types-requests", "types-docker"]
# Every service the template offers; those whose servers this machine can run (locally and as
# images built by scripts/build-images.sh) are proven by running the suite, the others are
# rendered, linted, typed and validated only.
ALL_SERVICES = [
    "postgres",
    "mysql",
    "redis",
    "rabbitmq",
    "memcached",
    "kafka",
    "mongodb",
    "opensearch",
    "localstack",
    "wiremock",
]
PROVEN_SERVICES = ["postgres", "mysql", "redis", "rabbitmq", "memcached", "wiremock"]
# Existing projects the adoption tests render into: their tests are theirs, not ours.
collect_ignore = ["projects"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under CI=true a skipped test is a failure: CI must prove every path, not skip it."""
    report = yield
    if report.skipped and os.environ.get("CI", "").lower() == "true":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {reason}"
    return report


@pytest.fixture(autouse=True)
def environment_kept() -> Iterator[None]:
    """No test leaves its environment behind: a variable it set (DOCKER_HOST, say) would reach
    every suite this worker runs after it and fail them for a reason of another test's."""
    before = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    yield
    after = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"the test left these environment variables changed: {changed}"


@pytest.fixture(scope="session")
def default_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template rendered once with its defaults; tests must not modify it."""
    return render(tmp_path_factory.mktemp("default") / "project")


@pytest.fixture(scope="session")
def rendered_python(default_project: Path) -> Path:
    """A virtual environment with the rendered requirements, shared by every test and run."""
    return cached_venv(default_project / "tests" / "integration" / "requirements.txt", LINT_TOOLS)


@pytest.fixture(scope="session")
def async_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template rendered with its defaults and async_db=true; not to be modified."""
    return render(tmp_path_factory.mktemp("async") / "project", async_db=True)


@pytest.fixture(scope="session")
def async_python(async_project: Path) -> Path:
    """A virtual environment with the requirements of `async_project`."""
    return cached_venv(async_project / "tests" / "integration" / "requirements.txt", LINT_TOOLS)


@pytest.fixture(params=["defaults", "async_db"])
def default_render(request: pytest.FixtureRequest) -> tuple[Path, Path]:
    """The default render, then the default render with async_db=true: (project, python)."""
    project, python = ("default_project", "rendered_python")
    if request.param == "async_db":
        project, python = ("async_project", "async_python")
    return request.getfixturevalue(project), request.getfixturevalue(python)


@pytest.fixture(scope="session")
def services_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template rendered with every service this machine can run; not to be modified."""
    return render(tmp_path_factory.mktemp("services") / "project", services=PROVEN_SERVICES)


@pytest.fixture(scope="session")
def services_python(services_project: Path) -> Path:
    """A virtual environment with the requirements of `services_project`."""
    return cached_venv(services_project / "tests" / "integration" / "requirements.txt", LINT_TOOLS)


@pytest.fixture
def state_dir() -> Iterator[Path]:
    """A state directory of the test's own, so leftovers can be counted exactly.

    It is outside pytest's 0700 temp dirs: as root, PostgreSQL runs as nobody and must reach it.
    """
    path = Path(tempfile.mkdtemp(prefix="it-state-"))
    path.chmod(0o711)
    yield path
    for pid in processes_mentioning(str(path)) + watchdogs(path):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(path, ignore_errors=True)
