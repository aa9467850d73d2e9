"""Blocking maths: marks on the line of action, set dressing, and cameras that frame each
shot size, checked by projecting points of the figures through the camera."""

from __future__ import annotations

import colorsys
import math

import numpy as np
import pytest

from soundstage.layout.framing import (
    CHEST,
    CHIN,
    EYES,
    FRAMES,
    KNEES,
    SHOULDER_HALF_WIDTH,
    SHOULDERS,
    VERTICAL_APERTURE_MM,
    WAIST,
    Blocking,
    CameraSetup,
    block_scene,
    character_colour,
    in_frame,
    project,
    stage_cast,
)
from soundstage.plan.model import Angle, Purpose, Shot, ShotSize
from soundstage.script.breakdown import SceneBreakdown

from . import example_scenes

W, H = 1280, 720


def _breakdown(speaking=("MAISIE", "FUSE"), non_speaking=(), int_ext="INT", location="LIGHTHOUSE") -> SceneBreakdown:
    return SceneBreakdown(
        index=0, number=None, heading=f"{int_ext}. {location} - NIGHT", int_ext=int_ext, location=location,
        time_of_day="NIGHT", speaking=tuple(speaking), non_speaking=tuple(non_speaking), props=(), sounds=(), eighths=4,
    )  # fmt: skip


def _shot(size: ShotSize, subjects=(), angle=Angle.EYE, lens=50.0, code="001_0010", description="") -> Shot:
    return Shot(
        code=code, scene="1", size=size, angle=angle, lens_mm=lens, subjects=tuple(subjects), frames=48,
        purpose=Purpose.SINGLE, description=description,
    )  # fmt: skip


def _block(shot: Shot, breakdown: SceneBreakdown | None = None) -> Blocking:
    return block_scene([shot], breakdown or _breakdown())[shot.code]


def _pixel(blocking: Blocking, name: str, fraction: float) -> tuple[float, float]:
    return project(blocking.marks[name].at(fraction), blocking.camera, W, H)


def _forward(camera: CameraSetup) -> np.ndarray:
    return -camera.matrix()[:3, 2]


# ----------------------------------------------------------------------------- shot sizes

# Points of the figure (fractions of its height) in frame, and out of frame above and below.
CUTS = {
    ShotSize.ECU: ((EYES,), (1.0,), (CHIN,)),
    ShotSize.CU: ((1.0, CHIN, SHOULDERS), (), (CHEST,)),
    ShotSize.MCU: ((1.0, SHOULDERS, CHEST), (), (WAIST,)),
    ShotSize.MS: ((1.0, CHEST, WAIST), (), (KNEES,)),
    ShotSize.WS: ((1.0, KNEES, 0.0), (), ()),
}


@pytest.mark.parametrize("lens", [35.0, 50.0, 85.0])
@pytest.mark.parametrize("size", list(CUTS), ids=str)
def test_each_size_cuts_the_figure_where_its_name_says(size: ShotSize, lens: float) -> None:
    blocking = _block(_shot(size, ["MAISIE"], lens=lens))
    inside, above, below = CUTS[size]
    for fraction in inside:
        x, y = _pixel(blocking, "MAISIE", fraction)
        assert 0 < x < W and 0 < y < H, (fraction, x, y)
    assert all(_pixel(blocking, "MAISIE", f)[1] < 0 for f in above)
    assert all(_pixel(blocking, "MAISIE", f)[1] > H for f in below)


@pytest.mark.parametrize("size", [ShotSize.CU, ShotSize.MCU, ShotSize.MS], ids=str)
def test_close_sizes_keep_a_little_headroom_and_their_extent(size: ShotSize) -> None:
    blocking = _block(_shot(size, ["MAISIE"], lens=50.0))
    top = _pixel(blocking, "MAISIE", 1.0)[1]
    assert 0.02 * H < top < 0.15 * H
    # The frame is the size's extent tall at the subject: that much of the figure, from the
    # top of the frame down, spans the frame's height.
    extent = FRAMES[size].extent
    mark = blocking.marks["MAISIE"]
    frame_top = mark.at(1.0) + [0, FRAMES[size].headroom, 0]
    span = project(frame_top - [0, extent, 0], blocking.camera)[1] - project(frame_top, blocking.camera)[1]
    assert span == pytest.approx(H, rel=0.08)


