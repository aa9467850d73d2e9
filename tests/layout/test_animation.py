"""Animated layouts read back with pxr: time samples at the production's rate, positions at
given frames, the camera's moves, the derivations kept in customData, hand edits read at
their frame, static shots unchanged byte for byte, and the readable stand-ins (switchable
labels, faces, props)."""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from pxr import Gf, Usd, UsdGeom

from soundstage.layout.action import scene_motion
from soundstage.layout.animation import read_motion
from soundstage.layout.framing import Blocking, block_scene, character_colour, named_prop, project
from soundstage.layout.motion import CameraMotion, ShotMotion
from soundstage.layout.standins import StandIns, prop_colour
from soundstage.layout.usd import build_layout, export_layout, read_camera, read_marks, save_layout, set_labels
from soundstage.plan.model import Move, Purpose, Shot

from . import planned, shot_covering
from conftest import EXAMPLE

W, H = 1280, 720
READABLE = StandIns()


def _layout(
    tmp_path: Path,
    line: int,
    *,
    rate: int | Fraction = 24,
    stand_ins: StandIns | None = READABLE,
    move: Move | None = None,
) -> tuple[Path, Shot, Blocking, ShotMotion]:
    """The layout of the example's shot covering ``line``, animated, written to disk."""
    scene, breakdown, shots, shot = shot_covering(EXAMPLE, line)
    if move is not None:
        shot = shot.model_copy(update={"move": move})
        shots = tuple(shot if s.code == shot.code else s for s in shots)
    blockings = block_scene(shots, breakdown, props=True)
    motion = scene_motion(shots, scene, breakdown, blockings, rate)[shot.code]
    blocking = blockings[shot.code]
    path = tmp_path / f"{shot.code}.usda"
    save_layout(_build(shot, blocking, stand_ins, motion), path)
    return path, shot, blocking, motion


def _build(shot: Shot, blocking: Blocking, stand_ins: StandIns | None, motion: ShotMotion | None) -> Usd.Stage:
    names = sorted(blocking.marks)
    ids = {name: i for i, name in enumerate(names, start=1)}
    colours = {n: character_colour(n, ids[n]) for n in names}
    return build_layout(shot, blocking, colours, ids, stand_ins=stand_ins, motion=motion)


def _sampled(stage: Usd.Stage) -> list[str]:
    return [
        str(attribute.GetPath())
        for prim in stage.Traverse()
        for attribute in prim.GetAttributes()
        if attribute.GetNumTimeSamples() > 0
    ]


def test_an_entrance_is_time_samples_at_the_production_rate(tmp_path: Path) -> None:
    path, shot, blocking, motion = _layout(tmp_path, 54)
    (move,) = motion.moves
    stage = Usd.Stage.Open(str(path))
    assert stage.GetTimeCodesPerSecond() == stage.GetFramesPerSecond() == 24
    assert (stage.GetStartTimeCode(), stage.GetEndTimeCode()) == (0, shot.frames - 1)
    oswin = UsdGeom.Xformable(stage.GetPrimAtPath("/Shot/Characters/OSWIN"))
    translate = oswin.GetOrderedXformOps()[0]
    assert translate.GetAttr().GetTimeSamples()[0] == 0 and translate.GetAttr().Get() is None  # no default
    # Positions at given frames: off at the back, walking downstage, on the mark after.
    zs = [read_marks(path, frame)["OSWIN"].z for frame in range(move.start_frame, move.end_frame + 1, 6)]
    assert zs[0] == pytest.approx(move.start.z)
    assert all(b > a for a, b in zip(zs, zs[1:]))
    end = read_marks(path, move.end_frame + 5)["OSWIN"]
    mark = blocking.marks["OSWIN"]
    assert (end.x, end.z, end.facing_deg) == pytest.approx((mark.x, mark.z, mark.facing_deg), abs=1e-4)
    # Someone who does not move keeps one pose, no samples.
    assert not any("MAISIE" in p for p in _sampled(stage))
    assert read_marks(path)["OSWIN"].z == pytest.approx(move.start.z)  # no time: the first frame


def test_an_ntsc_rate_is_exact(tmp_path: Path) -> None:
    path, shot, _, motion = _layout(tmp_path, 54, rate=Fraction(24000, 1001))
    stage = Usd.Stage.Open(str(path))
    assert stage.GetTimeCodesPerSecond() == pytest.approx(24000 / 1001, abs=1e-12)
    assert stage.GetDefaultPrim().GetCustomDataByKey("soundstage")["rate"] == "24000/1001"
    assert read_motion(path) == motion
    assert motion.rate == Fraction(24000, 1001) and motion.frames == shot.frames


