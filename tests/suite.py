"""Run a rendered suite in a subprocess and read its outcome from the JUnit report."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import environ, run

WAITING_TEST = """
import os
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize("slot", [0, 1])
def test_waits_until_interrupted(db_session, redis_client, slot: int) -> None:
    Path(os.environ["IT_WAITING"], os.environ.get("PYTEST_XDIST_WORKER", "main")).touch()
    time.sleep(300)
"""


@dataclass(frozen=True)
class Outcome:
    """What a run of the rendered suite reported."""

    returncode: int
    collected: int
    tests: int
    failures: int
    errors: int
    skipped: int
    output: str

    @property
    def passed(self) -> int:
        """Tests that passed: every test that ran and did not fail, error or skip."""
        return self.tests - self.failures - self.errors - self.skipped


def collected(python: Path, project: Path, args: list[str], env: dict[str, str]) -> int:
    """How many tests pytest collects for `args`, without running them."""
    result = run([str(python), "-m", "pytest", "--collect-only", "-q", *args], project, env)
    match = re.search(r"^(\d+) tests? collected", result.stdout, re.MULTILINE)
    assert match, result.stdout + result.stderr
    return int(match.group(1))


def run_suite(
    python: Path,
    project: Path,
    env: dict[str, str],
    *options: str,
    target: str = "tests/integration",
    timeout: float = 600,
) -> Outcome:
    """Run the rendered suite (or `target` in it) in `project` and count its outcomes."""
    report = project / f"junit-{os.getpid()}-{len(options)}.xml"
    expected = collected(python, project, [target], env)
    command = [str(python), "-m", "pytest", target, *options, "-p", "no:cacheprovider"]
    result = run([*command, f"--junitxml={report}"], project, env, timeout)
    output = result.stdout + result.stderr
    assert report.exists(), output
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite[0]
    report.unlink()
    return Outcome(
        result.returncode,
        expected,
        int(suite.get("tests", 0)),
        int(suite.get("failures", 0)),
        int(suite.get("errors", 0)),
        int(suite.get("skipped", 0)),
        output,
    )


def assert_all_passed(outcome: Outcome) -> None:
    """Every collected test ran and passed; nothing skipped, failed or errored."""
    assert outcome.returncode == 0, outcome.output
    assert outcome.collected > 0, outcome.output
    assert (outcome.tests, outcome.passed) == (outcome.collected, outcome.collected), outcome.output
    assert (outcome.failures, outcome.errors, outcome.skipped) == (0, 0, 0), outcome.output


def processes_mentioning(text: str) -> list[int]:
    """Pids of the processes whose command line contains `text` or that run in a directory
    whose path contains it (a server such as memcached names no path on its command line)."""
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            named = text.encode() in (proc / "cmdline").read_bytes()
            if named or text in os.readlink(proc / "cwd"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return [pid for pid in pids if pid != os.getpid()]


def leftovers(state_dir: Path) -> list[str]:
    """Run directories, lock files and server processes a finished run left behind."""
    files = [str(p) for p in state_dir.rglob("*") if p.name != f"it-template-{os.getuid()}"]
    return files + [f"process {pid}" for pid in processes_mentioning(str(state_dir))]


def watchdog_logs(state_dir: Path) -> str:
    """What the watchdogs of runs still under `state_dir` logged (a reaped run's log goes
    with its directory), for a failure's message."""
    logs = sorted(state_dir.glob("it-template-*/*/watchdog.log"))
    return "\n".join(f"{p}:\n{p.read_text(errors='replace')}" for p in logs) or "(no watchdog log)"


