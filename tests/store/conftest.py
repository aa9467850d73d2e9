"""S3-compatible services on loopback for the bucket store's tests: moto's server, started
once per test session and stopped after it; each test gets a bucket of its own. One accepts
any key; the other checks signatures and IAM policies, for the credential faults."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
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


@dataclass(frozen=True)
class Keys:
    """An access key and its secret, as the store takes them from the environment."""

    access_key_id: str
    secret_access_key: str

    def use(self, env: pytest.MonkeyPatch) -> None:
        env.setenv("AWS_ACCESS_KEY_ID", self.access_key_id)
        env.setenv("AWS_SECRET_ACCESS_KEY", self.secret_access_key)
        env.setenv("AWS_REGION", "us-east-1")


@dataclass(frozen=True)
class AuthedS3Service(S3Service):
    """A service that checks signatures and IAM policies, with three users: ``writer`` may do
    anything, ``reader`` may only get, head and list, ``stranger`` may do nothing with S3 (the
    client is the writer's)."""

    writer: Keys
    reader: Keys
    stranger: Keys


# Reads, never writes: what a review machine or an auditor is given.
# s3:ListBucket is AWS's name for a listing; moto 5.2.6 checks a ListObjectsV2 request as
# "s3:ListObjectsV2" instead (5.2.5 as s3:ListBucket), so the reader is given both.
_READ_ONLY = {
    "Effect": "Allow",
    "Action": ["s3:GetObject", "s3:ListBucket", "s3:ListObjectsV2", "s3:HeadObject"],
    "Resource": "*",
}
_EVERYTHING = {"Effect": "Allow", "Action": "*", "Resource": "*"}
_NO_S3 = {"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}


@pytest.fixture(scope="session")
def s3_authed() -> Iterator[AuthedS3Service]:
    """moto's server enforcing IAM, in a process of its own: moto keeps its auth switch and its
    buckets per process, so the threaded server above stays as it is (no auth) beside it."""
    import boto3

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    # The first three requests go unchecked: they make the writer, its policy and its key;
    # everything after, the writer's own setup included, is signed and checked.
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(server, endpoint)
        anyone = {"endpoint_url": endpoint, "region_name": "us-east-1"}
        setup = boto3.client("iam", aws_access_key_id="setup", aws_secret_access_key="setup", **anyone)
        writer = _user(setup, "writer", _EVERYTHING)
        admin = boto3.client("iam", **_as(writer), **anyone)
        reader, stranger = _user(admin, "reader", _READ_ONLY), _user(admin, "stranger", _NO_S3)
        yield AuthedS3Service(endpoint, boto3.client("s3", **_as(writer), **anyone), writer, reader, stranger)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_up(server: subprocess.Popen[bytes], endpoint: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # not an authorised action
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto's server did not start on {endpoint}") from None
            time.sleep(0.05)


def _user(iam: object, name: str, statement: dict[str, object]) -> Keys:
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    iam.create_user(UserName=name)  # type: ignore[attr-defined]
    iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=policy)  # type: ignore[attr-defined]
    key = iam.create_access_key(UserName=name)["AccessKey"]  # type: ignore[attr-defined]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


def _as(keys: Keys) -> dict[str, str]:
    return {"aws_access_key_id": keys.access_key_id, "aws_secret_access_key": keys.secret_access_key}


@pytest.fixture
def authed_bucket_store(s3_authed: AuthedS3Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A bucket store over a fresh bucket of the IAM-checking service, as the writer."""
    from soundstage.store.bucket import BucketMediaStore

    s3_authed.writer.use(monkeypatch)
    bucket = s3_authed.bucket()
    return BucketMediaStore(tmp_path / "media", f"s3://{bucket}/pilot", endpoint=s3_authed.endpoint, allow_http=True)


def use_bucket_settings(monkeypatch: pytest.MonkeyPatch, url: str, endpoint: str) -> None:
    """Point the production's media at ``url`` on the loopback S3 server, through the
    environment (plain http: the test server has no TLS)."""
    monkeypatch.setenv("SOUNDSTAGE_MEDIA__URL", url)
    monkeypatch.setenv("SOUNDSTAGE_MEDIA__ENDPOINT", endpoint)
    monkeypatch.setenv("SOUNDSTAGE_MEDIA__ALLOW_HTTP", "true")