def test_a_wide_shot_holds_the_whole_group_with_room() -> None:
    cast = ("MAISIE", "FUSE", "OSWIN", "JUNO")
    blocking = _block(_shot(ShotSize.WS, cast, lens=24.0), _breakdown(cast))
    for name in cast:
        x_top, y_top = _pixel(blocking, name, 1.0)
        x_feet, y_feet = _pixel(blocking, name, 0.0)
        assert min(x_top, x_feet) > 0.03 * W and max(x_top, x_feet) < 0.97 * W
        assert y_top > 0.05 * H and y_feet < 0.97 * H


def test_an_extreme_wide_shot_makes_the_figures_small_and_holds_the_set() -> None:
    blocking = _block(_shot(ShotSize.EWS, ["MAISIE", "FUSE"], angle=Angle.HIGH, lens=18.0))
    figure = _pixel(blocking, "MAISIE", 0.0)[1] - _pixel(blocking, "MAISIE", 1.0)[1]
    assert 0 < figure < H / 4
    for block in blocking.set.dressing:
        assert in_frame(block.top, blocking.camera)


def test_a_two_shot_frames_both_from_the_waist_up() -> None:
    blocking = _block(_shot(ShotSize.TWO_SHOT, ["MAISIE", "FUSE"], lens=35.0))
    for name in ("MAISIE", "FUSE"):
        for fraction in (1.0, CHEST, WAIST + 0.05):
            assert in_frame(blocking.marks[name].at(fraction), blocking.camera)
    assert _pixel(blocking, "MAISIE", EYES)[0] < W / 2 < _pixel(blocking, "FUSE", EYES)[0]


def test_an_establishing_shot_with_no_one_in_it_frames_the_set() -> None:
    for int_ext in ("INT", "EXT"):
        blocking = _block(_shot(ShotSize.WS, lens=24.0), _breakdown(int_ext=int_ext))
        assert blocking.marks == {}
        assert all(in_frame(block.top, blocking.camera) for block in blocking.set.dressing)


# ----------------------------------------------------------------------------- coverage


def test_over_the_shoulder_puts_the_listener_in_the_foreground_at_the_edge() -> None:
    for speaker, listener in (("FUSE", "MAISIE"), ("MAISIE", "FUSE")):
        blocking = _block(_shot(ShotSize.OTS, [speaker, listener]))
        camera = np.array(blocking.camera.position)
        near, far = (np.linalg.norm(blocking.marks[n].at(EYES) - camera) for n in (listener, speaker))
        assert near < far / 2
        x_listener, y_listener = _pixel(blocking, listener, EYES)
        x_speaker = _pixel(blocking, speaker, EYES)[0]
        assert 0 < y_listener < H
        # The back of the listener's head at one edge, the speaker beyond on the other half.
        assert (0 < x_listener < W / 4 and x_speaker > W / 2) or (0.75 * W < x_listener < W and x_speaker < W / 2)
        assert in_frame(blocking.marks[speaker].at(1.0), blocking.camera)
        assert in_frame(blocking.marks[speaker].at(CHEST), blocking.camera)
        # The listener's shoulder on the cameras' side is in the near foreground.
        shoulder = blocking.marks[listener].at(SHOULDERS) + [0, 0, SHOULDER_HALF_WIDTH]
        assert in_frame(shoulder, blocking.camera)


