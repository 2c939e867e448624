# Example from it-template: edit or delete it; a deleted example stays deleted on update.
"""Each xdist worker has its own Redis database, empty at the start of every test."""

from __future__ import annotations

import redis

from .harness.services.redis.fixtures import flushed


def test_every_test_starts_with_an_empty_redis_database(redis_client: redis.Redis) -> None:
    # Arrange: nothing; the fixture flushed this worker's database.

    # Act
    keys = redis_client.dbsize()

    # Assert
    assert keys == 0


def test_keys_written_by_a_test_are_readable_within_it(redis_client: redis.Redis) -> None:
    # Arrange
    redis_client.set("greeting", "hello", ex=60)

    # Act
    value = redis_client.get("greeting")

    # Assert
    assert value == "hello"


def test_keys_a_test_wrote_are_gone_when_it_ends(redis_connection: redis.Redis) -> None:
    # Arrange
    with flushed(redis_connection) as client:
        client.set("left-behind", "1")

        # Act: the block ends, as the redis_client fixture's teardown does.

    # Assert
    assert redis_connection.dbsize() == 0
