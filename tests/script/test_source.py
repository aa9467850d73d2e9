"""Reading screenplay files: encodings, line ends, and every way a file can be unreadable."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from soundstage.errors import ScriptError
from soundstage.script.fountain import parse_fountain
from soundstage.script.source import decode, read_bytes, read_text

# Written for these tests; every accented letter exists in Latin-1.
SCRIPT = "\n".join(
    [
        "Title: Café Noir",
        "Author: Zoë Müller",
        "",
        "INT. CAFÉ - NIGHT",
        "",
        "RENÉ wipes the counter. A crème brûlée cools.",
        "",
        "RENÉ",
        "(à voix basse)",
        "Déjà vu, señor.",
        "",
    ]
)


def write(tmp_path: Path, data: bytes, name: str = "script.fountain") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


ENCODINGS = {
    "utf-8": SCRIPT.encode("utf-8"),
    "utf-8 with BOM": codecs.BOM_UTF8 + SCRIPT.encode("utf-8"),
    "utf-16 LE with BOM": codecs.BOM_UTF16_LE + SCRIPT.encode("utf-16-le"),
    "utf-16 BE with BOM": codecs.BOM_UTF16_BE + SCRIPT.encode("utf-16-be"),
    "utf-16 LE without BOM": SCRIPT.encode("utf-16-le"),
    "utf-16 BE without BOM": SCRIPT.encode("utf-16-be"),
    "latin-1": SCRIPT.encode("latin-1"),
    "crlf": SCRIPT.replace("\n", "\r\n").encode("utf-8"),
    "cr": SCRIPT.replace("\n", "\r").encode("utf-8"),
    "utf-16 LE crlf": codecs.BOM_UTF16_LE + SCRIPT.replace("\n", "\r\n").encode("utf-16-le"),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_every_encoding_reads_to_the_same_script(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path, ENCODINGS[encoding])
    text = read_text(path)
    assert text == SCRIPT
    assert parse_fountain(text, "script") == parse_fountain(SCRIPT, "script")


def test_parsed_script_keeps_the_accents() -> None:
    script = parse_fountain(decode(ENCODINGS["latin-1"], "script.fountain"))
    assert script.title == "Café Noir"
    assert script.scenes[0].heading == "INT. CAFÉ - NIGHT"
    assert [e.character for e in script.scenes[0].elements][1:] == ["RENÉ"] * 3


def test_8bit_fallback_is_windows_1252() -> None:
    # Curly quotes and an em dash as Windows screenwriting tools save them.
    assert decode(b"\x93Go,\x94 she says \x97 now.\n", "x.fountain") == "\u201cGo,\u201d she says \u2014 now.\n"


def test_a_lone_8bit_letter_at_the_end_is_not_taken_for_truncated_utf8() -> None:
    assert decode(b"INT. CAF\xc9", "x.fountain") == "INT. CAF\u00c9"


def test_read_bytes_returns_the_file_unchanged(tmp_path: Path) -> None:
    data = ENCODINGS["utf-16 LE with BOM"]
    assert read_bytes(write(tmp_path, data)) == data


def error_for(path: Path, **options: int) -> ScriptError:
    with pytest.raises(ScriptError) as caught:
        read_text(path, **options)
    error = caught.value
    assert str(path) in str(error)
    assert "\n" not in str(error)
    return error


def test_missing_file(tmp_path: Path) -> None:
    error = error_for(tmp_path / "nowhere.fountain")
    assert "not found" in str(error)


def test_directory_is_not_a_screenplay(tmp_path: Path) -> None:
    assert "not a regular file" in str(error_for(tmp_path))


def test_empty_file(tmp_path: Path) -> None:
    assert "empty" in str(error_for(write(tmp_path, b"")))


def test_whitespace_only_file(tmp_path: Path) -> None:
    assert "only whitespace" in str(error_for(write(tmp_path, b"  \r\n\t\n\n")))


def test_oversize_file_names_the_limit(tmp_path: Path) -> None:
    error = error_for(write(tmp_path, SCRIPT.encode("utf-8")), max_bytes=100)
    assert "limit of 100 bytes" in str(error)


def test_binary_file_with_nul_bytes(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00"
    assert "binary" in str(error_for(write(tmp_path, png * 8, "still.fountain")))


def test_binary_file_of_control_characters(tmp_path: Path) -> None:
    assert "binary" in str(error_for(write(tmp_path, b"\x01\x02\x03ab\x04\x05\x06cd\x07" * 40)))


def test_truncated_utf8_names_the_line(tmp_path: Path) -> None:
    data = SCRIPT.encode("utf-8")
    cut = data.index("señor".encode()) + len(b"se") + 1  # inside the ñ
    error = error_for(write(tmp_path, data[:cut]))
    assert "truncated" in str(error)
    assert error.line == 10
    assert f"{tmp_path / 'script.fountain'}:10:" in str(error)


def test_odd_length_utf16_names_the_line(tmp_path: Path) -> None:
    data = codecs.BOM_UTF16_LE + SCRIPT.rstrip("\n").encode("utf-16-le")
    error = error_for(write(tmp_path, data[:-1]))
    assert "odd number of bytes" in str(error)
    assert error.line == 10


def test_utf8_damaged_by_an_8bit_byte_names_the_line(tmp_path: Path) -> None:
    data = SCRIPT.encode("utf-8").replace("crème".encode(), b"cr\xe8me")
    error = error_for(write(tmp_path, data))
    assert "invalid UTF-8" in str(error)
    assert error.line == 6


def test_unknown_encoding_names_the_line(tmp_path: Path) -> None:
    # 0x81 is undefined in Windows-1252 and cannot start a UTF-8 character.
    error = error_for(write(tmp_path, b"INT. HOUSE - DAY\n\nBob\x81 waits.\n"))
    assert "unknown text encoding" in str(error)
    assert error.line == 3


def test_utf32_is_refused(tmp_path: Path) -> None:
    data = codecs.BOM_UTF32_LE + SCRIPT.encode("utf-32-le")
    assert "UTF-32" in str(error_for(write(tmp_path, data)))


def test_unclosed_boneyard_in_a_file_names_path_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, (SCRIPT + "\nShe leaves. /* the rest was cut off").encode("utf-8"))
    with pytest.raises(ScriptError) as caught:
        parse_fountain(read_text(path), str(path))
    assert caught.value.line == 12
    assert str(caught.value).startswith(f"{path}:12: ")