def test_a_pov_looks_from_the_viewers_eyes_at_the_other_character() -> None:
    blocking = _block(_shot(ShotSize.POV, ["MAISIE"], lens=35.0))
    eyes = blocking.marks["MAISIE"].at(EYES)
    assert np.linalg.norm(np.array(blocking.camera.position) - eyes) < 0.3
    x, y = _pixel(blocking, "FUSE", EYES)
    assert abs(x - W / 2) < 1 and abs(y - H / 2) < 1


def test_an_insert_frames_a_small_area_on_a_dressing_block() -> None:
    blocking = _block(_shot(ShotSize.INSERT, angle=Angle.HIGH, lens=100.0, description="BRASS LANTERN"))
    camera = blocking.camera
    assert blocking.marks == {}
    assert any(np.allclose(camera.target, block.top) for block in blocking.set.dressing)
    extent = camera.focus_distance * VERTICAL_APERTURE_MM / camera.focal_length_mm
    assert extent == pytest.approx(0.3, rel=0.01)
    assert project(camera.target, camera) == pytest.approx((W / 2, H / 2))


def test_eye_level_puts_the_camera_at_the_subjects_eyes() -> None:
    blocking = _block(_shot(ShotSize.MCU, ["FUSE"]))
    assert blocking.camera.position[1] == pytest.approx(blocking.marks["FUSE"].at(EYES)[1])


def test_high_and_low_angles_look_down_and_up() -> None:
    high = _block(_shot(ShotSize.MS, ["FUSE"], angle=Angle.HIGH)).camera
    pitch = math.degrees(math.asin(-_forward(high)[1]))
    assert 20 <= pitch <= 30
    assert high.position[1] > EYES * 1.7
    low = _block(_shot(ShotSize.MS, ["FUSE"], angle=Angle.LOW)).camera
    assert _forward(low)[1] > math.sin(math.radians(10))
    assert 0.3 <= low.position[1] < EYES * 1.7


def test_overhead_looks_straight_down_and_dutch_rolls_the_frame() -> None:
    overhead = _block(_shot(ShotSize.MS, ["FUSE"], angle=Angle.OVERHEAD)).camera
    assert _forward(overhead)[1] < -0.99
    dutch = _block(_shot(ShotSize.MCU, ["FUSE"], angle=Angle.DUTCH)).camera
    # A level line across the view through the target leans 15 degrees in frame.
    across = np.cross(_forward(dutch), [0.0, 1.0, 0.0])
    (x0, y0), (x1, y1) = (project(np.array(dutch.target) + s * 0.2 * across, dutch) for s in (-1, 1))
    assert abs(math.degrees(math.atan2(y1 - y0, x1 - x0))) == pytest.approx(15.0, abs=0.01)


# ----------------------------------------------------------------------------- a whole scene


def test_every_camera_of_every_scene_keeps_the_180_degree_rule() -> None:
    """Over the example's whole coverage: every camera on the +Z side of the line; whoever
    stands further left on the line is further left in every frame; and a single's subject
    looks across frame towards the side of the line the others stand on."""
    singles = 0
    for breakdown, shots in example_scenes():
        blockings = block_scene(shots, breakdown)
        assert set(blockings) == {shot.code for shot in shots}
        for shot in shots:
            blocking = blockings[shot.code]
            camera = blocking.camera
            assert camera.position[2] > 0, shot.code
            visible = sorted(
                (m.x, project(m.at(EYES), camera)[0]) for m in blocking.marks.values() if in_frame(m.at(EYES), camera)
            )
            assert [x for _, x in visible] == sorted(x for _, x in visible), shot.code
            if len(blocking.marks) == 1 and len(breakdown.speaking) > 1 and shot.size in CUTS:
                mark = next(iter(blocking.marks.values()))
                if abs(mark.x) > 0.1:
                    eyes = mark.at(EYES)
                    look = project(eyes + 0.3 * mark.facing, camera)[0] - project(eyes, camera)[0]
                    assert np.sign(look) == -np.sign(mark.x), shot.code
                    singles += 1
    assert singles > 20  # the example has plenty of dialogue singles


