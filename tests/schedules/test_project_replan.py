"""Re-planning on re-import, through the CLI on a revision of the project's example: the stored
schedule goes stale (shown, moves refused), and the next solve keeps every unchanged scene on
its day, places the new and changed scenes, and says what it dropped and which days changed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from soundstage.project import Production
from soundstage.web.app import create_app

from conftest import EXAMPLE

SCENE_2 = (
    "EXT. TALLOW LAMP SHOP - DAY #2#\n\nA narrow shop squeezed between a fishmonger and a hat-maker."
    ' The painted sign reads "Tallow & Daughter, Lamplighters since 1802". The "& Daughter" is newer'
    " paint, and slightly crooked.\n\n"
)
IN_SCENE_9 = "Halfway down the hill. Twenty lamps lit behind them. Maisie sets the ladder at lamp twenty-one.\n\n"
SCENE_7 = "EXT. CLOCK TOWER SQUARE - NIGHT #7#"
NEW_SCENE = "EXT. FERNHOLLOW - DAY\n\nThe morning after. Every lamp still lit.\n\nMAISIE\nStill lit. All of them.\n\n"


def revision(folder: Path) -> Path:
    """The example revised: scene 2 cut, JUNO speaks in scene 9 (its cast changes), a new scene
    between 6 and 7 (7 says NIGHT, so it carries on nothing from the new scene)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    assert SCENE_2 in text and IN_SCENE_9 in text and SCENE_7 in text
    text = text.replace(SCENE_2, "")
    text = text.replace(IN_SCENE_9, IN_SCENE_9 + "JUNO\nWho's up there at this hour?\n\n")
    text = text.replace(SCENE_7, NEW_SCENE + SCENE_7)
    path = folder / "lantern_keepers_rev2.fountain"
    path.write_text(text, encoding="utf-8")
    return path


def _count(root: Path, table: str) -> int:
    with sqlite3.connect(root / "soundstage.db") as db:
        return db.execute(f"select count(*) from {table}").fetchone()[0]


@pytest.fixture
def production(tmp_path: Path, cli) -> Path:
    root = tmp_path / "pilot"
    p = ("--production", root)
    assert cli("init", root, "--title", "Pilot").code == 0
    assert cli(*p, "import", EXAMPLE).code == 0
    stage = ("stage", "add", "Stage A", "--kind", "sound-stage", "--size-sqft", 12000, "--zone", "in")
    assert cli(*p, *stage, "--day-rate", "2500").code == 0
    assert cli(*p, "schedule", "solve", "--start", "2027-01-04", "--time-limit", 10).code == 0
    return root


def test_a_revision_keeps_unchanged_scenes_on_their_days(production: Path, cli, tmp_path: Path) -> None:
    p = ("--production", production)
    with Production.open(production) as opened:
        before = opened.schedule()
        assert not opened.schedule_stale()
    date_of = {n: day.date for day in before.days for n in day.scenes}

    assert cli(*p, "import", revision(tmp_path)).code == 0
    with Production.open(production) as opened:
        assert opened.schedule_stale()
        numbers = opened.scene_numbers()
        # Still readable as it was solved, from the scenes it was solved from.
        assert opened.schedule().days == before.days
    (new,) = set(numbers) - set(date_of)
    assert "2" not in numbers and "9" in numbers
    assert "stale" in cli(*p, "schedule", "show").out
    refused = cli(*p, "schedule", "move", before.days[0].scenes[0], before.days[-1].index + 2)
    assert refused.code == 2 and "re-plan" in refused.err
    assert _count(production, "schedules") == 1
    # The review room says so too, and refuses the drag the same way.
    with Production.open(production) as opened:
        opened.add_user("Ada", "producer")
        token = opened.issue_token("Ada")
    app = create_app(production)
    try:
        room = TestClient(app, headers={"Authorization": f"Bearer {token}"})
        page = room.get("/schedule")
        assert page.status_code == 200 and 'id="stale"' in page.text and 'draggable="true"' not in page.text
        drag = room.post("/api/schedule/moves", json={"scene": before.days[0].scenes[0], "day": 1})
        assert drag.status_code == 400 and "re-plan" in drag.json()["detail"]
    finally:
        app.state.production.close()
    assert _count(production, "schedules") == 1

    solved = cli(*p, "schedule", "solve", "--start", "2027-01-04", "--time-limit", 10)
    assert solved.code == 0, solved.err
    assert "re-planned: 12 scenes kept their days" in solved.out
    assert f"placed: {new} 9" in solved.out and "dropped: 2" in solved.out
    with Production.open(production) as opened:
        assert not opened.schedule_stale()
        after = opened.schedule()
    placed = sorted(n for day in after.days for n in day.scenes)
    assert placed == sorted(numbers)  # every scene of the revision, once
    for number in numbers:
        if number not in ("9", new):
            assert after.day_of(number).date == date_of[number], number
    scenes_on = {}
    for schedule in (before, after):
        for day in schedule.days:
            scenes_on.setdefault(day.date, []).append(set(day.scenes))
    changed = sorted(d.isoformat() for d, sets in scenes_on.items() if len(sets) == 1 or sets[0] != sets[1])
    assert f"days changed: {', '.join(changed)}" in solved.out
    assert date_of["2"].isoformat() in changed  # its day lost a scene

    # After the re-plan strips move again; --fresh solves from nothing.
    assert cli(*p, "schedule", "move", "9", after.days[-1].index + 2).code == 0
    fresh = cli(*p, "schedule", "solve", "--start", "2027-01-04", "--time-limit", 10, "--fresh")
    assert fresh.code == 0 and "re-planned" not in fresh.out
