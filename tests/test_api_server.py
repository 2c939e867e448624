"""`api_server`, the real HTTP server for calls in-process mocks cannot see (issue #16).

The default render's own examples (test_payment_server.py) prove the app reaches it through its
settings; these tests add to a render what must fail and what only a real server can answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.counts import DEFAULT_RENDER_TESTS
from tests.helpers import render
from tests.suite import run_suite

SUITE = Path("tests/integration")
STRICTNESS = '''import subprocess
import sys

from pytest_httpserver import HTTPServer


def test_a_request_nothing_expects_fails_the_test(api_server: HTTPServer) -> None:
    fetch(api_server.url_for("/v1/unexpected"))


def test_an_expected_request_never_sent_fails_the_test(api_server: HTTPServer) -> None:
    api_server.expect_oneshot_request("/v1/never-sent", method="POST").respond_with_data("ok")


def test_a_permanent_expectation_never_met_fails_the_test(api_server: HTTPServer) -> None:
    api_server.expect_request("/v1/also-never-sent").respond_with_data("ok")


def test_a_subprocess_reaches_it(api_server: HTTPServer, external_api_url: str) -> None:
    api_server.expect_oneshot_request("/v1/ping", query_string="from=child").respond_with_data(
        "pong"
    )

    answer = fetch(f"{external_api_url}/v1/ping?from=child")

    assert answer == "pong"
    assert [request.path for request, _ in api_server.log] == ["/v1/ping"]


def test_each_test_starts_with_no_expectation(api_server: HTTPServer) -> None:
    assert (api_server.handlers, api_server.oneshot_handlers, api_server.log) == ([], [], [])


def fetch(url: str) -> str:
    """GET `url` from another process, as a worker the in-process mocks cannot see would."""
    code = "import sys, urllib.request\\n"
    code += "try:\\n    print(urllib.request.urlopen(sys.argv[1]).read().decode(), end='')\\n"
    code += "except Exception as error:\\n    print(error, end='')\\n"
    child = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True)
    return child.stdout
'''


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["sequential", "xdist"])
def test_unmatched_and_unmet_requests_fail_the_test_and_a_subprocess_is_answered(
    tmp_path: Path, rendered_python: Path, state_dir: Path, workers: list[str]
) -> None:
    project = render(tmp_path / "project")
    (project / SUITE / "test_strict_api_server.py").write_text(STRICTNESS)
    env = {"IT_BACKEND": "local", "IT_STATE_DIR": str(state_dir)}

    outcome = run_suite(rendered_python, project, env, *workers)

    assert outcome.returncode == pytest.ExitCode.TESTS_FAILED, outcome.output
    # The three strict tests pass their body and error in teardown; everything else passes.
    assert (outcome.failures, outcome.errors, outcome.skipped) == (0, 3, 0), outcome.output
    assert outcome.passed == DEFAULT_RENDER_TESTS + 2, outcome.output
    errors = [line for line in outcome.output.splitlines() if line.startswith("ERROR ")]
    assert sorted(line.split("::")[1].split(" ")[0] for line in errors) == [
        "test_a_permanent_expectation_never_met_fails_the_test",
        "test_a_request_nothing_expects_fails_the_test",
        "test_an_expected_request_never_sent_fails_the_test",
    ], outcome.output
    assert "No handler found for request" in outcome.output
    assert "expected requests the code never sent" in outcome.output
    assert "/v1/never-sent" in outcome.output
    assert "/v1/also-never-sent" in outcome.output
