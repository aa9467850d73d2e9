"""The production facade: re-importing drafts, re-planning, and failed commands leaving no trace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from soundstage.errors import ProductionError, ScriptError, ShotError
from soundstage.project import Production

from conftest import EXAMPLE


@pytest.fixture
def production(tmp_path: Path, database_url: str) -> Production:
    with Production.init(tmp_path / "pilot", database_url=database_url) as opened:
        opened.import_script(EXAMPLE)
        opened.plan()
    production = Production.open(tmp_path / "pilot")
    yield production
    production.close()


def _revise(tmp_path: Path) -> Path:
    """The example with scene 5 cut, a line of scene 3 rewritten and a new scene after 9."""
    text = EXAMPLE.read_text()
    scenes = re.split(r"(?m)^(?=(?:EXT|INT|\.MONTAGE)[^\n]*#\d+#\n)", text)
    heading_5 = next(i for i, s in enumerate(scenes) if "#5#" in s.splitlines()[0])
    del scenes[heading_5]
    revised = "".join(scenes)
    revised = revised.replace("Too. Fast.", "Much. Too. Fast.", 1)
    new_scene = "EXT. WINDMILL HILL - NIGHT\n\nThe sails of the old windmill creak round once, and stop.\n\n"
    heading_10 = revised.rfind("\n", 0, revised.index("#10#")) + 1
    revised = revised[:heading_10] + new_scene + revised[heading_10:]
    # Scene numbers stay locked on the old scenes; the new one has none.
    path = tmp_path / "revised.fountain"
    path.write_text(revised)
    return path


def test_reimport_matches_scenes_and_keeps_their_shots(production: Production, tmp_path: Path) -> None:
    production.edit_shot("003_0030", {"size": "CU"})
    before = {s.code: s for s in production.shots()}

    report = production.import_script(_revise(tmp_path))

    assert report.removed == ["5"]
    assert report.changed == ["3"]
    assert report.added == ["9A"]
    assert report.unchanged == 12
    assert production.scene_numbers() == [
        *["1", "2", "3", "4", "6", "7", "8", "9"],
        "9A",
        *["10", "11", "12", "13", "14"],
    ]
    # Shots of unchanged scenes were not touched by the import.
    after = {s.code: s for s in production.shots()}
    assert {c: s for c, s in after.items() if c.startswith("004_")} == {
        c: s for c, s in before.items() if c.startswith("004_")
    }
    plan = production.plan()
    assert "003_0030" in plan.kept_edits
    assert production.shot("003_0030").size.value == "CU"
    assert [s.code for s in production.shots("9A")] == ["009A_0010"]
    assert not production.shots("5")


def test_a_failed_import_leaves_the_production_as_it_was(production: Production, tmp_path: Path) -> None:
    bad = tmp_path / "bad.fountain"
    bad.write_text("INT. ROOM - DAY\n\nAll fine until here /* and then it is cut\n")
    numbers, shots = production.scene_numbers(), production.shots()
    with pytest.raises(ScriptError):
        production.import_script(bad)
    assert production.scene_numbers() == numbers
    assert production.shots() == shots


def test_edits_are_validated_and_unknown_shots_refused(production: Production) -> None:
    with pytest.raises(ShotError, match="lens_mm"):
        production.edit_shot("003_0030", {"lens_mm": -1})
    with pytest.raises(ShotError, match="no shot"):
        production.edit_shot("003_9990", {"size": "CU"})
    with pytest.raises(ShotError, match="cannot edit"):
        production.edit_shot("003_0030", {"code": "001_0010"})


def test_replan_follows_changed_rules(production: Production) -> None:
    sizes = {s.size.value for s in production.shots()}
    assert "OTS" in sizes
    toml = production.root / "soundstage.toml"
    toml.write_text(toml.read_text().replace('dialogue = "ots"', 'dialogue = "singles"'))
    with Production.open(production.root) as reopened:
        reopened.plan()
        assert "OTS" not in {s.size.value for s in reopened.shots()}


def test_no_script_yet_is_a_clear_error(tmp_path: Path) -> None:
    with Production.init(tmp_path / "empty") as empty, pytest.raises(ProductionError, match="no screenplay yet"):
        empty.plan()


def test_edits_follow_the_line_they_cover_when_a_revision_shifts_shots(production: Production, tmp_path: Path) -> None:
    before = production.shots("3")
    target = next(s for s in before if s.description.startswith("OSWIN: My knee"))
    production.edit_shot(target.code, {"size": "CU", "lens_mm": 100})
    revised = tmp_path / "revised.fountain"
    # A new action line early in scene 3 shifts every later shot's code by one.
    revised.write_text(
        EXAMPLE.read_text().replace("Too. Fast.", "Too. Fast.\n\nThe kettle on the stove begins to sing.", 1)
    )
    production.import_script(revised)
    report = production.plan()
    moved = next(s for s in production.shots("3") if s.description.startswith("OSWIN: My knee"))
    assert moved.code != target.code
    assert (moved.size.value, moved.lens_mm) == ("CU", 100)
    assert f"{target.code} -> {moved.code}" in report.kept_edits
    # The shot that now holds the old code is the plan's own, unedited.
    assert production.shot(target.code).size is not moved.size or production.shot(target.code).lens_mm != 100


def test_a_draft_without_scenes_is_refused(production: Production, tmp_path: Path) -> None:
    empty = tmp_path / "notes.fountain"
    empty.write_text("Just some notes about the show.\n\nNo headings at all.\n")
    numbers = production.scene_numbers()
    with pytest.raises(ScriptError, match="no scene headings"):
        production.import_script(empty)
    assert production.scene_numbers() == numbers
