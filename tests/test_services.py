"""The `services` question: one module per service, wired in, run where this machine can."""

from __future__ import annotations

import json
import os
import re
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml

from tests.conftest import ALL_SERVICES, LINT_TOOLS, PROVEN_SERVICES
from tests.counts import expected_tests
from tests.helpers import DEFAULT_PACKAGE, cached_venv, find_python, render, rendered_files, run
from tests.servers import (
    COMPATIBLE_REQUIREMENTS,
    LOCALSTACK_REQUIREMENTS,
    localstack_server,
    osmem_server,
    postgres_server,
    redis_server,
    secantus_server,
    tansu_server,
    wiremock_jar,
)
from tests.suite import assert_all_passed, leftovers, run_suite
from tests.test_ci_files import WORKFLOW, check_schema, check_zizmor
from tests.test_render import check_project

EXAMPLE_MODULES = {
    "mysql": "test_mysql.py",
    "rabbitmq": "test_rabbitmq.py",
    "memcached": "test_memcached.py",
    "kafka": "test_kafka.py",
    "mongodb": "test_mongodb.py",
    "opensearch": "test_opensearch.py",
    "localstack": "test_s3.py",
    "wiremock": "test_wiremock.py",
}
RENDERED_ONLY = [name for name in ALL_SERVICES if name not in PROVEN_SERVICES]
EXTRA = [name for name in ALL_SERVICES if name not in ("postgres", "redis")]


def service_files(name: str) -> set[str]:
    """The files a service brings into the render."""
    package = f"tests/integration/harness/services/{name}"
    return {
        f"{package}/__init__.py",
        f"{package}/server.py",
        f"{package}/fixtures.py",
        f"tests/integration/{EXAMPLE_MODULES[name]}",
    }


@pytest.mark.parametrize("name", EXTRA)
def test_each_service_brings_its_modules_and_nothing_else(tmp_path: Path, name: str) -> None:
    project = render(tmp_path / "project", services=["postgres", "redis", name])

    files = {str(path) for path in rendered_files(project)}
    assert service_files(name) <= files
    for other in EXTRA:
        if other != name:
            assert not service_files(other) & files, f"{other}'s files came with {name}"
    catalog = (project / "tests/integration/harness/services/__init__.py").read_text()
    assert f"from .{name}.server import SERVICE as {name.upper()}" in catalog
    compose = yaml.safe_load((project / "docker-compose.test.yml").read_text())
    assert set(compose["services"]) == {"postgres", "redis", name, "test-api"}
    assert f"TEST_{name.upper()}_URL" in compose["services"]["test-api"]["environment"]
    (job,) = yaml.safe_load((project / WORKFLOW).read_text())["jobs"].values()
    assert set(job["services"]) == {"postgres", "redis", name}
    run_step = next(step for step in job["steps"] if "pytest" in str(step.get("run", "")))
    assert f"TEST_{name.upper()}_URL" in run_step["env"]
    check_project(project)


def test_the_defaults_bring_postgres_and_redis_only(default_project: Path) -> None:
    files = {str(path) for path in rendered_files(default_project)}

    for name in EXTRA:
        assert not service_files(name) & files
    requirements = (default_project / "tests/integration/requirements.txt").read_text()
    assert "testcontainers[postgres,redis]" in requirements


