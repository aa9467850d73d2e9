"""Reading a screenplay file from disk into text, with checks a user can act on.

Screenplays arrive from many applications and operating systems: UTF-8 with or without a
byte-order mark, UTF-16 from Windows tools, 8-bit files from older ones, CRLF or bare CR
line ends. Every reader goes through here so that a missing, empty, oversize, binary,
truncated or undecodable file fails the same way: one ``ScriptError`` that names the file
and, where it helps, the line.
"""

from __future__ import annotations

import codecs
import re
import stat
from pathlib import Path

from soundstage.errors import ScriptError

# A feature screenplay is a few hundred kilobytes; anything near this limit is not a script.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

# Control characters that never occur in text (tab, LF, FF and CR are text).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# More than this share of control characters means the file is not text at all.
_BINARY_SHARE = 0.05
# BOM-less UTF-16: at least this share of code units has a NUL high byte (ASCII text)...
_UTF16_NUL_SHARE = 0.2
# ...while at most this share has a NUL low byte.
_UTF16_STRAY_SHARE = 0.05


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of the screenplay file at ``path``.

    Raises ``ScriptError`` when the file is missing, not a regular file, unreadable,
    larger than ``max_bytes`` or empty. Readers that parse bytes themselves (FDX) use this
    for the same checks as text readers.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScriptError("file not found", path=path) from None
    except OSError as error:
        raise ScriptError(f"cannot read file: {error.strerror or error}", path=path) from None
    if not stat.S_ISREG(info.st_mode):
        # Opening a FIFO or device would block or stream forever.
        raise ScriptError("not a regular file", path=path)
    if info.st_size > max_bytes:
        raise ScriptError(_too_big(info.st_size, max_bytes), path=path)
    try:
        with path.open("rb") as file:
            # One byte past the limit catches a file that grew after stat().
            data = file.read(max_bytes + 1)
    except OSError as error:
        raise ScriptError(f"cannot read file: {error.strerror or error}", path=path) from None
    if len(data) > max_bytes:
        raise ScriptError(_too_big(len(data), max_bytes), path=path)
    if not data:
        raise ScriptError("file is empty", path=path)
    return data


def decode(data: bytes, path: str | Path) -> str:
    """Decode screenplay bytes to text with LF line ends.

    UTF-8 (with or without BOM) and UTF-16 LE/BE (with BOM, or without one when the NUL
    pattern shows it) are recognised; any other 8-bit file is read as Windows-1252, a
    superset of Latin-1's printable characters that also covers the curly quotes and dashes
    Windows screenwriting tools save. ``path`` is only used in error messages.
    """
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise ScriptError("UTF-32 text is not supported; save the file as UTF-8", path=path)
    if data.startswith(codecs.BOM_UTF8):
        text = _decode_utf8(data[len(codecs.BOM_UTF8) :], path, evidently_utf8=True)
    elif data.startswith(codecs.BOM_UTF16_LE):
        text = _decode_utf16(data[2:], "utf-16-le", path)
    elif data.startswith(codecs.BOM_UTF16_BE):
        text = _decode_utf16(data[2:], "utf-16-be", path)
    elif b"\x00" in data:
        codec = _bomless_utf16(data)
        if codec is None:
            raise ScriptError("binary file (contains NUL bytes), not a screenplay", path=path)
        text = _decode_utf16(data, codec, path)
    else:
        text = _decode_utf8(data, path, evidently_utf8=False)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text or _looks_binary(text):
        raise ScriptError("binary file (control characters), not a screenplay", path=path)
    if not text.strip():
        raise ScriptError("file is empty (only whitespace)", path=path)
    return text


def read_text(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The text of the screenplay file at ``path``, decoded, with LF line ends.

    Raises ``ScriptError`` (with the path, and the line where it helps) for a missing,
    unreadable, empty, oversize, binary, truncated or undecodable file.
    """
    return decode(read_bytes(path, max_bytes), path)


def _too_big(size: int, max_bytes: int) -> str:
    return f"file is {size:,} bytes, over the limit of {max_bytes:,} bytes for a screenplay"


def _looks_binary(text: str) -> bool:
    controls = len(_CONTROL.findall(text))
    return controls > 0 and controls > _BINARY_SHARE * len(text)


def _line_at(data: bytes, offset: int) -> int:
    """The 1-based line of byte ``offset`` in 8-bit or UTF-8 data, whatever its line ends."""
    head = data[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def _text_line(text: str) -> int:
    """The 1-based line where decoded ``text`` ends, whatever its line ends."""
    return text.count("\n") + text.count("\r") - text.count("\r\n") + 1


def _decode_utf8(data: bytes, path: str | Path, *, evidently_utf8: bool) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        head = data[: error.start]
        # Non-ASCII text that decoded cleanly up to here shows the file is UTF-8, so a bad
        # byte is damage rather than another encoding; a BOM says the same.
        utf8 = evidently_utf8 or not head.isascii()
        line = _line_at(data, error.start)
        if error.end == len(data) and error.reason == "unexpected end of data":
            # A lone lead byte at the very end of ASCII text is as likely a Windows-1252
            # letter; two or more bytes of an unfinished sequence are UTF-8.
            if utf8 or len(data) - error.start >= 2:
                raise ScriptError(
                    "file ends in the middle of a UTF-8 character (truncated?)", path=path, line=line
                ) from None
        elif utf8:
            raise ScriptError(
                f"invalid UTF-8 byte 0x{data[error.start]:02X} (mixed encodings?); save the file as UTF-8",
                path=path,
                line=line,
            ) from None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        if _looks_binary(data.decode("latin-1")):
            raise ScriptError("binary file (control characters), not a screenplay", path=path) from None
        raise ScriptError(
            f"unknown text encoding: byte 0x{data[error.start]:02X} is neither UTF-8 nor Windows-1252;"
            " save the file as UTF-8",
            path=path,
            line=_line_at(data, error.start),
        ) from None


def _bomless_utf16(data: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when the NULs fall as in UTF-16 text, else None."""
    units = len(data) // 2 or 1
    even_nuls = data[0::2].count(0)
    odd_nuls = data[1::2].count(0)
    # Mostly-ASCII UTF-16 has a NUL in every high byte: odd offsets in LE, even in BE.
    if odd_nuls >= _UTF16_NUL_SHARE * units and even_nuls <= _UTF16_STRAY_SHARE * units:
        return "utf-16-le"
    if even_nuls >= _UTF16_NUL_SHARE * units and odd_nuls <= _UTF16_STRAY_SHARE * units:
        return "utf-16-be"
    return None


def _decode_utf16(data: bytes, codec: str, path: str | Path) -> str:
    if len(data) % 2:
        line = _text_line(data[:-1].decode(codec, errors="replace"))
        raise ScriptError("UTF-16 file has an odd number of bytes (truncated?)", path=path, line=line)
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        line = _text_line(data[: error.start].decode(codec, errors="replace"))
        raise ScriptError(f"invalid UTF-16 text ({error.reason})", path=path, line=line) from None
