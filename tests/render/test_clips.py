"""Previs clips rendered for real on the headless GL context: every frame is the still of the
layout at that time code (same camera read, same passes), known points land where USD's
maths puts them on several frames, labels only touch the storyboard, and the clips go
through real FFmpeg (PyAV) and come back frame-exact at their rate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from layout import shot_covering  # the example's real shots, planned as the layout tests plan them
from pxr import Gf, Usd, UsdGeom

from soundstage.errors import RenderError
from soundstage.layout.action import scene_motion
from soundstage.layout.framing import CHIN, EYES, block_scene, character_colour, in_frame, project
from soundstage.layout.motion import ShotMotion
from soundstage.layout.standins import StandIns
from soundstage.layout.usd import build_layout, read_camera, read_marks, save_layout
from soundstage.plan.model import Move, Shot
from soundstage.render.clips import ClipRenderer, ShotClip, clip_timing
from soundstage.render.previs import PASSES, Passes, PrevisRenderer, load_scene
from soundstage.render.video import (
    ClipWriter,
    encode_clip,
    probe_pass,
    read_manifest,
    read_pass,
    read_pass_frame,
)

from . import add_box, add_camera, add_floor, add_marker, look_at, new_shot
from conftest import EXAMPLE

SMALL = (640, 360)


@pytest.fixture(scope="module")
def clips() -> Iterator[ClipRenderer]:
    renderer = ClipRenderer()
    yield renderer
    renderer.close()


def _example(
    tmp_path: Path,
    line: int,
    *,
    move: Move | None = None,
    frames: int | None = None,
    rate: int | Fraction = 24,
    stand_ins: StandIns | None = None,
) -> tuple[Path, Shot, dict[str, int], ShotMotion]:
    """The example's shot covering ``line``, animated, as a layout file."""
    scene, breakdown, shots, shot = shot_covering(EXAMPLE, line)
    update: dict[str, object] = {}
    if move is not None:
        update["move"] = move
    if frames is not None:
        update["frames"] = frames
    shot = shot.model_copy(update=update)
    shots = tuple(shot if s.code == shot.code else s for s in shots)
    blockings = block_scene(shots, breakdown, props=True)
    motion = scene_motion(shots, scene, breakdown, blockings, rate)[shot.code]
    blocking = blockings[shot.code]
    names = sorted(blocking.marks)
    ids = {name: i * 40 for i, name in enumerate(names, start=1)}
    colours = {n: character_colour(n, ids[n]) for n in names}
    stage = build_layout(shot, blocking, colours, ids, stand_ins=stand_ins, motion=motion)
    path = tmp_path / f"{shot.code}.usda"
    save_layout(stage, path)
    return path, shot, ids, motion


def _same(a: Passes, b: Passes, names=PASSES) -> bool:
    return all(np.array_equal(getattr(a, n), getattr(b, n)) for n in names) and a.depth_range == b.depth_range


