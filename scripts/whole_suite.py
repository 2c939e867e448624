"""Whole-suite wall times: 1,000 generated database tests, side by side with the alternatives.

Run by scripts/benchmark.py (`make bench`) after its per-operation rows; stdlib only. Each row
is one pytest process, timed from its start to its exit ("wall"), in this order:

- the default render (build/bench/suite-project) with 1,000 generated tests that each insert a
  user through `db_session` and count the users, on `local` and on `docker`, sequentially and
  with `-n 2`;
- the textbook Testcontainers pattern: a session-scoped `PostgresContainer` (one per xdist
  worker), `create_all`, and per test a connection whose transaction is rolled back, with the
  same 1,000 tests;
- pytest-postgresql: a fifth of them, each in a database of its own cloned from a template,
  through `postgresql_noproc` on a Debian PostgreSQL started beforehand (as `nobody` under
  root: its `postgresql_proc` refuses root), so its server start is not in its walls;
- the fixed cost: a 1-test and a 1,000-empty-test run, in the render and against bare pytest
  (no conftest, the same environment), and 1,000 tests that take `db_session` and do nothing.

Each row is preceded by one untimed `--collect-only` of the same tests, and runs without
PYTHONDONTWRITEBYTECODE, so that bytecode (and pytest's assertion rewriting) is cached as on a
developer's machine from the second run on. Every run must pass all its tests, or its row says
why. No test of the template asserts a
duration: this is a benchmark.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DB_TESTS = 1000
PG_TESTS = DB_TESTS // 5
SUITE_DIR = Path("tests") / "integration"
XDIST: tuple[tuple[tuple[str, ...], str], ...] = (((), "sequential"), (("-n", "2"), "-n 2"))
PG_BIN = Path("/usr/lib/postgresql/15/bin")  # Debian's PostgreSQL, for pytest-postgresql

RENDERED_DB_TEST = """
def test_insert_{n}(db_session: Session) -> None:
    db_session.add(User(email="bench{n}@example.test", name="Bench"))
    db_session.flush()
    assert db_session.scalar(select(func.count()).select_from(User)) == 1
"""
RENDERED_HEADER = """from sqlalchemy import func, select
from sqlalchemy.orm import Session

from {package}.models import User
"""
# Plugins the rendered requirements install, off for the rows that are not the rendered suite.
THE_SUITES_PLUGINS = ["-p", "no:randomly", "-p", "no:timeout", "-p", "no:pytest_cov"]
TEXTBOOK_CONFTEST = '''"""The textbook pattern: a container per session, a rollback per test."""

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from testcontainers.postgres import PostgresContainer


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    image = os.environ.get("IT_POSTGRES_IMAGE", "postgres:17")
    container = PostgresContainer(image, driver="psycopg")
    container.with_kwargs(labels={{"{label}": "{token}-textbook"}})
    with container as postgres:
        engine = create_engine(postgres.get_connection_url())
        Base.metadata.create_all(engine)
        yield engine
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection)
    yield session
    session.close()
    transaction.rollback()
    connection.close()
'''
TEXTBOOK_HEADER = """from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import User
"""
TEXTBOOK_DB_TEST = """
def test_insert_{n}(session: Session) -> None:
    session.add(User(email="bench{n}@example.test", name="Bench"))
    session.flush()
    assert session.scalar(select(func.count()).select_from(User)) == 1
"""
PG_CONFTEST = """from pathlib import Path

from pytest_postgresql import factories

postgresql_noproc = factories.postgresql_noproc(
    host="127.0.0.1", port={port}, user="postgres", load=[Path(__file__).with_name("schema.sql")]
)
postgresql = factories.postgresql("postgresql_noproc")
"""
PG_SCHEMA = "CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE, name text);\n"
PG_DB_TEST = """
def test_insert_{n}(postgresql) -> None:
    with postgresql.cursor() as cursor:
        cursor.execute("INSERT INTO users (email, name) VALUES ('bench{n}@example.test', 'B')")
        cursor.execute("SELECT count(*) FROM users")
        assert cursor.fetchone()[0] == 1
