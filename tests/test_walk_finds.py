"""What the walks found through the real command line, each one line on stderr naming what and
where, exit code 2, and the production left as it was: a write the disk refuses, ``verify`` on
a file that is no media, a production whose database went missing, a stage claimed for decades,
a pasted file as a prompt."""

from __future__ import annotations

import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from soundstage.generate.prompt import MAX_PROMPT_CHARS
from soundstage.schedules.model import MAX_BOOKING_DAYS

from conftest import EXAMPLE, SCREENPLAYS


def _one_line(code: int, err: str, *expected: str) -> str:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for part in expected:
        assert part in lines[0], lines[0]
    return lines[0]


def _soundstage(*args: object, stdout: object = subprocess.PIPE, file_size: int | None = None):
    def limit() -> None:  # a disk that takes no more than ``file_size`` bytes per file
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))

    return subprocess.run(
        [sys.executable, "-m", "soundstage", *map(str, args)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        preexec_fn=None if file_size is None else limit,  # noqa: PLW1509 (no threads before exec)
    )


@pytest.fixture
def production(tmp_path: Path, cli) -> Path:
    root = tmp_path / "pilot"
    assert cli("init", root).code == 0
    assert cli("-p", root, "import", EXAMPLE).code == 0
    return root


def _listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- writes the disk refuses ------------------------------------------------------------------


def test_stdout_on_a_full_disk_is_one_line_not_a_traceback(production: Path) -> None:
    """``soundstage shots > /dev/full`` ended in Rich's OSError traceback, exit 1."""
    with open("/dev/full", "w") as full:
        result = _soundstage("-p", production, "shots", stdout=full)
    _one_line(result.returncode, result.stderr, "cannot write to standard output", "No space left on device")


def test_an_export_the_disk_refuses_names_the_file_and_leaves_nothing(tmp_path: Path, cli) -> None:
    """The walk's ``-o /dev/full.fountain`` was a new regular file in /dev (a tmpfs), so that
    export succeeded; a write the disk truly refuses (here: files capped at 100 KB, a feature's
    script is 147 KB and the database is only read) is said, and leaves no file or temporary."""
    root = tmp_path / "feature"
    assert cli("init", root).code == 0
    assert cli("-p", root, "import", SCREENPLAYS / "big_fish.fountain").code == 0
    folder = tmp_path / "out"
    folder.mkdir()
    result = _soundstage("-p", root, "export", "script", "-o", folder / "big_fish.fountain", file_size=100_000)
    _one_line(result.returncode, result.stderr, f"{folder / 'big_fish.fountain'}: cannot write", "File too large")
    assert list(folder.iterdir()) == []


# -- verify on what is no media --------------------------------------------------------------


def test_verify_of_a_text_file_an_empty_file_or_a_folder_says_what_it_reads(tmp_path: Path, cli) -> None:
    """It said c2pa's "NotSupported: type is unsupported" (and "Io: failed to fill whole buffer")."""
    notes, empty, folder = tmp_path / "notes.txt", tmp_path / "take.mp4", tmp_path / "cut"
    notes.write_text("not a picture\n")
    empty.write_bytes(b"")
    folder.mkdir()
    for path, said in ((notes, "not a media file"), (empty, "an empty file"), (folder, "is a folder")):
        result = cli("verify", path)
        line = _one_line(result.code, result.err, f"{path}: {said}", "no content credentials Soundstage can read")
        assert "PNG, JPEG, PDF, MP4" in line and "NotSupported" not in line and "Io:" not in line


# -- a production without its database -------------------------------------------------------


def test_a_missing_database_is_refused_not_made_anew(production: Path, tmp_path: Path, cli) -> None:
    """SQLite made a new empty database: a moved one looked like a production with nothing in it."""
    database = production / "soundstage.db"
    moved = tmp_path / "moved.db"
    database.rename(moved)
    before = _listing(production)
    for args in (("shots",), ("import", EXAMPLE)):
        result = cli("-p", production, *args)
        _one_line(result.code, result.err, f"{database}: missing", "moved or deleted")
    assert _listing(production) == before and not database.exists()
    moved.rename(database)  # put back, the production opens as it was
    assert cli("-p", production, "shots").code == 0
    with sqlite3.connect(database) as db:
        assert db.execute("select count(*) from drafts").fetchone()[0] == 1


@pytest.mark.postgres
def test_a_production_on_postgresql_needs_no_database_file(tmp_path: Path, cli, postgres_url: str) -> None:
    from postgres import create_schema

    root = tmp_path / "team"
    assert cli("init", root, "--database-url", create_schema(postgres_url)).code == 0
    assert cli("-p", root, "import", EXAMPLE).code == 0
    assert not (root / "soundstage.db").exists()


# -- stages claimed for decades, prompts the size of a file -----------------------------------


@pytest.mark.parametrize("command", ["hold", "book", "release"])
def test_a_stage_claim_over_three_years_is_refused(production: Path, cli, command: str) -> None:
    assert (
        cli(
            "-p",
            production,
            "stage",
            "add",
            "A",
            "--kind",
            "sound-stage",
            "--size-sqft",
            "8000",
            "--zone",
            "in",
            "--day-rate",
            "1200",
        ).code
        == 0
    )
    assert cli("-p", production, "stage", "hold", "A", "2027-01-04..2027-01-29").code == 0
    listed = cli("-p", production, "stage", "list").out
    result = cli("-p", production, "stage", command, "A", "2026-01-01..2099-01-01")
    _one_line(result.code, result.err, f"stage {command}: DATES 2026-01-01..2099-01-01", f"{MAX_BOOKING_DAYS:,} days")
    assert cli("-p", production, "stage", "list").out == listed
    # Three years to the day is still a claim (a series' stage across seasons).
    assert cli("-p", production, "stage", "hold", "A", "2027-01-01..2029-12-31").code == 0


@pytest.mark.parametrize("option", ["--prompt", "--negative"])
def test_a_prompt_past_its_cap_is_refused_and_queues_nothing(production: Path, cli, option: str) -> None:
    assert cli("-p", production, "plan").code == 0
    code = next(word for word in cli("-p", production, "shots").out.split() if word[:3].isdigit() and "_" in word)
    words = "lantern " * 12_500  # 100 KB: a file pasted into the option
    result = cli("-p", production, "take", code, option, words, "--no-run")
    _one_line(result.code, result.err, f"take {option}: 100,000 characters", f"at most {MAX_PROMPT_CHARS:,}")
    with sqlite3.connect(production / "soundstage.db") as db:
        assert db.execute("select count(*) from jobs").fetchone()[0] == 0
    # At the cap the words pass; the take is refused only for what this production lacks yet.
    at_cap = cli("-p", production, "take", code, option, "w" * MAX_PROMPT_CHARS, "--no-run")
    _one_line(at_cap.code, at_cap.err, "no storyboard to take")
