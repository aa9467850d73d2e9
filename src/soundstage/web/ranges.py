"""Range requests on the media store's files as RFC 9110 (section 14) has them, where Starlette's
``FileResponse`` differs: a Range header that is not valid syntax, or names a unit other than
bytes, is ignored (200 and the whole file, not 400); one that is valid but asks only for bytes
past the end is 416 with ``Content-Range: bytes */SIZE``; of several ranges the satisfiable ones
are sent. What is valid and satisfiable is handed on to ``FileResponse`` in its plainest form.
"""

from __future__ import annotations

import os
import re

from fastapi.responses import FileResponse, JSONResponse
from starlette.types import Receive, Scope, Send

# More ranges than this in one header is no player seeking but a request to be expensive: ignored
# (the whole file), as RFC 9110 lets a server do.
MAX_RANGES = 16
# A position with more digits than this is past the end of any file (and int() of thousands of
# digits is refused by Python): it is read as this.
_HUGE = 10**18
_DIGITS = 18
_SPEC = re.compile(r"([0-9]*)-([0-9]*)")  # ASCII digits: \d would take any script's


class Unsatisfiable(Exception):
    """A valid Range header none of whose ranges starts inside the file."""


def _number(digits: str) -> int:
    return int(digits) if len(digits) <= _DIGITS else _HUGE


def byte_ranges(header: str, size: int) -> list[tuple[int, int]] | None:
    """The satisfiable ranges of ``header`` in a file of ``size`` bytes, each (first, last)
    inclusive and clamped to the file; None when the header is to be ignored (not valid
    syntax, another unit, too many ranges). Raises Unsatisfiable when it is valid but no range
    starts inside the file (or every one is a suffix of length 0)."""
    unit, equals, specs = header.partition("=")
    if not equals or unit.lower() != "bytes":
        return None
    # A list element may be empty and lists allow whitespace around commas (RFC 9110 5.6.1).
    parts = [part.strip(" \t") for part in specs.split(",")]
    parts = [part for part in parts if part]
    if not parts or len(parts) > MAX_RANGES:
        return None
    ranges: list[tuple[int, int]] = []
    for part in parts:
        match = _SPEC.fullmatch(part)
        if match is None or match.group(0) == "-":
            return None
        first, last = match.group(1), match.group(2)
        if first:
            start = _number(first)
            end = _number(last) if last else size - 1
            if last and end < start:
                return None  # last before first: not a range at all, so the header is ignored
            if start < size:
                ranges.append((start, min(end, size - 1)))
        else:
            suffix = _number(last)
            if suffix > 0 and size > 0:
                ranges.append((max(size - suffix, 0), size - 1))
    if not ranges:
        raise Unsatisfiable()
    return ranges


class RangedFile(FileResponse):
    """A file from the media store whose Range header is answered as RFC 9110 says (see the
    module docstring); everything else as ``FileResponse``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in scope.get("headers", []) if k != b"range"]
        sent = [v for k, v in scope.get("headers", []) if k == b"range"]
        if not sent or scope.get("method", "GET").upper() not in ("GET", "HEAD"):
            await super().__call__(scope, receive, send)
            return
        if self.stat_result is None:
            self.stat_result = os.stat(self.path)
            self.set_stat_headers(self.stat_result)
        size = self.stat_result.st_size
        # Two Range headers are no valid request: ignored like a malformed one.
        try:
            ranges = byte_ranges(sent[0].decode("latin-1"), size) if len(sent) == 1 else None
        except Unsatisfiable:
            # If-Range naming another version of the file: the whole file, not a 416.
            if_range = dict(headers).get(b"if-range", b"").decode("latin-1")
            if not if_range or if_range in (self.headers.get("etag"), self.headers.get("last-modified")):
                answer = JSONResponse(
                    {"detail": f"range not satisfiable: the object has {size} bytes"},
                    status_code=416,
                    headers={"Content-Range": f"bytes */{size}"},
                )
                await answer(scope, receive, send)
                return
            ranges = None
        if ranges is not None:
            canonical = ",".join(f"{first}-{last}" for first, last in ranges)
            headers.append((b"range", f"bytes={canonical}".encode()))
        await super().__call__({**scope, "headers": headers}, receive, send)
