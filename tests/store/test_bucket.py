"""The media store's contract on both kinds of store, the folder and an S3 bucket (moto's server
on loopback): naming, no overwrites, streaming, integrity on read, one-line faults."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from soundstage.errors import StoreError
from soundstage.store.bucket import BucketMediaStore
from soundstage.store.media import MediaStore

from .conftest import AuthedS3Service, Keys, S3Service

KINDS = ["folder", "bucket", "bucket checking IAM"]


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MediaStore:
    if request.param == "folder":
        return MediaStore(tmp_path / "media")
    if request.param == "bucket":
        return request.getfixturevalue("bucket_store")
    return request.getfixturevalue("authed_bucket_store")  # the same contract, signed and checked


def _fresh(store: MediaStore, tmp_path: Path) -> MediaStore:
    """The same store seen from another machine: for a bucket, an empty local cache."""
    if isinstance(store, BucketMediaStore):
        return BucketMediaStore(tmp_path / "elsewhere", store.url, endpoint=store.endpoint, allow_http=True)
    return MediaStore(store.root)


def test_an_object_is_named_by_its_sha256_and_read_back_whole(store: MediaStore, tmp_path: Path) -> None:
    data = b"FADE IN:\n\nINT. LIGHTHOUSE - NIGHT\n"
    sha256 = store.put_bytes(data, ".fountain")
    assert sha256 == hashlib.sha256(data).hexdigest()
    assert store.exists(sha256, ".fountain") and not store.exists(sha256, ".png")
    other = _fresh(store, tmp_path)
    with other.open(sha256, ".fountain") as file:
        assert file.read() == data
    assert other.path(sha256, ".fountain").read_bytes() == data
    assert other.verify(sha256, ".fountain")


def test_a_large_file_is_streamed_and_arrives_intact_elsewhere(store: MediaStore, tmp_path: Path) -> None:
    data = os.urandom(12 << 20)
    source = tmp_path / "cut.mp4"
    source.write_bytes(data)
    sha256 = store.put_file(source, ".mp4")
    assert hashlib.sha256(_fresh(store, tmp_path).path(sha256, ".mp4").read_bytes()).hexdigest() == sha256


def test_the_same_bytes_from_two_writers_are_one_object(store: MediaStore, tmp_path: Path) -> None:
    data = b"a take" * 1000
    first = store.put_bytes(data, ".png")
    second = _fresh(store, tmp_path).put_bytes(data, ".png")  # a writer that has no local copy
    assert first == second and store.verify(first, ".png")


def test_a_missing_object_is_one_line(store: MediaStore) -> None:
    with pytest.raises(StoreError, match="media object missing"):
        store.open("0" * 64, ".png")
    assert not store.exists("0" * 64) and not store.verify("0" * 64)


@pytest.mark.parametrize("media_id", ["../../etc/passwd", "A" * 64, "0" * 63])
def test_malformed_ids_are_refused_before_any_request(store: MediaStore, media_id: str) -> None:
    with pytest.raises(StoreError, match="not a media id"):
        store.path(media_id)
    with pytest.raises(StoreError, match="not a media id"):
        store.exists(media_id)


def test_an_object_changed_in_the_bucket_is_refused_never_used(
    s3_service: S3Service, bucket_store: BucketMediaStore, tmp_path: Path
) -> None:
    data = b"the approved take"
    sha256 = bucket_store.put_bytes(data, ".png")
    bucket, prefix = bucket_store.url.removeprefix("s3://").split("/", 1)
    key = f"{prefix}/{sha256[:2]}/{sha256[2:4]}/{sha256}.png"
    assert s3_service.keys(bucket) == [key]
    s3_service.client.put_object(Bucket=bucket, Key=key, Body=b"something else")  # type: ignore[attr-defined]

    other = _fresh(bucket_store, tmp_path)
    assert not other.verify(sha256, ".png")
    with pytest.raises(StoreError, match="does not match its hash; not used"):
        other.path(sha256, ".png")
    assert [p for p in other.root.rglob("*") if p.is_file()] == []  # nothing kept from it


def test_an_object_is_never_overwritten(s3_service: S3Service, bucket_store: BucketMediaStore) -> None:
    data = b"first"
    sha256 = bucket_store.put_bytes(data)
    bucket, _ = bucket_store.url.removeprefix("s3://").split("/", 1)
    [key] = s3_service.keys(bucket)
    before = s3_service.client.head_object(Bucket=bucket, Key=key)["ETag"]  # type: ignore[attr-defined]
    bucket_store.root.joinpath(key.split("/", 1)[1]).unlink()  # no local copy: the store must ask
    bucket_store._write((data,), "")  # the low-level write, past the existence check
    assert s3_service.client.head_object(Bucket=bucket, Key=key)["ETag"] == before  # type: ignore[attr-defined]
    assert bucket_store.verify(sha256)


def test_a_bucket_that_does_not_exist_is_one_line(s3_service: S3Service, tmp_path: Path) -> None:
    store = BucketMediaStore(
        tmp_path / "media", "s3://no-such-bucket/pilot", endpoint=s3_service.endpoint, allow_http=True
    )
    with pytest.raises(StoreError, match=r"^media bucket s3://no-such-bucket/pilot cannot be read: no such bucket$"):
        store.check()


def test_an_unreachable_service_is_one_line_within_seconds(tmp_path: Path) -> None:
    store = BucketMediaStore(tmp_path / "media", "s3://media/pilot", endpoint="http://127.0.0.1:9", allow_http=True)
    with pytest.raises(
        StoreError, match=r"^media bucket s3://media/pilot cannot be read: the service cannot be reached$"
    ):
        store.check()


@pytest.mark.parametrize("url", ["media/pilot", "s3://", "gs://media"])
def test_a_url_that_is_not_s3_is_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(StoreError, match="not an s3://bucket/prefix address"):
        BucketMediaStore(tmp_path / "media", url)


WRONG = {
    "unknown access key": (
        lambda keys: Keys("AKIAUNKNOWNUNKNOWN00", keys.secret_access_key),
        "credentials refused: the access key in AWS_ACCESS_KEY_ID is not known to the service",
    ),
    "wrong secret": (
        lambda keys: Keys(keys.access_key_id, "not-the-secret"),
        "credentials refused: AWS_SECRET_ACCESS_KEY does not match the access key",
    ),
}


@pytest.mark.parametrize("wrong", WRONG)
def test_wrong_credentials_are_one_line(
    s3_authed: AuthedS3Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wrong: str
) -> None:
    make, said = WRONG[wrong]
    bucket = s3_authed.bucket()
    make(s3_authed.writer).use(monkeypatch)
    store = BucketMediaStore(tmp_path / "media", f"s3://{bucket}/pilot", endpoint=s3_authed.endpoint, allow_http=True)
    with pytest.raises(StoreError) as raised:
        store.check()
    assert str(raised.value) == f"media bucket s3://{bucket}/pilot cannot be read: {said}"
    with pytest.raises(StoreError, match=rf"^media bucket s3://{bucket}/pilot cannot be read: {said}$"):
        store.put_bytes(b"a take")  # it asks first whether the bytes are there
    source = tmp_path / "take.png"
    source.write_bytes(b"a take")
    with pytest.raises(StoreError, match=rf"^media bucket s3://{bucket}/pilot cannot be written: {said}$"):
        store.put_file(source, ".png")
    assert s3_authed.keys(bucket) == []
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_read_only_credentials_read_but_every_write_is_one_line_and_leaves_nothing(
    s3_authed: AuthedS3Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3_authed.bucket()
    url = f"s3://{bucket}/pilot"
    s3_authed.writer.use(monkeypatch)
    written = BucketMediaStore(tmp_path / "written", url, endpoint=s3_authed.endpoint, allow_http=True)
    sha256 = written.put_bytes(b"the approved take", ".png")
    before = s3_authed.keys(bucket)

    s3_authed.reader.use(monkeypatch)
    store = BucketMediaStore(tmp_path / "media", url, endpoint=s3_authed.endpoint, allow_http=True)
    store.check()  # reading is allowed: opening a production works
    assert store.exists(sha256, ".png") and store.path(sha256, ".png").read_bytes() == b"the approved take"
    refused = f"^media bucket {url} cannot be written: access denied: the credentials in AWS_ACCESS_KEY_ID may not write to it$"
    with pytest.raises(StoreError, match=refused):
        store.check_writable()
    data = b"a new take"
    for _ in range(2):  # the second put is refused too: the first left no copy that counts as sent
        with pytest.raises(StoreError, match=refused):
            store.put_bytes(data, ".png")
        assert not store.exists(hashlib.sha256(data).hexdigest(), ".png")
    source = tmp_path / "take.png"
    source.write_bytes(data)
    with pytest.raises(StoreError, match=refused):
        store.put_file(source, ".png")
    assert s3_authed.keys(bucket) == before
    assert [p.name for p in store.root.rglob("*") if p.is_file()] == [f"{sha256}.png"]  # the fetched one only


def test_the_write_probe_passes_for_a_writer_and_leaves_only_the_empty_object(
    s3_authed: AuthedS3Service, authed_bucket_store: BucketMediaStore
) -> None:
    authed_bucket_store.check_writable()
    authed_bucket_store.check_writable()  # the empty object is there now: told apart from a refusal
    empty = hashlib.sha256(b"").hexdigest()
    bucket = authed_bucket_store.url.removeprefix("s3://").split("/", 1)[0]
    assert s3_authed.keys(bucket) == [f"pilot/{empty[:2]}/{empty[2:4]}/{empty}"]
    assert authed_bucket_store.verify(empty)


def test_credentials_that_may_not_read_are_one_line(
    s3_authed: AuthedS3Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3_authed.bucket()
    s3_authed.stranger.use(monkeypatch)
    store = BucketMediaStore(tmp_path / "media", f"s3://{bucket}/pilot", endpoint=s3_authed.endpoint, allow_http=True)
    said = "access denied: the credentials in AWS_ACCESS_KEY_ID may not read it"
    with pytest.raises(StoreError, match=rf"^media bucket s3://{bucket}/pilot cannot be read: {said}$"):
        store.check()
    with pytest.raises(StoreError, match=rf"^media bucket s3://{bucket}/pilot cannot be read: {said}$"):
        store.exists(hashlib.sha256(b"a take").hexdigest())  # a refused HEAD says no more; the listing does
