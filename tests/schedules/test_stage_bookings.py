"""Holds and bookings of stages through the CLI, on the project's example screenplay: claims
replace and split as a stage calendar does, refusals are one line with nothing written, the
solver keeps off days another production booked (a hold blocks nobody), and the rent of each
stage per shoot day adds up to what the schedule pays for it."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from soundstage.project import Production
from soundstage.schedules.evaluation import build_schedule
from soundstage.schedules.model import STUDIO, StageKind
from soundstage.schedules.rent import rent_lines

from .helpers import day, problem, scene, sound_stage
from conftest import EXAMPLE

OTHER = "Harbour Lights"  # another production renting the same stage


def _rows(root: Path) -> list[tuple[str, str, str | None, int]]:
    with sqlite3.connect(root / "soundstage.db") as db:
        rows = db.execute("select first, last, holder, firm from stage_bookings").fetchall()
    return sorted(rows, key=lambda row: (row[0], row[2] is None, row[2] or ""))


def _one_line_error(result, *words: str) -> None:
    assert result.code == 2, result.out
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    for word in words:
        assert word in lines[0], result.err


@pytest.fixture
def production(tmp_path: Path, cli) -> Path:
    root = tmp_path / "pilot"
    assert cli("init", root, "--title", "Pilot").code == 0
    assert cli("--production", root, "import", EXAMPLE).code == 0
    stage = ("stage", "add", "Stage A", "--kind", "sound-stage", "--size-sqft", 12000, "--zone", "in")
    assert cli("--production", root, *stage, "--day-rate", "2500", "--available", "2027-01-01..2027-06-30").code == 0
    return root


def test_holds_and_bookings_replace_split_and_refuse(production: Path, cli) -> None:
    p = ("--production", production, "stage")
    assert cli(*p, "book", "Stage A", "2027-01-04..2027-01-15", "--by", OTHER).code == 0
    # Days another production booked cannot be held or booked by anybody else.
    _one_line_error(cli(*p, "hold", "Stage A", "2027-01-14..2027-01-20"), OTHER, "2027-01-14..2027-01-15")
    _one_line_error(cli(*p, "book", "Stage A", "2027-01-10", "--by", "Third Show"), OTHER)
    _one_line_error(cli(*p, "hold", "Stage A", "2027-06-20..2027-07-10"), "available only 2027-01-01..2027-06-30")
    _one_line_error(cli(*p, "book", "Stage B", "2027-01-20"), "no stage 'Stage B'", "Stage A")
    _one_line_error(cli(*p, "hold", "Stage A", "2027-01-20..2027-01-18"), "ends before it starts")
    _one_line_error(cli(*p, "release", "Stage A", "2027-02-01..2027-02-05"), "no hold or booking of this production")
    assert _rows(production) == [("2027-01-04", "2027-01-15", OTHER, 1)]
    # Our hold; booking some of its days makes those days firm; releasing a day splits it.
    assert cli(*p, "hold", "Stage A", "2027-01-18..2027-01-29").code == 0
    assert cli(*p, "book", "Stage A", "2027-01-20..2027-01-22").code == 0
    released = cli(*p, "release", "Stage A", "2027-01-25")
    assert released.code == 0 and "1 days released" in released.out
    # Another production may hold days we hold: a hold blocks nobody.
    assert cli(*p, "hold", "Stage A", "2027-01-26..2027-01-27", "--by", OTHER).code == 0
    assert _rows(production) == [
        ("2027-01-04", "2027-01-15", OTHER, 1),
        ("2027-01-18", "2027-01-19", None, 0),
        ("2027-01-20", "2027-01-22", None, 1),
        ("2027-01-23", "2027-01-24", None, 0),
        ("2027-01-26", "2027-01-27", OTHER, 0),
        ("2027-01-26", "2027-01-29", None, 0),
    ]
    listed = cli(*p, "list").out
    assert f"booked 2027-01-04..2027-01-15 by {OTHER}" in " ".join(listed.split())
    assert cli(*p, "release", "Stage A", "2027-01-01..2027-01-31", "--by", OTHER).code == 0
    assert all(holder is None for _, _, holder, _ in _rows(production))


def test_the_solver_keeps_off_days_booked_elsewhere_and_rent_adds_up(production: Path, cli) -> None:
    p = ("--production", production)
    solve = ("schedule", "solve", "--start", "2027-01-04", "--time-limit", 10, "--fresh")
    # Another production's hold over every day blocks nothing: a stage scene moves onto a held day.
    assert cli(*p, "stage", "hold", "Stage A", "2027-01-01..2027-06-30", "--by", OTHER).code == 0
    assert cli(*p, *solve).code == 0
    with Production.open(production) as opened:
        held = opened.schedule()
    scene = next(n for d in held.days for n in d.scenes if n in d.stage_of)
    assert cli(*p, "schedule", "move", scene, held.days[-1].index + 2).code == 0
    # Booked by another production for the first two weeks: every stage day is after them, and
    # a stage scene cannot be moved onto them.
    assert cli(*p, "stage", "release", "Stage A", "2027-01-01..2027-06-30", "--by", OTHER).code == 0
    assert cli(*p, "stage", "book", "Stage A", "2027-01-04..2027-01-15", "--by", OTHER).code == 0
    assert cli(*p, *solve).code == 0
    with Production.open(production) as opened:
        schedule = opened.schedule()
        lines = opened.stage_rent()
    on_stage = [d for d in schedule.days if "Stage A" in d.stages]
    assert on_stage and all(d.date > date(2027, 1, 15) for d in on_stage)
    assert all(line.date > date(2027, 1, 15) for line in lines)
    _one_line_error(cli(*p, "schedule", "move", on_stage[0].scenes[0], 1), "Stage A is not available")
    # Rent: one line per shoot day from first to last use; used on the days shot there.
    assert [line.date for line in lines if line.used] == [d.date for d in on_stage]
    assert lines[0].date == on_stage[0].date and lines[-1].date == on_stage[-1].date
    assert all(line.amount == Decimal("2500.00") for line in lines)
    assert sum(line.amount for line in lines) == schedule.cost.stages["Stage A"]
    shown = cli(*p, "schedule", "show").out
    (row,) = [line for line in shown.splitlines() if "Stage A" in line and f"{lines[0].date}.." in line]
    cells = [cell.strip() for cell in row.split("│") if cell.strip()]
    used = len(on_stage)
    rented = f"{lines[0].date}..{lines[-1].date}"
    rent = str(schedule.cost.stages["Stage A"])
    assert cells == ["Stage A", rented, str(len(lines)), str(used), str(len(lines) - used), rent]


def test_rent_lines_count_standing_days_between_uses() -> None:
    # Hand-checked: the stage is used on days 0 and 2, the company is on location on day 1, so
    # the stage stands rented on day 1: three lines of 300.00, the middle one standing.
    interior = dict(stage_kind=StageKind.SOUND_STAGE, set="SHOP", location=STUDIO, int_ext="INT")
    scenes = [scene("1", **interior), scene("2"), scene("3", **interior)]
    stage = sound_stage("Stage A", 300)
    schedule = build_schedule(
        problem(scenes, stages=[stage]), {"1": 0, "2": 1, "3": 2}, {"1": "Stage A", "3": "Stage A"}
    )
    lines = rent_lines(problem(scenes, stages=[stage]), schedule)
    assert [(line.date, line.amount, line.used) for line in lines] == [
        (day(0), Decimal("300.00"), True),
        (day(1), Decimal("300.00"), False),
        (day(2), Decimal("300.00"), True),
    ]
    assert schedule.cost.stages["Stage A"] == Decimal("900.00")


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("--day-rate", "abc", ("stage Stage B: day rate", "'abc'")),
        ("--day-rate", "1e999999", ("stage Stage B: day rate", "too large")),
        ("--size-sqft", "99999999999999999999", ("stage Stage B: size", "10,000,000")),
    ],
)
def test_a_stage_with_a_bad_rate_or_size_is_one_line_and_not_added(
    production: Path, cli, field: str, value: str, words: tuple[str, ...]
) -> None:
    fields = {"--day-rate": "2500", "--size-sqft": "12000", field: value}
    stage = ("stage", "add", "Stage B", "--kind", "mocap", "--zone", "in", *(x for kv in fields.items() for x in kv))
    _one_line_error(cli("--production", production, *stage), *words)
    with sqlite3.connect(production / "soundstage.db") as db:
        assert [name for (name,) in db.execute("select name from stages")] == ["Stage A"]
