"""Layout and previs through the production: hand edits respected, failures contained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pxr import Gf, Usd, UsdGeom
from sqlalchemy import select

from soundstage.project import Production
from soundstage.render.previs import read_png
from soundstage.store.db import session_scope
from soundstage.store.tables import RenderRow, ShotRow

from conftest import PREVIS_SIZE

SIZE = PREVIS_SIZE


@pytest.fixture
def production(copy_production: Production) -> Production:
    return copy_production


def _ids(production: Production, code: str) -> np.ndarray:
    with session_scope(production.engine) as session:
        sha = session.scalars(select(RenderRow.ids_sha256).join(ShotRow).where(ShotRow.code == code)).one()
    return read_png(production.media.path(sha, ".png"))


def _move_character(path: Path, name: str, dx: float) -> None:
    stage = Usd.Stage.Open(str(path))
    prim = next(p for p in stage.Traverse() if p.GetAttribute("soundstage:character").Get() == name)
    translate = next(op for op in UsdGeom.Xformable(prim).GetOrderedXformOps() if op.GetOpName() == "xformOp:translate")
    translate.Set(translate.Get() + Gf.Vec3d(dx, 0, 0))
    stage.GetRootLayer().Save()


def _single(production: Production) -> tuple[str, str]:
    shot = next(s for s in production.shots("3") if len(s.subjects) == 1 and s.size.value in ("MCU", "MS"))
    return shot.code, shot.subjects[0]


def test_every_shot_has_a_layout_and_aligned_passes(production: Production) -> None:
    for shot in production.shots("3"):
        assert production.layout_path(shot).is_file()
        board = read_png(production.storyboard(shot.code))
        assert board.shape == (SIZE[1], SIZE[0], 3)


def test_a_hand_edit_is_kept_reported_and_rendered(production: Production) -> None:
    code, name = _single(production)
    shot = production.shot(code)
    path = production.layout_path(shot)
    before = _ids(production, code)
    _move_character(path, name, 0.6)  # the artist moves the character to screen right

    assert production.edited_layouts() == [code]
    assert code in production.plan().edited_layouts
    report = production.layout(scene="3")
    assert report.kept_edited == [code]
    edited = path.read_bytes()

    rendered = production.previs(size=SIZE, scene="3")
    assert rendered.rendered == [code]  # only the edited shot renders again
    after = _ids(production, code)
    columns_before = np.nonzero(before.any(axis=0))[0].mean()
    columns_after = np.nonzero(after.any(axis=0))[0].mean()
    assert columns_after != pytest.approx(columns_before, abs=2)

    forced = production.layout(scene="3", force=True)
    assert code in forced.written and path.read_bytes() != edited
    assert production.edited_layouts() == []


def test_a_broken_layout_is_one_line_and_the_others_still_render(production: Production) -> None:
    shots = production.shots("3")
    broken, cameraless = shots[1], shots[2]
    production.layout_path(broken).write_text("#usda 1.0\n( this is not usda\n")
    stage = Usd.Stage.Open(str(production.layout_path(cameraless)))
    stage.RemovePrim("/Shot/Camera")
    stage.GetRootLayer().Save()
    media_before = sorted(p.name for p in production.media.root.rglob("*") if p.is_file())

    report = production.previs(size=SIZE, scene="3", force=True)

    assert len(report.failed) == 2
    assert all("\n" not in line for line in report.failed)
    assert str(production.layout_path(broken)) in report.failed[0]
    assert "/Shot" in report.failed[1] and str(production.layout_path(cameraless)) in report.failed[1]
    assert len(report.rendered) == len(shots) - 2
    # Nothing new in the media store for the failed shots: only complete objects, no temp files.
    media_after = sorted(p.name for p in production.media.root.rglob("*") if p.is_file())
    assert not [n for n in media_after if n.startswith(".")]
    assert set(media_before) <= set(media_after)


def test_pushing_a_character_out_of_frame_is_caught(production: Production) -> None:
    code, name = _single(production)
    _move_character(production.layout_path(production.shot(code)), name, 25.0)
    report = production.previs(size=SIZE, scene="3")
    assert any(line.startswith(f"{code}: ") and name in line for line in report.framing)


def test_characters_keep_their_id_and_colour_across_scenes(production: Production) -> None:
    first = production.characters({"MAISIE", "FUSE"})
    again = production.characters({"MAISIE", "FUSE", "NEWCOMER"})
    assert again["MAISIE"] == first["MAISIE"] and again["FUSE"] == first["FUSE"]
    assert again["NEWCOMER"][0] not in {first["MAISIE"][0], first["FUSE"][0]}
