"""The runner patterns: per-test timeouts, random order, the coverage gate, CI shards.

Fast tests read the render (requirements, configuration, the workflow's schema, zizmor and
hardening); slow ones run the rendered suite for real, the workflow's own commands included.
"""

from __future__ import annotations

import json
import shlex
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LINT_TOOLS
from tests.counts import DEFAULT_RENDER_TESTS
from tests.helpers import DEFAULT_PACKAGE, cached_venv, render, run, tool
from tests.suite import leftovers, run_suite
from tests.test_ci_files import WORKFLOW, assert_hardened, check_schema, check_zizmor, load_yaml

SUITE = Path("tests/integration")
HANGING_TESTS = """import time

from sqlalchemy import text
from sqlalchemy.orm import Session


def test_hangs_in_python(db_session: Session) -> None:
    time.sleep(300)


def test_hangs_in_the_database(db_session: Session) -> None:
    db_session.execute(text("SELECT pg_sleep(300)"))
"""


def requirements(project: Path) -> list[str]:
    """The requirement names of a render, lower case, without versions or markers."""
    lines = (project / SUITE / "requirements.txt").read_text().splitlines()
    names = [line.split(";")[0].split("[")[0].split(">")[0].split("=")[0] for line in lines]
    return [name.strip().lower() for name in names if name and not name.startswith("#")]


def step(job: dict[str, Any], name: str) -> dict[str, Any]:
    """The step of `job` whose name starts with `name`."""
    (found,) = [s for s in job["steps"] if str(s.get("name", "")).startswith(name)]
    assert isinstance(found, dict)
    return found


def junit_cases(report: Path) -> list[tuple[str, str]]:
    """(classname, name) of every test case a JUnit report holds."""
    return [
        (case.get("classname", ""), case.get("name", ""))
        for case in ET.parse(report).iter("testcase")
    ]


def local(state_dir: Path) -> dict[str, str]:
    return {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}


# --- fast: the render -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"test_timeout": "3601"}, "Type a whole number of seconds from 0"),
        ({"test_timeout": "1.5"}, "Type a whole number of seconds from 0"),
        ({"test_timeout": "-1"}, "Type a whole number of seconds from 0"),
        ({"coverage_threshold": "101"}, "Type a whole percentage from 0"),
        ({"coverage_threshold": "80%"}, "Type a whole percentage from 0"),
        ({"ci_shards": "0"}, "Type a whole number of CI jobs from 1"),
        ({"ci_shards": "21"}, "Type a whole number of CI jobs from 1"),
    ],
)
def test_out_of_range_runner_answers_are_refused(
    tmp_path: Path, answers: dict[str, str], message: str
) -> None:
    destination = tmp_path / "project"

    with pytest.raises(ValueError, match=message):
        render(destination, **answers)

    assert not destination.exists() or not any(destination.iterdir())


def test_the_default_render_brings_randomly_cov_and_timeout(default_project: Path) -> None:
    names = requirements(default_project)

    assert {"pytest-randomly", "pytest-cov", "pytest-timeout"} <= set(names)
    assert "pytest-split" not in names
    assert (
        "TEST_TIMEOUT_SECONDS = 60\n" in (default_project / SUITE / "harness/config.py").read_text()
    )
    assert not (default_project / SUITE / ".test_durations").exists()


def test_timeout_zero_leaves_pytest_timeout_out(tmp_path: Path) -> None:
    project = render(tmp_path / "project", test_timeout="0")

    assert "pytest-timeout" not in requirements(project)
    assert "TEST_TIMEOUT_SECONDS = 0\n" in (project / SUITE / "harness/config.py").read_text()
    assert "Timeouts**: off" in (project / SUITE / "README.md").read_text()


def test_coverage_is_configured_for_the_app_and_on_in_the_workflow_only(
    default_project: Path,
) -> None:
    pyproject = (default_project / "pyproject.toml").read_text()
    workflow = load_yaml(default_project / WORKFLOW)
    (job,) = workflow["jobs"].values()
    command = step(job, "Run the integration suite")["run"]

    assert f'source_pkgs = ["{DEFAULT_PACKAGE}"]' in pyproject
    assert "relative_files = true" in pyproject
    assert "--cov" not in pyproject.split("addopts = ", 1)[1].split("\n", 1)[0]  # not locally
    assert "--cov --cov-report=term --cov-report=xml" in command
    assert "--cov-fail-under" not in command  # coverage_threshold=0: a report, no gate
    upload = step(job, "Upload the coverage report")
    assert (upload["if"], upload["with"]["path"]) == ("always()", "coverage.xml")


