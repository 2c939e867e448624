"""The example app's GraphQL resolvers keep the event loop free under FastAPI.

Strawberry runs a sync resolver on the event loop (strawberry#3187): with a sync session, one
slow query would hold every other request. The rendered resolvers hand the session's work to
FastAPI's thread pool; this runs the rendered schema with a session that records the thread
each call ran on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import LINT_TOOLS
from tests.helpers import DEFAULT_PACKAGE, cached_venv, render, run

pytestmark = pytest.mark.slow

PROBE = """
import asyncio, threading
from types import SimpleNamespace
from {package}.graphql_api import schema

class Session:
    def __init__(self):
        self.threads = []
    def get(self, model, key):
        self.threads.append(threading.get_ident())
        return None
    def scalars(self, query):
        self.threads.append(threading.get_ident())
        return []

async def main():
    session = Session()
    context = SimpleNamespace(session=session, user=None)
    result = await schema.execute("{{ user(userId: 1) {{ id }} }}", context_value=context)
    assert result.errors is None, result.errors
    assert result.data == {{"user": None}}, result.data
    loop = threading.get_ident()
    print("calls", len(session.threads), "on the loop", session.threads.count(loop))

asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("answers", "on_the_loop"),
    [({}, 0), ({"web_framework": "flask"}, 1)],
    ids=["fastapi-thread-pool", "flask-sync-view"],
)
def test_the_session_is_used_off_the_event_loop_under_fastapi(
    tmp_path: Path, answers: dict[str, str], on_the_loop: int
) -> None:
    project = render(tmp_path / "project", graphql=True, **answers)
    python = cached_venv(project / "tests" / "integration" / "requirements.txt", LINT_TOOLS)
    script = tmp_path / "probe.py"
    script.write_text(PROBE.format(package=DEFAULT_PACKAGE))

    result = run([str(python), str(script)], project, {"PYTHONPATH": str(project / "src")})

    assert result.returncode == 0, result.stdout + result.stderr
    # Flask's view is sync, so there the resolver runs where it is called: the control case.
    assert result.stdout.split() == ["calls", "1", "on", "the", "loop", str(on_the_loop)]
