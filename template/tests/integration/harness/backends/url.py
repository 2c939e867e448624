# Managed by it-template: local changes may conflict on copier update.
"""The `url` backend: a server someone else started, given by TEST_<SERVICE>_URL."""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import urlsplit

from .. import config
from ..base import Backend, Server, Service, ServiceUnavailable, wait_until_ready


class UrlBackend(Backend):
    """A server someone else started (CI service containers, the compose file)."""

    name = "url"

    def start(self, service: Service, run_dir: Path, run_id: str) -> Server:
        """Check the URL, then wait for a real round trip."""
        url = os.environ.get(service.url_variable, "").strip()
        if not url:
            raise ServiceUnavailable(
                f"IT_BACKEND=url needs {service.url_variable} (e.g. from "
                '`eval "$(python tests/integration/harness/compose_env.py)"`)'
            )
        service.check_url(url)
        began = time.monotonic()
        version = wait_until_ready(lambda: service.probe(url), config.START_TIMEOUT_SECONDS)
        where = urlsplit(url).netloc.rsplit("@", 1)[-1]
        return Server(
            service.name,
            self.name,
            url,
            version,
            f"{service.url_variable} ({where})",
            time.monotonic() - began,
        )
