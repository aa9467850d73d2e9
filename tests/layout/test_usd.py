"""USD layouts: the stage follows the contract, the camera survives a round trip through a
.usda file with the same pixels as USD's own maths, an artist's edits are read back, and the
same shot always gives the same bytes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from pxr import Gf, Sdf, Usd, UsdGeom

from soundstage.errors import ShotError
from soundstage.layout.framing import EYES, Blocking, block_scene, character_colour, project
from soundstage.layout.usd import build_layout, export_layout, lens_mm, read_camera, read_marks, save_layout
from soundstage.plan.model import Angle, Purpose, Shot, ShotSize
from soundstage.render.previs import PrevisRenderer, load_scene
from soundstage.script.breakdown import SceneBreakdown

from . import example_scenes

W, H = 1280, 720


def _scene(index: int) -> list[tuple[Shot, Blocking]]:
    breakdown, shots = example_scenes()[index]
    blockings = block_scene(shots, breakdown)
    return [(shot, blockings[shot.code]) for shot in shots]


def _stage(shot: Shot, blocking: Blocking) -> Usd.Stage:
    names = sorted(blocking.marks)
    ids = {name: i for i, name in enumerate(names, start=1)}
    return build_layout(shot, blocking, {n: character_colour(n, ids[n]) for n in names}, ids)


def _saved(tmp_path: Path, shot: Shot, blocking: Blocking) -> Path:
    path = tmp_path / "layouts" / shot.code[:3] / f"{shot.code}.usda"
    save_layout(_stage(shot, blocking), path)
    return path


def _master(index: int = 2) -> tuple[Shot, Blocking]:
    """The first shot of a scene showing its whole cast (scene 3: the lamp shop, four)."""
    return max(_scene(index), key=lambda pair: len(pair[1].marks))


def _usd_pixel(stage: Usd.Stage, point) -> tuple[float, float]:
    """The layout contract's projection, with USD's own frustum maths."""
    camera = UsdGeom.Camera(stage.GetPrimAtPath("/Shot/Camera"))
    frustum = camera.GetCamera(Usd.TimeCode.Default()).frustum
    clip = Gf.Vec4d(*point, 1.0) * frustum.ComputeViewMatrix() * frustum.ComputeProjectionMatrix()
    ndc_x, ndc_y = clip[0] / clip[3], clip[1] / clip[3]
    return (ndc_x * 0.5 + 0.5) * W, (1 - (ndc_y * 0.5 + 0.5)) * H


def _faces_point_out(mesh: UsdGeom.Mesh) -> bool:
    """Whether every face's winding makes its normal point away from the middle of its piece
    (the stand-ins and blocks are unions of convex pieces that share no vertices)."""
    points = np.array(mesh.GetPointsAttr().Get(), dtype=float)
    indices = list(mesh.GetFaceVertexIndicesAttr().Get())
    faces, start = [], 0
    for count in mesh.GetFaceVertexCountsAttr().Get():
        faces.append(indices[start : start + count])
        start += count
    piece = list(range(len(points)))  # union-find over shared vertices

    def find(i: int) -> int:
        while piece[i] != i:
            i = piece[i]
        return i

    for face in faces:
        for i in face[1:]:
            piece[find(i)] = find(face[0])
    middles = {
        root: points[[i for i in range(len(points)) if find(i) == root]].mean(axis=0) for root in set(map(find, piece))
    }
    for face in faces:
        corners = points[face]
        normal = np.cross(corners[1] - corners[0], corners[2] - corners[0])
        if np.dot(normal, corners.mean(axis=0) - middles[find(face[0])]) <= 0:
            return False
    return True


# ----------------------------------------------------------------------------- the contract


@pytest.mark.parametrize("index", [2, 6], ids=["interior", "exterior"])
def test_the_stage_follows_the_layout_contract(index: int) -> None:
    shot, blocking = _master(index)
    stage = _stage(shot, blocking)
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.y and UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    root = stage.GetDefaultPrim()
    assert root.GetPath() == "/Shot" and root.IsA(UsdGeom.Xform)
    assert root.GetCustomData()["soundstage"] == {
        "shot": shot.code, "scene": shot.scene, "size": shot.size.value, "version": 2
    }  # fmt: skip

    set_prims = {str(p.GetPath()) for p in Usd.PrimRange(stage.GetPrimAtPath("/Shot/Set")) if p.IsA(UsdGeom.Mesh)}
    if blocking.set.interior:
        walls = {"/Shot/Set/Walls/Back", "/Shot/Set/Walls/Left", "/Shot/Set/Walls/Right"}
        assert walls <= set_prims and "/Shot/Set/Horizon" not in set_prims
    else:
        assert "/Shot/Set/Horizon" in set_prims and not any("Walls" in p for p in set_prims)
    blocks = [p for p in set_prims if p.startswith("/Shot/Set/Dressing/Block_")]
    assert "/Shot/Set/Floor" in set_prims and len(blocks) == len(blocking.set.dressing) >= 2

    characters = stage.GetPrimAtPath("/Shot/Characters").GetChildren()
    assert {c.GetAttribute("soundstage:character").Get() for c in characters} == set(blocking.marks)
    for prim in characters:
        name = prim.GetAttribute("soundstage:character").Get()
        assert prim.GetDisplayName() == name
        assert 1 <= prim.GetAttribute("soundstage:characterId").Get() <= 255
        assert prim.GetAttribute("soundstage:height").Get() == pytest.approx(1.7)
        assert UsdGeom.Xformable(prim).GetXformOpOrderAttr().Get() == ["xformOp:translate", "xformOp:rotateY"]
        assert [c.GetName() for c in prim.GetChildren()] == ["Body", "Head"]

    camera = UsdGeom.Camera(stage.GetPrimAtPath("/Shot/Camera"))
    assert camera.GetProjectionAttr().Get() == "perspective"
    # USD's unit for lenses and filmbacks, tenths of a metre here: 36 x 20.25 mm, the shot's lens.
    assert (camera.GetHorizontalApertureAttr().Get(), camera.GetVerticalApertureAttr().Get()) == pytest.approx(
        (0.36, 0.2025)
    )
    assert camera.GetFocalLengthAttr().Get() == pytest.approx(shot.lens_mm / 100)
    assert UsdGeom.Xformable(camera).GetXformOpOrderAttr().Get() == ["xformOp:transform"]


def test_every_mesh_is_well_formed_and_faces_out() -> None:
    shot, blocking = _master()
    stage = _stage(shot, blocking)
    meshes = [UsdGeom.Mesh(p) for p in stage.Traverse() if p.IsA(UsdGeom.Mesh)]
    assert len(meshes) > 10 and all(p.IsA(UsdGeom.Mesh) or not p.IsA(UsdGeom.Gprim) for p in stage.Traverse())
    for mesh in meshes:
        points = np.array(mesh.GetPointsAttr().Get())
        counts = list(mesh.GetFaceVertexCountsAttr().Get())
        indices = list(mesh.GetFaceVertexIndicesAttr().Get())
        assert set(counts) <= {3, 4} and sum(counts) == len(indices)
        assert min(indices) >= 0 and max(indices) < len(points)
        assert np.allclose(mesh.GetExtentAttr().Get(), [points.min(axis=0), points.max(axis=0)])
        colour = mesh.GetDisplayColorPrimvar()
        assert colour.GetInterpolation() == UsdGeom.Tokens.constant and len(colour.Get()) == 1
        if mesh.GetPrim().GetName() in ("Body", "Head") or "Dressing" in str(mesh.GetPath()):
            assert _faces_point_out(mesh), mesh.GetPath()
    floor = UsdGeom.Mesh(stage.GetPrimAtPath("/Shot/Set/Floor"))
    assert _quad_normal(floor)[1] > 0  # the floor faces up
    for wall in stage.GetPrimAtPath("/Shot/Set/Walls").GetChildren():
        normal = _quad_normal(UsdGeom.Mesh(wall))
        centre = np.array(UsdGeom.Mesh(wall).GetPointsAttr().Get()).mean(axis=0)
        assert np.dot(normal, -centre * [1, 0, 1]) > 0, wall.GetPath()  # into the room


def _quad_normal(mesh: UsdGeom.Mesh) -> np.ndarray:
    """The normal of a one-quad mesh, from its winding."""
    p = np.array(mesh.GetPointsAttr().Get(), dtype=float)
    return np.cross(p[1] - p[0], p[2] - p[0])


def test_character_colours_and_figures_follow_the_blocking() -> None:
    shot, blocking = _master()
    stage = _stage(shot, blocking)
    for prim in stage.GetPrimAtPath("/Shot/Characters").GetChildren():
        name = prim.GetAttribute("soundstage:character").Get()
        character_id = prim.GetAttribute("soundstage:characterId").Get()
        for part in ("Body", "Head"):
            colour = UsdGeom.Mesh(prim.GetChild(part)).GetDisplayColorPrimvar().Get()[0]
            assert tuple(colour) == pytest.approx(character_colour(name, character_id), abs=1e-6)
        # The head sits where the framing maths expects the eyes.
        head = np.array(UsdGeom.Mesh(prim.GetChild("Head")).GetExtentAttr().Get())
        assert head[0][1] < EYES * 1.7 < head[1][1] == pytest.approx(1.7, abs=0.01)


def test_prim_names_are_valid_and_unique_for_any_character_name(tmp_path: Path) -> None:
    shot = Shot(code="001_0010", scene="1", size=ShotSize.WS, lens_mm=24, frames=24, purpose=Purpose.MASTER,
                subjects=("WILL'S DATE", "DR. BENNETT", "A B", "A_B", "1ST MATE"))  # fmt: skip
    breakdown = SceneBreakdown(
        index=0, number=None, heading="INT. ROOM", int_ext="INT", location="ROOM", time_of_day="",
        speaking=shot.subjects, non_speaking=(), props=(), sounds=(), eighths=1,
    )  # fmt: skip
    blocking = block_scene([shot], breakdown)[shot.code]
    path = _saved(tmp_path, shot, blocking)
    assert set(read_marks(path)) == set(shot.subjects)
    stage = Usd.Stage.Open(str(path))
    names = [p.GetName() for p in stage.GetPrimAtPath("/Shot/Characters").GetChildren()]
    assert len(set(names)) == 5 and all(Sdf.Path.IsValidIdentifier(n) for n in names)


# ----------------------------------------------------------------------------- the camera


def test_the_camera_round_trips_with_the_same_pixels_as_usds_maths(tmp_path: Path) -> None:
    pairs = _scene(2) + _scene(6)
    shot, blocking = _master()
    for angle in (Angle.DUTCH, Angle.OVERHEAD, Angle.LOW):
        tilted = shot.model_copy(update={"angle": angle, "code": f"003_9{len(pairs):03d}"})
        pairs.append((tilted, block_scene([tilted], example_scenes()[2][0])[tilted.code]))
    for shot, blocking in pairs:
        path = _saved(tmp_path, shot, blocking)
        stage = Usd.Stage.Open(str(path))
        camera = read_camera(path)
        written = blocking.camera
        assert camera.focal_length_mm == written.focal_length_mm
        assert (camera.horizontal_aperture_mm, camera.vertical_aperture_mm) == (36.0, 20.25)
        assert (camera.near, camera.far) == pytest.approx((written.near, written.far))
        assert np.allclose(camera.matrix(), written.matrix(), atol=1e-9)
        assert camera.target == pytest.approx(written.target, abs=1e-5)  # focusDistance is a float
        points = [m.at(f) for m in blocking.marks.values() for f in (0.0, EYES, 1.0)]
        points += [b.top for b in blocking.set.dressing] + [written.target]
        checked = 0
        for point in points:
            try:
                ours = project(point, camera, W, H)
            except ValueError:
                continue  # behind the camera: no pixel to compare
            assert ours == pytest.approx(_usd_pixel(stage, point), abs=0.01), (shot.code, point)
            assert ours == pytest.approx(project(point, written, W, H), abs=0.01)
            checked += 1
        assert checked >= 2


def _mm(stage: Usd.Stage, attribute: Usd.Attribute) -> float:
    """An attribute in tenths of a scene unit (USD's unit for lenses) as millimetres, with
    pxr's own reading of the stage's unit, as a DCC does it."""
    return attribute.Get() * 0.1 * UsdGeom.GetStageMetersPerUnit(stage) * 1000.0


def test_a_dcc_reads_the_lens_the_shot_list_asked_for(tmp_path: Path) -> None:
    for shot, blocking in _scene(2):
        stage = Usd.Stage.Open(str(_saved(tmp_path, shot, blocking)))
        camera = UsdGeom.Camera(stage.GetPrimAtPath("/Shot/Camera"))
        assert UsdGeom.GetStageMetersPerUnit(stage) == 1.0
        assert _mm(stage, camera.GetFocalLengthAttr()) == pytest.approx(shot.lens_mm, rel=1e-6)
        assert _mm(stage, camera.GetHorizontalApertureAttr()) == pytest.approx(36.0, rel=1e-6)
        assert _mm(stage, camera.GetVerticalApertureAttr()) == pytest.approx(20.25, rel=1e-6)
        assert lens_mm(stage, camera.GetFocalLengthAttr().Get()) == shot.lens_mm
        # The same lens on a centimetre stage (USD's default unit, Maya's): the same millimetres.
        UsdGeom.SetStageMetersPerUnit(stage, 0.01)
        assert lens_mm(stage, 35.0) == 35.0


def _in_millimetres(path: Path, out: Path) -> Path:
    """The layout as contract version 1 wrote it: lens and apertures in millimetres."""
    stage = Usd.Stage.Open(str(path))
    root = stage.GetDefaultPrim()
    root.SetCustomDataByKey("soundstage:version", 1)  # the key path inside the soundstage dictionary
    camera = UsdGeom.Camera(stage.GetPrimAtPath("/Shot/Camera"))
    for attribute in (
        camera.GetFocalLengthAttr(),
        camera.GetHorizontalApertureAttr(),
        camera.GetVerticalApertureAttr(),
    ):
        attribute.Set(_mm(stage, attribute))
    stage.GetRootLayer().Export(str(out))
    return out


def test_previs_draws_the_same_pictures_from_the_lens_in_usd_units(tmp_path: Path) -> None:
    # What the renderer drew from the millimetre layouts it draws, pixel for pixel, from the
    # layouts in USD's units; and the burn-in still names the lens in millimetres.
    pairs = _scene(2)[:3]
    with PrevisRenderer() as renderer:
        for shot, blocking in pairs:
            path = _saved(tmp_path, shot, blocking)
            old = _in_millimetres(path, tmp_path / f"{shot.code}_mm.usda")
            written = Usd.Stage.Open(str(old))
            assert written.GetDefaultPrim().GetCustomDataByKey("soundstage")["version"] == 1
            new_scene, old_scene = load_scene(path), load_scene(old)
            assert new_scene.slate == old_scene.slate == f"{shot.code}  {shot.size.value}  {shot.lens_mm:g}mm"
            assert np.array_equal(new_scene.projection, old_scene.projection)
            new, before = renderer.render(new_scene, 320, 180), renderer.render(old_scene, 320, 180)
            for name in ("storyboard", "depth", "lineart", "ids"):
                assert np.array_equal(getattr(new, name), getattr(before, name)), (shot.code, name)
            assert read_camera(old) == read_camera(path)


def test_an_edited_layout_is_read_back(tmp_path: Path) -> None:
    shot, blocking = next(pair for pair in _scene(6) if len(pair[1].marks) == 2)
    path = _saved(tmp_path, shot, blocking)
    written = path.read_bytes()

    # An artist moves MAISIE, turns her, and swaps the lens, in a DCC that keeps the ops...
    stage = Usd.Stage.Open(str(path))
    maisie = UsdGeom.Xformable(stage.GetPrimAtPath("/Shot/Characters/MAISIE"))
    translate, rotate = maisie.GetOrderedXformOps()
    translate.Set(Gf.Vec3d(-1.5, 0.0, -0.75))
    rotate.Set(45.0)
    # (a DCC writes an 85 mm lens in USD's unit, tenths of a scene unit: 0.85 on a metres stage)
    UsdGeom.Camera(stage.GetPrimAtPath("/Shot/Camera")).GetFocalLengthAttr().Set(0.85)
    # ...and FUSE in one that rewrites them as a single matrix.
    fuse = UsdGeom.Xformable(stage.GetPrimAtPath("/Shot/Characters/FUSE"))
    fuse.ClearXformOpOrder()
    matrix = Gf.Matrix4d().SetRotate(Gf.Rotation(Gf.Vec3d(0, 1, 0), -120.0)) * Gf.Matrix4d().SetTranslate((2, 0, 0.5))
    fuse.AddTransformOp().Set(matrix)
    stage.GetRootLayer().Save()
    assert path.read_bytes() != written

    marks = read_marks(path)
    assert (marks["MAISIE"].x, marks["MAISIE"].z, marks["MAISIE"].facing_deg) == pytest.approx((-1.5, -0.75, 45.0))
    assert (marks["FUSE"].x, marks["FUSE"].z, marks["FUSE"].facing_deg) == pytest.approx((2.0, 0.5, -120.0))
    assert read_camera(path).focal_length_mm == 85.0


def test_a_camera_an_artist_renamed_is_still_found(tmp_path: Path) -> None:
    shot, blocking = _master()
    stage = _stage(shot, blocking)
    stage.GetRootLayer().GetPrimAtPath("/Shot/Camera").name = "ShotCam"
    path = tmp_path / "edited.usda"
    save_layout(stage, path)
    assert read_camera(path).focal_length_mm == shot.lens_mm


# ----------------------------------------------------------------------------- errors


def test_a_layout_without_a_camera_names_the_file_and_the_prim(tmp_path: Path) -> None:
    shot, blocking = _master()
    stage = _stage(shot, blocking)
    stage.RemovePrim("/Shot/Camera")
    path = tmp_path / "layouts" / "003" / f"{shot.code}.usda"
    save_layout(stage, path)
    with pytest.raises(ShotError) as raised:
        read_camera(path)
    assert str(raised.value) == f"{path}: no camera prim under /Shot"


def test_a_layout_that_cannot_be_written_is_a_one_line_error(tmp_path: Path) -> None:
    shot, blocking = _master()
    blocked = tmp_path / "layouts"
    blocked.write_text("a file where the layouts folder should be", encoding="utf-8")
    with pytest.raises(ShotError, match="cannot write the layout"):
        save_layout(_stage(shot, blocking), blocked / "003" / f"{shot.code}.usda")


def test_a_file_that_is_not_usd_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "012_0030.usda"
    path.write_text('#usda 1.0\ndef Xform "Shot" {\n  this is not usd\n', encoding="utf-8")
    for read in (read_camera, read_marks):
        with pytest.raises(ShotError) as raised:
            read(path)
        assert str(raised.value) == f"{path}: not a readable USD layout"
    with pytest.raises(ShotError, match="no such layout file"):
        read_camera(tmp_path / "missing.usda")


# ----------------------------------------------------------------------------- determinism


def test_the_same_shot_gives_the_same_bytes_and_saves_atomically(tmp_path: Path) -> None:
    shot, blocking = _master()
    first, second = (export_layout(_stage(shot, blocking)) for _ in range(2))
    assert first == second
    breakdown, shots = example_scenes()[2]
    again = block_scene(shots, breakdown)  # the blocking made again
    assert export_layout(_stage(shot, again[shot.code])) == first
    path = tmp_path / "layouts" / "003" / f"{shot.code}.usda"
    written = save_layout(_stage(shot, blocking), path)
    assert written == first == path.read_bytes()
    save_layout(_stage(shot, blocking), path)  # over an existing file
    assert path.read_bytes() == first
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # as any file the artists make
    assert b"tmp" not in first.lower() and b"anon" not in first.lower()


def test_marks_read_back_equal_the_blocking(tmp_path: Path) -> None:
    shot, blocking = _master()
    marks = read_marks(_saved(tmp_path, shot, blocking))
    for name, mark in blocking.marks.items():
        read = marks[name]
        assert (read.x, read.z, read.facing_deg, read.height) == pytest.approx(
            (mark.x, mark.z, mark.facing_deg, mark.height)
        )
