"""An S3-compatible service on loopback for the bucket store's tests: moto's server, started
once per test session and stopped after it; each test gets a bucket of its own."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class S3Service:
    """Where the service listens, and a client to arrange and inspect buckets behind the store's
    back (the store itself never uses boto3)."""

    endpoint: str
    client: object

    def bucket(self) -> str:
        name = f"media-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name)  # type: ignore[attr-defined]
        return name

    def keys(self, bucket: str) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=bucket)  # type: ignore[attr-defined]
        return sorted(item["Key"] for item in listing.get("Contents", []))


@pytest.fixture(scope="session")
def s3_service() -> Iterator[S3Service]:
    import boto3
    from moto.server import ThreadedMotoServer

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        with pytest.MonkeyPatch.context() as env:
            # moto accepts any key; the store reads them from the environment like any client.
            env.setenv("AWS_ACCESS_KEY_ID", "soundstage-test")
            env.setenv("AWS_SECRET_ACCESS_KEY", "soundstage-test-secret")
            env.setenv("AWS_REGION", "us-east-1")
            client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
            yield S3Service(endpoint, client)
    finally:
        server.stop()


@pytest.fixture
def bucket_store(s3_service: S3Service, tmp_path: Path):
    """A bucket store over a fresh bucket, with its local cache in tmp_path/media."""
    from soundstage.store.bucket import BucketMediaStore

    bucket = s3_service.bucket()
    return BucketMediaStore(tmp_path / "media", f"s3://{bucket}/pilot", endpoint=s3_service.endpoint, allow_http=True)