"""


@dataclass
class Result:
    """One row: the wall times of its runs, and what went wrong, if anything."""

    label: str
    walls: list[float]
    problem: str = ""

    @property
    def wall(self) -> float:
        return statistics.median(self.walls) if self.walls else float("nan")


def write_tests(path: Path, header: str, body: str, count: int) -> None:
    """A module of `count` tests, each `body` with its number."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "".join(body.format(n=n) for n in range(count)))


def empty_tests(count: int, fixture: str = "") -> str:
    """A module of `count` tests that do nothing, each taking `fixture` if given."""
    arguments = f"{fixture}: object" if fixture else ""
    return "".join(f"\n\ndef test_{n}({arguments}) -> None:\n    pass\n" for n in range(count))


def timed_run(argv: list[str], cwd: Path, env: dict[str, str], expected: int) -> tuple[float, str]:
    """Seconds from the start of pytest to its exit, and a problem ('' when all passed)."""
    began = time.perf_counter()
    try:
        done = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
        )
    except subprocess.TimeoutExpired:
        return time.perf_counter() - began, "timed out after 900 s"
    wall = time.perf_counter() - began
    summary = re.search(r"(\d+) passed", done.stdout)
    failed = re.search(r"\d+ (failed|error)", done.stdout)
    if done.returncode != 0 or not summary or int(summary.group(1)) != expected or failed:
        tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-3:])
        return wall, f"exit {done.returncode}, expected {expected} passed: {tail[-300:]}"
    return wall, ""


