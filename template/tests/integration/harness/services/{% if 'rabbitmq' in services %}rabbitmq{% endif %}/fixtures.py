# Managed by it-template: local changes may conflict on copier update.
"""RabbitMQ for tests: queues named per xdist worker and per test, deleted when the test ends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pika
import pytest

from ... import config
from ...lifecycle import Servers

ABANDONED_AFTER_MS = 10 * 60 * 1000  # unused queues of a killed run expire after 10 min


def worker_prefix() -> str:
    """The start of every queue name this xdist worker uses: `test.<project>.<worker>.`."""
    return f"test.{config.PROJECT}.{config.worker_id()}."


def unique_prefix() -> str:
    """A prefix of this worker's, unique to one test: `test.<project>.<worker>.<random>.`."""
    return f"{worker_prefix()}{uuid.uuid4().hex[:8]}."


class Queues:
    """The queues one test declares, all under one prefix, so they can all be deleted."""

    def __init__(self, connection: pika.BlockingConnection, prefix: str) -> None:
        self.connection = connection
        self.prefix = prefix
        self.declared: list[str] = []
        self._channel: Any = None

    @property
    def channel(self) -> Any:
        """An open channel with publisher confirms; a new one if the broker closed the last."""
        if self._channel is None or not self._channel.is_open:
            self._channel = self.connection.channel()
            self._channel.confirm_delivery()  # basic_publish returns once the broker has it
        return self._channel

    def name(self, short: str) -> str:
        """The full name of queue `short`: the prefix, then `short`."""
        return f"{self.prefix}{short}"

    def declare(
        self, short: str, *, durable: bool = False, arguments: dict[str, Any] | None = None
    ) -> str:
        """Declare queue `short` under the prefix, remember it, and return its full name.

        The queue also expires after ABANDONED_AFTER_MS unused, so a killed run's queues leave
        a shared broker by themselves.
        """
        name = self.name(short)
        arguments = {"x-expires": ABANDONED_AFTER_MS, **(arguments or {})}
        self.channel.queue_declare(name, durable=durable, arguments=arguments)
        if name not in self.declared:
            self.declared.append(name)
        return name

    def publish(self, queue: str, body: bytes, content_type: str | None = None) -> None:
        """Publish `body` to `queue` through the default exchange, confirmed by the broker."""
        properties = pika.BasicProperties(content_type=content_type)
        self.channel.basic_publish("", queue, body, properties, mandatory=True)

    def delete_all(self) -> None:
        """Delete every queue declared here (those already gone too), then close the channel."""
        channel = self.channel
        for name in self.declared:
            channel.queue_delete(name)
        self.declared.clear()
        channel.close()


@contextmanager
def declared_queues(connection: pika.BlockingConnection, prefix: str = "") -> Iterator[Queues]:
    """Queues declared in the block, deleted when it ends; under a new test prefix by default."""
    queues = Queues(connection, prefix or unique_prefix())
    try:
        yield queues
    finally:
        if connection.is_open:
            queues.delete_all()


@pytest.fixture(scope="session")
def rabbitmq_url(servers: Servers) -> str:
    """URL of the broker's test virtual host."""
    return servers["rabbitmq"].url


@pytest.fixture(scope="session")
def rabbitmq_connection(rabbitmq_url: str) -> Iterator[pika.BlockingConnection]:
    """One connection per worker, shared by the tests that run on it."""
    parameters = pika.URLParameters(rabbitmq_url)
    parameters.heartbeat = 0  # a blocking connection idles between tests: no heartbeat to miss
    connection = pika.BlockingConnection(parameters)
    yield connection
    if connection.is_open:
        connection.close()


@pytest.fixture
def rabbitmq_queues(rabbitmq_connection: pika.BlockingConnection) -> Iterator[Queues]:
    """Queues for this test, named `test.<project>.<worker>.<random>.<name>`, deleted after it."""
    with declared_queues(rabbitmq_connection) as queues:
        yield queues