def test_every_frame_is_the_still_at_its_time_code(tmp_path: Path, clips: ClipRenderer) -> None:
    # OSWIN shuffles in while the camera pushes in: both the figure and the camera move.
    path, shot, _, motion = _example(tmp_path, 54, move=Move.PUSH_IN, stand_ins=StandIns(labels=False))
    clip = ShotClip(path)
    assert clip.timing.frames == shot.frames and clip.timing.rate == 24 and not clip.timing.static
    (move,) = motion.moves
    sampled = (0, move.start_frame + 7, (move.start_frame + move.end_frame) // 2, shot.frames - 1)
    # Drawn in the clip's pipeline (the next frame drawn while this one is finished).
    played = {n: passes for n, passes in enumerate(clips.frames(clip, *SMALL)) if n in sampled}
    still = PrevisRenderer()
    try:
        for frame in sampled:
            drawn = still.render(load_scene(path, time=frame), *SMALL)
            assert _same(played[frame], drawn), frame
            assert _same(clips.renderer.render(clip.geometry(frame), *SMALL), drawn), frame
    finally:
        still.close()


def test_a_static_shot_is_one_frame_the_still_itself(tmp_path: Path, clips: ClipRenderer) -> None:
    path, shot, _, motion = _example(tmp_path, 70)  # JUNO's MS, nobody moves
    assert motion.static
    clip = ShotClip(path)
    assert clip.timing.static and clip.timing.frames == 1
    (only,) = list(clips.frames(clip, *SMALL, burn_in="slate"))
    still = PrevisRenderer()
    try:
        assert _same(only, still.render(load_scene(path), *SMALL, burn_in="slate"))
    finally:
        still.close()


def test_known_points_land_on_the_predicted_pixels_frame_after_frame(tmp_path: Path, clips: ClipRenderer) -> None:
    path, shot, ids, motion = _example(tmp_path, 54, move=Move.PAN)
    (move,) = motion.moves
    clip = ShotClip(path)
    width, height = SMALL
    seen = set()
    for frame in (move.start_frame, move.start_frame + 20, move.end_frame, shot.frames - 1):
        passes = clips.renderer.render(clip.geometry(frame), width, height)
        camera, marks = read_camera(path, frame), read_marks(path, frame)
        for name, mark in marks.items():
            # The middle of the head, between chin and eyes: the id pass has the character there.
            point = (mark.x, (CHIN + EYES) / 2 * mark.height, mark.z)
            if not in_frame(point, camera, width, height):
                continue  # the pan has not found them yet
            u, v = project(point, camera, width, height)
            assert passes.ids[int(v), int(u)] == ids[name], (name, frame)
            seen.add((name, frame))
    assert len(seen) >= 4 and len({frame for _, frame in seen}) == 4


def test_a_moving_marker_is_found_within_a_pixel(tmp_path: Path, clips: ClipRenderer) -> None:
    """A hand-keyed stage, as a DCC writes one: a red marker flies past while the camera
    trucks; on every sampled frame the marker's centroid is where USD projects its centre."""
    stage = new_shot(tmp_path / "marker.usda")
    stage.SetStartTimeCode(1)
    stage.SetEndTimeCode(25)
    stage.SetTimeCodesPerSecond(30)
    stage.SetFramesPerSecond(30)
    add_floor(stage)
    add_box(stage, "/Shot/Set/Wall", (-4, 0, -4), (4, 3, -3.8), (0.6, 0.6, 0.6))
    marker = add_marker(stage, "/Shot/Set/Marker", (0, 0, 0), (0, 0, 1), 0.06, (1.0, 0.1, 0.1))
    op = UsdGeom.Xformable(marker).AddTranslateOp()
    op.Set(Gf.Vec3d(-1.0, 1.2, -1.0), 1)
    op.Set(Gf.Vec3d(1.0, 1.6, -2.0), 25)
    camera = add_camera(stage, (0, 1.5, 5), (0, 1.4, 0))
    transform = camera.GetOrderedXformOps()[0]
    transform.GetAttr().Clear()
    transform.Set(look_at((0, 1.5, 5), (0, 1.4, 0)), 1)
    transform.Set(look_at((1.5, 1.5, 5), (1.5, 1.4, 0)), 25)
    stage.Save()
    path = Path(stage.GetRootLayer().realPath)
    clip = ShotClip(path)
    assert (clip.timing.frames, clip.timing.rate, clip.timing.times[0]) == (25, 30, 1.0)
    frames = list(clips.frames(clip, *SMALL))
    for index in (0, 8, 16, 24):
        time = clip.timing.times[index]
        centre = op.Get(time)
        frustum = UsdGeom.Camera(stage.GetPrimAtPath("/Shot/Camera")).GetCamera(time).frustum
        clip_point = Gf.Vec4d(*centre, 1) * frustum.ComputeViewMatrix() * frustum.ComputeProjectionMatrix()
        u = (clip_point[0] / clip_point[3] * 0.5 + 0.5) * SMALL[0]
        v = (0.5 - clip_point[1] / clip_point[3] * 0.5) * SMALL[1]
        red = (frames[index].storyboard[..., 0] > 180) & (frames[index].storyboard[..., 1] < 60)
        rows, columns = np.nonzero(red)
        assert len(rows) > 20
        assert abs(columns.mean() + 0.5 - u) < 1.0 and abs(rows.mean() + 0.5 - v) < 1.0, index


def test_labels_paint_the_storyboard_only_and_hide_behind_the_scene(tmp_path: Path, clips: ClipRenderer) -> None:
    labelled, _, _, _ = _example(tmp_path / "on", 54, stand_ins=StandIns())
    plain, _, _, _ = _example(tmp_path / "off", 54, stand_ins=StandIns(labels=False))
    on = next(iter(clips.frames(ShotClip(labelled), *SMALL)))
    off = next(iter(clips.frames(ShotClip(plain), *SMALL)))
    assert _same(on, off, ("depth", "lineart", "ids"))
    changed = np.any(on.storyboard != off.storyboard, axis=2)
    assert 200 < changed.sum() < 0.05 * changed.size
    # The labels float above the heads: nothing changed below the top of the lowest head.
    assert not changed[np.nonzero(off.ids.any(axis=1))[0].max() :].any()
    # A wall in front of everyone hides the labels as it hides the figures.
    stage = Usd.Stage.Open(str(labelled))
    camera = read_camera(labelled)
    z = camera.position[2] - 0.6
    add_box(stage, "/Shot/Set/Flat", (-20, 0, z - 0.05), (20, 6, z), (0.5, 0.5, 0.5))
    stage.Save()
    hidden = next(iter(clips.frames(ShotClip(labelled), *SMALL)))
    assert not hidden.ids.any()
    assert len(np.unique(hidden.storyboard.reshape(-1, 3), axis=0)) < 6  # the flat grey and its ink


def test_clips_encode_and_decode_frame_exact(tmp_path: Path, clips: ClipRenderer) -> None:
    path, shot, _, _ = _example(tmp_path, 54, frames=30, rate=Fraction(24000, 1001), stand_ins=StandIns())
    clip = ShotClip(path)
    assert clip.timing.rate == Fraction(24000, 1001) and clip.timing.frames == 30
    rendered = list(clips.frames(clip, *SMALL))
    files = encode_clip(iter(rendered), tmp_path, shot.code, SMALL, clip.timing.rate, len(rendered))
    assert sorted(files.paths) == sorted(PASSES)
    assert files.depth_ranges == tuple(p.depth_range for p in rendered)
    for name, file in files.paths.items():
        info = probe_pass(file)
        assert (info.name, info.rate, info.frames, info.size) == (name, Fraction(24000, 1001), 30, SMALL)
        decoded = list(read_pass(file))
        assert len(decoded) == 30
        assert all(np.array_equal(d, getattr(r, name)) for d, r in zip(decoded, rendered)), name
        for index in (0, 13, 29):
            assert np.array_equal(read_pass_frame(file, index), getattr(rendered[index], name)), (name, index)
    manifest = files.manifest()
    assert manifest["rate"] == "24000/1001" and manifest["frames"] == 30 and len(manifest["depth_ranges"]) == 30
    back = read_manifest(files.manifest_bytes(), "clip.json")
    assert (back.rate, back.frames, back.size, back.depth_ranges) == (files.rate, 30, SMALL, files.depth_ranges)
    without_ids = json.loads(files.manifest_bytes())
    del without_ids["passes"]["ids"]
    with pytest.raises(RenderError, match="clip.json: the previs clip has no ids pass"):
        read_manifest(json.dumps(without_ids).encode(), "clip.json")


def test_a_static_clip_is_one_frame(tmp_path: Path, clips: ClipRenderer) -> None:
    path, shot, _, _ = _example(tmp_path, 70)
    clip = ShotClip(path)
    files = encode_clip(clips.frames(clip, *SMALL), tmp_path, shot.code, SMALL, clip.timing.rate, clip.timing.frames)
    assert all(probe_pass(f).frames == 1 for f in files.paths.values())


def test_a_clip_short_of_frames_is_refused_and_leaves_nothing(tmp_path: Path, clips: ClipRenderer) -> None:
    path, shot, _, _ = _example(tmp_path, 54, frames=12)
    clip = ShotClip(path)
    frames = list(clips.frames(clip, *SMALL))
    with pytest.raises(RenderError, match="11 of 12 frames"):
        encode_clip(iter(frames[:-1]), tmp_path / "out", shot.code, SMALL, clip.timing.rate, 12)
    assert not any((tmp_path / "out").iterdir())
    with pytest.raises(RenderError, match="must be even"):
        ClipWriter(tmp_path, "odd", (641, 360), Fraction(24), 1)
    with pytest.raises(RenderError, match="not a Soundstage previs clip|not a readable video"):
        probe_pass(path)


def test_timing_of_a_stage_keyed_in_a_dcc(tmp_path: Path) -> None:
    stage = new_shot(tmp_path / "dcc.usda")
    stage.SetFramesPerSecond(25)
    stage.SetTimeCodesPerSecond(25)
    add_floor(stage)
    camera = add_camera(stage, (0, 1.5, 5), (0, 1.4, 0))
    op = camera.GetOrderedXformOps()[0]
    op.GetAttr().Clear()
    op.Set(look_at((0, 1.5, 5), (0, 1.4, 0)), 10)
    op.Set(look_at((0, 1.5, 4), (0, 1.4, 0)), 40)
    stage.Save()
    timing = clip_timing(Usd.Stage.Open(str(tmp_path / "dcc.usda")))
    assert (timing.rate, timing.frames, timing.times[0], timing.times[-1], timing.static) == (25, 31, 10.0, 40.0, False)


def test_the_face_shows_which_way_a_figure_looks_in_a_wide_shot(tmp_path: Path, clips: ClipRenderer) -> None:
    path, shot, ids, _ = _example(tmp_path, 54, stand_ins=StandIns(labels=False))
    assert shot.size.value == "WS"

    def pale_pixels() -> int:
        passes = next(iter(clips.frames(ShotClip(path), 1280, 720)))
        maisie = passes.ids == ids["MAISIE"]
        rgb = passes.storyboard.astype(float) / 255
        value, low = rgb.max(axis=2), rgb.min(axis=2)
        saturation = (value - low) / np.maximum(value, 1e-6)
        # The toon bands darken a colour, they keep its saturation; the face is paler.
        return int((maisie & (value > 0.3) & (saturation < 0.45)).sum())

    facing = pale_pixels()
    stage = Usd.Stage.Open(str(path))
    turn = UsdGeom.Xformable(stage.GetPrimAtPath("/Shot/Characters/MAISIE")).GetOrderedXformOps()[1]
    turn.Set(turn.Get() + 180.0)  # her back to the camera
    stage.Save()
    away = pale_pixels()
    assert facing > 150 and away < facing / 10, (facing, away)