def test_an_adopted_project_gets_coverage_in_its_snippet(tmp_path: Path) -> None:
    project = render(tmp_path / "project", example_app=False, package_name="billing", async_db=True)
    snippet = (project / SUITE / "pyproject-snippet.toml").read_text()

    assert 'source_pkgs = ["billing"]' in snippet
    assert 'concurrency = ["greenlet", "thread"]' in snippet


@pytest.fixture(scope="module")
def sharded_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three shards, random order, an 80 % gate (the example app is covered above it)."""
    return render(
        tmp_path_factory.mktemp("sharded") / "project", ci_shards="3", coverage_threshold="80"
    )


@pytest.mark.parametrize("ci", ["github-services", "github-testcontainers"])
def test_the_sharded_workflow_validates_and_is_hardened(tmp_path: Path, ci: str) -> None:
    project = render(tmp_path / "project", ci=ci, ci_shards="4", coverage_threshold="75")
    path = project / WORKFLOW

    check_schema("vendor.github-workflows", path)
    check_zizmor(path)
    workflow = assert_hardened(path)
    assert workflow["jobs"]["integration"]["strategy"]["matrix"]["group"] == [1, 2, 3, 4]


def test_the_sharded_workflow_splits_merges_and_fails_on_any_shard(sharded_project: Path) -> None:
    jobs = load_yaml(sharded_project / WORKFLOW)["jobs"]
    shard, report = jobs["integration"], jobs["report"]
    run_step = step(shard, "Run the integration suite")

    assert shard["strategy"] == {"fail-fast": False, "matrix": {"group": [1, 2, 3]}}
    assert '--splits 3 --group "$GROUP" --splitting-algorithm least_duration' in run_step["run"]
    assert run_step["env"]["SEED"] == "${{ github.run_id }}"  # one order for every shard
    assert "pytest-split" in requirements(sharded_project)
    assert json.loads((sharded_project / SUITE / ".test_durations").read_text()) == {}
    assert (report["needs"], report["if"]) == ("integration", "always()")
    assert "--fail-under=80" in step(report, "Merge the shards' reports")["run"]
    failing = step(report, "Fail unless every shard passed")
    assert failing["if"] == "needs.integration.result != 'success'"
    assert "exit 1" in failing["run"]


# --- slow: the rendered suite, for real ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["sequential", "xdist"])
def test_a_hanging_test_fails_at_its_limit_and_the_run_goes_on(
    tmp_path: Path, rendered_python: Path, state_dir: Path, workers: list[str]
) -> None:
    project = render(tmp_path / "project", test_timeout="3")
    assert cached_venv(project / SUITE / "requirements.txt", LINT_TOOLS) == rendered_python
    (project / SUITE / "test_hanging.py").write_text(HANGING_TESTS)

    outcome = run_suite(rendered_python, project, local(state_dir), *workers)

    assert outcome.returncode == pytest.ExitCode.TESTS_FAILED, outcome.output
    assert (outcome.failures, outcome.errors, outcome.skipped) == (2, 0, 0), outcome.output
    assert outcome.passed == DEFAULT_RENDER_TESTS
    assert "timeout: 3 s per test, set-up and tear-down included (signal)" in outcome.output
    assert outcome.output.count("Failed: Timeout (>3.0s) from pytest-timeout") >= 2
    assert leftovers(state_dir) == []  # the servers stopped at the end all the same


@pytest.mark.slow
def test_twenty_shuffled_runs_pass(
    default_project: Path, rendered_python: Path, state_dir: Path, tmp_path: Path
) -> None:
    pytest_command = [
        str(rendered_python),
        "-m",
        "pytest",
        "tests/integration",
        "-p",
        "no:cacheprovider",
    ]
    orders = set()
    for seed in (1, 2, 3):  # the order each seed gives: shuffled, and another for each
        listed = run(
            [*pytest_command, "--collect-only", "-q", f"--randomly-seed={seed}"], default_project
        )
        orders.add(tuple(line for line in listed.stdout.splitlines() if "::" in line))
    assert len(orders) == 3

    for seed in range(1, 21):
        report = tmp_path / f"junit-{seed}.xml"
        command = [*pytest_command, "-n", "2", f"--randomly-seed={seed}", f"--junitxml={report}"]

        result = run(command, default_project, local(state_dir))

        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert f"Using --randomly-seed={seed}" in output
        suite = ET.parse(report).getroot()[0]
        assert suite.get("tests") == str(DEFAULT_RENDER_TESTS), output  # the hand-kept count
        assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("0", "0", "0")
    assert leftovers(state_dir) == []


@pytest.mark.slow
@pytest.mark.parametrize(("threshold", "gated"), [("0", False), ("100", True)])
def test_the_workflows_command_reports_coverage_and_gates_it(
    tmp_path: Path, rendered_python: Path, state_dir: Path, threshold: str, gated: bool
) -> None:
    project = render(tmp_path / "project", coverage_threshold=threshold)
    (job,) = load_yaml(project / WORKFLOW)["jobs"].values()
    command = shlex.split(step(job, "Run the integration suite")["run"])
    assert command[:3] == ["python", "-m", "pytest"]

    result = run(
        [str(rendered_python), *command[1:], "-p", "no:cacheprovider"], project, local(state_dir)
    )

    output = result.stdout + result.stderr
    coverage = ET.parse(project / "coverage.xml").getroot()
    rate = float(coverage.get("line-rate", "0"))
    assert 0.5 < rate < 1.0, (
        output
    )  # the example app, measured; not all of it: 100 % is out of reach
    suite = ET.parse(project / "junit-integration.xml").getroot()[0]
    assert suite.get("tests") == str(DEFAULT_RENDER_TESTS), output
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("0", "0", "0")
    if gated:
        assert result.returncode == pytest.ExitCode.TESTS_FAILED, output
        assert "Required test coverage of 100% not reached" in output
    else:
        assert result.returncode == 0, output
    assert leftovers(state_dir) == []


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["sequential", "xdist"])
def test_the_shards_run_every_test_exactly_once_in_random_order(
    sharded_project: Path, tmp_path: Path, state_dir: Path, workers: list[str]
) -> None:
    python = cached_venv(sharded_project / SUITE / "requirements.txt", LINT_TOOLS)
    project = Path(shutil.copytree(sharded_project, tmp_path / "project"))
    jobs = load_yaml(project / WORKFLOW)["jobs"]
    command = shlex.split(step(jobs["integration"], "Run the integration suite")["run"])
    if not workers:
        at = command.index("-n")
        del command[at : at + 2]
    cases: list[tuple[str, str]] = []
    for group in ("1", "2", "3"):
        env = {**local(state_dir), "COVERAGE_FILE": f".coverage.{group}"}
        args = [arg.replace("$GROUP", group).replace("$SEED", "424242") for arg in command[1:]]

        result = run([str(python), *args, "-p", "no:cacheprovider"], project, env)

        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "Using --randomly-seed=424242" in output
        cases += junit_cases(project / f"junit-{group}.xml")

    assert len(cases) == len(set(cases)) == DEFAULT_RENDER_TESTS  # each test once, none left out
    # The report job's own commands, where it runs them: merge the JUnit reports and coverage,
    # then apply the gate (80 %, which the example app's coverage clears).
    for line in step(jobs["report"], "Merge the shards' reports")["run"].strip().splitlines():
        words = shlex.split(line)
        program = tool("junitparser") if words[0] == "junitparser" else str(python)

        result = run([program, *words[1:]], project)

        assert result.returncode == 0, line + "\n" + result.stdout + result.stderr
    assert len(junit_cases(project / "junit-integration.xml")) == DEFAULT_RENDER_TESTS
    assert float(ET.parse(project / "coverage.xml").getroot().get("line-rate", "0")) > 0.8
    assert leftovers(state_dir) == []
