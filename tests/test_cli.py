"""The command line: every command on a real production, and every user mistake as one line, exit 2."""

from __future__ import annotations

import csv
import os
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from soundstage.project import Production
from soundstage.script.fountain import parse_fountain

from conftest import EXAMPLE, SCREENPLAYS, drafts_in, error_line


@pytest.fixture
def production(tmp_path: Path, cli) -> Path:
    root = tmp_path / "pilot"
    assert cli("init", root, "--title", "Pilot").code == 0
    return root


def test_init_makes_the_production_folder(production: Path) -> None:
    assert (production / "soundstage.toml").is_file()
    assert (production / "media").is_dir() and (production / "layouts").is_dir()
    with sqlite3.connect(production / "soundstage.db") as db:
        assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
    assert {"drafts", "scenes", "shots", "alembic_version"} <= tables
    assert 'title = "Pilot"' in (production / "soundstage.toml").read_text()


def test_init_twice_is_refused(production: Path, cli) -> None:
    result = cli("init", production)
    error_line(result)
    assert "already a production" in result.err


def test_init_with_postgresql(tmp_path: Path, cli, postgres_url: str) -> None:
    from postgres import create_schema

    url = create_schema(postgres_url)
    root = tmp_path / "team"
    assert cli("init", root, "--database-url", url).code == 0
    assert not (root / "soundstage.db").exists()
    assert cli("-p", root, "import", EXAMPLE).code == 0
    assert cli("-p", root, "plan").code == 0
    with Production.open(root) as opened:
        assert opened.engine.dialect.name == "postgresql"
        assert len(opened.scene_numbers()) == 14
        assert opened.shots()


def test_unreachable_database_is_one_line(tmp_path: Path, cli) -> None:
    result = cli("init", tmp_path / "p", "--database-url", "postgresql://nobody@127.0.0.1:9/none")
    error_line(result)
    assert not (tmp_path / "p").exists()  # nothing left behind


def test_init_names_the_next_command_so_it_can_be_copied(tmp_path: Path, cli) -> None:
    root = tmp_path / "the pilot ü"
    result = cli("init", root)
    assert result.code == 0
    assert f"Next: soundstage -p '{root}' import SCRIPT" in result.out


def test_init_where_no_folder_can_be_made_is_one_line(tmp_path: Path, cli) -> None:
    (tmp_path / "notes.txt").write_text("not a folder\n")
    result = cli("init", tmp_path / "notes.txt" / "pilot")
    error_line(result)
    assert "notes.txt/pilot: cannot make the production" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_init_over_a_file_that_is_no_database_keeps_it_and_is_one_line(tmp_path: Path, cli) -> None:
    """init removes only what it made: a soundstage.db already in the folder stays as it was."""
    root = tmp_path / "pilot"
    root.mkdir()
    (root / "soundstage.db").write_text("my notes\n")
    result = cli("init", root)
    error_line(result)
    assert "soundstage.db: file is not a database" in result.err
    assert sorted(p.name for p in root.iterdir()) == ["soundstage.db"]
    assert (root / "soundstage.db").read_text() == "my notes\n"


def test_a_production_whose_database_is_overwritten_is_one_line(production: Path, cli) -> None:
    (production / "soundstage.db").write_bytes(bytes(range(256)) * 16)
    result = cli("-p", production, "shots")
    error_line(result)
    assert "cannot open database" in result.err and "file is not a database" in result.err


def test_commands_outside_a_production_are_one_line(tmp_path: Path, cli) -> None:
    result = cli("-p", tmp_path, "plan")
    error_line(result)
    assert "not a production" in result.err


def test_import_breakdown_plan_and_shots(production: Path, cli, tmp_path: Path) -> None:
    result = cli("-p", production, "import", EXAMPLE)
    assert result.code == 0 and "14 scenes" in result.out
    result = cli("-p", production, "breakdown", "-o", tmp_path / "sheets")
    assert result.code == 0 and "MAISIE" in result.out
    rows = list(csv.DictReader((tmp_path / "sheets" / "breakdown.csv").open()))
    assert len(rows) == 14
    assert "<table>" in (tmp_path / "sheets" / "breakdown.html").read_text()
    result = cli("-p", production, "plan")
    assert result.code == 0 and "shots in 14 scenes" in result.out
    result = cli("-p", production, "shots", "--scene", "3")
    assert result.code == 0 and "003_0010" in result.out and "004_0010" not in result.out


