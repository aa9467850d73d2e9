"""The media store: every file the production keeps (scripts as imported, frames, takes, cuts).

Objects are named by the sha256 of their bytes (``media/ab/cd/<sha256><suffix>``), so the
same bytes are stored once and a name always means the same content. Each object is
written to a temporary file inside the store, flushed to disk, then renamed into place by
the house's one atomic writer (soundstage.files): a reader sees the whole object or none of
it, even if the writer is killed (its leftover is removed by ``sweep_temp``). Objects are
read-only and never overwritten.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from soundstage.errors import StoreError
from soundstage.files import AtomicFile, hold, remove_if_abandoned

_SHA256 = re.compile(r"[0-9a-f]{64}")
# A suffix is a file extension or two (".png", ".tar.gz"): never a separator or "..".
_SUFFIX = re.compile(r"(\.[A-Za-z0-9]{1,16}){0,2}")
_TEMP_PREFIX = ".incoming-"
_CHUNK = 1 << 20


class MediaStore:
    """Content-addressed files under one folder (a production's ``media/``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str, suffix: str = "") -> Path:
        """Where the object lives; StoreError for anything but a lowercase sha256 hex digest.

        Checking the id here means a crafted id (``../../etc/passwd``) never reaches the
        filesystem.
        """
        return self.root / object_name(sha256, suffix)

    def exists(self, sha256: str, suffix: str = "") -> bool:
        """Whether the object is in the store."""
        return (self.root / object_name(sha256, suffix)).is_file()

    def check(self) -> None:
        """Raise StoreError when the store cannot be used (a folder always can: it is made on
        first write)."""
        return None

    def check_writable(self) -> None:
        """Raise StoreError when objects cannot be written to the store (a folder's faults show
        when it is made)."""
        return None

    def open(self, sha256: str, suffix: str = "") -> BinaryIO:
        """The object, opened for reading; StoreError when it is missing."""
        path = self.path(sha256, suffix)
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise StoreError(f"media object missing: {path}") from None

    def verify(self, sha256: str, suffix: str = "") -> bool:
        """Whether the object is present and its bytes still hash to its name."""
        path = self.root / object_name(sha256, suffix)
        try:
            with path.open("rb") as file:
                return hashlib.file_digest(file, "sha256").hexdigest() == sha256
        except FileNotFoundError:
            return False

    def put_bytes(self, data: bytes, suffix: str = "") -> str:
        """Store ``data``; return its sha256. Storing the same bytes again writes nothing."""
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.exists(sha256, suffix):
            self._write((data,), suffix)
        return sha256

    def put_file(self, path: Path, suffix: str = "") -> str:
        """Store a copy of the file at ``path``, streamed in 1 MiB chunks; return its sha256."""
        try:
            source = path.open("rb")
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror}") from None
        with source:
            return self._write(iter(lambda: source.read(_CHUNK), b""), suffix)

    def _write(self, chunks: Iterable[bytes], suffix: str, *, send: bool = True) -> str:
        _check_suffix(suffix)  # before any byte is written
        try:
            return self._write_checked(chunks, suffix, send)
        except OSError as exc:
            raise StoreError(f"storing media in {self.root} failed: {exc.strerror or exc}") from exc

    def _send(self, name: str, source: BinaryIO) -> None:
        """Where a new object goes besides this folder, before it lands here (``source`` read
        from its start): nowhere for the folder store; a bucket store sends it to its bucket."""

    def _write_checked(self, chunks: Iterable[bytes], suffix: str, send: bool) -> str:
        # The hash of a stream is known only at its end, so the bytes land in a temporary file
        # at the top of the store and are renamed into their shard folder at the end.
        with self._incoming() as out:
            digest = hashlib.sha256()
            for chunk in chunks:
                digest.update(chunk)
                out.file.write(chunk)
            sha256 = digest.hexdigest()
            final = self.root / object_name(sha256, suffix)
            if not final.exists():  # else: the same bytes are there already; the temporary goes
                if send:
                    # Sent before it lands here: a local object is then always one the bucket
                    # has, even when the writer is killed between the two steps.
                    out.file.flush()
                    out.file.seek(0)
                    self._send(object_name(sha256, suffix), out.file)
                # Two writers of the same bytes may both get here; the second rename replaces
                # identical bytes, which no reader can tell apart.
                out.commit(final)
        return sha256

    def _incoming(self) -> AtomicFile:
        # The writer holds a lock on its temporary file until it is renamed; the kernel drops
        # the lock when the writer dies, which is how sweep_temp tells a killed writer's
        # leftovers from a live writer's file. Objects are read-only (0o444) from the start:
        # the open descriptor can still write.
        while True:
            out = AtomicFile(self.root, prefix=_TEMP_PREFIX, suffix="", mode=0o444)
            hold(out.file)
            # A sweep may have removed the file between its creation and the lock: again.
            if os.fstat(out.file.fileno()).st_nlink:
                return out
            out.discard()

    def sweep_temp(self) -> int:
        """Remove temporary files left by killed writers; return how many were removed."""
        return sum(remove_if_abandoned(temp) for temp in self.root.glob(f"{_TEMP_PREFIX}*"))


def object_name(sha256: str, suffix: str = "") -> str:
    """The object's name inside a store (``ab/cd/<sha256><suffix>``), the same for a folder
    and a bucket; StoreError for a malformed id or suffix."""
    if not _SHA256.fullmatch(sha256):
        raise StoreError(f"not a media id (64 lowercase hex digits): {sha256[:80]!r}")
    _check_suffix(suffix)
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}{suffix}"


def _check_suffix(suffix: str) -> None:
    if not _SUFFIX.fullmatch(suffix):
        raise StoreError(f"not a media file suffix: {suffix[:40]!r}")
