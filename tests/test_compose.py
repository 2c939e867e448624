"""The rendered docker-compose.test.yml really comes up, and compose_env.py finds it."""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from pathlib import Path

import psycopg
import pytest
import redis
from filelock import FileLock

from tests.compose import (
    PROFILES,
    compose,
    compose_down,
    compose_leftovers,
    compose_up,
    docker_unavailable,
    images,
    unique_project_name,
)
from tests.counts import DEFAULT_RENDER_TESTS
from tests.helpers import DEFAULT_PACKAGE, ROOT, render, run

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker")]
# What pip on this machine is configured with (index mirrors, wheel folders, the CA bundle).
PIP_CONFIGURATION = [
    "/etc/pip.conf",
    "/etc/ssl/certs",
    "/opt/wheels",
    "/opt/pypi",
    "/opt/pypi-more",
]


@pytest.fixture(scope="module")
def docker_ready() -> None:
    reason = docker_unavailable()
    if reason:
        pytest.skip(reason)


@pytest.mark.usefixtures("docker_ready")
@pytest.mark.parametrize("postgres_version", ["17", "18"])
def test_compose_services_answer(tmp_path: Path, postgres_version: str) -> None:
    project = render(tmp_path / "project", postgres_version=postgres_version)
    name = unique_project_name()
    try:
        started = time.perf_counter()
        env = compose_up(project, name)
        print(f"compose up to healthy: {time.perf_counter() - started:.1f} s")

        pg_url = env["TEST_POSTGRES_URL"]
        assert pg_url.startswith("postgresql://test:test@127.0.0.1:")
        assert pg_url.endswith(f"/test_{DEFAULT_PACKAGE}")
        with psycopg.connect(pg_url, connect_timeout=10) as conn:
            row = conn.execute(
                "select 1, current_database(), current_user,"
                " pg_encoding_to_char(encoding), current_setting('fsync')"
                " from pg_database where datname = current_database()"
            ).fetchone()
        assert row == (1, f"test_{DEFAULT_PACKAGE}", "test", "UTF8", "off")

        redis_url = env["TEST_REDIS_URL"]
        assert redis_url.startswith("redis://127.0.0.1:")
        assert redis_url.endswith("/0")
        client = redis.Redis.from_url(redis_url, socket_timeout=10)
        try:
            assert client.ping() is True
        finally:
            client.close()
    finally:
        compose_down(project, name)
    assert compose_leftovers(name) == []


def wheelhouse(requirements: Path, image: str) -> Path:
    """Wheels of `requirements` for the Python of `image`, downloaded once per requirements
    file and image into build/wheelhouses/: the image build has no package index here.

    The download runs in a container of `image` (on the host's network, with this machine's
    pip configuration and CA bundle), so markers such as `python_full_version < "3.11.3"` are
    those of the image's Python, not of the host's.
    """
    digest = hashlib.sha256(requirements.read_bytes() + image.encode()).hexdigest()[:12]
    house = ROOT / "build" / "wheelhouses" / digest
    mounts = [f"{requirements}:/requirements.txt:ro", f"{house}:/house"]
    mounts += [f"{path}:{path}:ro" for path in PIP_CONFIGURATION if Path(path).exists()]
    script = (
        "python3 -m venv /tmp/pip && /tmp/pip/bin/pip download -q -r /requirements.txt -d /house"
    )
    with FileLock(f"{house}.lock"):
        if not (house / "ready").exists():
            shutil.rmtree(house, ignore_errors=True)
            house.mkdir(parents=True)
            volumes = [arg for mount in mounts for arg in ("-v", mount)]
            command = ["docker", "run", "--rm", "--network", "host", *volumes]
            env = [f"--env={name}" for name in ("PIP_CERT", "PIP_FIND_LINKS", "PIP_INDEX_URL")]
            got = run([*command, *env, image, "sh", "-c", script], ROOT)
            assert got.returncode == 0, got.stdout + got.stderr
            (house / "ready").touch()
    return house


@pytest.mark.usefixtures("docker_ready")
def test_the_suite_runs_inside_compose(tmp_path: Path) -> None:
    project = render(tmp_path / "project")
    suite = project / "tests" / "integration"
    house = wheelhouse(suite / "requirements.txt", images()["IT_PYTHON_IMAGE"])
    shutil.copytree(house, suite / ".wheels")
    name = unique_project_name()
    env = {**images(), "COMPOSE_PROJECT_NAME": name}
    xdist = ["python", "-m", "pytest", "tests/integration", "-n", "2", "-p", "no:cacheprovider"]
    runs = {}
    try:
        # The image's own command (the whole suite, sequentially), then the same with -n 2.
        for label, args in (("sequential", []), ("xdist", xdist)):
            command = [*compose(project, name), *PROFILES, "run", "--rm", "test-api", *args]
            runs[label] = run(command, project, env, timeout=900)
    finally:
        compose_down(project, name)

    for label, result in runs.items():
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"{label}: {output}"
        summary = re.findall(r"^=+ (.+) in [0-9.]+s", output, re.MULTILINE)
        assert summary[-1:] == [f"{DEFAULT_RENDER_TESTS} passed"], f"{label}: {output}"
        assert "via url (TEST_POSTGRES_URL (postgres:5432)) at postgres:5432" in output, output
    assert "created: 2/2 workers" in runs["xdist"].stdout
    assert compose_leftovers(name) == []
