"""How many tests a render has: counts kept by hand per example module, added up in one place.

Kept by hand on purpose: a test module that stops being collected must fail the run layers,
and counting with --collect-only on the same tree would not notice.
"""

from __future__ import annotations

from typing import Any

# Example modules of the example app, by what renders them, and their tests.
EVERY_EXAMPLE_APP = {
    "test_cache_isolation.py": 3,
    "test_checkout_flow.py": 1,
    "test_factories.py": 8,
    "test_isolation.py": 11,
    "test_order_confirmation.py": 2,
    "test_payment_server.py": 2,
    "test_profile_cache.py": 2,
    "test_safety.py": 13,
}
WITH_A_WEB_FRAMEWORK = {"test_orders_api.py": 11, "test_users_api.py": 6}
WITHOUT_ONE = {"test_orders.py": 11, "test_users.py": 6}
TEST_AUTH = {"jwt-hs256": 13, "jwt-rs256": 14, "none": 6}
# test_graphql.py, with graphql=true (a web framework and the example app).
GRAPHQL = {"jwt-hs256": 9, "jwt-rs256": 9, "none": 8}
# Example modules of a project the suite is laid onto; test_project_database.py has one more
# test per table of the project's metadata.
ADOPTED = {
    "test_cache_isolation.py": 3,
    "test_safety.py": 13,
    "test_project_database.py": 3,
}
ADOPTED_WITH_A_WEB_FRAMEWORK = {"test_project_app.py": 2}
TEST_PROJECT_AUTH = {"fastapi": 6, "flask": 4}
# test_migrations.py, with schema_source=alembic; test_cache_isolation.py, with Redis.
MIGRATIONS = 2
REDIS_EXAMPLE = 3
# The example module of each service the machine can run, beyond PostgreSQL and Redis
# (LocalStack: on the url backend, against the real runtime the test starts).
SERVICE_EXAMPLES = {
    "mysql": 2,
    "rabbitmq": 2,
    "memcached": 2,
    "localstack": 2,
    "kafka": 2,
    "opensearch": 2,
    "mongodb": 2,
    "wiremock": 2,
}


def expected_tests(answers: dict[str, Any], tables: int = 0) -> int:
    """The tests a render with `answers` has; `tables`: the adopted project's tables."""
    framework = answers.get("web_framework", "fastapi")
    migrations = MIGRATIONS if answers.get("schema_source") == "alembic" else 0
    redis = "redis" in answers.get("services", ["postgres", "redis"])
    auth = "none" if framework == "none" else answers.get("auth", "jwt-hs256")
    services = sum(SERVICE_EXAMPLES.get(name, 0) for name in answers.get("services", []))
    services += migrations - (0 if redis else REDIS_EXAMPLE)
    if answers.get("example_app", True):
        count = sum(EVERY_EXAMPLE_APP.values())
        if framework == "none":
            return count + sum(WITHOUT_ONE.values()) + services
        graphql = GRAPHQL[auth] if answers.get("graphql") else 0
        return count + sum(WITH_A_WEB_FRAMEWORK.values()) + TEST_AUTH[auth] + graphql + services
    count = sum(ADOPTED.values()) + tables + services
    if framework != "none":
        count += sum(ADOPTED_WITH_A_WEB_FRAMEWORK.values())
        if auth != "none":
            count += TEST_PROJECT_AUTH[framework]
    return count


DEFAULT_RENDER_TESTS = expected_tests({})
