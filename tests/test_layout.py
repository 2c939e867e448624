"""The house: the user's files at the top of tests/integration/, the machinery in harness/.

Fast tests read the render; slow ones run pytest's console script from the project's root the
ways people type it, and check that the plugin loaded first (the header) and that a run which
does not collect the suite starts nothing.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.counts import DEFAULT_RENDER_TESTS, EVERY_EXAMPLE_APP
from tests.helpers import rendered_files, run, tool
from tests.suite import leftovers

SUITE = Path("tests/integration")
MANAGED = "# Managed by it-template:"
USERS = {"__init__.py", "conftest.py", "factories.py", "builders.py"}
HEADER = "integration servers (IT_BACKEND=local):"
# A test outside the suite that records the environment pytest gave it.
UNIT_TEST = """import json
import os
from pathlib import Path


def test_records_its_environment() -> None:
    Path(os.environ["RECORD"]).write_text(json.dumps(dict(os.environ)))
"""


def test_the_top_of_the_suite_holds_only_the_users_python_files(default_project: Path) -> None:
    top = {path.name for path in (default_project / SUITE).glob("*.py")}

    assert {name for name in top if not name.startswith("test_")} == USERS
    folders = {path.name for path in (default_project / SUITE).iterdir() if path.is_dir()}
    assert folders - {"__pycache__"} == {"harness"}  # bytecode, where runs may write it


def test_every_file_of_the_harness_carries_the_managed_header(default_project: Path) -> None:
    harness = [path for path in rendered_files(default_project) if "harness" in path.parts]

    assert len(harness) > 20
    for path in harness:
        assert (default_project / path).read_text().startswith(MANAGED), path


def test_the_users_files_say_they_are_theirs(default_project: Path) -> None:
    for name in ("conftest.py", "factories.py", "builders.py"):
        first = (default_project / SUITE / name).read_text().splitlines()[0]
        assert first.startswith("# Yours: it-template rendered it once"), name


def test_a_new_project_loads_the_plugin_first(default_project: Path) -> None:
    pyproject = (default_project / "pyproject.toml").read_text()

    assert 'pythonpath = ["src", "."]' in pyproject
    assert '"-p", "tests.integration.harness.plugin"' in pyproject


@pytest.fixture
def project_copy(default_project: Path, tmp_path: Path) -> Path:
    """A copy of the default render that a test may add files to."""
    return Path(shutil.copytree(default_project, tmp_path / "project"))


def pytest_command(python: Path, *args: str) -> list[str]:
    """pytest's console script next to `python`, as a user types it, with `args`."""
    return [str(python.parent / "pytest"), *args, "-p", "no:cacheprovider"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "args", [[], ["-n", "2"], ["tests"], ["tests", "-n", "2"]], ids=lambda a: " ".join(a) or "-"
)
def test_the_pytest_command_from_the_root_starts_the_servers_first(
    default_project: Path, rendered_python: Path, state_dir: Path, args: list[str]
) -> None:
    env = {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}

    result = run(pytest_command(rendered_python, *args), default_project, env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert HEADER in result.stdout
    assert re.search(rf"^=+ {DEFAULT_RENDER_TESTS} passed in ", result.stdout, re.M), result.stdout
    assert leftovers(state_dir) == []


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["sequential", "xdist"])
def test_a_run_that_does_not_collect_the_suite_starts_nothing_and_sets_nothing(
    project_copy: Path, rendered_python: Path, state_dir: Path, tmp_path: Path, workers: list[str]
) -> None:
    (project_copy / "tests" / "unit").mkdir()
    (project_copy / "tests" / "unit" / "test_alone.py").write_text(UNIT_TEST)
    record = tmp_path / "environment.json"
    env = {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir), "RECORD": str(record)}

    result = run(pytest_command(rendered_python, "tests/unit", *workers), project_copy, env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "integration servers" not in result.stdout
    seen = json.loads(record.read_text())
    given = run(["env", "-0"], project_copy, env).stdout.split("\0")
    expected = dict(line.split("=", 1) for line in given if "=" in line)
    added = {key for key in seen.keys() - expected.keys() if not key.startswith("PYTEST_")}
    assert added == set()
    assert not any(state_dir.iterdir()), list(state_dir.iterdir())


@pytest.mark.slow
def test_the_override_the_readme_shows_takes_the_harness_fixtures_place(
    project_copy: Path, rendered_python: Path, state_dir: Path
) -> None:
    readme = (project_copy / SUITE / "README.md").read_text()
    section = readme.split("## Changing a fixture", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    (project_copy / SUITE / "conftest.py").write_text(example)
    (project_copy / SUITE / "test_override.py").write_text(
        "import redis\n\n\n"
        "def test_values_come_back_as_bytes(redis_client: redis.Redis) -> None:\n"
        '    redis_client.set("greeting", "hello")\n\n'
        '    assert redis_client.get("greeting") == b"hello"\n'
    )
    env = {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}
    target = str(SUITE / "test_override.py")

    result = run(pytest_command(rendered_python, target), project_copy, env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    lint = run([tool("ruff"), "check", "--no-cache", str(SUITE)], project_copy)
    assert lint.returncode == 0, lint.stdout


@pytest.mark.slow
def test_without_the_early_plugin_every_worker_is_guarded_from_its_first_test(
    project_copy: Path, rendered_python: Path, state_dir: Path, tmp_path: Path
) -> None:
    # A pyproject.toml without `-p tests.integration.harness.plugin` (a project that has not
    # merged the line): conftest.py registers the plugin. test_safety.py's guard tests take no
    # fixture, so with random order a worker may run one first: the guard must be on already
    # (each worker joins the controller's servers at its session start).
    pyproject = project_copy / "pyproject.toml"
    text = pyproject.read_text()
    assert '"-p", "tests.integration.harness.plugin", ' in text
    pyproject.write_text(text.replace('"-p", "tests.integration.harness.plugin", ', ""))
    env = {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}
    safety = "tests/integration/test_safety.py"

    for seed in ("1", "2", "3"):
        command = [*pytest_command(rendered_python, safety, "-n", "2"), f"--randomly-seed={seed}"]

        result = run(command, project_copy, env)

        assert result.returncode == 0, result.stdout + result.stderr
        passed = EVERY_EXAMPLE_APP["test_safety.py"]
        assert re.search(rf"^=+ {passed} passed in ", result.stdout, re.M), result.stdout
        assert leftovers(state_dir) == []
