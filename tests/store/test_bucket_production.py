"""A production whose media live in a bucket: previs, takes and the intent checks read and write
through it, another machine with an empty cache reads the same takes, and a bucket that cannot
be used (missing, refused credentials, read-only credentials) stops `soundstage init` or the
command in one line with nothing left behind."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from soundstage.project import Production
from soundstage.store.bucket import BucketMediaStore

from .conftest import AuthedS3Service, Keys, S3Service, use_bucket_settings
from conftest import EXAMPLE


def _use_bucket(root: Path, url: str, endpoint: str) -> None:
    settings = root / "soundstage.toml"
    text = settings.read_text(encoding="utf-8")
    text = text.replace("[media]\n", f'[media]\nurl = "{url}"\nendpoint = "{endpoint}"\nallow_http = true\n', 1)
    text = text.replace('url = ""\nendpoint = ""\n', "", 1).replace("allow_http = false\n", "", 1)
    settings.write_text(text, encoding="utf-8")


def test_previs_and_takes_live_in_the_bucket_and_read_back_elsewhere(s3_service: S3Service, tmp_path: Path) -> None:
    bucket = s3_service.bucket()
    root = tmp_path / "pilot"
    Production.init(root).close()
    _use_bucket(root, f"s3://{bucket}/pilot", s3_service.endpoint)
    with Production.open(root) as production:
        assert isinstance(production.context.media, BucketMediaStore)
        production.import_script(EXAMPLE)
        production.plan()
        production.layout(scene="4")
        production.previs(size=(160, 90), scene="4")
        assert production.queue_missing_takes() > 0
        production.work(1)  # fresh worker interpreters open the same bucket
        # A still take is a .png, a moving shot's take an .mp4.
        takes = {t.name: t.path.name for shot in production.shots("4") for t in production.takes(shot.code)}
    assert takes and {Path(name).suffix for name in takes.values()} == {".png", ".mp4"}
    keys = s3_service.keys(bucket)
    for name in takes.values():
        assert f"pilot/{name[:2]}/{name[2:4]}/{name}" in keys

    # Another machine: the same settings, no local media at all.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in ("soundstage.toml", "soundstage.db"):
        (elsewhere / name).write_bytes((root / name).read_bytes())
    with Production.open(elsewhere) as production:
        report = production.check()
        assert set(report.findings) == set(takes)
        for name in takes.values():
            sha, suffix = name[:64], name[64:]
            assert hashlib.sha256(production.context.media.path(sha, suffix).read_bytes()).hexdigest() == sha


def test_init_with_a_bucket_that_cannot_be_used_is_one_line_and_leaves_nothing(
    s3_service: S3Service, tmp_path: Path, cli, monkeypatch
) -> None:
    root = tmp_path / "pilot"
    monkeypatch.setenv("SOUNDSTAGE_MEDIA__URL", "s3://no-such-bucket/pilot")
    monkeypatch.setenv("SOUNDSTAGE_MEDIA__ENDPOINT", s3_service.endpoint)
    monkeypatch.setenv("SOUNDSTAGE_MEDIA__ALLOW_HTTP", "true")
    result = cli("init", root)
    assert result.code == 2
    assert result.err.strip() == "error: media bucket s3://no-such-bucket/pilot cannot be read: no such bucket"
    assert not root.exists()


def test_a_plain_http_endpoint_without_allow_http_is_named_in_one_line(tmp_path: Path, cli, monkeypatch) -> None:
    """The client failed every request with "HTTP error: builder error"; the setting is named now."""
    root = tmp_path / "pilot"
    monkeypatch.setenv("SOUNDSTAGE_MEDIA__URL", "s3://studio-media/pilot")
    monkeypatch.setenv("SOUNDSTAGE_MEDIA__ENDPOINT", "http://127.0.0.1:9")
    result = cli("init", root)
    assert result.code == 2
    assert result.err.strip() == (
        "error: media endpoint http://127.0.0.1:9: plain http; set allow_http = true in [media] to use it"
    )
    assert not root.exists()


# Sends what arrives on a named pipe to the bucket; the test feeds part of it, then kills it.
_WRITER = (
    "import sys; from pathlib import Path; from soundstage.store.bucket import BucketMediaStore; "
    "BucketMediaStore(Path(sys.argv[1]), sys.argv[2], endpoint=sys.argv[3], allow_http=True)"
    ".put_file(Path(sys.argv[4]))"
)


def test_a_killed_writer_leaves_no_object_in_the_bucket(s3_service: S3Service, tmp_path: Path) -> None:
    bucket = s3_service.bucket()
    url, cache = f"s3://{bucket}/pilot", tmp_path / "media"
    data = os.urandom(3 << 20)
    pipe = tmp_path / "feed"
    os.mkfifo(pipe)
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(cache), url, s3_service.endpoint, str(pipe)])
    try:
        with pipe.open("wb") as feed:
            feed.write(data[: 3 << 19])
            feed.flush()
            deadline = time.monotonic() + 10
            while not any(p.is_file() and p.stat().st_size for p in cache.rglob("*")) and time.monotonic() < deadline:
                time.sleep(0.01)
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=10)
    finally:
        writer.kill()
    assert writer.returncode == -signal.SIGKILL
    assert s3_service.keys(bucket) == []
    store = BucketMediaStore(cache, url, endpoint=s3_service.endpoint, allow_http=True)
    sha256 = hashlib.sha256(data).hexdigest()
    assert not store.exists(sha256)
    assert store.sweep_temp() == 1
    assert store.put_bytes(data) == sha256 and store.verify(sha256)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _empty_object() -> str:
    empty = hashlib.sha256(b"").hexdigest()
    return f"pilot/{empty[:2]}/{empty[2:4]}/{empty}"


REFUSED = {
    "unknown access key": (
        lambda keys: Keys("AKIAUNKNOWNUNKNOWN00", keys.secret_access_key),
        "the access key in AWS_ACCESS_KEY_ID is not known to the service",
    ),
    "wrong secret": (
        lambda keys: Keys(keys.access_key_id, "not-the-secret"),
        "AWS_SECRET_ACCESS_KEY does not match the access key",
    ),
}


@pytest.mark.parametrize("wrong", REFUSED)
def test_init_and_open_with_refused_credentials_are_one_line_and_change_nothing(
    s3_authed: AuthedS3Service, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch, wrong: str
) -> None:
    make, said = REFUSED[wrong]
    bucket = s3_authed.bucket()
    url = f"s3://{bucket}/pilot"
    use_bucket_settings(monkeypatch, url, s3_authed.endpoint)
    line = f"error: media bucket {url} cannot be read: credentials refused: {said}"

    make(s3_authed.writer).use(monkeypatch)
    result = cli("init", tmp_path / "refused")
    assert (result.code, result.err.strip()) == (2, line)
    assert not (tmp_path / "refused").exists() and s3_authed.keys(bucket) == []

    root = tmp_path / "pilot"
    s3_authed.writer.use(monkeypatch)
    assert cli("init", root).code == 0
    before, keys = _files(root), s3_authed.keys(bucket)
    make(s3_authed.writer).use(monkeypatch)
    for command in (("import", EXAMPLE), ("shots",)):
        result = cli("-p", root, *command)
        assert (result.code, result.err.strip()) == (2, line)
    assert _files(root) == before and s3_authed.keys(bucket) == keys


def test_read_only_credentials_stop_init_and_each_write_in_one_line(
    s3_authed: AuthedS3Service, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3_authed.bucket()
    url = f"s3://{bucket}/pilot"
    use_bucket_settings(monkeypatch, url, s3_authed.endpoint)
    line = f"error: media bucket {url} cannot be written: access denied: the credentials in AWS_ACCESS_KEY_ID may not write to it"

    s3_authed.reader.use(monkeypatch)
    result = cli("init", tmp_path / "read-only")
    assert (result.code, result.err.strip()) == (2, line)
    assert not (tmp_path / "read-only").exists() and s3_authed.keys(bucket) == []

    # A production made by a writer, later opened with credentials that may only read: opening
    # works, the first put is refused in one line, and no draft row names a missing object.
    root = tmp_path / "pilot"
    s3_authed.writer.use(monkeypatch)
    assert cli("init", root).code == 0
    assert s3_authed.keys(bucket) == [_empty_object()]  # what init's write probe leaves
    s3_authed.reader.use(monkeypatch)
    result = cli("-p", root, "import", EXAMPLE)
    assert (result.code, result.err.strip()) == (2, line)
    assert s3_authed.keys(bucket) == [_empty_object()]

    s3_authed.writer.use(monkeypatch)
    result = cli("-p", root, "import", EXAMPLE)
    assert result.code == 0 and result.out.startswith("Draft 1:")  # the refused import left no draft
    sha = hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert f"pilot/{sha[:2]}/{sha[2:4]}/{sha}.fountain" in s3_authed.keys(bucket)  # sent, not skipped
