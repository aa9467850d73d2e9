"""Writing named files so a reader never sees half of one: the sheets, exports and layouts.

(The media store writes its content-addressed objects itself: it streams, names a file by its
hash only at the end, and must tell a dead writer's leftovers from a live one's.)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from soundstage.errors import SoundstageError


def write_atomic(
    path: Path,
    data: bytes,
    *,
    what: str = "file",
    error: type[SoundstageError] = SoundstageError,
    mode: int = 0o666,
) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, fsync, rename,
    and fsync the folder (the rename is durable only once the folder is on disk). Failures are
    one ``error`` line: "<path>: cannot write the <what>: <reason>".

    ``mode`` (less the umask) is set when the file is created: a private key passes 0o600, so it
    is never readable by others, not even before a chmod."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The usual permissions by default (0o666 less the umask): people open these files.
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError as failure:
        raise error(f"{path}: cannot write the {what}: {failure.strerror or failure}") from None
