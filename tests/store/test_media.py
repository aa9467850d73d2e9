"""The content-addressed media store: naming, atomic writes, no overwrites, integrity."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from soundstage.errors import StoreError
from soundstage.store.media import MediaStore


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_put_bytes_names_the_object_by_its_sha256(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    data = b"FADE IN:\n\nINT. DINER - NIGHT\n"
    sha256 = store.put_bytes(data, ".fountain")
    assert sha256 == hashlib.sha256(data).hexdigest()
    path = store.path(sha256, ".fountain")
    assert path == tmp_path / "media" / sha256[:2] / sha256[2:4] / f"{sha256}.fountain"
    assert path.read_bytes() == data
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)  # read-only
    with store.open(sha256, ".fountain") as file:
        assert file.read() == data
    assert store.exists(sha256, ".fountain") and not store.exists(sha256)
    assert _files(tmp_path / "media") == [path]  # no temporary file left


def test_storing_the_same_bytes_again_writes_nothing(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    sha256 = store.put_bytes(b"slate 12A take 3")
    path = store.path(sha256)
    before = path.stat()
    source = tmp_path / "copy.bin"
    source.write_bytes(b"slate 12A take 3")
    assert store.put_bytes(b"slate 12A take 3") == sha256
    assert store.put_file(source) == sha256
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert _files(tmp_path / "media") == [path]


def test_put_file_streams_a_large_file(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)  # several chunks and a partial one
    source = tmp_path / "take.mp4"
    source.write_bytes(data)
    store = MediaStore(tmp_path / "media")
    sha256 = store.put_file(source, ".mp4")
    assert sha256 == hashlib.sha256(data).hexdigest()
    assert store.path(sha256, ".mp4").read_bytes() == data
    assert store.verify(sha256, ".mp4")


def test_put_file_of_a_missing_file_raises_store_error(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    with pytest.raises(StoreError, match=r"missing\.fountain"):
        store.put_file(tmp_path / "missing.fountain")


@pytest.mark.parametrize(
    "media_id",
    ["../../../etc/passwd", "a" * 63, "a" * 65, "A" * 64, "g" * 64, "a" * 62 + "/.", "", "0" * 64 + "\n"],
)
def test_malformed_ids_never_reach_the_filesystem(tmp_path: Path, media_id: str) -> None:
    store = MediaStore(tmp_path / "media")
    for use in (store.path, store.exists, store.open, store.verify):
        with pytest.raises(StoreError, match="not a media id"):
            use(media_id)


@pytest.mark.parametrize("suffix", ["/../../x", "..", ".png/", "png", "./x", ".a b"])
def test_malformed_suffixes_are_refused_before_writing(tmp_path: Path, suffix: str) -> None:
    store = MediaStore(tmp_path / "media")
    with pytest.raises(StoreError, match="suffix"):
        store.put_bytes(b"frame", suffix)
    with pytest.raises(StoreError, match="suffix"):
        store.path("0" * 64, suffix)
    assert _files(tmp_path) == []


def test_verify_detects_a_corrupted_object(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    sha256 = store.put_bytes(b"frame 0001 of shot 12A-1", ".png")
    assert store.verify(sha256, ".png")
    path = store.path(sha256, ".png")
    path.chmod(0o644)
    path.write_bytes(b"frame 0001 of shot 12A-2")
    assert not store.verify(sha256, ".png")
    path.unlink()
    assert not store.verify(sha256, ".png")
    with pytest.raises(StoreError, match="missing"):
        store.open(sha256, ".png")


# Stores what arrives on a named pipe; the test feeds part of it, then kills the writer.
_WRITER = (
    "import sys; from pathlib import Path; from soundstage.store.media import MediaStore; "
    "MediaStore(Path(sys.argv[1])).put_file(Path(sys.argv[2]))"
)


def test_a_killed_writer_leaves_no_object_and_its_leftover_is_swept(tmp_path: Path) -> None:
    root = tmp_path / "media"
    store = MediaStore(root)
    data = os.urandom(3 << 20)
    sha256 = hashlib.sha256(data).hexdigest()
    pipe = tmp_path / "feed"
    os.mkfifo(pipe)
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(root), str(pipe)])
    try:
        with pipe.open("wb") as feed:
            feed.write(data[: 3 << 19])  # half: the writer has stored a chunk and waits for more
            feed.flush()
            deadline = time.monotonic() + 10
            while not any(p.stat().st_size for p in _files(root)) and time.monotonic() < deadline:
                time.sleep(0.01)
            [temp] = _files(root)
            assert store.sweep_temp() == 0 and temp.exists()  # a live writer's file is left alone
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=10)
    finally:
        writer.kill()
    assert writer.returncode == -signal.SIGKILL
    assert _files(root) == [temp]  # only the partial temporary file, never a partial object
    assert not store.exists(sha256) and not store.verify(sha256)
    assert store.sweep_temp() == 1
    assert _files(root) == []
    assert store.put_bytes(data) == sha256 and store.verify(sha256)