def test_a_scene_keeps_its_marks_from_shot_to_shot() -> None:
    breakdown, shots = example_scenes()[2]  # the lamp shop: four characters
    marks: dict[str, tuple] = {}
    for blocking in block_scene(shots, breakdown).values():
        for name, mark in blocking.marks.items():
            assert marks.setdefault(name, mark) == mark
    assert set(marks) == set(breakdown.speaking)


def test_two_characters_face_each_other_and_a_group_stands_on_an_arc() -> None:
    a, b = stage_cast(["MAISIE", "FUSE"]).values()
    assert (b.x - a.x, a.z, b.z) == (pytest.approx(1.2), 0.0, 0.0)
    assert np.allclose(a.facing, [1, 0, 0]) and np.allclose(b.facing, [-1, 0, 0])
    group = list(stage_cast(["A", "B", "C", "D", "E"]).values())
    xs = [m.x for m in group]
    assert xs == sorted(xs) and np.allclose(np.diff(xs), 1.0)
    assert group[0].z == group[-1].z == 0 and all(m.z <= 0 for m in group) and min(m.z for m in group) < -0.5
    # Everyone plays towards the cameras' side and towards the middle of the group.
    assert all(m.facing[2] > 0 and m.facing[0] * m.x <= 0 for m in group)


def test_the_set_is_dressed_from_the_location_beside_the_cast() -> None:
    cast = ("MAISIE", "FUSE", "OSWIN")
    first = _block(_shot(ShotSize.WS, cast), _breakdown(cast, location="TALLOW LAMP SHOP")).set
    again = _block(_shot(ShotSize.MS, ["OSWIN"]), _breakdown(cast, location="TALLOW LAMP SHOP")).set
    other = _block(_shot(ShotSize.WS, cast), _breakdown(cast, location="HARBOUR PIER")).set
    assert first == again and first.dressing != other.dressing
    for stage_set in (first, other):
        assert 2 <= len(stage_set.dressing) <= 4
        assert stage_set.interior and stage_set.depth > 0
        for block in stage_set.dressing:
            # Clear of the cast's mark (1 m either side of the middle one) and inside the room.
            assert abs(block.x) - block.width / 2 > 1.0 + SHOULDER_HALF_WIDTH
            assert abs(block.x) + block.width / 2 < stage_set.width / 2
            assert -stage_set.depth < block.z - block.depth / 2
    assert not _block(_shot(ShotSize.WS), _breakdown(int_ext="EXT")).set.interior


# ----------------------------------------------------------------------------- colours, projection


def test_character_colours_are_stable_saturated_and_apart() -> None:
    assert character_colour("MAISIE") == character_colour("MAISIE") != character_colour("FUSE")
    hues = []
    for character_id in range(1, 9):
        colour = character_colour("ANY", character_id)
        assert max(colour) - min(colour) > 0.5  # far from the set's greys
        hues.append(colorsys.rgb_to_hsv(*colour)[0])
    gaps = [min(abs(a - b), 1 - abs(a - b)) for i, a in enumerate(hues) for b in hues[i + 1 :]]
    assert min(gaps) > 0.08


def test_project_maps_the_target_to_the_centre_and_refuses_points_behind() -> None:
    camera = CameraSetup(position=(0.0, 1.5, 3.0), target=(0.0, 1.5, 0.0), focal_length_mm=36.0)
    assert project((0.0, 1.5, 0.0), camera) == pytest.approx((640.0, 360.0))
    # 36 mm lens, 36 mm wide: at 3 m the frame is 3 m wide; 0.75 m right is a quarter width.
    assert project((0.75, 1.5, 0.0), camera) == pytest.approx((960.0, 360.0))
    assert project((0.0, 1.5 + 0.84375, 0.0), camera) == pytest.approx((640.0, 0.0))
    with pytest.raises(ValueError):
        project((0.0, 1.5, 4.0), camera)
    assert not in_frame((0.0, 1.5, 4.0), camera)
