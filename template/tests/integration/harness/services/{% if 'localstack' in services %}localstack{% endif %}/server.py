# Managed by it-template: local changes may conflict on copier update.
"""LocalStack (S3): the same recipe as every service (probe, local process, container, URL).

The `local` backend runs the real LocalStack runtime from an environment of its own, found
through the `localstack-supervisor` script that `localstack-core` installs: LocalStack needs
Python 3.13 and pins that clash with the suite's, so it is never installed beside the suite
(`pipx install` or `uv tool install`, see the README). The URL is the edge endpoint,
`http://host:4566`. Region and credentials are fixed test values
(us-east-1, test/test) unless the URL carries them: `http://key:secret@host:port?region=...`,
so any S3-compatible test server (MinIO, moto) can stand in.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import boto3
from botocore.config import Config

from ...base import LocalCommand, Service, ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REGION = "us-east-1"  # buckets need no LocationConstraint there
ACCESS_KEY = "test"
SECRET_KEY = "test"  # LocalStack accepts any; these are throw-away values
# LocalStack 4.15 and later need an account token; it is passed on when set.
PASSED_ON = ("LOCALSTACK_AUTH_TOKEN",)


@dataclass(frozen=True)
class S3Endpoint:
    """What a boto3 client needs to reach an S3 test server."""

    endpoint_url: str
    region: str
    access_key: str
    secret_key: str


def s3_endpoint(url: str) -> S3Endpoint:
    """The endpoint, region and credentials a LocalStack (or S3-compatible) URL gives."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    region = parse_qs(parts.query).get("region", [REGION])[0]
    return S3Endpoint(
        endpoint_url=urlunsplit((parts.scheme, host, "", "", "")),
        region=region,
        access_key=unquote(parts.username) if parts.username else ACCESS_KEY,
        secret_key=unquote(parts.password) if parts.password else SECRET_KEY,
    )


def s3_client(url: str, timeout: float = 10) -> S3Client:
    """A boto3 S3 client for the server `url` names, with path-style bucket addresses."""
    endpoint = s3_endpoint(url)
    settings = Config(
        s3={"addressing_style": "path"},
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": 2, "mode": "standard"},
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint.endpoint_url,
        region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        config=settings,
    )


def localstack_health(url: str, timeout: float = 3) -> dict[str, Any] | None:
    """LocalStack's health report, or None from another S3 server (no such endpoint)."""
    health = f"{s3_endpoint(url).endpoint_url}/_localstack/health"
    try:
        with urllib.request.urlopen(health, timeout=timeout) as response:
            report = json.load(response)
    except urllib.error.HTTPError:
        return None
    except ValueError:  # an answer, but not LocalStack's JSON
        return None
    return report if isinstance(report, dict) else None


def find_runtime() -> tuple[Path, str]:
    """The Python of the environment LocalStack's runtime is installed in, and where it is:
    the interpreter of the `localstack-supervisor` script on PATH."""
    script = shutil.which("localstack-supervisor")
    if script:
        with open(script, "rb") as file:
            first = file.readline().decode(errors="replace").strip()
        python = Path(first.removeprefix("#!").split()[0]) if first.startswith("#!") else None
        if python is not None and python.is_file():
            return python, f"localstack-core in {python.parent.parent}"
    raise ServiceUnavailable(
        "no LocalStack runtime was found (install it into an environment of its own so that "
        "`localstack-supervisor` is on PATH: `uv tool install --python 3.13 "
        "'localstack-core[runtime]==2026.3.0'` with the pins in tests/integration/README.md; "
        "or run with IT_BACKEND=docker, or IT_BACKEND=url with TEST_LOCALSTACK_URL)"
    )


class LocalStack(Service):
    """LocalStack with S3 only."""

    name = "localstack"
    port = 4566

    def probe(self, url: str) -> str:
        """Wait for LocalStack to report S3 up (a request sent while its gateway starts can
        hang), then create a bucket, put and get an object, delete both."""
        health = localstack_health(url, timeout=1)
        state = (health or {}).get("services", {}).get("s3", "running")
        if state not in {"running", "available"}:
            raise RuntimeError(f"LocalStack reports S3 {state}")
        s3 = s3_client(url, timeout=3)
        bucket = f"it-template-probe-{uuid.uuid4().hex[:12]}"
        token = uuid.uuid4().hex.encode()
        s3.create_bucket(Bucket=bucket)
        try:
            s3.put_object(Bucket=bucket, Key="probe", Body=token)
            if s3.get_object(Bucket=bucket, Key="probe")["Body"].read() != token:
                raise RuntimeError("S3 did not return the object just written")
            s3.delete_object(Bucket=bucket, Key="probe")
        finally:
            s3.delete_bucket(Bucket=bucket)
        return (
            str(health["version"]) if health and "version" in health else "unknown (not LocalStack)"
        )

    def check_url(self, url: str) -> None:
        """Refuse anything but an http(s):// URL."""
        if urlsplit(url).scheme not in {"http", "https"}:
            raise ValueError(f"{self.url_variable} must look like http://host:4566, not {url!r}.")

    def local_command(self, workdir: Path, port: int) -> LocalCommand:
        """The runtime on 127.0.0.1:`port` with S3 only, its state in `workdir`, no DNS server,
        no persistence and nothing downloaded at start."""
        python, source = find_runtime()
        address = f"127.0.0.1:{port}"
        env = {
            "GATEWAY_LISTEN": address,
            "LOCALSTACK_HOST": address,
            "SERVICES": "s3",
            "EAGER_SERVICE_LOADING": "1",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",
            "DNS_ADDRESS": "0",
            "PERSISTENCE": "0",
            "LOCALSTACK_VOLUME_DIR": str(workdir),
        }
        return LocalCommand([str(python), "-m", "localstack.runtime.main"], source, env=env)

    def local_url(self, port: int) -> str:
        """The edge endpoint of a local runtime."""
        return f"http://127.0.0.1:{port}"

    def container(self, image: str) -> Any:
        """A LocalStack container running S3 only; `probe` decides when it is ready.

        A plain container: testcontainers' LocalStackContainer waits through a log-wait function
        its own release deprecates, and the warning fails the suite's warning filter.
        """
        from testcontainers.core.container import DockerContainer

        container = DockerContainer(image).with_exposed_ports(self.port)
        container = container.with_env("SERVICES", "s3").with_env("AWS_DEFAULT_REGION", REGION)
        for variable in PASSED_ON:
            if os.environ.get(variable):
                container = container.with_env(variable, os.environ[variable])
        return container

    def container_url(self, container: Any) -> str:
        """The edge endpoint of a started container."""
        host = container.get_container_host_ip()
        return f"http://{host}:{container.get_exposed_port(self.port)}"


SERVICE = LocalStack()