class WholeSuite:
    """Generates the trees, runs each row `repeat` times, prints the table."""

    def __init__(
        self,
        *,
        project: Path,
        package: str,
        python: Path,
        bench_python: Path,
        state: Path,
        token: str,
        label: str,
        repeat: int,
        docker: bool,
        progress: Callable[[str], None],
    ) -> None:
        self.project = project
        self.package = package
        self.python = python
        self.bench_python = bench_python
        self.state = state
        self.token = token
        self.label = label
        self.repeat = repeat
        self.docker = docker
        self.progress = progress
        self.results: dict[str, Result] = {}
        self.pg_port = 0
        self.root = Path(tempfile.mkdtemp(prefix="whole-", dir=state))
        self.root.chmod(0o755)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every run: a private state directory for the suite, and bytecode
        written and reused as on a developer's machine (PYTHONDONTWRITEBYTECODE, set on some CI
        machines, makes every run compile and assertion-rewrite every test module again)."""
        env = {**os.environ, "IT_STATE_DIR": str(self.state / "suite"), **extra}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("PYTEST_ADDOPTS", None)
        return env

    def row(
        self,
        key: str,
        label: str,
        argv: list[str],
        cwd: Path,
        env: dict[str, str],
        expected: int,
        workers: tuple[str, ...] = (),
    ) -> None:
        """Time `argv` plus `workers` (xdist's options) `repeat` times, after one untimed
        collection that caches the modules' bytecode, as from a user's second run on."""
        self.progress(f"whole suite: {label}")
        collect = [*argv, "--collect-only"]
        subprocess.run(collect, cwd=cwd, env=env, capture_output=True, timeout=900, check=False)
        walls: list[float] = []
        for _ in range(self.repeat):
            wall, problem = timed_run([*argv, *workers], cwd, env, expected)
            if problem:
                self.results[key] = Result(label, walls, problem)
                return
            walls.append(wall)
        self.results[key] = Result(label, walls)

    def generate(self) -> dict[str, Path]:
        """Write the rendered suite's modules, the textbook tree and pytest-postgresql's."""
        suite = self.project / SUITE_DIR
        header = RENDERED_HEADER.format(package=self.package)
        write_tests(suite / "bench_db" / "test_db.py", header, RENDERED_DB_TEST, DB_TESTS)
        (suite / "bench_db" / "__init__.py").write_text("")
        for name, text in {
            "bench_one": empty_tests(1),
            "bench_empty": empty_tests(DB_TESTS),
            "bench_fixture": empty_tests(DB_TESTS, "db_session"),
        }.items():
            (suite / name).mkdir(exist_ok=True)
            (suite / name / "__init__.py").write_text("")
            (suite / name / "test_it.py").write_text(text.lstrip())
        bare = self.root / "bare"
        for name, text in {"one": empty_tests(1), "empty": empty_tests(DB_TESTS)}.items():
            (bare / name).mkdir(parents=True)
            (bare / name / "test_it.py").write_text(text.lstrip())
        textbook = self.root / "textbook"
        textbook.mkdir()
        conftest = TEXTBOOK_CONFTEST.format(label=self.label, token=self.token)
        (textbook / "conftest.py").write_text(conftest)
        write_tests(textbook / "test_db.py", TEXTBOOK_HEADER, TEXTBOOK_DB_TEST, DB_TESTS)
        pg = self.root / "pytest-postgresql"
        pg.mkdir()
        (pg / "conftest.py").write_text(PG_CONFTEST.format(port=self.pg_port))
        (pg / "schema.sql").write_text(PG_SCHEMA)
        write_tests(pg / "test_db.py", "", PG_DB_TEST, PG_TESTS)
        return {"bare": bare, "textbook": textbook, "pg": pg}

    def start_postgres(self) -> list[str]:
        """A PostgreSQL for pytest-postgresql's `postgresql_noproc` (its `postgresql_proc`
        refuses root): Debian's, initialised and run as `nobody` under root; its pg_ctl argv."""
        data = self.root / "pg-data"
        data.mkdir()
        run_as = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        if run_as:
            shutil.chown(data, "nobody")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.pg_port = probe.getsockname()[1]
        subprocess.run(
            [*run_as, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
            capture_output=True,
            check=True,
        )
        options = f"-p {self.pg_port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
        pg_ctl = [*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data)]
        # The server's output goes to its log: a pipe it inherited would never reach EOF.
        subprocess.run(
            [*pg_ctl, "-o", options, "-l", str(data / "server.log"), "-w", "start"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        return pg_ctl

    def run(self) -> None:
        pg_ctl = self.start_postgres()
        try:
            self.run_rows()
        finally:
            subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, check=False)

    def run_rows(self) -> None:
        trees = self.generate()
        pytest = [str(self.python), "-m", "pytest", "-p", "no:cacheprovider", "-q"]
        # The alternatives run as their users have them: without the plugins the rendered
        # suite brings (random order, timeouts, coverage), which its own rows pay for.
        plain = [*pytest, *THE_SUITES_PLUGINS]
        suite = str(SUITE_DIR)
        local = self.env(IT_BACKEND="local")
        bare_env = self.env()
        self.row(
            "bare_one",
            "bare pytest, 1 empty test, no conftest",
            [*plain, "one"],
            trees["bare"],
            bare_env,
            1,
        )
        self.row(
            "bare_empty",
            "bare pytest, 1,000 empty tests, no conftest",
            [*plain, "empty"],
            trees["bare"],
            bare_env,
            DB_TESTS,
        )
        self.row(
            "one",
            "rendered, 1 empty test (conftest, servers)",
            [*pytest, f"{suite}/bench_one"],
            self.project,
            local,
            1,
        )
        self.row(
            "empty",
            "rendered, 1,000 empty tests",
            [*pytest, f"{suite}/bench_empty"],
            self.project,
            local,
            DB_TESTS,
        )
        self.row(
            "fixture",
            "rendered, 1,000 tests taking db_session, doing nothing",
            [*pytest, f"{suite}/bench_fixture"],
            self.project,
            local,
            DB_TESTS,
        )
        for workers, name in XDIST:
            key = "seq" if not workers else "n2"
            self.row(
                f"local_{key}",
                f"rendered, local, {name}",
                [*pytest, f"{suite}/bench_db"],
                self.project,
                local,
                DB_TESTS,
                workers=workers,
            )
            if self.docker:
                self.row(
                    f"docker_{key}",
                    f"rendered, docker, {name}",
                    [*pytest, f"{suite}/bench_db"],
                    self.project,
                    self.env(IT_BACKEND="docker"),
                    DB_TESTS,
                    workers=workers,
                )
                self.row(
                    f"textbook_{key}",
                    f"textbook Testcontainers pattern, {name}",
                    [*plain, "test_db.py"],
                    trees["textbook"],
                    bare_env,
                    DB_TESTS,
                    workers=workers,
                )
        pg_pytest = [
            str(self.bench_python),
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            f"--basetemp={trees['pg'] / 'tmp'}",
            *THE_SUITES_PLUGINS,
        ]
        for workers, name in XDIST:
            self.row(
                "pg_seq" if not workers else "pg_n2",
                f"pytest-postgresql, {PG_TESTS} tests, {name}",
                [*pg_pytest, "test_db.py"],
                trees["pg"],
                bare_env,
                PG_TESTS,
                workers=workers,
            )

    def report(self) -> str:
        """The table, the ratios, the fixed and per-test costs, each against its target."""
        lines = [
            "",
            f"{'whole suite (one pytest process each, wall)':<58} {'n':>3} "
            f"{'median':>9}  {'target':<34} ok",
            "-" * 112,
        ]
        got = {key: result for key, result in self.results.items() if not result.problem}

        def wall(key: str) -> float | None:
            return got[key].wall if key in got else None

        targets: dict[str, tuple[str, bool | None]] = {}
        local_seq, docker_seq = wall("local_seq"), wall("docker_seq")
        textbook_seq = wall("textbook_seq")
        if local_seq is not None:
            faster = textbook_seq / local_seq if textbook_seq else None
            ok = local_seq <= 4.0 and (faster is None or faster >= 1.5)
            targets["local_seq"] = ("≤ 4.0 s and ≥ 1.5x faster than textbook", ok)
        if docker_seq is not None:
            ok = docker_seq <= 5.0 and (textbook_seq is None or docker_seq < textbook_seq)
            targets["docker_seq"] = ("≤ 5.0 s and faster than textbook", ok)
        for backend in ("local", "docker"):
            seq, n2 = wall(f"{backend}_seq"), wall(f"{backend}_n2")
            if seq is not None and n2 is not None:
                targets[f"{backend}_n2"] = ("≤ sequential + 1.0 s", n2 <= seq + 1.0)
        for key, result in self.results.items():
            target, judged = targets.get(key, ("", None))
            mark = "" if judged is None else ("✓" if judged else "✗")
            if result.problem:
                lines.append(f"{result.label:<58} {'-':>3} {'failed':>9}  {result.problem}")
                continue
            lines.append(
                f"{result.label:<58} {len(result.walls):>3} {result.wall:>7.2f} s  "
                f"{target:<34} {mark}"
            )
        lines.append("")
        if local_seq and textbook_seq:
            lines.append(
                f"Ratio: textbook ÷ rendered local, sequential: {textbook_seq / local_seq:.2f}x"
            )
        if docker_seq and textbook_seq:
            lines.append(
                f"Ratio: textbook ÷ rendered docker, sequential: {textbook_seq / docker_seq:.2f}x"
            )
        pg_seq = wall("pg_seq")
        if pg_seq and local_seq:
            per_pg = pg_seq / PG_TESTS
            lines.append(
                f"Ratio: pytest-postgresql per test ÷ rendered local per test: "
                f"{per_pg / (local_seq / DB_TESTS):.1f}x (both walls ÷ their test counts)"
            )
        for mine, bare, what in (
            ("one", "bare_one", "1 test"),
            ("empty", "bare_empty", "1,000 empty tests"),
        ):
            if wall(mine) is not None and wall(bare) is not None:
                cost = (wall(mine) or 0) - (wall(bare) or 0)
                mark = "✓" if cost <= 0.8 else "✗"
                lines.append(
                    f"Fixed cost over bare pytest, {what}: {cost:.2f} s (target ≤ 0.8 s) {mark}"
                )
        if local_seq is not None and wall("empty") is not None:
            per = (local_seq - (wall("empty") or 0)) / DB_TESTS * 1000
            mark = "✓" if per <= 1.5 else "✗"
            lines.append(
                f"Per test, db_session + insert + count (1,000 DB tests minus 1,000 empty, "
                f"÷ 1,000): {per:.2f} ms (target ≤ 1.5 ms) {mark}"
            )
        if wall("fixture") is not None and wall("empty") is not None:
            per = ((wall("fixture") or 0) - (wall("empty") or 0)) / DB_TESTS * 1000
            lines.append(f"  of which the db_session fixture alone: {per:.2f} ms")
        return "\n".join(lines)
