"""The rendered docker-compose.test.yml really comes up, and compose_env.py finds it."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
import redis

from tests.compose import (
    compose_down,
    compose_leftovers,
    compose_up,
    docker_unavailable,
    unique_project_name,
)
from tests.helpers import DEFAULT_PACKAGE, render

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker")]


@pytest.fixture(scope="module")
def docker_ready() -> None:
    reason = docker_unavailable()
    if reason:
        pytest.skip(reason)


@pytest.mark.usefixtures("docker_ready")
@pytest.mark.parametrize("postgres_version", ["17", "18"])
def test_compose_services_answer(tmp_path: Path, postgres_version: str) -> None:
    project = render(tmp_path / "project", postgres_version=postgres_version)
    name = unique_project_name()
    try:
        started = time.perf_counter()
        env = compose_up(project, name)
        print(f"compose up to healthy: {time.perf_counter() - started:.1f} s")

        pg_url = env["TEST_POSTGRES_URL"]
        assert pg_url.startswith("postgresql://test:test@127.0.0.1:")
        assert pg_url.endswith(f"/test_{DEFAULT_PACKAGE}")
        with psycopg.connect(pg_url, connect_timeout=10) as conn:
            row = conn.execute(
                "select 1, current_database(), current_user,"
                " pg_encoding_to_char(encoding), current_setting('fsync')"
                " from pg_database where datname = current_database()"
            ).fetchone()
        assert row == (1, f"test_{DEFAULT_PACKAGE}", "test", "UTF8", "off")

        redis_url = env["TEST_REDIS_URL"]
        assert redis_url.startswith("redis://127.0.0.1:")
        assert redis_url.endswith("/0")
        client = redis.Redis.from_url(redis_url, socket_timeout=10)
        try:
            assert client.ping() is True
        finally:
            client.close()
    finally:
        compose_down(project, name)
    assert compose_leftovers(name) == []