def test_breakdown_into_a_folder_it_cannot_write_prints_only_the_error(production: Path, cli, tmp_path: Path) -> None:
    assert cli("-p", production, "import", EXAMPLE).code == 0
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder\n")
    result = cli("-p", production, "breakdown", "-o", blocker)
    error_line(result)  # nothing on stdout: the breakdown table is not printed first
    assert "notes.txt" in result.err


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02\x03\xff\xfe\x00" * 50, "binary"),
        (b"INT. ROOM - DAY\n\n/* a boneyard that never closes\n", "boneyard"),
    ],
)
def test_bad_screenplays_are_one_line_and_change_nothing(
    production: Path, cli, tmp_path: Path, content, expect
) -> None:
    bad = tmp_path / "bad.fountain"
    bad.write_bytes(content)
    result = cli("-p", production, "import", bad)
    error_line(result)
    assert str(bad) in result.err and expect in result.err.lower()
    assert drafts_in(production) == 0


def test_malformed_fdx_names_file_and_line(production: Path, cli, tmp_path: Path) -> None:
    data = (SCREENPLAYS / "sample-02.fdx").read_bytes()
    bad = tmp_path / "cut.fdx"
    bad.write_bytes(data[: len(data) // 2])
    result = cli("-p", production, "import", bad)
    error_line(result)
    assert f"{bad}:" in result.err
    assert drafts_in(production) == 0


def test_missing_file_and_unknown_format(production: Path, cli, tmp_path: Path) -> None:
    error_line(cli("-p", production, "import", tmp_path / "nope.fountain"))
    other = tmp_path / "script.docx"
    other.write_bytes(b"PK\x03\x04")
    result = cli("-p", production, "import", other)
    error_line(result)
    assert "unknown screenplay format" in result.err


def test_oversize_script_is_refused(production: Path, cli) -> None:
    toml = production / "soundstage.toml"
    toml.write_text(re.sub(r"(?m)^max_script_bytes = \d+$", "max_script_bytes = 1000", toml.read_text()))
    result = cli("-p", production, "import", EXAMPLE)
    error_line(result)
    assert "over the limit of 1,000 bytes" in result.err


def test_shot_edit_survives_replan(production: Path, cli) -> None:
    cli("-p", production, "import", EXAMPLE)
    cli("-p", production, "plan")
    result = cli("-p", production, "shot", "edit", "003_0030", "--size", "CU", "--lens", "85", "--duration", "2.5")
    assert result.code == 0, result.err
    assert cli("-p", production, "plan").code == 0
    with Production.open(production) as opened:
        shot = opened.shot("003_0030")
    assert (shot.size.value, shot.lens_mm, shot.frames) == ("CU", 85, 60)


@pytest.mark.parametrize(
    "args",
    [
        ("shot", "edit", "999_0010", "--size", "CU"),
        ("shot", "edit", "003_0030", "--size", "HUGE"),
        ("shot", "edit", "003_0030", "--lens", "-5"),
        ("shot", "edit", "003_0030", "--lens", "wide"),
        ("shot", "edit", "003_0030", "--duration", "0"),
        ("shot", "edit", "003_0030", "--duration", "nan"),  # was a ValueError traceback
        ("shot", "edit", "003_0030", "--duration", "1e300"),  # was an OverflowError in the database
        ("shot", "edit", "003_0030"),
        ("shots", "--scene", "77"),
        ("shot", "show", "nonsense"),
        ("plan", "--no-such-option"),
    ],
)
def test_bad_shot_commands_are_one_line(production: Path, cli, args) -> None:
    cli("-p", production, "import", EXAMPLE)
    cli("-p", production, "plan")
    before = Production.open(production)
    shots_before = before.shots()
    before.close()
    result = cli("-p", production, *args)
    error_line(result)
    with Production.open(production) as after:
        assert after.shots() == shots_before


def test_export_script_round_trips(production: Path, cli, tmp_path: Path) -> None:
    cli("-p", production, "import", EXAMPLE)
    for name in ("out.fountain", "out.fdx"):
        assert cli("-p", production, "export", "script", "-o", tmp_path / name).code == 0
    original = parse_fountain(EXAMPLE.read_text())
    exported = parse_fountain((tmp_path / "out.fountain").read_text())
    assert [s.heading for s in exported.scenes] == [s.heading for s in original.scenes]
    assert [s.number for s in exported.scenes] == [str(i) for i in range(1, 15)]
    # The FDX goes back in as a revision of the same scenes: nothing added or removed.
    result = cli("-p", production, "import", tmp_path / "out.fdx")
    assert result.code == 0
    assert "added 0" in result.out and "removed 0" in result.out


def test_the_installed_command_exits_2_without_traceback(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("soundstage")
    result = subprocess.run([exe, "-p", tmp_path, "import", "x.fountain"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_bare_command_prints_help(cli) -> None:
    result = cli()
    assert result.code == 0 and "Usage" in result.out and "make" in result.out


def test_help_lists_every_command(cli) -> None:
    result = cli("--help")
    assert result.code == 0
    for command in ("init", "import", "export", "breakdown", "plan", "shots", "shot", "make"):
        assert command in result.out


def test_layout_and_previs_commands(production: Path, cli) -> None:
    cli("-p", production, "import", EXAMPLE)
    cli("-p", production, "plan")
    result = cli("-p", production, "layout", "--scene", "4")
    assert result.code == 0 and "layouts written" in result.out
    assert len(list((production / "layouts").rglob("*.usda"))) == len(Production.open(production).shots("4"))
    result = cli("-p", production, "previs", "--scene", "4", "--size", "320x180")
    assert result.code == 0, result.err
    assert "shots rendered" in result.out and "contact sheet, scene 4" in result.out
    # The path on one line, as a script reads it (it was broken at 80 columns into a pipe).
    (sheet,) = [line for line in result.out.splitlines() if "contact sheet, scene 4" in line]
    assert Path(sheet.split(": ", 1)[1]).is_file()
    again = cli("-p", production, "previs", "--scene", "4", "--size", "320x180")
    assert "0 shots rendered" in again.out


def test_previs_has_no_burn_in_option(production: Path, cli) -> None:
    # The passes are the picture alone (the animatic draws the one burn-in): no switch pretends otherwise.
    result = cli("-p", production, "previs", "--no-burn-in")
    assert result.code == 2 and "No such option" in result.err


@pytest.mark.parametrize("size", ["big", "10x10", "1280x", "99999x720"])
def test_bad_previs_size_is_one_line(production: Path, cli, size: str) -> None:
    error_line(cli("-p", production, "previs", "--size", size))


def test_previs_without_egl_names_the_debian_packages(production: Path, tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("soundstage")
    subprocess.run([exe, "-p", production, "import", EXAMPLE], check=True, capture_output=True)
    subprocess.run([exe, "-p", production, "plan"], check=True, capture_output=True)
    subprocess.run([exe, "-p", production, "layout", "--scene", "1"], check=True, capture_output=True)
    env = {**os.environ, "__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent.json"}
    result = subprocess.run([exe, "-p", production, "previs", "--scene", "1"], capture_output=True, text=True, env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "libegl1 libegl-mesa0 libgl1-mesa-dri" in result.stderr


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (("take", "003_0030", "--backend", "dreamer"), "unknown backend"),
        (("take", "003_0030", "--seed", "-1"), "--seed"),
        (("take", "003_0030", "--strength", "1.5"), "--strength"),
        (("take", "999_0010"), "no shot"),
        (("take", "reproduce", "003_0030"), "SHOT/NUMBER"),
        (("take", "reproduce", "003_0030/4"), "no take 4"),
        (("take", "cancel"), "--all"),
        (("take", "cancel", "99999"), "there is no job 99999"),
        (("take", "cancel", "99999999999999999999"), "2147483647"),  # was an OverflowError in SQLite
        (("take", "003_0030", "--seed", "99999999999999999999"), "largest seed"),  # was a ValidationError
        (("takes", "nonsense"), "no shot"),
    ],
)
def test_bad_take_commands_are_one_line(production: Path, cli, args, expect: str) -> None:
    cli("-p", production, "import", EXAMPLE)
    cli("-p", production, "plan")
    result = cli("-p", production, *args)
    error_line(result)
    assert expect in result.err


def test_take_queue_list_and_reproduce(production: Path, cli) -> None:
    cli("-p", production, "import", EXAMPLE)
    cli("-p", production, "plan")
    cli("-p", production, "layout", "--scene", "3")
    cli("-p", production, "previs", "--scene", "3", "--size", "320x180")
    result = cli("-p", production, "take", "003_0030", "--count", "2", "--seed", "5", "--by", "ana")
    assert result.code == 0, result.err
    assert "Queued 2 take(s)" in result.out and "2 take(s) made" in result.out
    listing = cli("-p", production, "takes", "003_0030")
    assert "003_0030/1" in listing.out and "003_0030/2" in listing.out and "ana" in listing.out
    result = cli("-p", production, "take", "reproduce", "003_0030/2")
    assert result.code == 0 and "bytes identical" in result.out
    assert cli("-p", production, "bible", "check").code == 1


def test_take_and_work_exit_1_when_a_take_they_ran_failed(production: Path, cli) -> None:
    """A script that runs `take` or `work` learns from the exit code that a take failed (here:
    the storyboard it is made from is gone from the media store)."""
    cli("-p", production, "import", EXAMPLE)
    cli("-p", production, "plan")
    cli("-p", production, "layout", "--scene", "3")
    cli("-p", production, "previs", "--scene", "3", "--size", "320x180")
    assert cli("-p", production, "take", "003_0030", "--no-run").code == 0
    for image in (production / "media").rglob("*.png"):
        image.unlink()
    result = cli("-p", production, "work")
    assert result.code == 1, result.out + result.err
    assert "0 take(s) made, 1 failed" in result.out
    result = cli("-p", production, "take", "003_0030")
    assert result.code == 1 and "0 take(s) made, 1 failed" in result.out
    assert "failed" in cli("-p", production, "takes", "003_0030").out


def test_worker_warnings_reach_stderr_and_verbose_says_more(production: Path, cli) -> None:
    """Library code logs instead of printing: a worker process's warning (the checks cannot run)
    is one "warning:" line on the command's stderr, and --verbose adds what the library does."""
    cli("-p", production, "import", EXAMPLE)
    cli("-p", production, "plan")
    cli("-p", production, "layout", "--scene", "3")
    cli("-p", production, "previs", "--scene", "3", "--size", "320x180")
    toml = production / "soundstage.toml"
    toml.write_text(toml.read_text().replace('embedder = "features"', 'embedder = "clip"'))
    exe = Path(sys.executable).with_name("soundstage")
    quiet = subprocess.run([exe, "-p", production, "take", "003_0030"], capture_output=True, text=True)
    assert quiet.returncode == 0, quiet.stderr
    assert "1 take(s) made" in quiet.stdout  # the take is kept though its checks cannot run
    assert quiet.stderr.splitlines() == [
        "warning: intent checks not run: [checks] embedder = 'clip' needs weights: a local model folder"
    ]
    loud = subprocess.run([exe, "-p", production, "--verbose", "take", "003_0030"], capture_output=True, text=True)
    assert loud.returncode == 0, loud.stderr
    assert any(
        line.startswith("debug: backend previs from soundstage.generate.registry") for line in loud.stderr.splitlines()
    )
    assert any(line.startswith("debug: ") and "claimed jobs" in line for line in loud.stderr.splitlines())


def test_init_at_an_ntsc_rate_writes_the_fraction_and_plans_at_it(tmp_path: Path, cli) -> None:
    root = tmp_path / "tv"
    assert cli("init", root, "--fps", "29.97").code == 0
    assert '\nfps = "30000/1001"\n' in (root / "soundstage.toml").read_text()
    assert cli("-p", root, "import", EXAMPLE).code == 0
    result = cli("-p", root, "plan")
    assert result.code == 0 and "min planned" in result.out
    result = cli("init", tmp_path / "bad", "--fps", "fast")
    error_line(result)
    assert "fps" in result.err and not (tmp_path / "bad").exists()


def test_serve_on_a_port_in_use_or_no_address_is_one_line(production: Path, cli) -> None:
    """uvicorn printed the start line, then its own ERROR line, and exited 3."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("-p", production, "serve", "--port", port)
        error_line(result)
        assert f"cannot listen on 127.0.0.1:{port}" in result.err
    result = cli("-p", production, "serve", "--host", "999.1.1.1", "--port", port)
    error_line(result)
    assert "cannot listen on 999.1.1.1" in result.err


def test_an_argument_with_control_characters_is_refused_before_anything_runs(production: Path, cli) -> None:
    """A stage or performer "name" with an escape sequence was stored and printed raw to the
    terminal of whoever listed it later."""
    stage = ("stage", "add", "Stage\x1b]0;pwned\x07", "--kind", "mocap", "--size-sqft", "100", "--zone", "in")
    result = cli("-p", production, *stage, "--day-rate", "5")
    error_line(result)
    assert "argument 5" in result.err and "holds control characters" in result.err and "\x1b" not in result.err
    with sqlite3.connect(production / "soundstage.db") as db:
        assert db.execute("select count(*) from stages").fetchone() == (0,)
