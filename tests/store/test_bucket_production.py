"""A production whose media live in a bucket: previs, takes and the intent checks read and write
through it, another machine with an empty cache reads the same takes, and a bucket that cannot
be used stops `soundstage init` in one line with nothing left behind."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from soundstage.project import Production
from soundstage.store.bucket import BucketMediaStore

from .conftest import S3Service
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
