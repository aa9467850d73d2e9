"""Stages and schedules through the CLI on the project's example screenplay: stored, shown,
and every mistake one line, exit 2, nothing written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from soundstage.project import Production

from conftest import EXAMPLE


@pytest.fixture
def production(tmp_path: Path, cli) -> Path:
    root = tmp_path / "pilot"
    assert cli("init", root, "--title", "Pilot").code == 0
    assert cli("--production", root, "import", EXAMPLE).code == 0
    return root


def _count(root: Path, table: str) -> int:
    with sqlite3.connect(root / "soundstage.db") as db:
        return db.execute(f"select count(*) from {table}").fetchone()[0]


def _one_line_error(result) -> None:
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err


def test_stage_add_list_and_mistakes(production: Path, cli) -> None:
    p = ("--production", production)
    add = ("stage", "add", "Stage A", "--kind", "sound-stage", "--size-sqft", 12000, "--zone", "in")
    assert cli(*p, *add, "--day-rate", "2500", "--available", "2027-01-04..2027-03-31").code == 0
    _one_line_error(cli(*p, *add, "--day-rate", "2500"))  # the same name again
    _one_line_error(cli(*p, "stage", "add", "B", "--kind", "bogus", "--size-sqft", 1, "--zone", "in", "--day-rate", 1))
    _one_line_error(cli(*p, "stage", "add", "C", "--kind", "adr", "--size-sqft", 1, "--zone", "up", "--day-rate", 1))
    _one_line_error(cli(*p, *add[:3], "D", *add[4:], "--day-rate", "lots"))
    _one_line_error(cli(*p, "stage", "add", "E", *add[3:], "--day-rate", "1", "--available", "2027-02-01..2027-01-01"))
    assert _count(production, "stages") == 1
    listed = cli(*p, "stage", "list")
    assert "Stage A" in listed.out and "2027-01-04..2027-03-31" in listed.out


def test_schedule_solve_stores_every_scene_and_show_reads_it(production: Path, cli) -> None:
    p = ("--production", production)
    _one_line_error(cli(*p, "schedule", "show"))  # nothing solved yet
    _one_line_error(cli(*p, "schedule", "solve", "--start", "next monday"))
    no_stage = cli(*p, "schedule", "solve", "--start", "2027-01-04")
    _one_line_error(no_stage)  # interiors need a sound stage and there is none
    assert "sound-stage" in no_stage.err
    assert _count(production, "schedules") == 0
    stage = ("stage", "add", "Stage A", "--kind", "sound-stage", "--size-sqft", 12000, "--zone", "in")
    assert cli(*p, *stage, "--day-rate", "2500").code == 0
    solved = cli(*p, "schedule", "solve", "--start", "2027-01-04", "--time-limit", 10)
    assert solved.code == 0, solved.err
    with Production.open(production) as opened:
        schedule = opened.schedule()
        numbers = [s.number for s in opened.script().scenes]
    placed = [scene for day in schedule.days for scene in day.scenes]
    assert sorted(placed) == sorted(numbers)  # every scene once
    assert all(day.date.weekday() < 5 for day in schedule.days)
    assert all(day.date.isoformat() >= "2027-01-04" for day in schedule.days)
    shown = cli(*p, "schedule", "show")
    assert schedule.days[0].date.isoformat() in shown.out


def test_move_refused_with_its_reason_then_allowed_and_export(production: Path, cli, tmp_path: Path) -> None:
    p = ("--production", production)
    stage = ("stage", "add", "Stage A", "--kind", "sound-stage", "--size-sqft", 12000, "--zone", "in")
    assert cli(*p, *stage, "--day-rate", "2500").code == 0
    assert cli(*p, "schedule", "solve", "--start", "2027-01-04", "--time-limit", 10).code == 0
    with Production.open(production) as opened:
        before = opened.schedule()
    # A scene moved onto a day at another location breaks "one location a day"; every such move
    # is refused in one line. The solver's days depend on its time limit, so a day may also be too
    # full for the scene, a refusal for that reason first: the moves are tried until one names
    # the locations.
    here = before.days[0]
    scene = here.scenes[0]
    reasons = []
    for there in (d for d in before.days if d.location != here.location):
        refused = cli(*p, "schedule", "move", scene, there.index + 1)
        _one_line_error(refused)
        reasons.append(refused.err)
        if "locations" in refused.err:
            break
    assert "locations" in reasons[-1], reasons
    assert _count(production, "schedules") == 1  # nothing written
    _one_line_error(cli(*p, "schedule", "move", "no-such-scene", 1))
    # A day after the last is free of conflicts: the move is stored.
    free_day = before.days[-1].index + 2
    assert cli(*p, "schedule", "move", scene, free_day).code == 0
    with Production.open(production) as opened:
        assert opened.schedule().day_of(scene).index == free_day - 1
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder\n")
    refused = cli(*p, "schedule", "export", "-o", blocker)  # was a FileExistsError traceback
    _one_line_error(refused)
    assert "cannot write the schedule export" in refused.err and "notes.txt is a file, not a folder" in refused.err
    folder = tmp_path / "out"
    assert cli(*p, "schedule", "export", "-o", folder).code == 0
    assert sorted(f.name for f in folder.iterdir()) == [
        "day_out_of_days.csv",
        "schedule.ics",
        "stage_days.csv",
        "stage_occupancy.csv",
        "stage_occupancy.html",
        "stage_occupancy.pdf",
        "stripboard.html",
        "stripboard.pdf",
    ]
    html = (folder / "stripboard.html").read_text()
    assert f'data-scene="{scene}"' in html
    assert (folder / "stripboard.pdf").read_bytes().startswith(b"%PDF")
    assert b"BEGIN:VCALENDAR" in (folder / "schedule.ics").read_bytes()
