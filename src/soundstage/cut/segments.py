"""The segment cache: each shot's piece of the animatic, encoded once and kept by what it shows.

An entry is named by a key, the sha256 of everything that decides its bytes (the take's
picture, the frames, the burn-in, the move, the encoder and its settings, the versions of the
libraries that draw and encode, and ``SEGMENT_FORMAT``), so a re-cut finds every segment that
did not change and encodes only the rest. The key says what an entry should hold; the
entry's own sha256, kept in a sidecar beside it, says what it does hold: an entry is used only
when its bytes still hash to the sidecar's sha256, and is encoded again otherwise.

Layout: ``<folder>/ab/<key><suffix>`` and ``<folder>/ab/<key>.json`` (the sidecar: sha256,
size and what the encoder reported). Entries are written under a temporary name and renamed,
the sidecar last, so a reader sees a whole entry or none; a writer killed in between leaves a
file without a sidecar, which is not an entry. Several cuts may share one cache at once: two
writers of one key write the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soundstage.errors import CutError
from soundstage.files import write_atomic

# Bump when what a segment shows or how it is encoded changes in a way the key does not
# already name (drawing code, the segment container, the mix): every entry is made again.
SEGMENT_FORMAT = 1
_TEMP_PREFIX = ".incoming-"


def segment_key(*parts: Any) -> str:
    """The key of an entry: the sha256 of ``parts`` (JSON-able values) as canonical JSON."""
    text = json.dumps([SEGMENT_FORMAT, *parts], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


@dataclass(frozen=True, slots=True)
class Entry:
    """An entry found in the cache, its bytes checked: the data file and its sidecar's facts."""

    path: Path
    facts: dict[str, Any]


class SegmentCache:
    """Entries in one folder (a production's ``cache/segments/``), named by their keys."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str, suffix: str) -> Path:
        """Where the entry's data lives."""
        return self.folder / key[:2] / f"{key}{suffix}"

    def _sidecar(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def _facts(self, key: str) -> dict[str, Any] | None:
        try:
            facts = json.loads(self._sidecar(key).read_bytes())
        except (OSError, ValueError):
            return None  # missing, or torn by a crash: not an entry
        return facts if isinstance(facts, dict) and isinstance(facts.get("sha256"), str) else None

    def has(self, key: str, suffix: str) -> bool:
        """Whether an entry looks present: its sidecar reads and its data has the recorded size.
        Cheap (no bytes hashed): it decides what to encode; ``find`` checks the bytes."""
        facts = self._facts(key)
        try:
            return facts is not None and self.path(key, suffix).stat().st_size == facts.get("size")
        except OSError:
            return False

    def find(self, key: str, suffix: str) -> Entry | None:
        """The entry, when its data's sha256 is the sidecar's; None when missing or damaged."""
        facts = self._facts(key)
        if facts is None:
            return None
        path = self.path(key, suffix)
        try:
            if file_sha256(path) != facts["sha256"]:
                return None
        except OSError:
            return None
        return Entry(path, facts)

    def make(self, key: str, suffix: str, write: Callable[[Path], dict[str, Any]]) -> Entry:
        """Make the entry: ``write`` writes the data at the path it is given (a temporary one
        beside the entry) and returns the facts to keep; then the data is renamed into place
        and the sidecar, with the data's sha256 and size, written after it."""
        final = self.path(key, suffix)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CutError(f"{self.folder}: cannot write the segment cache: {error.strerror or error}") from None
        # The suffix stays last: PyAV and FFmpeg pick the container by it.
        temporary = final.with_name(f"{_TEMP_PREFIX}{secrets.token_hex(6)}-{final.name}")
        try:
            facts = dict(write(temporary))
            facts.update(sha256=file_sha256(temporary), size=temporary.stat().st_size)
            # No fsync of the data: the sidecar's sha256 is checked on every read, so data
            # torn by a crash is found and made again, never used.
            os.replace(temporary, final)
        except OSError as error:
            raise CutError(f"{final}: cannot write the segment: {error.strerror or error}") from None
        finally:
            temporary.unlink(missing_ok=True)
        write_atomic(self._sidecar(key), json.dumps(facts, sort_keys=True).encode(), what="segment", error=CutError)
        return Entry(final, facts)

    def sweep(self) -> int:
        """Remove temporary files left by killed writers (older than an hour, so no live
        writer's file is touched); return how many were removed."""
        removed = 0
        cutoff = time.time() - 3600
        for temporary in self.folder.glob(f"*/{_TEMP_PREFIX}*"):
            try:
                if temporary.stat().st_mtime < cutoff:
                    temporary.unlink()
                    removed += 1
            except FileNotFoundError:
                pass  # renamed into place or removed meanwhile
        return removed
