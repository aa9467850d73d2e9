"""``soundstage make`` end to end on every shared screenplay and on the project's example."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pytest
from lxml import etree
from sqlalchemy import select

from soundstage.make import STAGES
from soundstage.project import Production
from soundstage.provenance.credentials import read_credentials
from soundstage.store.db import session_scope
from soundstage.store.tables import ShotRow, TakeRow

from conftest import EXAMPLE, SCREENPLAYS

SCRIPTS = sorted(SCREENPLAYS.glob("*.fountain")) + sorted(SCREENPLAYS.glob("*.fdx")) + [EXAMPLE]
# Every stage runs, previs included; small frames keep a feature's 1,600 renders quick here.
# Full-size renders are covered by tests/render and by the example below.
SMALL = ("--size", "96x54")
# The feature's two-hour animatic is left to benchmarks/animatic.py: its make stops before the cut.
UNTIL_SHOTLIST = {"big_fish.fountain"}


@pytest.fixture(autouse=True)
def small_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small animatic without scratch dialogue (tests/e2e/test_cut.py speaks)."""
    for key, value in (("WIDTH", "96"), ("HEIGHT", "54"), ("SCRATCH_DIALOGUE", "false"), ("HEAD_SLATE_S", "0.5")):
        monkeypatch.setenv(f"SOUNDSTAGE_CUT__{key}", value)


def _fdx_facts(fdx: Path) -> tuple[int, set[str]]:
    """Scene count and speaking cast read straight from a Final Draft file's paragraphs,
    independently of Soundstage's readers."""
    content = etree.parse(str(fdx)).find("Content")
    headings = content.findall("Paragraph[@Type='Scene Heading']")
    cues = {"".join(p.itertext()).strip() for p in content.findall("Paragraph[@Type='Character']")}
    return len(headings), {re.sub(r"\s*\(.*$", "", c).upper() for c in cues if c}


def _expected(script: Path) -> tuple[int, set[str] | None]:
    """What a script is known to hold: from its FDX twin for the samples; otherwise the scene
    count stated for it and no cast check here (their casts are checked by name below)."""
    twin = script.with_suffix(".fdx")
    if twin.exists():
        return _fdx_facts(twin)
    known = {"big_fish.fountain": 190, "brick_and_steel.fountain": 8, EXAMPLE.name: 14}
    return known[script.name], None


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_make_writes_sheets_for_every_scene(script: Path, tmp_path: Path, cli) -> None:
    out = tmp_path / "out"
    until = ("--until", "shotlist") if script.name in UNTIL_SHOTLIST else ()
    result = cli("make", script, "-o", out, *SMALL, *until)
    assert result.code == 0, result.err
    assert str(out) in result.out

    scenes, cast = _expected(script)
    breakdown = list(csv.DictReader((out / "breakdown.csv").open(encoding="utf-8")))
    assert len(breakdown) == scenes
    speaking = {name for row in breakdown for name in row["cast"].split("; ") if name}
    if cast is not None:
        assert speaking == cast

    shots = list(csv.DictReader((out / "shotlist.csv").open(encoding="utf-8")))
    codes = [row["code"] for row in shots]
    assert len(codes) == len(set(codes))
    assert {row["scene"] for row in shots} == {row["scene"] for row in breakdown}  # every scene has shots
    for row in shots:
        assert row["code"].split("_")[0].lstrip("0") == row["scene"].lstrip("0") or row["scene"] == "0"
        assert int(row["frames"]) > 0
    html = (out / "shotlist.html").read_text(encoding="utf-8")
    assert html.count('id="shot-') == len(shots)
    assert (out / "breakdown.html").read_text(encoding="utf-8").count('id="scene-') == scenes

    with Production.open(out / "production") as production:
        assert [s.code for s in production.shots()] == codes
        # Every shot has its first take: the previs backend's, made by the queue's workers.
        with session_scope(production.engine) as session:
            taken = session.scalars(select(ShotRow.code).join(TakeRow)).all()
        assert sorted(taken) == sorted(codes)
    # Blocking and previs: a USD layout and a storyboard for every shot, a contact sheet a scene.
    layouts = sorted(p.stem for p in (out / "production" / "layouts").rglob("*.usda"))
    assert layouts == sorted(codes)
    assert html.count('<img src="storyboards/') == len(shots)
    assert len(list((out / "storyboards").glob("*.jpg"))) == len(shots)
    assert len(list((out / "contact_sheets").glob("*.png"))) == scenes
    if not until:  # make ends with the cut: every shot on the timeline, a signed animatic, the report
        timeline = otio.adapters.read_from_file(str(out / "cut" / "cut.otio"))
        assert [clip.name for clip in timeline.video_tracks()[0].find_clips()] == codes
        assert (out / "cut" / "cut.mp4").stat().st_size > 0
        assert read_credentials(out / "cut" / "cut.mp4").valid
        assert all(code in (out / "cut" / "cut_disclosure.html").read_text() for code in codes)


