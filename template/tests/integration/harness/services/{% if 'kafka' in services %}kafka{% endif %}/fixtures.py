# Managed by it-template: local changes may conflict on copier update.
"""Kafka for tests: topic names per worker and per test, every such topic deleted at its end.

A broker has one topic namespace shared by the workers, so a test's topics are named
`test_<project>_<worker>_<n>_<suffix>`; when the test ends, every topic of the worker is
deleted (also those a producer auto-created), and so are leftovers of a killed run when the
worker starts. Consumers made here read from the first offset without joining a group, so
no consumer group is left behind either.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from ...config import PROJECT, worker_id
from ...lifecycle import Servers
from .server import (
    bootstrap_servers,
    client_settings,
    consumer_from_start,
    create_topic,
    delete_topics,
)

TESTS = itertools.count(1)
LEGAL = re.compile(r"[A-Za-z0-9._-]+")
MAX_LENGTH = 249  # Kafka's limit for a topic name


def worker_prefix() -> str:
    """The prefix every topic of this xdist worker starts with."""
    return f"test_{PROJECT}_{worker_id()}_"


def topic_name(prefix: str, suffix: str) -> str:
    """`prefix` + `suffix`, refused unless Kafka accepts it as a topic name."""
    name = f"{prefix}{suffix}"
    if not suffix or not LEGAL.fullmatch(suffix) or len(name) > MAX_LENGTH:
        raise ValueError(
            f"{suffix!r} gives no valid topic name: use letters, digits, '.', '_' or '-' "
            f"(at most {MAX_LENGTH} characters with the prefix)."
        )
    return name


def topics_under(admin: AdminClient, prefix: str) -> list[str]:
    """Every topic on the broker whose name starts with `prefix`."""
    return sorted(t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix))


class KafkaTopics:
    """The topics of one test: made on demand, with producers and consumers closed at its end."""

    def __init__(self, bootstrap: str, admin: AdminClient, prefix: str) -> None:
        self.bootstrap = bootstrap
        self.admin = admin
        self.prefix = prefix
        self.partitions: dict[str, int] = {}
        self._producers: list[Producer] = []
        self._consumers: list[Consumer] = []

    def name(self, suffix: str, partitions: int = 1) -> str:
        """Create this test's topic `suffix` and return its full name."""
        name = topic_name(self.prefix, suffix)
        create_topic(self.admin, name, partitions)
        self.partitions[name] = partitions
        return name

    def producer(self) -> Producer:
        """A producer for the broker; flushed when the test ends."""
        producer = Producer(client_settings(self.bootstrap))
        self._producers.append(producer)
        return producer

    def consumer(self, topic: str) -> Consumer:
        """A consumer of every partition of `topic` from the first offset; closed at the end."""
        partitions = self.partitions.get(topic, 1)
        consumer = consumer_from_start(client_settings(self.bootstrap), topic, partitions)
        self._consumers.append(consumer)
        return consumer

    def close(self) -> None:
        """Flush the producers and close the consumers made for the test."""
        for producer in self._producers:
            producer.flush(5)
        for consumer in self._consumers:
            consumer.close()
        self._producers.clear()
        self._consumers.clear()


@contextmanager
def topics_for_test(bootstrap: str) -> Iterator[KafkaTopics]:
    """A test's topics under a fresh prefix; every topic of the worker is deleted at the end."""
    admin = AdminClient(client_settings(bootstrap))
    topics = KafkaTopics(bootstrap, admin, f"{worker_prefix()}{next(TESTS)}_")
    try:
        yield topics
    finally:
        topics.close()
        delete_topics(admin, topics_under(admin, worker_prefix()))


@pytest.fixture(scope="session")
def kafka_bootstrap(servers: Servers) -> Iterator[str]:
    """The `host:port` bootstrap servers of the run's Kafka, for any client's settings."""
    bootstrap = bootstrap_servers(servers["kafka"].url)
    admin = AdminClient(client_settings(bootstrap))
    delete_topics(admin, topics_under(admin, worker_prefix()))  # a killed run's leftovers
    yield bootstrap
    delete_topics(admin, topics_under(admin, worker_prefix()))


@pytest.fixture
def kafka_topics(kafka_bootstrap: str) -> Iterator[KafkaTopics]:
    """This test's topics (`kafka_topics.name("orders")` creates one); deleted when it ends."""
    with topics_for_test(kafka_bootstrap) as topics:
        yield topics