def watchdogs(state_dir: Path) -> list[int]:
    """Pids of the watchdogs of the runs under `state_dir` (their command line names the run)."""
    runs = [p.name for p in state_dir.glob("it-template-*/*") if p.is_dir()]
    return [
        pid
        for run_id in runs
        for pid in processes_mentioning(run_id)
        if b".watchdog" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def start_waiting_suite(
    project: Path, python: Path, env: dict[str, str], tmp_path: Path, *args: str
) -> subprocess.Popen[bytes]:
    """Start the rendered suite with a test that waits; return once every worker is in it.

    Each worker (or the one sequential process) touches a file named after it when its
    waiting test starts, so a signal never lands on a worker that is still starting up.
    """
    (project / "tests" / "integration" / "test_waiting.py").write_text(WAITING_TEST)
    flags = tmp_path / "waiting"
    flags.mkdir()
    expected = int(args[args.index("-n") + 1]) if "-n" in args else 1
    with (tmp_path / "waiting.log").open("wb") as log:
        process = subprocess.Popen(
            [str(python), "-m", "pytest", "tests/integration/test_waiting.py", *args],
            cwd=project,
            env=environ({**env, "IT_WAITING": str(flags)}),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=as_from_a_terminal,
        )
    deadline = time.monotonic() + 120
    while len(list(flags.iterdir())) < expected:
        assert process.poll() is None, "the waiting suite ended early:\n" + suite_log(tmp_path)
        assert time.monotonic() < deadline, "the tests never started:\n" + suite_log(tmp_path)
        time.sleep(0.1)
    return process


def as_from_a_terminal() -> None:
    """Give the suite the default SIGINT action, as a shell's foreground job has.

    A job started in the background by a non-interactive shell (`cmd &`, as CI scripts and
    `nohup` do) inherits SIGINT ignored, and Python then installs no Ctrl-C handler: without
    this the test would measure that shell's choice, not the suite's Ctrl-C.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def suite_log(tmp_path: Path) -> str:
    """What the waiting suite printed so far."""
    return (tmp_path / "waiting.log").read_text(errors="replace")


def wait_for_exit(process: subprocess.Popen[bytes], tmp_path: Path, timeout: float) -> None:
    """Wait for the interrupted suite; if it hangs, kill it and fail with what it printed."""
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
        pytest.fail(f"the interrupted suite hung for {timeout:.0f} s:\n{suite_log(tmp_path)}")


DYING_TEST = """
import os
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize("n", range(400))
def test_uses_the_database(db_session, n: int) -> None:
    Path(os.environ["IT_WAITING"], os.environ.get("PYTEST_XDIST_WORKER", "main")).touch()
    time.sleep(0.05)
"""


@dataclass(frozen=True)
class Death:
    """How a run went on after one of its servers was killed."""

    returncode: int
    output: str
    seconds: float  # from the kill to the run's exit

    @property
    def interrupted(self) -> str:
        """The line in which pytest says why it stopped the run."""
        lines = [line for line in self.output.splitlines() if "Interrupted: " in line]
        assert lines, self.output
        return lines[0]


def run_while_postgres_dies(
    project: Path,
    python: Path,
    env: dict[str, str],
    tmp_path: Path,
    kill: Callable[[dict[str, Any]], None],
    *args: str,
) -> Death:
    """Run 400 short database tests (10 s of them under -n 2) and, once they run, kill the
    run's PostgreSQL with `kill(server as the run's state file records it)`."""
    (project / "tests" / "integration" / "test_dying.py").write_text(DYING_TEST)
    flags = tmp_path / "dying"
    flags.mkdir()
    with (tmp_path / "dying.log").open("wb") as log:
        process = subprocess.Popen(
            [str(python), "-m", "pytest", "tests/integration/test_dying.py", *args],
            cwd=project,
            env=environ({**env, "IT_WAITING": str(flags)}),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while not any(flags.iterdir()):
            assert process.poll() is None, (tmp_path / "dying.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "dying.log").read_text()
            time.sleep(0.05)
        time.sleep(0.5)
        (state_file,) = Path(env["IT_STATE_DIR"]).glob("it-template-*/*/state.json")
        kill(json.loads(state_file.read_text())["servers"]["postgres"])
        killed = time.monotonic()
        process.wait(60)
        seconds = time.monotonic() - killed
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output = (tmp_path / "dying.log").read_text(errors="replace")
    return Death(process.returncode, output, seconds)


def assert_stopped_by_the_death(death: Death, how: str) -> None:
    """The run stopped within 5 s, non-zero, in one sentence naming the server, how it ended
    and its log's tail, before the 400 tests could all run."""
    assert death.returncode == 2, death.output  # pytest's "interrupted"
    assert death.seconds < 5, death.output
    line = death.interrupted
    assert "The postgres server (" in line, line
    assert f"{how} during the run, so the run stops here; its log ends: " in line, line
    assert "LOG:" in line.partition("its log ends: ")[2], line  # PostgreSQL's own lines
    ran = re.search(r"(\d+) passed", death.output)
    assert ran is not None, death.output
    assert int(ran.group(1)) < 400, death.output
    assert "Traceback" not in death.output, death.output


def kill_and_wait_10_s(process: subprocess.Popen[bytes], whom: str) -> None:
    """SIGKILL the suite's controller alone or its whole process group (what a cancelled CI
    job does), then give the watchdog the 10 s it has to reap the run."""
    if whom == "controller":
        process.kill()
    else:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)
    time.sleep(10)
