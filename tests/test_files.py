"""The one atomic writer (soundstage.files): whole files or none, temporary files removed on
failure, the lock that tells a live writer from a dead one, and the package without fcntl."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from soundstage import files
from soundstage.errors import CutError
from soundstage.files import AtomicFile, atomic_path, atomic_stream, hold, remove_if_abandoned, write_atomic


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_stream_becomes_the_file_only_when_it_ends_well(tmp_path: Path) -> None:
    target = tmp_path / "out" / "shotlist.csv"
    with atomic_stream(target) as file:
        file.write(b"code,scene\n")
        assert not target.exists()  # nothing where a reader looks until the end
        file.write(b"001_0010,1\n")
    assert target.read_bytes() == b"code,scene\n001_0010,1\n"
    with pytest.raises(RuntimeError), atomic_stream(target) as file:
        file.write(b"half")
        raise RuntimeError("the writer fails")
    assert target.read_bytes() == b"code,scene\n001_0010,1\n"  # the old file, whole
    assert _names(target.parent) == ["shotlist.csv"]  # and no temporary file left


def test_a_path_for_libraries_keeps_the_suffix(tmp_path: Path) -> None:
    target = tmp_path / "cut.mp4"
    with atomic_path(target) as temporary:
        assert temporary.parent == tmp_path and temporary.suffix == ".mp4" and temporary != target
        temporary.write_bytes(b"not really a movie")
    assert target.read_bytes() == b"not really a movie" and _names(tmp_path) == ["cut.mp4"]
    with pytest.raises(OSError), atomic_path(tmp_path / "other.mov") as temporary:
        temporary.write_bytes(b"x")
        raise OSError("encoder failed")
    assert _names(tmp_path) == ["cut.mp4"]


def test_write_atomic_sets_the_mode_and_fails_in_one_line(tmp_path: Path) -> None:
    key = tmp_path / "credentials" / "signer.key"
    write_atomic(key, b"secret", mode=0o600)
    assert key.stat().st_mode & 0o777 == 0o600
    (tmp_path / "blocked").write_text("a file, not a folder")
    with pytest.raises(CutError, match=r"blocked/take.png: cannot write the take: .*blocked is a file, not a folder$"):
        write_atomic(tmp_path / "blocked" / "take.png", b"png", what="take", error=CutError)
    # Deeper: the file in the way is named, not "File exists" or "Not a directory".
    with pytest.raises(CutError, match=r"cannot write the take: .*blocked is a file, not a folder$"):
        write_atomic(tmp_path / "blocked" / "a" / "take.png", b"png", what="take", error=CutError)


def test_a_held_file_is_not_swept_and_a_dead_writers_is(tmp_path: Path) -> None:
    with AtomicFile(tmp_path, prefix=".incoming-", suffix="") as live:
        hold(live.file)
        assert not remove_if_abandoned(live.temporary) and live.temporary.exists()
    leftover = tmp_path / ".incoming-dead"
    leftover.write_bytes(b"half an object")  # nobody holds it
    assert remove_if_abandoned(leftover) and not leftover.exists()
    assert not remove_if_abandoned(leftover)  # gone already


def test_without_flock_a_leftover_is_abandoned_by_age(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "fcntl", None)  # as on Windows
    fresh, old = tmp_path / ".incoming-fresh", tmp_path / ".incoming-old"
    for path in (fresh, old):
        path.write_bytes(b"bytes")
    past = time.time() - files.ABANDONED_S - 60
    os.utime(old, (past, past))
    assert not remove_if_abandoned(fresh) and fresh.exists()
    assert remove_if_abandoned(old) and not old.exists()


def test_the_package_imports_without_fcntl() -> None:
    # Windows has no fcntl: every room of the house must still import.
    probe = (
        "import sys; sys.modules['fcntl'] = None\n"
        "import soundstage.cli, soundstage.project, soundstage.web.app, soundstage.store.media\n"
        "from soundstage import files; assert files.fcntl is None; print('imported')"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "imported"
