"""Writing files so a reader never sees half of one: the one atomic writer of the house.

Every file Soundstage writes (sheets, exports, layouts, signing keys, media objects) goes through
a temporary file in the destination's folder (so the final rename is atomic: same filesystem),
flushed and fsynced, renamed into place, and the folder fsynced (a rename is durable only once
the folder that holds the new name is on disk). A writer that fails, or is killed, leaves no
half file where a reader looks; its temporary file is removed on failure.

- ``write_atomic(path, data)``: bytes in memory.
- ``atomic_stream(path)``: a binary file to write into (a stream too long to hold in memory).
- ``atomic_path(path)``: a temporary path, for libraries that write to a path themselves
  (PyAV, c2pa's file-to-file signing).
- ``AtomicFile``: the piece underneath, for a writer that learns its destination only at the
  end (the media store names an object by the hash of its bytes).

The lock helpers let a writer hold its temporary file so that a sweep can tell a killed
writer's leftovers from a live writer's file. They use ``fcntl.flock`` where there is one
(Linux, macOS); elsewhere (Windows artist machines) there is no lock, and a leftover counts as
abandoned once nobody has written to it for ``ABANDONED_S``.
"""

from __future__ import annotations

import errno
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from soundstage.errors import SoundstageError

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None  # type: ignore[assignment]

ABANDONED_S = 3600.0  # without flock: a temporary file untouched this long is a dead writer's
# A write that the disk refused (full, over quota, over the file size limit, failing, read-only):
# said as a failed write of the destination, whatever the writer inside the block was doing. Other
# errors (a source file missing) keep their own words.
WRITE_FAILURES = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS})


class AtomicFile:
    """A temporary file being written in ``folder``; ``commit(destination)`` makes it that file
    (fsync, rename, fsync the folder). Used as a context manager: when the block ends without a
    commit, or with an error, the temporary file is removed."""

    def __init__(self, folder: Path, *, prefix: str = ".", suffix: str = ".tmp", mode: int = 0o666) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        # O_EXCL: never someone else's file. ``mode`` (less the umask) is set at creation, so a
        # private key is never readable by others, not even before a chmod.
        self.temporary = folder / f"{prefix}{secrets.token_hex(8)}{suffix}"
        handle = os.open(self.temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
        self.file: BinaryIO = os.fdopen(handle, "w+b")
        self.committed: Path | None = None

    def commit(self, destination: Path) -> None:
        """Flush and fsync the bytes, rename the file to ``destination``, fsync its folder."""
        self.file.flush()
        os.fsync(self.file.fileno())
        destination.parent.mkdir(parents=True, exist_ok=True)
        if os.name == "nt":
            self.file.close()  # Windows renames no open file (and has no lock to keep)
        # Renamed while still open elsewhere: a writer's lock (``hold``) lasts until its file is
        # in place, so no sweep can take the temporary file in between.
        os.replace(self.temporary, destination)
        self.committed = destination
        self.file.close()
        fsync_folder(destination.parent)

    def discard(self) -> None:
        """Close and remove the temporary file (nothing if it was committed)."""
        if not self.file.closed:
            self.file.close()
        if self.committed is None:
            self.temporary.unlink(missing_ok=True)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


@contextmanager
def atomic_stream(path: Path, *, mode: int = 0o666) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s bytes into; it becomes ``path`` when the block ends
    without an error, and is removed when it raises."""
    try:
        with AtomicFile(path.parent, prefix=f".{path.name}.", mode=mode) as out:
            yield out.file
            out.commit(path)
    except OSError as failure:
        _refused_write(path, failure)


@contextmanager
def atomic_path(path: Path, *, mode: int = 0o666) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix, so libraries pick the right format) for a
    library to write; it becomes ``path`` when the block ends without an error."""
    try:
        with AtomicFile(path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", mode=mode) as out:
            out.file.close()  # the library opens the path itself
            yield out.temporary
            with out.temporary.open("rb+") as written:
                os.fsync(written.fileno())
            os.replace(out.temporary, path)
            out.committed = path
            fsync_folder(path.parent)
    except OSError as failure:
        _refused_write(path, failure)


def _refused_write(path: Path, failure: OSError) -> None:
    """Re-raise ``failure``, as one line naming ``path`` when the disk refused the write: a full
    disk surfaced as a traceback (or, in a library that swallows it, not at all)."""
    if failure.errno in WRITE_FAILURES:
        raise SoundstageError(f"{path}: cannot write: {failure.strerror or failure}") from None
    raise failure


def write_atomic(
    path: Path,
    data: bytes,
    *,
    what: str = "file",
    error: type[SoundstageError] = SoundstageError,
    mode: int = 0o666,
) -> None:
    """Write ``data`` to ``path`` atomically (see the module). Failures are one ``error`` line:
    "<path>: cannot write the <what>: <reason>".

    ``mode`` (less the umask) is set when the file is created: a private key passes 0o600, so it
    is never readable by others, not even before a chmod."""
    try:
        with atomic_stream(path, mode=mode) as file:
            file.write(data)
    except OSError as failure:
        raise error(f"{path}: cannot write the {what}: {_reason(path, failure)}") from None


def _reason(path: Path, failure: OSError) -> str:
    # A file where a folder of the path should be reads "File exists" or "Not a directory":
    # name the file instead.
    if isinstance(failure, FileExistsError | NotADirectoryError):
        above = path.parent
        while not above.exists() and above != above.parent:
            above = above.parent
        if above.is_file():
            return f"{above} is a file, not a folder"
    return failure.strerror or str(failure)


def read_failure(failure: Exception) -> str:
    """Why a file could not be read, in words for its one line: the system's reason without the
    errno and the path the message names already ("[Errno 2] No such file or directory:
    'crew.csv'"), and a file that is not UTF-8 text said as such, not as a codec's complaint."""
    if isinstance(failure, UnicodeDecodeError):
        return f"not UTF-8 text (byte {failure.object[failure.start]:#04x} at offset {failure.start})"
    if isinstance(failure, OSError) and failure.strerror:
        return failure.strerror
    return str(failure)


def fsync_folder(folder: Path) -> None:
    """Make the names in ``folder`` durable (after a rename into it). Windows cannot open a
    folder, and its renames need no such step, so there it does nothing."""
    if os.name == "nt":
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def hold(file: BinaryIO) -> None:
    """Take an exclusive lock on an open file, held until it is closed or its process dies (the
    kernel drops it then): the mark of a live writer. Nothing where there is no flock."""
    if fcntl is not None:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)


def remove_if_abandoned(path: Path) -> bool:
    """Remove the file at ``path`` if no live writer holds it: nobody holds its lock (with flock;
    it is removed while this holds the lock, so no writer takes it meanwhile), or nobody has
    written to it for ABANDONED_S (without). Whether it was removed."""
    if fcntl is None:
        try:
            stale = time.time() - path.stat().st_mtime > ABANDONED_S
        except FileNotFoundError:
            return False
        if stale:
            path.unlink(missing_ok=True)
        return stale
    try:
        handle = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False  # renamed into place meanwhile
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        path.unlink()
        return True
    except (BlockingIOError, FileNotFoundError):
        return False  # a live writer holds it, or it was renamed into place meanwhile
    finally:
        os.close(handle)