def test_the_derivations_are_kept_and_read_back(tmp_path: Path) -> None:
    path, _, _, motion = _layout(tmp_path, 137)
    kept = read_motion(path)
    assert kept == motion
    stage = Usd.Stage.Open(str(path))
    info = stage.GetDefaultPrim().GetCustomDataByKey("soundstage")
    assert list(info["motion"]["described"]) == motion.describe()
    assert any("FUSE enters (line 137)" in line for line in motion.describe())


@pytest.mark.parametrize("move", [Move.PUSH_IN, Move.PULL_OUT, Move.PAN, Move.TILT, Move.CRANE, Move.HANDHELD])
def test_the_camera_performs_the_shots_move(tmp_path: Path, move: Move) -> None:
    path, shot, blocking, _ = _layout(tmp_path, 70, move=move)  # JUNO's MS: "Mum's on the Starling..."
    stage = Usd.Stage.Open(str(path))
    camera = stage.GetPrimAtPath("/Shot/Camera")
    assert [op.GetOpName() for op in UsdGeom.Xformable(camera).GetOrderedXformOps()] == [
        "xformOp:translate",
        "xformOp:rotateXYZ",
    ]
    assert UsdGeom.Camera(camera).GetFocusDistanceAttr().GetNumTimeSamples() == shot.frames
    cameras = [read_camera(path, frame) for frame in range(shot.frames)]
    distances = [c.focus_distance for c in cameras]
    if move is Move.PUSH_IN:
        assert all(b < a for a, b in zip(distances, distances[1:]))
    if move is Move.PULL_OUT:
        assert all(b > a for a, b in zip(distances, distances[1:]))
    if move is Move.CRANE:
        assert cameras[0].position[1] > cameras[-1].position[1] + 1.0
    if move is not Move.HANDHELD:
        # Every move lands on the planned frame, read back through USD's rotateXYZ.
        assert cameras[-1].position == pytest.approx(blocking.camera.position, abs=1e-5)
        assert cameras[-1].target == pytest.approx(blocking.camera.target, abs=1e-5)
        assert cameras[-1].up == pytest.approx(blocking.camera.up, abs=1e-5)
    else:
        spread = np.ptp([c.position for c in cameras], axis=0)
        assert 0 < spread.max() < 0.05


