"""Docker layer: the rendered suite on Testcontainers and on the rendered compose file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.compose import (
    compose_down,
    compose_leftovers,
    compose_up,
    docker_unavailable,
    images,
    unique_project_name,
)
from tests.conftest import PROVEN_SERVICES
from tests.counts import DEFAULT_RENDER_TESTS, expected_tests
from tests.helpers import environ, run
from tests.suite import (
    Outcome,
    assert_all_passed,
    assert_stopped_by_the_death,
    kill_and_wait_10_s,
    leftovers,
    run_suite,
    run_while_postgres_dies,
    start_waiting_suite,
    watchdog_logs,
    watchdogs,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.xdist_group("docker")]

RUN_LABEL = "it-template.run"


@pytest.fixture(scope="module", autouse=True)
def docker_ready() -> None:
    """Skip without Docker (a failure under CI=true, see conftest.py)."""
    reason = docker_unavailable()
    if reason:
        pytest.skip(reason)


def labelled_containers(run_id: str) -> list[str]:
    """Containers the rendered suite's run `run_id` started and did not remove."""
    label = f"label={RUN_LABEL}={run_id}"
    return run(["docker", "ps", "-aq", "--filter", label], cwd=Path.cwd()).stdout.split()


@pytest.fixture
def run_id() -> str:
    """The id the rendered suite labels its containers with (IT_RUN_ID)."""
    return f"itt-{uuid.uuid4().hex[:12]}"


def volumes() -> set[str]:
    """Names of every Docker volume."""
    return set(run(["docker", "volume", "ls", "-q"], cwd=Path.cwd()).stdout.split())


def docker_env(run_id: str, **extra: str) -> dict[str, str]:
    """Environment of a docker-backend run, with the locally built images."""
    return {"IT_BACKEND": "docker", "IT_RUN_ID": run_id, **images(), **extra}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["sequential", "xdist"])
def test_default_render_passes_on_the_docker_backend(
    default_render: tuple[Path, Path], workers: list[str], run_id: str
) -> None:
    project, python = default_render
    before = volumes()

    outcome = run_suite(python, project, docker_env(run_id), *workers)

    assert_all_passed(outcome)
    assert outcome.passed == DEFAULT_RENDER_TESTS
    assert "via docker (" in outcome.output
    assert labelled_containers(run_id) == []
    assert volumes() == before


@pytest.mark.parametrize("direct", ["", "0"], ids=["container-address", "published-port"])
def test_the_suite_reaches_containers_straight_or_through_their_published_ports(
    default_render: tuple[Path, Path], direct: str, run_id: str
) -> None:
    """On this Linux host the containers' own addresses are reachable, so by default the suite
    connects there (skipping Docker's userland proxy); IT_DOCKER_DIRECT=0 keeps loopback."""
    project, python = default_render
    env = docker_env(run_id, IT_DOCKER_DIRECT=direct)

    outcome = run_suite(python, project, env, target="tests/integration/test_safety.py")

    assert_all_passed(outcome)
    header = [line for line in outcome.output.splitlines() if " via docker (" in line]
    assert len(header) == 2, outcome.output[-2000:]
    for line in header:
        host = line.split(" at ", 1)[1].split(":", 1)[0]
        if direct == "0":
            assert host == "127.0.0.1", line
        else:
            assert host != "127.0.0.1", line
            assert host.count(".") == 3, line
    assert labelled_containers(run_id) == []


def test_auto_prefers_docker_when_a_daemon_answers(
    default_project: Path, rendered_python: Path, run_id: str
) -> None:
    outcome = run_suite(
        rendered_python, default_project, docker_env(run_id, IT_BACKEND="auto"), "-n", "2"
    )

    assert_all_passed(outcome)
    assert "postgres: " in outcome.output
    assert "via docker (" in outcome.output
    assert labelled_containers(run_id) == []


@pytest.mark.parametrize(
    ("env", "sentence"),
    [
        ({"DOCKER_HOST": "unix:///nonexistent/docker.sock"}, "no Docker daemon answered at"),
        ({"IT_POSTGRES_IMAGE": "127.0.0.1:9/missing/postgres:1"}, "did not start"),
    ],
    ids=["no-daemon", "missing-image"],
)
def test_docker_problems_end_in_one_sentence(
    default_project: Path, rendered_python: Path, env: dict[str, str], sentence: str, run_id: str
) -> None:
    result = run(
        [str(rendered_python), "-m", "pytest", "tests/integration", "-p", "no:cacheprovider"],
        default_project,
        docker_env(run_id, **env),
    )

    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert sentence in result.stderr
    assert "IT_BACKEND=local" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert labelled_containers(run_id) == []


