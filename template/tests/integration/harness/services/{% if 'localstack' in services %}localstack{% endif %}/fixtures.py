# Managed by it-template: local changes may conflict on copier update.
"""S3 (LocalStack) for tests: bucket names per worker and per test, emptied and deleted after it.

Bucket names are one namespace for the whole server, so a test's buckets are named
`test-<project>-<worker>-<n>[-<suffix>]` (valid S3 names: lower case, digits and '-').
When the test ends every bucket under the worker's prefix is emptied (objects, versions,
unfinished uploads) and deleted; leftovers of a killed run go when the worker starts.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

from ...config import PROJECT, worker_id
from ...lifecycle import Servers
from .server import s3_client as make_s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

BUCKETS = itertools.count(1)
LEGAL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
MAX_LENGTH = 63  # S3's limit for a bucket name
PROJECT_PART = 24  # room left for the worker, the test number and a suffix


def slug(text: str) -> str:
    """`text` as a bucket name part: lower case, '-' for anything else, no '-' at the ends."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def worker_prefix() -> str:
    """The prefix every bucket of this xdist worker starts with."""
    project = slug(PROJECT)[:PROJECT_PART].strip("-")
    return f"test-{project}-{slug(worker_id())}-"


def bucket_name(prefix: str, number: int, suffix: str = "") -> str:
    """The name of a test's bucket, refused unless S3 accepts it."""
    name = f"{prefix}{number}" + (f"-{suffix}" if suffix else "")
    if (suffix and not LEGAL.fullmatch(suffix)) or not 3 <= len(name) <= MAX_LENGTH:
        raise ValueError(
            f"{suffix!r} gives no valid bucket name: use lower-case letters, digits and '-' "
            f"(at most {MAX_LENGTH} characters with the prefix {prefix!r})."
        )
    return name


def buckets_under(s3: S3Client, prefix: str) -> list[str]:
    """Every bucket whose name starts with `prefix`."""
    return sorted(
        bucket["Name"]
        for bucket in s3.list_buckets().get("Buckets", [])
        if bucket.get("Name", "").startswith(prefix)
    )


def empty_and_delete(s3: S3Client, bucket: str) -> None:
    """Delete every object version, delete marker and unfinished upload, then the bucket."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed: list[ObjectIdentifierTypeDef] = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
    for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    s3.delete_bucket(Bucket=bucket)


def delete_buckets(s3: S3Client, prefix: str) -> None:
    """Empty and delete every bucket under `prefix`."""
    for bucket in buckets_under(s3, prefix):
        empty_and_delete(s3, bucket)


class S3Buckets:
    """The buckets of one test: made on demand, emptied and deleted when the test ends."""

    def __init__(self, s3: S3Client, prefix: str) -> None:
        self.s3 = s3
        self.prefix = prefix
        self.made: list[str] = []

    def create(self, suffix: str = "") -> str:
        """Create a bucket of this test's own and return its name."""
        name = bucket_name(self.prefix, next(BUCKETS), suffix)
        self.s3.create_bucket(Bucket=name)
        self.made.append(name)
        return name


@contextmanager
def buckets_removed(s3: S3Client) -> Iterator[S3Buckets]:
    """A test's buckets under the worker's prefix; all of them are gone after the block."""
    prefix = worker_prefix()
    try:
        yield S3Buckets(s3, prefix)
    finally:
        delete_buckets(s3, prefix)


@pytest.fixture(scope="session")
def s3_client(servers: Servers) -> Iterator[S3Client]:
    """One boto3 S3 client per worker, for the run's LocalStack."""
    s3 = make_s3_client(servers["localstack"].url)
    delete_buckets(s3, worker_prefix())  # a killed run's leftovers
    yield s3
    delete_buckets(s3, worker_prefix())
    s3.close()


@pytest.fixture
def s3_buckets(s3_client: S3Client) -> Iterator[S3Buckets]:
    """This test's buckets (`s3_buckets.create()` makes one); emptied and deleted at its end."""
    with buckets_removed(s3_client) as buckets:
        yield buckets