def test_a_track_follows_the_runner(tmp_path: Path) -> None:
    path, shot, _, motion = _layout(tmp_path, 373)  # MRS. PARK runs down the gangway
    (run,) = [m for m in motion.moves if m.character == "MRS. PARK"]
    for frame in (run.start_frame, (run.start_frame + run.end_frame) // 2, run.end_frame):
        camera, runner = read_camera(path, frame), read_marks(path, frame)["MRS. PARK"]
        start = read_camera(path, 0)
        # The camera has moved with her, so she stays where the planned frame had her.
        assert camera.position[0] - start.position[0] == pytest.approx(runner.x - run.start.x, abs=1e-4)


def test_a_static_shot_is_written_as_before(tmp_path: Path) -> None:
    scene, breakdown, shots = planned(EXAMPLE)[2]
    blockings = block_scene(shots, breakdown)
    motions = scene_motion(shots, scene, breakdown, blockings, 24)
    static = [s for s in shots if motions[s.code].static]
    assert static
    for shot in static:
        written = export_layout(_build(shot, blockings[shot.code], None, motions[shot.code]))
        assert written == export_layout(_build(shot, blockings[shot.code], None, None))
        assert not _sampled(_build(shot, blockings[shot.code], None, motions[shot.code]))
        assert b"timeCodesPerSecond" not in written


def test_a_hand_edit_of_the_animation_is_read_at_its_frame(tmp_path: Path) -> None:
    path, _, _, motion = _layout(tmp_path, 54)
    (move,) = motion.moves
    before = path.read_bytes()
    stage = Usd.Stage.Open(str(path))
    translate = UsdGeom.Xformable(stage.GetPrimAtPath("/Shot/Characters/OSWIN")).GetOrderedXformOps()[0]
    translate.Set(Gf.Vec3d(2.0, 0.0, -1.0), move.start_frame + 12)  # an artist adds a key
    stage.Save()
    assert path.read_bytes() != before  # the project's hash sees the edit and keeps the file
    assert (read_marks(path, move.start_frame + 12)["OSWIN"].x, read_marks(path, move.start_frame + 12)["OSWIN"].z) == (
        pytest.approx(2.0),
        pytest.approx(-1.0),
    )
    assert read_motion(path) == motion  # the derivations are what Soundstage wrote


def test_labels_are_guides_in_a_variant_set_and_switch_off(tmp_path: Path) -> None:
    path, _, blocking, _ = _layout(tmp_path, 137)
    stage = Usd.Stage.Open(str(path))
    labels = [p for p in stage.Traverse() if p.HasAttribute("soundstage:label")]
    names = {str(p.GetAttribute("soundstage:label").Get()) for p in labels}
    assert set(blocking.marks) | set(blocking.props) == names
    assert all(UsdGeom.Imageable(p).GetPurposeAttr().Get() == UsdGeom.Tokens.guide for p in labels)
    variant = stage.GetDefaultPrim().GetVariantSets().GetVariantSet("labels")
    assert variant.GetVariantNames() == ["off", "on"] and variant.GetVariantSelection() == "on"
    assert all(UsdGeom.Imageable(p).ComputeVisibility() == UsdGeom.Tokens.inherited for p in labels)
    set_labels(stage, False)
    assert all(UsdGeom.Imageable(p).ComputeVisibility() == UsdGeom.Tokens.invisible for p in labels)
    off, _, _, _ = _layout(tmp_path / "off", 137, stand_ins=StandIns(labels=False))
    assert (
        Usd.Stage.Open(str(off)).GetDefaultPrim().GetVariantSets().GetVariantSet("labels").GetVariantSelection()
        == "off"
    )


def test_a_moving_character_s_label_keeps_facing_the_camera(tmp_path: Path) -> None:
    path, _, blocking, motion = _layout(tmp_path, 54)
    (move,) = motion.moves
    stage = Usd.Stage.Open(str(path))
    label = UsdGeom.Xformable(stage.GetPrimAtPath("/Shot/Characters/OSWIN/Label"))
    facings = set()
    for frame in range(move.start_frame, move.end_frame + 1, 4):
        normal = label.ComputeLocalToWorldTransform(frame).TransformDir(Gf.Vec3d(0, 0, 1))
        facings.add(round(math.degrees(math.atan2(normal[0], normal[2])), 3))
    assert len(facings) == 1  # the body turns, the label does not


def test_faces_are_tinted_on_the_head_mesh_itself(tmp_path: Path) -> None:
    path, _, _, _ = _layout(tmp_path, 54)
    stage = Usd.Stage.Open(str(path))
    head = UsdGeom.Mesh(stage.GetPrimAtPath("/Shot/Characters/MAISIE/Head"))
    colours = np.array(head.GetDisplayColorPrimvar().Get())
    assert head.GetDisplayColorPrimvar().GetInterpolation() == UsdGeom.Tokens.uniform
    assert len(colours) == len(head.GetFaceVertexCountsAttr().Get())
    face = colours.sum(axis=1) > colours.sum(axis=1).min() + 1e-3
    assert 0.1 < face.mean() < 0.5  # the front, not the whole head
    counts, indices = head.GetFaceVertexCountsAttr().Get(), np.array(head.GetFaceVertexIndicesAttr().Get())
    points = np.array(head.GetPointsAttr().Get())
    starts = np.cumsum([0, *counts[:-1]])
    middles = np.array([points[indices[s : s + c]].mean(axis=0) for s, c in zip(starts, counts)])
    assert middles[face][:, 2].min() > 0  # every tinted face is on the +Z side, where the nose is


def test_an_insert_frames_the_prop_it_names(tmp_path: Path) -> None:
    for _scene, breakdown, shots in planned(EXAMPLE):
        blockings = block_scene(shots, breakdown, props=True)
        for shot in shots:
            if shot.purpose is not Purpose.INSERT:
                continue
            blocking = blockings[shot.code]
            prop = named_prop(shot.description, list(blocking.props))
            assert prop is not None, shot.description
            x, y, z = blocking.props[prop]
            u, v = project((x, y + 0.09, z), blocking.camera, W, H)
            assert abs(u - W / 2) < 1 and abs(v - H / 2) < 1
    # The props stand in every shot of their scene, in their own colour.
    path, _, blocking, _ = _layout(tmp_path, 67)
    stage = Usd.Stage.Open(str(path))
    for name in blocking.props:
        box = next(p for p in stage.Traverse() if p.GetDisplayName() == name).GetChild("Box")
        assert tuple(UsdGeom.Mesh(box).GetDisplayColorPrimvar().Get()[0]) == pytest.approx(prop_colour(name))


def test_without_props_an_insert_is_blocked_as_before() -> None:
    scene, breakdown, shots = planned(EXAMPLE)[2]
    plain, with_props = block_scene(shots, breakdown), block_scene(shots, breakdown, props=True)
    for shot in shots:
        assert replace(with_props[shot.code], props={}).marks == plain[shot.code].marks
        if shot.purpose is not Purpose.INSERT:
            assert with_props[shot.code].camera == plain[shot.code].camera
    assert all(not b.props for b in plain.values())


def test_a_static_motion_writes_no_time(tmp_path: Path) -> None:
    scene, breakdown, shots = planned(EXAMPLE)[2]
    shot = shots[0]
    blocking = block_scene(shots, breakdown)[shot.code]
    motion = ShotMotion(Fraction(24), shot.frames, camera=CameraMotion(Move.STATIC))
    assert motion.static
    stage = _build(shot, blocking, StandIns(), motion)
    assert not _sampled(stage) and not stage.HasAuthoredTimeCodeRange()
