# Managed by it-template: local changes may conflict on copier update.
"""Kafka: the same recipe as every service (probe, container, URL); no server without Docker.

The URL is `kafka://host:port` (several brokers: `kafka://host1:port1,host2:port2`); its
netloc is the bootstrap servers string that clients take. The server is one KRaft node
(broker and controller in one process) of the official apache/kafka image.
"""

from __future__ import annotations

import io
import tarfile
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic  # where its type lives (admin re-exports it untyped)

from ...base import Service

CLIENT_PORT = 9092  # the listener clients use, advertised as the published host port
INTERNAL_PORT = 19092  # broker-to-itself and health checks inside the container
CONTROLLER_PORT = 9093
STARTER_SCRIPT = "/tmp/it-template-start.sh"
STARTER_READY = "/tmp/it-template-start.ready"
# One KRaft node; the same settings as the docker-compose.test.yml and CI service blocks.
KRAFT_SETTINGS = {
    "CLUSTER_ID": "4L6g3nShT-eMCtK--X86sw",  # any fixed base64 UUID: one throw-away node
    "KAFKA_NODE_ID": "1",
    "KAFKA_PROCESS_ROLES": "broker,controller",
    "KAFKA_LISTENERS": (
        f"PLAINTEXT://:{CLIENT_PORT},INTERNAL://:{INTERNAL_PORT},CONTROLLER://:{CONTROLLER_PORT}"
    ),
    "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": (
        "PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT"
    ),
    "KAFKA_INTER_BROKER_LISTENER_NAME": "INTERNAL",
    "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
    "KAFKA_CONTROLLER_QUORUM_VOTERS": f"1@localhost:{CONTROLLER_PORT}",
    "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
    "KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS": "1",
    "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
    "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
    "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
    "KAFKA_LOG_DIRS": "/var/lib/kafka/data",
    "KAFKA_HEAP_OPTS": "-Xms256m -Xmx512m",
}
DATA_VOLUME = "/var/lib/kafka/data"


def bootstrap_servers(url: str) -> str:
    """The `host:port[,host:port...]` string a `kafka://` URL names."""
    return urlsplit(url).netloc


def client_settings(
    url_or_servers: str, quiet: bool = False
) -> dict[str, str | int | float | bool]:
    """librdkafka settings for the broker(s) of a `kafka://` URL or a bootstrap string."""
    servers = bootstrap_servers(url_or_servers) if "://" in url_or_servers else url_or_servers
    settings: dict[str, str | int | float | bool] = {"bootstrap.servers": servers}
    if quiet:  # while a broker starts, refused connections are expected: do not log them
        settings["log_level"] = 0
    return settings


def create_topic(admin: AdminClient, name: str, partitions: int = 1, timeout: float = 10) -> None:
    """Create topic `name` (replication factor 1) and wait until the controller has it."""
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1)],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    futures[name].result(timeout=timeout)


def delete_topics(admin: AdminClient, names: list[str], timeout: float = 10) -> None:
    """Delete topics `names` and wait until the broker's metadata no longer lists them."""
    if not names:
        return
    futures = admin.delete_topics(names, operation_timeout=timeout, request_timeout=timeout)
    for future in futures.values():
        try:
            future.result(timeout=timeout)
        except KafkaException as error:  # already gone is what was asked for
            if error.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise
    deadline = time.monotonic() + timeout
    while set(names) & set(admin.list_topics(timeout=timeout).topics):
        if time.monotonic() > deadline:
            raise TimeoutError(f"Kafka still lists deleted topics after {timeout:.0f} s")
        time.sleep(0.05)