@pytest.mark.parametrize("whom", ["controller", "process-group"])
def test_a_killed_run_s_containers_are_removed_within_10_s(
    default_project: Path,
    rendered_python: Path,
    tmp_path: Path,
    state_dir: Path,
    run_id: str,
    whom: str,
) -> None:
    project = Path(shutil.copytree(default_project, tmp_path / "project"))
    env = docker_env(run_id, IT_STATE_DIR=str(state_dir))
    process = start_waiting_suite(project, rendered_python, env, tmp_path, "-n", "2")
    assert len(labelled_containers(run_id)) == 2
    assert len(watchdogs(state_dir)) == 1, "the run should have started one watchdog"

    kill_and_wait_10_s(process, whom)

    assert labelled_containers(run_id) == [], watchdog_logs(state_dir)
    assert leftovers(state_dir) == []
    assert watchdogs(state_dir) == []


def test_a_container_killed_mid_run_ends_the_run_in_one_sentence(
    default_project: Path, rendered_python: Path, tmp_path: Path, state_dir: Path, run_id: str
) -> None:
    project = Path(shutil.copytree(default_project, tmp_path / "project"))

    def kill(server: dict[str, Any]) -> None:
        run(["docker", "kill", server["container_id"]], cwd=tmp_path)

    env = docker_env(run_id, IT_STATE_DIR=str(state_dir))
    death = run_while_postgres_dies(project, rendered_python, env, tmp_path, kill, "-n", "2")

    assert_stopped_by_the_death(death, "exit code 137)")
    assert labelled_containers(run_id) == []
    assert leftovers(state_dir) == []


def test_the_next_run_removes_the_containers_of_a_killed_run(
    default_project: Path, rendered_python: Path, tmp_path: Path, state_dir: Path, run_id: str
) -> None:
    project = Path(shutil.copytree(default_project, tmp_path / "project"))
    env = docker_env(run_id, IT_STATE_DIR=str(state_dir))
    process = start_waiting_suite(project, rendered_python, env, tmp_path)
    for watchdog in watchdogs(state_dir):  # killed too: the janitor is the second line
        os.kill(watchdog, signal.SIGKILL)
    process.kill()
    process.wait(30)
    assert len(labelled_containers(run_id)) == 2, "the killed run should have left its containers"
    (project / "tests" / "integration" / "test_waiting.py").unlink()

    outcome = run_suite(
        rendered_python,
        project,
        docker_env(f"{run_id}-next", IT_STATE_DIR=str(state_dir)),
        target="tests/integration/test_safety.py",
    )

    assert_all_passed(outcome)
    assert labelled_containers(run_id) == []


@pytest.fixture
def engine_socket(tmp_path: Path) -> Iterator[Path]:
    """This machine's Docker engine, answering at a socket of its own (a socat proxy)."""
    socket_path = tmp_path / "engine" / "docker.sock"
    socket_path.parent.mkdir()
    proxy = subprocess.Popen(
        ["socat", f"UNIX-LISTEN:{socket_path},fork", "UNIX-CONNECT:/var/run/docker.sock"]
    )
    try:
        deadline = time.monotonic() + 10
        while not socket_path.exists():
            assert proxy.poll() is None, "socat did not start"
            assert time.monotonic() < deadline, "socat did not start"
            time.sleep(0.05)
        yield socket_path
    finally:
        proxy.terminate()
        proxy.wait()