@pytest.mark.parametrize(
    ("services", "message"),
    [
        (["redis"], "Keep postgres selected"),
        (["postgres", "mysql"], "Keep redis selected with the example app"),
        (["postgres", "redis", "cassandra"], "'cassandra' is not in"),
    ],
)
def test_services_without_postgres_redis_or_unknown_are_refused(
    tmp_path: Path, services: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        render(tmp_path / "project", services=services)

    assert not (tmp_path / "project").exists() or not any((tmp_path / "project").iterdir())


@pytest.mark.parametrize(("flavor", "image"), [("mariadb", "mariadb:11.4"), ("mysql", "mysql:8.4")])
def test_mysql_flavor_picks_the_image(tmp_path: Path, flavor: str, image: str) -> None:
    project = render(
        tmp_path / "project", services=["postgres", "redis", "mysql"], mysql_flavor=flavor
    )

    config = (project / "tests/integration/harness/config.py").read_text()
    assert f'MYSQL_IMAGE = "{image}"' in config
    assert f"${{IT_MYSQL_IMAGE:-{image}}}" in (project / "docker-compose.test.yml").read_text()


@pytest.fixture(scope="module")
def every_service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template rendered with all nine services (workflow in url/services mode)."""
    return render(tmp_path_factory.mktemp("all") / "project", services=ALL_SERVICES)


@pytest.fixture(scope="module")
def every_service_python(every_service: Path) -> Path:
    """A virtual environment with the requirements of every service."""
    return cached_venv(every_service / "tests/integration/requirements.txt", LINT_TOOLS)


@pytest.mark.slow
def test_every_service_together_lints_types_and_validates(
    tmp_path: Path, every_service: Path, every_service_python: Path
) -> None:
    check_project(every_service)
    typed = run(
        [str(every_service_python), "-m", "mypy", "--no-incremental", "src", "tests"],
        every_service,
    )
    assert typed.returncode == 0, typed.stdout + typed.stderr
    check_schema("vendor.compose-spec", every_service / "docker-compose.test.yml")
    check_schema("vendor.github-workflows", every_service / WORKFLOW)
    check_zizmor(every_service / WORKFLOW)
    testcontainers = render(
        tmp_path / "testcontainers", services=ALL_SERVICES, ci="github-testcontainers"
    )
    check_schema("vendor.github-workflows", testcontainers / WORKFLOW)
    check_zizmor(testcontainers / WORKFLOW)


@pytest.mark.slow
@pytest.mark.parametrize("name", RENDERED_ONLY)
def test_a_service_without_a_local_server_says_so_in_one_sentence(
    tmp_path: Path, state_dir: Path, every_service_python: Path, name: str
) -> None:
    project = render(tmp_path / "project", services=["postgres", "redis", name])
    env = {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}

    result = run(
        [str(every_service_python), "-m", "pytest", "tests/integration", "-q"], project, env
    )

    assert result.returncode == 4, result.stdout + result.stderr
    (line,) = [line for line in result.stderr.splitlines() if f"No {name} server" in line]
    if name == "localstack":  # its runtime runs from an environment of its own, on PATH
        assert "no LocalStack runtime was found" in line
        assert "`localstack-supervisor` is on PATH" in line
    else:
        assert f"{name} has no server that runs without Docker" in line
    assert "IT_BACKEND=docker" in line
    assert f"TEST_{name.upper()}_URL" in line
    assert leftovers(state_dir) == []


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["sequential", "xdist"])
def test_proven_services_pass_on_the_local_backend(
    services_project: Path, services_python: Path, state_dir: Path, workers: list[str]
) -> None:
    outcome = run_suite(
        services_python,
        services_project,
        {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)},
        *workers,
    )

    assert_all_passed(outcome)
    assert outcome.passed == expected_tests({"services": PROVEN_SERVICES})
    for name in PROVEN_SERVICES:
        assert re.search(rf"^  {name}: .* via local \(", outcome.output, re.MULTILINE), name
    assert leftovers(state_dir) == []


LOCALSTACK_SERVICES = ["postgres", "redis", "localstack"]


@pytest.fixture(scope="module")
def localstack_python() -> Path:
    """Python 3.13 with the real LocalStack runtime, in an environment of its own."""
    base = find_python("3.13")
    if base is None:
        pytest.skip("no Python 3.13 here for LocalStack (pyenv install 3.13)")
    return cached_venv(LOCALSTACK_REQUIREMENTS, [], base)


ON_DOCKER = [pytest.mark.docker, pytest.mark.xdist_group("docker")]
# The runtime each backend runs: localstack-core 2026.3.0 on Python 3.13 where the test or the
# suite starts it; localstack-core 4.4.0 in the image scripts/build-images.sh builds for the
# pinned localstack/localstack:4.4.
LOCALSTACK_VERSIONS = {"url": r"2026\.3\.0", "local": r"2026\.3\.0", "docker": r"4\.4\.0"}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["url", "local", pytest.param("docker", marks=ON_DOCKER)])
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["sequential", "xdist"])
def test_s3_passes_against_the_real_localstack(
    tmp_path: Path, state_dir: Path, localstack_python: Path, workers: list[str], backend: str
) -> None:
    """On `url` against the runtime the test starts; on `local` the suite starts it from its
    own environment, found on PATH through `localstack-supervisor` (as after `uv tool install`);
    on `docker` the suite starts the locally built image (IT_LOCALSTACK_IMAGE)."""
    project = render(tmp_path / "project", services=LOCALSTACK_SERVICES)
    python = cached_venv(project / "tests" / "integration" / "requirements.txt", [])
    with ExitStack() as stack:
        env = {"IT_BACKEND": backend, "IT_STATE_DIR": str(state_dir)}
        if backend == "url":
            postgres = postgres_server(f"test_{DEFAULT_PACKAGE}")
            localstack = localstack_server(tmp_path / "localstack", localstack_python)
            env |= {"TEST_POSTGRES_URL": stack.enter_context(postgres)}
            env |= {"TEST_REDIS_URL": stack.enter_context(redis_server(tmp_path / "redis"))}
            env |= {"TEST_LOCALSTACK_URL": stack.enter_context(localstack)}
        elif backend == "local":
            tools = tmp_path / "tools"  # only the runtime's script: its Python stays off PATH
            tools.mkdir()
            (tools / "localstack-supervisor").symlink_to(
                localstack_python.parent / "localstack-supervisor"
            )
            env |= {"PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}

        outcome = run_suite(python, project, env, *workers)

    assert_all_passed(outcome)
    assert outcome.passed == expected_tests({"services": LOCALSTACK_SERVICES})
    # The version LocalStack's own health endpoint reports: the real runtime, not a look-alike.
    source = {
        "url": "TEST_LOCALSTACK_URL",
        "local": "localstack-core in ",
        "docker": "it-template/",
    }
    version = LOCALSTACK_VERSIONS[backend]
    assert re.search(
        rf"^  localstack: {version} via {backend} \({source[backend]}", outcome.output, re.M
    ), outcome.output[:2000]
    assert leftovers(state_dir) == []


COMPATIBLE_SERVICES = ["postgres", "redis", "kafka", "opensearch", "mongodb"]
# What each compatible server answers in the header: the Kafka protocol names no release (the
# suite prints the cluster id); osmem-server and SecantusDB report the versions they emulate.
COMPATIBLE_HEADERS = {
    "kafka": r"cluster tansu_cluster",
    "opensearch": r"3\.8\.0",
    "mongodb": r"8\.2\.11",
}


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["sequential", "xdist"])
def test_kafka_opensearch_and_mongodb_pass_against_compatible_servers(
    tmp_path: Path, state_dir: Path, workers: list[str]
) -> None:
    """No real Kafka, OpenSearch or MongoDB can run here (issue #17): their fixtures and
    examples run against Tansu, osmem-server and SecantusDB on the url backend, unchanged."""
    project = render(tmp_path / "project", services=COMPATIBLE_SERVICES)
    python = cached_venv(project / "tests" / "integration" / "requirements.txt", [])
    servers = cached_venv(COMPATIBLE_REQUIREMENTS, [])
    with (
        postgres_server(f"test_{DEFAULT_PACKAGE}") as postgres_url,
        redis_server(tmp_path / "redis") as redis_url,
        tansu_server(tmp_path / "tansu", servers) as kafka_url,
        osmem_server(tmp_path / "osmem", servers) as opensearch_url,
        secantus_server(tmp_path / "secantus", servers, f"test_{DEFAULT_PACKAGE}") as mongodb_url,
    ):
        env = {"IT_BACKEND": "url", "IT_STATE_DIR": str(state_dir)}
        env |= {"TEST_POSTGRES_URL": postgres_url, "TEST_REDIS_URL": redis_url}
        env |= {"TEST_KAFKA_URL": kafka_url, "TEST_OPENSEARCH_URL": opensearch_url}
        env |= {"TEST_MONGODB_URL": mongodb_url}

        outcome = run_suite(python, project, env, *workers)

    assert_all_passed(outcome)
    assert outcome.passed == expected_tests({"services": COMPATIBLE_SERVICES})
    for name, version in COMPATIBLE_HEADERS.items():
        variable = f"TEST_{name.upper()}_URL"
        assert re.search(rf"^  {name}: {version} via url \({variable}", outcome.output, re.M), name
    assert leftovers(state_dir) == []


WIREMOCK_SERVICES = ["postgres", "redis", "wiremock"]


@pytest.mark.slow
def test_wiremock_without_its_jar_or_java_says_so_in_one_sentence(
    tmp_path: Path, state_dir: Path, every_service_python: Path
) -> None:
    """Without the npm package's jar, then without `java`: one sentence each, naming the way out."""
    project = render(tmp_path / "project", services=WIREMOCK_SERVICES)
    empty = tmp_path / "bin"  # neither `wiremock` nor `java` on PATH
    empty.mkdir()
    env = {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir), "PATH": str(empty)}
    jar = wiremock_jar()
    command = [str(every_service_python), "-m", "pytest", "tests/integration", "-q"]

    for extra, sentence in [
        ({}, "no WireMock jar was found (`npm install --global wiremock@3.13.2` puts it on PATH"),
        ({"IT_WIREMOCK_JAR": str(jar)}, "no `java` was found for WireMock's jar"),
    ]:
        result = run(command, project, env | extra)

        assert result.returncode == 4, result.stdout + result.stderr
        (line,) = [line for line in result.stderr.splitlines() if "No wiremock server" in line]
        assert sentence in line
        assert "IT_BACKEND=docker" in line
        assert "TEST_WIREMOCK_URL" in line
        assert leftovers(state_dir) == []


SHARED_MAPPING = {
    "request": {"method": "GET", "urlPath": "/shared/v1/status"},
    "response": {"status": 200, "jsonBody": {"status": "from the team's mappings"}},
}
SHARED_TEST = """
import json
import urllib.request

from .harness.services.wiremock.fixtures import WireMockStubs


def test_the_team_s_mapping_answers(wiremock: WireMockStubs) -> None:
    url = f"{wiremock.server_url}/shared/v1/status"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert json.load(response) == {"status": "from the team's mappings"}
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", pytest.param("docker", marks=ON_DOCKER)])
def test_wiremock_serves_a_team_s_shared_mappings_folder(
    tmp_path: Path, state_dir: Path, backend: str
) -> None:
    """tests/integration/wiremock/mappings/ is served beside the tests' own stubs: from the jar's
    --root-dir on `local`, mounted read-only at /home/wiremock on `docker`."""
    project = render(tmp_path / "project", services=WIREMOCK_SERVICES)
    python = cached_venv(project / "tests" / "integration" / "requirements.txt", [])
    mappings = project / "tests" / "integration" / "wiremock" / "mappings"
    mappings.mkdir(parents=True)
    (mappings / "status.json").write_text(json.dumps(SHARED_MAPPING))
    (project / "tests" / "integration" / "test_shared_mappings.py").write_text(SHARED_TEST)

    outcome = run_suite(python, project, {"IT_BACKEND": backend, "IT_STATE_DIR": str(state_dir)})

    assert_all_passed(outcome)
    assert outcome.passed == expected_tests({"services": WIREMOCK_SERVICES}) + 1
    assert re.search(rf"^  wiremock: 3\.13\.2 via {backend} \(", outcome.output, re.M)
    assert json.loads((mappings / "status.json").read_text()) == SHARED_MAPPING
    assert sorted(path.name for path in mappings.parent.iterdir()) == ["mappings"]
    assert leftovers(state_dir) == []
