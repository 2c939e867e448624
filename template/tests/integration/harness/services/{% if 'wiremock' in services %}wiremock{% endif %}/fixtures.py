# Managed by it-template: local changes may conflict on copier update.
"""WireMock for tests: each xdist worker's stubs under a path of its own, removed after each test.

One WireMock serves the whole run, so every worker stubs and calls under its own base URL,
`wiremock_url` (`http://host:port/test-<project>-<worker>`): the value for an external API's
base-URL setting. `wiremock.stub(...)` registers a stub through the admin API, tagged with the
worker in its metadata; paths are relative to that base URL. When a test ends, its stubs and
its logged requests are removed, and the test fails if the code sent a request no stub matched
or never called a stub the test registered (WireMock itself answers 404 and carries on). A
team's shared mappings (server.py) are left alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from ...config import PROJECT, worker_id
from ...lifecycle import Servers
from .server import admin

METADATA_KEY = "it-template"


@dataclass(frozen=True)
class LoggedRequest:
    """A request WireMock received, as the test reads it back."""

    method: str
    path: str  # relative to the worker's base URL, with its query string
    headers: dict[str, str]  # names in lower case
    body: str
    stub_id: str | None  # the stub that answered it, or None if none matched

    def json(self) -> Any:
        """The body, decoded as JSON."""
        return json.loads(self.body)


class WireMockStubs:
    """One worker's share of the run's WireMock, reached at `url`."""

    def __init__(self, server_url: str, prefix: str) -> None:
        self.server_url = server_url.rstrip("/")
        self.prefix = prefix  # "/test-<project>-<worker>"
        self.url = self.server_url + prefix

    def stub(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        json_body: Any = None,
        body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Answer `method` `path` (under `url`) with this response; the stub's id."""
        response: dict[str, Any] = {"status": status}
        if json_body is not None:
            response["jsonBody"] = json_body
        if body is not None:
            response["body"] = body
        if headers:
            response["headers"] = headers
        return self.add_mapping(
            {"request": {"method": method, "urlPath": path}, "response": response}
        )

    def add_mapping(self, mapping: dict[str, Any]) -> str:
        """Register a stub in WireMock's own JSON; its request's url, urlPath, urlPattern or
        urlPathPattern is taken as relative to `url`. The stub's id."""
        request = dict(mapping.get("request", {}))
        for field in ("url", "urlPath"):
            if field in request:
                request[field] = self.prefix + request[field]
        for field in ("urlPattern", "urlPathPattern"):
            if field in request:
                request[field] = re.escape(self.prefix) + request[field]
        if not any(
            field in request for field in ("url", "urlPath", "urlPattern", "urlPathPattern")
        ):
            request["urlPathPattern"] = re.escape(self.prefix) + "/.*"
        metadata = {**mapping.get("metadata", {}), METADATA_KEY: {"owner": self.prefix}}
        made = admin(
            self.server_url, "mappings", {**mapping, "request": request, "metadata": metadata}
        )
        return str(made["id"])

    def requests(self) -> list[LoggedRequest]:
        """Every request sent under `url` since the test began, oldest first."""
        events = admin(self.server_url, "requests")["requests"]
        logged = []
        for event in reversed(events):  # WireMock lists the newest first
            request = event["request"]
            if not request["url"].startswith(self.prefix + "/"):
                continue
            headers = {
                name.lower(): str(value) for name, value in request.get("headers", {}).items()
            }
            stub = event.get("stubMapping", {}).get("id") if event.get("wasMatched") else None
            logged.append(
                LoggedRequest(
                    method=request["method"],
                    path=request["url"].removeprefix(self.prefix),
                    headers=headers,
                    body=request.get("body", ""),
                    stub_id=stub,
                )
            )
        return logged

    def stubs(self) -> dict[str, dict[str, Any]]:
        """The stubs this worker has registered, by id: WireMock's JSON of each."""
        mappings = admin(self.server_url, "mappings")["mappings"]
        return {
            str(mapping["id"]): mapping
            for mapping in mappings
            if mapping.get("metadata", {}).get(METADATA_KEY, {}).get("owner") == self.prefix
        }

    def problems(self) -> list[str]:
        """Requests under `url` no stub matched, and stubs no request called."""
        requests = self.requests()
        called = {request.stub_id for request in requests}
        unmatched = [
            f"no stub matched {request.method} {request.path}"
            for request in requests
            if request.stub_id is None
        ]
        unused = [
            f"a stub was never called: {json.dumps(mapping['request'])}"
            for stub, mapping in self.stubs().items()
            if stub not in called
        ]
        return unmatched + unused

    def reset(self) -> None:
        """Remove this worker's stubs and the requests it logged."""
        owner = {
            "matchesJsonPath": {"expression": f"$.{METADATA_KEY}.owner", "equalTo": self.prefix}
        }
        admin(self.server_url, "mappings/remove-by-metadata", owner)
        admin(
            self.server_url, "requests/remove", {"urlPathPattern": re.escape(self.prefix) + "/.*"}
        )


def worker_path() -> str:
    """The path every stub of this xdist worker is under."""
    return "/" + re.sub(r"[^A-Za-z0-9_-]+", "-", f"test-{PROJECT}-{worker_id()}")


@contextmanager
def stubs_removed(stubs: WireMockStubs) -> Iterator[WireMockStubs]:
    """The worker's stubs for a block; its stubs and logged requests are gone after it."""
    try:
        yield stubs
    finally:
        stubs.reset()


@pytest.fixture(scope="session")
def wiremock_server(servers: Servers) -> Iterator[WireMockStubs]:
    """This worker's share of the run's WireMock; a killed run's leftovers go first."""
    stubs = WireMockStubs(servers["wiremock"].url, worker_path())
    stubs.reset()
    yield stubs
    stubs.reset()


@pytest.fixture(scope="session")
def wiremock_url(wiremock_server: WireMockStubs) -> str:
    """The worker's base URL on WireMock, for an external API's base-URL setting."""
    return wiremock_server.url


@pytest.fixture
def wiremock(wiremock_server: WireMockStubs) -> Iterator[WireMockStubs]:
    """The worker's WireMock stubs for this test; checked strictly and removed when it ends."""
    with stubs_removed(wiremock_server) as stubs:
        yield stubs
        problems = stubs.problems()
        assert not problems, "WireMock saw what the test did not expect:\n" + "\n".join(problems)
