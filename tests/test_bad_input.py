"""A new user's mistakes and an attacker's bad input, walked through the real command line: each is
one line on stderr naming what and where, exit code 2, and the production left as it was."""

from __future__ import annotations

import ctypes
import os
import sqlite3
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from soundstage.config import SETTINGS_FILE

from conftest import EXAMPLE, drafts_in, error_line


@pytest.fixture
def production(tmp_path: Path, cli) -> Path:
    root = tmp_path / "pilot"
    assert cli("init", root).code == 0
    return root


# -- the production folder -------------------------------------------------------------------


@pytest.mark.parametrize("empty", ["", "  "])
def test_init_of_an_empty_path_is_refused_and_makes_nothing_here(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch, empty: str
) -> None:
    """``Path("")`` is the current folder: ``init "$DIR"`` with DIR unset made it a production."""
    monkeypatch.chdir(tmp_path)
    error_line(cli("init", empty), "init", "an empty path")
    assert list(tmp_path.iterdir()) == []


def test_an_empty_production_option_is_refused(production: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(production)  # a production here, so "" would have worked on it
    error_line(cli("-p", "", "shots"), "--production", "an empty path")


def test_the_settings_file_given_as_the_production_says_the_folder_is_wanted(production: Path, cli) -> None:
    line = error_line(cli("-p", production / SETTINGS_FILE, "shots"), "is a file")
    assert "soundstage init" not in line  # the old advice: make a production inside a file


def test_a_folder_where_the_database_file_should_be_is_named(production: Path, cli) -> None:
    for name in ("soundstage.db", "soundstage.db-wal", "soundstage.db-shm"):
        (production / name).unlink(missing_ok=True)
    (production / "soundstage.db").mkdir()
    error_line(cli("-p", production, "shots"), f"{production / 'soundstage.db'}: is a folder")


def _without_root_privilege() -> Callable[[], None] | None:
    """For the child process: root's override of file modes dropped (CAP_DAC_OVERRIDE,
    CAP_DAC_READ_SEARCH, CAP_FOWNER from its bounding set, so the command runs with none of them),
    so a read-only folder is read-only to it as to any user. Not root: nothing to drop."""
    if os.geteuid() != 0:
        return None

    def drop() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_capbset_drop = 24
        for capability in (1, 2, 3):
            if libc.prctl(pr_capbset_drop, capability, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return drop


def _soundstage(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "soundstage", *map(str, args)],
        capture_output=True,
        text=True,
        preexec_fn=_without_root_privilege(),  # noqa: PLW1509 (no threads to deadlock before exec)
        timeout=120,
    )


def _asserterror_line(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for part in expected:
        assert part in lines[0], lines[0]


def test_a_read_only_production_folder_is_named_not_unable_to_open_database_file(production: Path) -> None:
    """SQLite said "unable to open database file" (or "attempt to write a readonly database"
    half-way through an import, as a traceback), naming neither the folder nor the cause."""
    production.chmod(0o555)
    try:
        result = _soundstage("-p", production, "import", EXAMPLE)
        listing = _soundstage("-p", production, "shots")
    finally:
        production.chmod(0o755)
    _asserterror_line(result, f"{production}: cannot write in the production folder", "read-only")
    _asserterror_line(listing, f"{production}: cannot write in the production folder")
    assert drafts_in(production) == 0


def test_a_read_only_database_file_is_named_before_any_work(production: Path) -> None:
    database = production / "soundstage.db"
    database.chmod(0o444)
    try:
        result = _soundstage("-p", production, "import", EXAMPLE)
    finally:
        database.chmod(0o644)
    _asserterror_line(result, f"{database}: cannot write the production's database file", "read-only")
    assert drafts_in(production) == 0


def test_init_where_the_user_may_not_write_names_the_folder(tmp_path: Path) -> None:
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        result = _soundstage("init", parent / "pilot")
    finally:
        parent.chmod(0o755)
    _asserterror_line(result, f"{parent / 'pilot'}: cannot make the production", "Permission denied")
    assert list(parent.iterdir()) == []


# -- settings --------------------------------------------------------------------------------


def test_a_warn_limit_above_its_fail_limit_is_refused_at_load(production: Path, cli) -> None:
    """A warn above fail never shows (every score past it fails first); it was taken silently."""
    settings = production / SETTINGS_FILE
    text = settings.read_text(encoding="utf-8")
    assert "composition = { warn = 0.32, fail = 0.35 }" in text
    settings.write_text(text.replace("composition = { warn = 0.32,", "composition = { warn = 0.5,"), encoding="utf-8")
    line = error_line(
        cli("-p", production, "shots"), str(settings), "checks.composition", "warn 0.5 is above fail 0.35"
    )
    assert "Value error" not in line


def test_a_warn_limit_above_fail_from_the_environment_names_the_variable(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOUNDSTAGE_CHECKS__STYLE__WARN", "0.9")
    error_line(
        cli("init", tmp_path / "pilot"),
        "environment SOUNDSTAGE_CHECKS__STYLE__WARN: checks.style: warn 0.9 is above fail 0.2",
    )
    assert not (tmp_path / "pilot").exists()


# -- files where folders are wanted, and the other way round ---------------------------------


@pytest.mark.parametrize("folder", [".", ".."])
def test_a_folder_given_as_a_screenplay_says_so(production: Path, cli, folder: str) -> None:
    error_line(cli("-p", production, "import", production / folder), "is a folder, not a screenplay file")
    error_line(cli("-p", production, "export", "script", "-o", production / folder), "is a folder")
    assert drafts_in(production) == 0


def test_a_binary_file_and_a_unicode_name_as_screenplays(production: Path, cli) -> None:
    binary = production.parent / "剧本 ü.fountain"
    binary.write_bytes(bytes(range(256)) * 8)
    error_line(cli("-p", production, "import", binary), str(binary), "binary file")
    assert drafts_in(production) == 0
    readable = production.parent / "ünïcødé 剧本.fountain"
    readable.write_bytes(EXAMPLE.read_bytes())
    assert cli("-p", production, "import", readable).code == 0


# -- names that do not exist -----------------------------------------------------------------


@pytest.mark.parametrize("command", ["layout", "previs"])
def test_a_scene_with_no_shots_is_refused_not_done_in_no_time(production: Path, cli, command: str) -> None:
    """``layout --scene 999`` said "0 layouts written" and exit 0, as if the scene were done."""
    assert cli("-p", production, "import", EXAMPLE).code == 0
    assert cli("-p", production, "plan").code == 0
    error_line(cli("-p", production, command, "--scene", "999"), "--scene 999: no such scene with shots")
    assert not (production / "layouts").exists() or not any((production / "layouts").rglob("*.usda"))


def test_a_consultation_about_an_unknown_shot_is_refused(
    production: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("-p", production, "import", EXAMPLE).code == 0
    assert cli("-p", production, "plan").code == 0
    assert cli("-p", production, "user", "add", "Sôl 🎬", "--role", "producer").code == 0
    monkeypatch.setenv("SOUNDSTAGE_USER", "Sôl 🎬")
    error_line(
        cli("-p", production, "consult", "Rae", "--summary", "lamps", "--shot", "999_0010"), "no shot '999_0010'"
    )
    with sqlite3.connect(production / "soundstage.db") as db:
        assert db.execute("select count(*) from consultations").fetchone()[0] == 0
    assert cli("-p", production, "consult", "Rae", "--summary", "lamps", "--shot", "004_0010").code == 0


def test_a_bad_option_value_is_said_without_pydantics_prefix(production: Path, cli) -> None:
    assert cli("-p", production, "import", EXAMPLE).code == 0
    assert cli("-p", production, "plan").code == 0
    line = error_line(cli("-p", production, "shot", "edit", "003_0030", "--size", "HUGE"), "--size", "'HUGE'")
    assert "Value error" not in line


def test_the_books_report_of_a_production_without_hours_prints_no_warning(production: Path, cli) -> None:
    """matplotlib warned on stderr of the hours chart's empty legend."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = cli("-p", production, "books", "report", "-o", production.parent / "books")
    assert result.code == 0, result.err
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda path: None, "No such file or directory"),
        (lambda path: path.mkdir(), "Is a directory"),
        (lambda path: path.write_bytes(b"\xa7name,rate\n"), "not UTF-8 text (byte 0xa7 at offset 0)"),
    ],
)
def test_a_books_file_that_cannot_be_read_says_why_in_words(
    production: Path, cli, make: Callable[[Path], None], said: str
) -> None:
    """It said "[Errno 2] No such file or directory: 'crew.csv'", or a codec's complaint."""
    crew = production.parent / "crew.csv"
    make(crew)
    line = error_line(cli("-p", production, "crew", "import", crew), f"{crew}: cannot read the CSV file: {said}")
    assert "Errno" not in line and "codec" not in line
    design = production.parent / "design.toml"
    make(design)
    line = error_line(
        cli("-p", production, "incentives", "--what-if", design), f"{design}: cannot read the what-if design: {said}"
    )
    assert "Errno" not in line and "codec" not in line


def test_a_folder_as_a_consent_document_says_so(production: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("-p", production, "user", "add", "Pat", "--role", "producer").code == 0
    monkeypatch.setenv("SOUNDSTAGE_USER", "Pat")
    assert cli("-p", production, "performer", "add", "Ada Lind", "--gives", "voice").code == 0
    args = ("consent", "add", "Ada Lind", "--kind", "voice", "--scope", "scratch", "--signed", "2026-01-01")
    error_line(cli("-p", production, *args, "--document", production), "is a folder, not the signed document")


@pytest.mark.parametrize("lens", ["nan", "inf"])
def test_a_lens_that_is_not_a_number_says_so(production: Path, cli, lens: str) -> None:
    assert cli("-p", production, "import", EXAMPLE).code == 0
    assert cli("-p", production, "plan").code == 0
    error_line(
        cli("-p", production, "shot", "edit", "003_0030", "--lens", lens), "lens_mm: Input should be a finite number"
    )
