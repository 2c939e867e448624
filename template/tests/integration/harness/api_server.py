# Managed by it-template: local changes may conflict on copier update.
"""A real HTTP server for the external APIs that in-process mocks cannot intercept.

`responses` and `respx` (http_mocks.py) answer calls made in the test's own process through
that one library. A call from a subprocess, a worker written in another language, or a client
library other than theirs reaches the network: `api_server` is a real HTTP server on loopback
(pytest-httpserver), one per xdist worker, for it. `external_api_url` is its base URL, the one
value a settings field for an external API's base URL takes.

A test scripts it with pytest-httpserver's API (`api_server.expect_oneshot_request(...)`,
`.respond_with_json(...)`) and reads what was sent in `api_server.log`. Its expectations are
reset for every test, and its teardown fails the test when the server answered a request that
no expectation matched, when a handler raised, or when an expected request never came:
pytest-httpserver itself only reports those through `check_assertions()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer

__all__ = ["api_server", "api_server_per_worker", "external_api_url", "unmet_expectations"]


@pytest.fixture(scope="session")
def api_server_per_worker() -> Iterator[HTTPServer]:
    """The worker's HTTP server on 127.0.0.1 and a free port, stopped when the worker ends."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture(scope="session")
def external_api_url(api_server_per_worker: HTTPServer) -> str:
    """The base URL of the worker's HTTP server, for an external API's settings field."""
    return api_server_per_worker.url_for("/").rstrip("/")


@pytest.fixture
def api_server(api_server_per_worker: HTTPServer) -> Iterator[HTTPServer]:
    """The worker's HTTP server, with no expectations; checked strictly when the test ends."""
    server = api_server_per_worker
    server.clear()
    yield server
    try:
        server.check_assertions()  # a request that no expectation matched (answered 500)
        server.check_handler_errors()
        unmet = unmet_expectations(server)
        assert not unmet, "expected requests the code never sent:\n" + "\n".join(unmet)
    finally:
        server.clear()


def unmet_expectations(server: HTTPServer) -> list[str]:
    """The expectations of `server` no request met: one-shot or ordered ones still waiting,
    permanent ones that no logged request matched.
    """
    waiting = [*server.oneshot_handlers, *server.ordered_handlers]
    unused = [
        handler
        for handler in server.handlers
        if not any(handler.matcher.match(request) for request, _ in server.log)
    ]
    return [repr(handler.matcher) for handler in [*waiting, *unused]]