def announce(how: str, socket_path: Path, tmp_path: Path) -> tuple[dict[str, str], str]:
    """The environment that names the engine at `socket_path` one way; the header's origin."""
    host = f"unix://{socket_path}"
    if how == "DOCKER_HOST":
        return {"DOCKER_HOST": host}, "DOCKER_HOST"
    if how == "docker-context":
        config = tmp_path / "docker-config"
        meta = config / "contexts" / "meta" / hashlib.sha256(b"itt-engine").hexdigest()
        meta.mkdir(parents=True)
        (config / "config.json").write_text(json.dumps({"currentContext": "itt-engine"}))
        endpoint = {"Host": host, "SkipTLSVerify": False}
        context = {"Name": "itt-engine", "Metadata": {}, "Endpoints": {"docker": endpoint}}
        (meta / "meta.json").write_text(json.dumps(context))
        return {"DOCKER_CONFIG": str(config)}, "the Docker context 'itt-engine'"
    if how == "tc.host":
        home = tmp_path / "home"
        home.mkdir()
        (home / ".testcontainers.properties").write_text(f"tc.host={host}\n")
        return {"HOME": str(home)}, "tc.host in ~/.testcontainers.properties"
    assert how == "rootless-socket"
    return {"XDG_RUNTIME_DIR": str(socket_path.parent)}, "rootless Docker's socket"


@pytest.mark.parametrize("how", ["DOCKER_HOST", "docker-context", "tc.host", "rootless-socket"])
def test_an_engine_on_a_socket_of_its_own_is_found(
    default_project: Path,
    rendered_python: Path,
    tmp_path: Path,
    engine_socket: Path,
    run_id: str,
    how: str,
) -> None:
    extra, origin = announce(how, engine_socket, tmp_path)
    env = environ({**docker_env(run_id, IT_BACKEND="auto"), **extra})
    if how != "DOCKER_HOST":
        env.pop("DOCKER_HOST", None)
    # Docker's default socket hidden in a mount namespace of the suite's own: only the
    # announced socket reaches the engine.
    hide = 'mount --bind /dev/null /run/docker.sock && exec "$@"'
    command = ["unshare", "--mount", "--", "sh", "-c", hide, "sh"]
    command += [str(rendered_python), "-m", "pytest", "tests/integration", "-n", "2"]
    result = subprocess.run(
        [*command, "-p", "no:cacheprovider"],
        cwd=default_project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"{DEFAULT_RENDER_TESTS} passed" in output, output
    assert "via docker (" in output, output
    assert f"docker engine: unix://{engine_socket} (from {origin})" in output, output
    assert labelled_containers(run_id) == []


def run_against_compose(python: Path, project: Path) -> Outcome:
    """Bring the project's compose file up, run its suite on the url backend with -n 2, bring
    it down again, and check that it left nothing."""
    name = unique_project_name()
    try:
        env = compose_up(project, name)
        outcome = run_suite(python, project, env, "-n", "2")
    finally:
        compose_down(project, name)
    assert compose_leftovers(name) == []
    return outcome


def test_default_render_passes_against_its_compose_file(
    default_project: Path, rendered_python: Path
) -> None:
    outcome = run_against_compose(rendered_python, default_project)

    assert_all_passed(outcome)
    assert "via url (TEST_POSTGRES_URL" in outcome.output


def test_compose_file_and_docker_backend_pin_the_same_images(default_project: Path) -> None:
    answers = yaml.safe_load((default_project / ".copier-answers.yml").read_text())
    compose = (default_project / "docker-compose.test.yml").read_text()
    config = (default_project / "tests/integration/harness/config.py").read_text()

    for image in (f"postgres:{answers['postgres_version']}", f"redis:{answers['redis_version']}"):
        assert image in compose
        assert f'"{image}"' in config


def test_every_proven_service_passes_on_the_docker_backend(
    services_project: Path, services_python: Path, run_id: str
) -> None:
    before = volumes()

    outcome = run_suite(services_python, services_project, docker_env(run_id), "-n", "2")

    assert_all_passed(outcome)
    assert outcome.passed == expected_tests({"services": PROVEN_SERVICES})
    for name in PROVEN_SERVICES:
        assert f"  {name}: " in outcome.output
    assert outcome.output.count(" via docker (") == len(PROVEN_SERVICES)
    assert labelled_containers(run_id) == []
    assert volumes() == before


def test_every_proven_service_passes_against_its_compose_file(
    services_project: Path, services_python: Path
) -> None:
    outcome = run_against_compose(services_python, services_project)

    assert_all_passed(outcome)
    assert outcome.passed == expected_tests({"services": PROVEN_SERVICES})
    for service in PROVEN_SERVICES:
        assert f"via url (TEST_{service.upper()}_URL" in outcome.output
