"""One entry point for screenplay files, whatever their format."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from soundstage.errors import ScriptError
from soundstage.script.fdx import parse_fdx, write_fdx
from soundstage.script.fountain import parse_fountain, write_fountain
from soundstage.script.model import Script
from soundstage.script.source import decode, read_bytes

Format = Literal["fountain", "fdx"]
# Fountain is plain text, so .txt and .spmd (its ancestor) are read as Fountain too.
SUFFIXES: dict[str, Format] = {".fountain": "fountain", ".spmd": "fountain", ".txt": "fountain", ".fdx": "fdx"}


def format_of(name: str | Path) -> Format:
    """The screenplay format of a file, from its suffix."""
    suffix = Path(name).suffix.lower()
    if Path(name).is_dir():  # said as such: "unknown format '(no suffix)'" for a folder misled
        raise ScriptError("is a folder, not a screenplay file", path=name)
    if suffix not in SUFFIXES:
        known = ", ".join(sorted(SUFFIXES))
        raise ScriptError(f"unknown screenplay format {suffix or '(no suffix)'!r}; expected one of {known}", path=name)
    return SUFFIXES[suffix]


def parse_script(data: bytes, name: str | Path) -> Script:
    """Parse screenplay bytes; ``name`` gives the format (by suffix) and appears in errors."""
    if format_of(name) == "fdx":
        return parse_fdx(data, str(name))
    return parse_fountain(decode(data, Path(name)), str(name))


def read_script(path: Path, max_bytes: int) -> tuple[Script, bytes]:
    """Read and parse a screenplay file; returns the script and the file's bytes."""
    format_of(path)
    data = read_bytes(path, max_bytes)
    return parse_script(data, path), data


def write_script(script: Script, fmt: Format) -> bytes:
    """A screenplay file in ``fmt``."""
    if fmt == "fdx":
        return write_fdx(script)
    return write_fountain(script).encode("utf-8")