def consume_one(consumer: Consumer, timeout: float) -> Message:
    """The next message `consumer` gets within `timeout` seconds (an error is raised)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is None:
            continue
        error = message.error()
        if error is not None:
            raise RuntimeError(f"Kafka consumer error: {error}")
        return message
    raise TimeoutError(f"no Kafka message within {timeout:.0f} s")


def consumer_from_start(settings: dict[str, Any], topic: str, partitions: int = 1) -> Consumer:
    """A consumer reading `topic` from its first offset, with no group membership or commits."""
    consumer = Consumer({**settings, "group.id": f"{topic}.reader", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    return consumer


def starter_archive(advertised_listeners: str) -> bytes:
    """A tar of the script that starts the broker with its advertised listeners, then a flag.

    The flag comes second in the archive, so the container's wait loop only runs the script
    once it is written whole.
    """
    script = (
        "#!/bin/bash\n"
        f"export KAFKA_ADVERTISED_LISTENERS='{advertised_listeners}'\n"
        "exec /etc/kafka/docker/run\n"
    ).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, content, mode in ((STARTER_SCRIPT, script, 0o755), (STARTER_READY, b"", 0o644)):
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.mtime = len(content), mode, int(time.time())
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


class Kafka(Service):
    """Kafka in KRaft mode, one node: a broker for tests."""

    name = "kafka"
    port = CLIENT_PORT

    def probe(self, url: str) -> str:
        """Create a topic, produce a message, consume it back, delete the topic."""
        settings = client_settings(url, quiet=True)
        admin = AdminClient(settings)
        cluster = admin.list_topics(timeout=3).cluster_id
        topic = f"it-template-probe-{uuid.uuid4().hex[:12]}"
        token = uuid.uuid4().hex.encode()
        create_topic(admin, topic, timeout=5)
        try:
            producer = Producer(settings)
            producer.produce(topic, value=token)
            if producer.flush(5) != 0:
                raise RuntimeError("Kafka did not acknowledge the probe message")
            consumer = consumer_from_start(settings, topic)
            try:
                if consume_one(consumer, timeout=10).value() != token:
                    raise RuntimeError("Kafka did not return the message just produced")
            finally:
                consumer.close()
        finally:
            delete_topics(admin, [topic], timeout=5)
        # The Kafka protocol does not tell a broker's release; its cluster id tells which one.
        return f"cluster {cluster}"

    def check_url(self, url: str) -> None:
        """Refuse anything but `kafka://host:port[,host:port...]`."""
        parts = urlsplit(url)
        if parts.scheme != "kafka" or not parts.netloc or "@" in parts.netloc:
            raise ValueError(
                f"{self.url_variable} must look like kafka://host:port (the bootstrap servers, "
                f"comma-separated; no credentials), not {url!r}."
            )

    def container(self, image: str) -> Any:
        """An apache/kafka container that advertises its published port once that is known.

        Testcontainers' KafkaContainer runs Confluent images only, so this is a small
        DockerContainer of its own (the scheme of Testcontainers for Java's apache/kafka
        module): the container waits for a starter script, written once the host port is known.
        """
        from testcontainers.core.container import DockerContainer

        class ApacheKafkaContainer(DockerContainer):
            def start(self) -> Any:
                super().start()
                host = self.get_container_host_ip()
                listeners = (
                    f"PLAINTEXT://{host}:{self.get_exposed_port(CLIENT_PORT)},"
                    f"INTERNAL://localhost:{INTERNAL_PORT}"
                )
                self.get_wrapped_container().put_archive("/", starter_archive(listeners))
                return self

        container = ApacheKafkaContainer(image).with_exposed_ports(CLIENT_PORT)
        for key, value in KRAFT_SETTINGS.items():
            container.with_env(key, value)
        wait = f"while [ ! -f {STARTER_READY} ]; do sleep 0.1; done; exec {STARTER_SCRIPT}"
        return container.with_command(["sh", "-c", wait]).with_tmpfs_mount(DATA_VOLUME)

    def container_url(self, container: Any) -> str:
        """The bootstrap server of a started container, on its published port."""
        host = container.get_container_host_ip()
        return f"kafka://{host}:{container.get_exposed_port(CLIENT_PORT)}"


SERVICE = Kafka()
