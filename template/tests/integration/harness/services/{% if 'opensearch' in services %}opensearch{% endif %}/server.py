# Managed by it-template: local changes may conflict on copier update.
"""OpenSearch: the same recipe as every service (probe, container, URL); no server without Docker.

The URL is the REST endpoint, `http://host:port` (security plugin off); a server with
security on is given as `https://user:password@host:port`.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import opensearchpy

from ...base import Service

# One small node: no demo certificates, a bounded heap, no disk watermarks (a full CI disk
# would otherwise turn the indices read-only).
NODE_SETTINGS = {
    "DISABLE_INSTALL_DEMO_CONFIG": "true",
    "OPENSEARCH_JAVA_OPTS": "-Xms512m -Xmx512m",
    "cluster.routing.allocation.disk.threshold_enabled": "false",
}


def client(url: str, timeout: float = 10) -> opensearchpy.OpenSearch:
    """An OpenSearch client for `url` (credentials, if any, in the URL)."""
    return opensearchpy.OpenSearch(hosts=[url], timeout=timeout, max_retries=0)


class OpenSearch(Service):
    """OpenSearch, one node with the security plugin off."""

    name = "opensearch"
    port = 9200

    def probe(self, url: str) -> str:
        """Index a document with refresh, get it back, delete the probe index."""
        search = client(url, timeout=3)
        try:
            version = str(search.info()["version"]["number"])  # fails fast when none answers
            index = f"it-template-probe-{uuid.uuid4().hex[:12]}"
            try:
                search.index(index=index, id="probe", body={"probe": True}, refresh=True)
                found = search.get(index=index, id="probe")
                if found["_source"] != {"probe": True}:
                    raise RuntimeError("OpenSearch did not return the document just indexed")
            finally:
                search.indices.delete(index=index, ignore_unavailable=True)
            return version
        finally:
            search.close()

    def check_url(self, url: str) -> None:
        """Refuse anything but an http(s):// URL."""
        if urlsplit(url).scheme not in {"http", "https"}:
            raise ValueError(f"{self.url_variable} must look like http://host:9200, not {url!r}.")

    def container(self, image: str) -> Any:
        """An OpenSearch container, one node, security plugin off; `probe` decides readiness.

        A plain container: testcontainers' OpenSearchContainer adds a readiness check whose
        module warns of a deprecation on import, which the suite's warning filter fails on.
        """
        from testcontainers.core.container import DockerContainer

        container = DockerContainer(image).with_exposed_ports(self.port)
        container.with_env("discovery.type", "single-node")
        container.with_env("DISABLE_SECURITY_PLUGIN", "true")
        for key, value in NODE_SETTINGS.items():
            container.with_env(key, value)
        return container

    def container_url(self, container: Any) -> str:
        """The REST endpoint of a started container."""
        host = container.get_container_host_ip()
        return f"http://{host}:{container.get_exposed_port(self.port)}"


SERVICE = OpenSearch()