def test_known_facts_of_the_feature(tmp_path: Path, cli) -> None:
    out = tmp_path / "bf"
    production = out / "production"
    assert cli("init", production).code == 0
    assert cli("-p", production, "import", SCREENPLAYS / "big_fish.fountain").code == 0
    assert cli("-p", production, "breakdown", "-o", out).code == 0
    rows = {r["scene"]: r for r in csv.DictReader((out / "breakdown.csv").open())}
    assert len(rows) == 190
    first = rows["1"]
    assert (first["int_ext"], first["location"], first["time_of_day"]) == ("INT", "WILL'S BEDROOM", "NIGHT")
    assert first["cast"] == "EDWARD"
    assert "WILL BLOOM" in first["background"].split("; ")
    cast = {name for r in rows.values() for name in r["cast"].split("; ")}
    assert {"EDWARD", "WILL", "SANDRA", "JOSEPHINE", "KARL"} <= cast


def test_known_cast_of_the_example_and_the_fountain_sample(tmp_path: Path, cli) -> None:
    for script, cast in (
        (EXAMPLE, {"MAISIE", "FUSE", "OSWIN", "JUNO", "MCKEE", "MR. PARK", "RADIO ANNOUNCER"}),
        (SCREENPLAYS / "brick_and_steel.fountain", {"BRICK", "STEEL", "JACK", "DAN"}),
    ):
        out = tmp_path / script.stem
        assert cli("make", script, "-o", out, *SMALL).code == 0
        rows = list(csv.DictReader((out / "breakdown.csv").open()))
        speaking = {name for r in rows for name in r["cast"].split("; ") if name}
        assert cast <= speaking, script.name


def test_make_again_is_a_revision_with_no_changes(tmp_path: Path, cli) -> None:
    out = tmp_path / "demo"
    assert cli("make", EXAMPLE, "-o", out, *SMALL).code == 0
    first = (out / "shotlist.csv").read_text()
    result = cli("make", EXAMPLE, "-o", out, *SMALL)
    assert result.code == 0
    assert "added" not in result.out  # nothing added, removed or changed
    assert (out / "shotlist.csv").read_text() == first


def test_make_into_an_unwritable_folder_is_one_line(tmp_path: Path, cli) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = cli("-p", tmp_path / "prod", "make", EXAMPLE, "-o", blocker / "out")
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


def test_a_failed_make_leaves_no_production_behind(tmp_path: Path, cli) -> None:
    bad = tmp_path / "bad.fountain"
    bad.write_bytes(b"")
    result = cli("make", bad, "-o", tmp_path / "out")
    assert result.code == 2 and "empty" in result.err
    assert not (tmp_path / "out" / "production").exists()


def test_until_stops_after_the_named_stage(tmp_path: Path, cli) -> None:
    out = tmp_path / "out"
    result = cli("make", EXAMPLE, "-o", out, "--until", "plan")
    assert result.code == 0
    assert "layout" not in result.out
    assert not list((out / "production" / "layouts").rglob("*.usda"))
    bad = cli("make", EXAMPLE, "-o", tmp_path / "other", "--until", "grade")
    assert bad.code == 2 and "not a stage" in bad.err
    assert not (tmp_path / "other").exists()


def test_a_make_that_fails_half_way_removes_the_sheets_it_wrote(tmp_path: Path) -> None:
    """Breakdown and plan have written their sheets when previs fails (here: no EGL); the output
    folder this run made goes with the production, so no half-written results are left."""
    exe = Path(sys.executable).with_name("soundstage")
    env = {**os.environ, "__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent.json"}
    out = tmp_path / "out"
    result = subprocess.run(
        [exe, "make", EXAMPLE, "-o", out, "--size", "64x36"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "libegl1" in result.stderr
    assert not out.exists()


def test_make_help_names_the_stages_until_takes(cli) -> None:
    shown = " ".join(cli("make", "--help").out.split())
    assert f"The last stage to run: {', '.join(s.name for s in STAGES)} (default: all)." in shown
