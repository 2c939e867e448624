# Managed by it-template: local changes may conflict on copier update.
"""MongoDB: the same recipe as every service (probe, container, URL); no server without Docker.

The URL names the test database in its path, e.g.
`mongodb://test:test@127.0.0.1:27017/test_app?authSource=admin`; the suite refuses a
database whose name does not look like a test database, as it does for PostgreSQL.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from pymongo import MongoClient

from ... import config
from ...base import Service
from ...safety import NotATestDatabase, ensure_test_database

DATA_VOLUME = "/data/db"


def database_name(url: str) -> str:
    """The database a MongoDB URL names in its path ("" when it names none)."""
    return unquote(urlsplit(url).path.lstrip("/"))


def with_database(url: str, name: str) -> str:
    """`url` naming database `name` instead (credentials and options kept)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{quote(name, safe='')}"))


class MongoDB(Service):
    """MongoDB with a root user `test` and the test database named after the project."""

    name = "mongodb"
    port = 27017

    def probe(self, url: str) -> str:
        """Insert, find and delete a document in a probe collection, then drop it."""
        client: MongoClient[dict[str, Any]] = MongoClient(
            url, serverSelectionTimeoutMS=3000, connectTimeoutMS=3000
        )
        with client:
            version = str(client.server_info()["version"])  # fails fast when none answers
            database = client.get_default_database()
            collection = database[f"it_template_probe_{uuid.uuid4().hex[:12]}"]
            try:
                inserted = collection.insert_one({"probe": True}).inserted_id
                if collection.find_one({"_id": inserted}) is None:
                    raise RuntimeError("MongoDB did not return the document just inserted")
                collection.delete_one({"_id": inserted})
            finally:
                collection.drop()
        return version

    def check_url(self, url: str) -> None:
        """Refuse a URL with no database, or one that does not look like a test database."""
        if urlsplit(url).scheme not in {"mongodb", "mongodb+srv"}:
            raise ValueError(f"{self.url_variable} must be a mongodb:// URL, not {url!r}.")
        if not database_name(url):
            raise NotATestDatabase(
                f"{self.url_variable} names no database: put the test database in its path "
                f"(e.g. mongodb://test:test@127.0.0.1:27017/{config.TEST_DATABASE}"
                "?authSource=admin)."
            )
        ensure_test_database(url)

    def container(self, image: str) -> Any:
        """A MongoDB container with test credentials and its data on tmpfs."""
        from testcontainers.community.mongodb import MongoDbContainer

        container = MongoDbContainer(
            image,
            username=config.TEST_USER,
            password=config.TEST_PASSWORD,
            dbname=config.TEST_DATABASE,
        )
        return container.with_tmpfs_mount(DATA_VOLUME)

    def container_url(self, container: Any) -> str:
        """URL of the test database in a started container (the user lives in `admin`)."""
        host = container.get_container_host_ip()
        port = container.get_exposed_port(self.port)
        credentials = f"{quote(config.TEST_USER, safe='')}:{quote(config.TEST_PASSWORD, safe='')}"
        return f"mongodb://{credentials}@{host}:{port}/{config.TEST_DATABASE}?authSource=admin"


SERVICE = MongoDB()
