"""Breakdown sheets carry every category of the breakdown: the CSV's columns, the HTML's, and
the table ``soundstage breakdown`` prints, read from the example's real breakdown."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from soundstage.cli.app import out
from soundstage.reports.sheets import BREAKDOWN_COLUMNS, SceneSheet, write_breakdown
from soundstage.script.breakdown import CATEGORIES, break_down
from soundstage.script.fountain import parse_fountain

from conftest import EXAMPLE


def _sheets() -> list[SceneSheet]:
    breakdowns = break_down(parse_fountain(EXAMPLE.read_text(encoding="utf-8")))
    return [SceneSheet(b.number or str(i + 1), b) for i, b in enumerate(breakdowns)]


def test_the_csv_has_a_column_per_category_with_the_scenes_items(tmp_path: Path) -> None:
    sheets = _sheets()
    csv_path, _ = write_breakdown(sheets, "The Lantern Keepers", tmp_path)
    with csv_path.open(encoding="utf-8") as file:
        reader = csv.DictReader(file)
        rows = {row["scene"]: row for row in reader}
        assert tuple(reader.fieldnames or ()) == BREAKDOWN_COLUMNS
    assert set(CATEGORIES) <= set(BREAKDOWN_COLUMNS) and "speaking" not in BREAKDOWN_COLUMNS
    for sheet in sheets:
        row = rows[sheet.number]
        for category, field in CATEGORIES.items():
            assert row[category] == "; ".join(getattr(sheet.breakdown, field)), (sheet.number, category)
    # The example's own animals, crowds, vehicles and weather are on the sheet, not among the props.
    everything = {category: {i for r in rows.values() for i in r[category].split("; ") if i} for category in CATEGORIES}
    assert "GULLS" in everything["animals"] and "NEIGHBOURS" in everything["background"]
    assert "FERRY" in everything["vehicles"] and "RAIN" in everything["atmosphere"]
    assert not everything["props"] & (everything["animals"] | everything["vehicles"] | everything["background"])


def test_the_html_heads_every_category_and_fills_each_scene(tmp_path: Path) -> None:
    sheets = _sheets()
    _, html_path = write_breakdown(sheets, "The Lantern Keepers", tmp_path)
    html = html_path.read_text(encoding="utf-8")
    for label in (
        "Cast",
        "Background",
        "Animals",
        "Props",
        "Set dressing",
        "Vehicles",
        "Sound",
        "FX / atmosphere",
        "VFX",
    ):
        assert f">{label}</th>" in html
    assert "Speaking" not in html and "Non-speaking" not in html
    assert html.count('<td class="animals">') == len(sheets) == html.count('id="scene-')
    assert '<td class="vehicles">FERRY</td>' in html and '<td class="animals">GULLS</td>' in html


def test_the_breakdown_command_shows_background_and_animals(
    tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(out, "width", 240)  # a wide terminal: every column's words on one line
    root = tmp_path / "pilot"
    assert cli("init", root).code == 0
    assert cli("-p", root, "import", EXAMPLE).code == 0
    result = cli("-p", root, "breakdown", "-o", tmp_path / "sheets")
    assert result.code == 0
    assert "Background" in result.out and "Animals" in result.out
    lines = result.out.splitlines()
    header = next(line for line in lines if "Sc." in line)
    assert header.split()[1:] == ["Set", "Len", "Cast", "Background", "Animals", "Props", "Sound"]
    first = next(line for line in lines if "GULLS" in line)
    assert first.index("GULLS") == header.index("Animals")  # under its heading
    assert any("NEIGHBOURS" in line for line in lines)
