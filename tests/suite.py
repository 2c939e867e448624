"""Run a rendered suite in a subprocess and read its outcome from the JUnit report."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import run


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
