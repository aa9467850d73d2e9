"""Previs passes rendered for real on the headless GL context, from stages built per the
layout contract: the camera matches USD's maths, the passes line up, errors are one line."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pxr import Gf, Sdf, Usd, UsdGeom

from soundstage.errors import RenderError
from soundstage.render.gl import gl_context
from soundstage.render.previs import INK, SKY, Passes, PrevisRenderer, contact_sheet, load_scene, read_png, to_png

from . import (
    HEIGHT,
    WIDTH,
    add_box,
    add_camera,
    add_character,
    add_floor,
    add_marker,
    add_mesh,
    new_shot,
    project,
)


@pytest.fixture(scope="module")
def renderer() -> Iterator[PrevisRenderer]:
    renderer = PrevisRenderer()
    yield renderer
    renderer.close()


def render(renderer: PrevisRenderer, stage: Usd.Stage, **options: object) -> Passes:
    stage.Save()
    return renderer.render(load_scene(Path(stage.GetRootLayer().realPath)), **options)


def ring(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` with a 4-neighbour outside it (or on the frame's edge)."""
    inner = np.zeros_like(mask)
    inner[1:-1, 1:-1] = mask[1:-1, 1:-1] & mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
    return mask & ~inner


def grow(mask: np.ndarray) -> np.ndarray:
    """``mask`` and its 4-neighbours."""
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    return grown


CAMERAS = {
    "35mm": {"eye": (0.4, 1.6, 4.0), "target": (0.0, 1.2, -2.0), "focal_length": 35.0},
    "85mm rolled": {"eye": (-1.0, 1.2, 6.0), "target": (0.5, 1.4, -1.0), "focal_length": 85.0, "roll_degrees": 25.0},
    "18mm low, rolled": {"eye": (0.0, 0.4, 2.0), "target": (0.3, 1.8, -3.0), "focal_length": 18.0, "roll_degrees": -10},
}
# Where the markers should land (pixels, corners included) and how far along the ray they are.
TARGETS = [((40.5, 30.5), 3.0), ((1236.2, 688.9), 9.0), ((640.0, 360.0), 5.0), ((200.25, 600.75), 12.0)]


@pytest.mark.parametrize("camera", CAMERAS.values(), ids=CAMERAS.keys())
def test_markers_land_on_the_pixel_the_usd_camera_predicts(tmp_path: Path, renderer: PrevisRenderer, camera) -> None:
    stage = new_shot(tmp_path / "shot.usda")
    usd_camera = add_camera(stage, **camera)
    frustum = usd_camera.GetCamera(Usd.TimeCode.Default()).frustum
    points = {}
    for number, ((x, y), distance) in enumerate(TARGETS, start=1):
        ray = frustum.ComputePickRay(Gf.Vec2d(x / WIDTH * 2 - 1, 1 - y / HEIGHT * 2))
        point = ray.startPoint + ray.direction.GetNormalized() * distance
        # About seven pixels across, whatever the lens and distance.
        half = 3.5 * distance * 36.0 / (camera["focal_length"] * WIDTH)
        holder = UsdGeom.Xform.Define(stage, f"/Shot/Characters/Marker{number}").GetPrim()
        holder.CreateAttribute("soundstage:characterId", Sdf.ValueTypeNames.Int).Set(number)
        add_marker(stage, f"/Shot/Characters/Marker{number}/Quad", point, camera["eye"], half, (0.9, 0.2, 0.7))
        points[number] = point

    passes = render(renderer, stage)

    offsets = []
    not_sky = np.any(passes.storyboard != np.round(np.array(SKY) * 255).astype(np.uint8), axis=2)
    for number, point in points.items():
        expected = np.array(project(stage, point))
        rows, columns = np.nonzero(passes.ids == number)
        assert len(rows) > 20, f"marker {number} is missing"
        offsets.append(np.array([columns.mean(), rows.mean()]) + 0.5 - expected)  # pixel centres at +0.5
        # The colour pass draws the same marker in the same place (its outline included).
        near = np.zeros_like(not_sky)
        near[rows.min() - 3 : rows.max() + 4, columns.min() - 3 : columns.max() + 4] = True
        rows, columns = np.nonzero(not_sky & near)
        assert np.abs(np.array([columns.mean(), rows.mean()]) + 0.5 - expected).max() <= 1.0
    # Within a pixel each (a marker covers whole pixels), and no shift common to all of them:
    # half a pixel off in the pixel-centre convention would show here.
    assert np.abs(offsets).max() <= 1.0
    assert np.abs(np.mean(offsets, axis=0)).max() < 0.25


def test_passes_line_up_pixel_for_pixel(tmp_path: Path, renderer: PrevisRenderer) -> None:
    stage = new_shot(tmp_path / "shot.usda")
    # A wall square to the camera fills the frame behind one character.
    add_box(stage, "/Shot/Set/Walls/Back", (-20, -10, -6.2), (20, 20, -6), (0.7, 0.7, 0.6))
    add_character(stage, "MAISIE", 4, (0.3, 0, -1), facing_degrees=25)
    add_camera(stage, (0, 1.2, 3), (0, 1.2, -1))

    passes = render(renderer, stage)

    assert all(getattr(passes, name).shape[:2] == (HEIGHT, WIDTH) for name in ("storyboard", "depth", "lineart", "ids"))
    maisie = passes.ids == 4
    assert 0.02 < maisie.mean() < 0.5
    # The wall is the farthest surface, at one distance: everything nearer is the character.
    assert np.array_equal(maisie, passes.depth > 1)
    assert np.all(passes.depth[~maisie] == 1)
    # Line art outlines the character on both sides of its edge and draws nothing on the wall.
    outline = ring(maisie) | ring(~maisie)
    assert np.all(passes.lineart[outline & ~ring(np.ones_like(maisie))] == 255)
    assert np.all(passes.lineart[~grow(maisie)] == 0)
    assert set(np.unique(passes.lineart)) == {0, 255}
    # The storyboard inks exactly the line-art pixels.
    assert np.array_equal(np.all(passes.storyboard == INK, axis=2), passes.lineart == 255)


def test_depth_is_16_bit_inverse_distance_near_bright(tmp_path: Path, renderer: PrevisRenderer) -> None:
    stage = new_shot(tmp_path / "shot.usda")
    add_camera(stage, (0, 1, 0), (0, 1, -1))
    centres = {2.0: (-0.5, 1.2, -2.0), 5.0: (0.6, 0.8, -5.0), 12.0: (0.0, 1.0, -12.0)}
    for distance, (x, y, z) in centres.items():
        s = distance * 0.08  # squares square to the camera: one distance across each
        add_mesh(
            stage,
            f"/Shot/Set/Dressing/Block_{int(distance)}",
            [(x - s, y - s, z), (x + s, y - s, z), (x + s, y + s, z), (x - s, y + s, z)],
            [(0, 1, 2, 3)],
            (0.5, 0.5, 0.5),
        )

    passes = render(renderer, stage)

    assert passes.depth.dtype == np.uint16
    value = {d: int(passes.depth[round(project(stage, c)[1]), round(project(stage, c)[0])]) for d, c in centres.items()}
    assert value[2.0] == 65535 and value[12.0] == 1
    assert value[5.0] == pytest.approx(1 + (1 / 5 - 1 / 12) / (1 / 2 - 1 / 12) * 65534, abs=1)
    assert passes.depth[0, 0] == 0  # sky
    near, far = passes.depth_range
    assert near == pytest.approx(2.0, rel=1e-5) and far == pytest.approx(12.0, rel=1e-5)
    # The documented inverse gives the distance back.
    inverse = 1 / far + (value[5.0] - 1) / 65534 * (1 / near - 1 / far)
    assert 1 / inverse == pytest.approx(5.0, abs=1e-3)
    assert np.array_equal(read_png(to_png(passes.depth)), passes.depth)


def test_creases_get_lines_and_smooth_surfaces_do_not(tmp_path: Path, renderer: PrevisRenderer) -> None:
    stage = new_shot(tmp_path / "shot.usda")
    # A 48-sided column: neighbouring faces meet at 7.5 degrees, a smooth surface.
    sides = 48
    ring_points = [(0.5 * np.cos(a), 0.5 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, sides, endpoint=False)]
    points = [(x - 1, y, z - 4) for x, z in ring_points for y in (0.0, 2.0)]
    faces = [(2 * i, 2 * ((i + 1) % sides), 2 * ((i + 1) % sides) + 1, 2 * i + 1) for i in range(sides)]
    add_mesh(stage, "/Shot/Set/Dressing/Column", points, faces, (0.6, 0.6, 0.7))
    # A box turned 45 degrees (through its Xform): its front corner is a crease.
    turned = UsdGeom.Xform.Define(stage, "/Shot/Set/Dressing/Turned")
    turned.AddTranslateOp().Set(Gf.Vec3d(1, 0, -4))
    turned.AddRotateYOp().Set(45.0)
    add_box(stage, "/Shot/Set/Dressing/Turned/Block_1", (-0.5, 0, -0.5), (0.5, 1.5, 0.5), (0.4, 0.5, 0.7))
    add_camera(stage, (0, 1, 2), (0, 1, -4))

    passes = render(renderer, stage)

    x_left, y = (round(v) for v in project(stage, (-1.5, 1.0, -4.0)))
    x_right, _ = (round(v) for v in project(stage, (-0.5, 1.0, -4.0)))
    assert np.all(passes.lineart[y, x_left + 4 : x_right - 4] == 0)
    x_corner, y_corner = project(stage, (1.0, 1.0, -4 + 0.5 * np.sqrt(2)))
    assert passes.lineart[round(y_corner), round(x_corner) - 1 : round(x_corner) + 1].max() == 255


def test_a_surface_in_front_of_itself_gets_a_line_and_a_grazing_floor_none(
    tmp_path: Path, renderer: PrevisRenderer
) -> None:
    stage = new_shot(tmp_path / "shot.usda")
    # One smooth ground mesh with a hill, fine around the hill and coarse where it is flat: the
    # crest hides ground farther back, on the same surface, and the ground runs out to 150 m.
    xs = np.r_[np.arange(-100, -5, 5.0), np.arange(-5, 5, 0.5), np.arange(5, 100.1, 5.0)]
    zs = np.r_[np.arange(-150, -12, 5.0), np.arange(-12, 0.1, 0.5)]
    heights = np.exp(-(xs[None, :] ** 2 + (zs[:, None] + 6) ** 2) / (2 * 1.5**2))
    points = [(x, heights[j, i], z) for j, z in enumerate(zs) for i, x in enumerate(xs)]
    n = len(xs)
    faces = [
        (j * n + i, (j + 1) * n + i, (j + 1) * n + i + 1, j * n + i + 1)
        for j in range(len(zs) - 1)
        for i in range(n - 1)
    ]
    add_mesh(stage, "/Shot/Set/Floor", points, faces, (0.5, 0.6, 0.4))
    add_camera(stage, (0, 1.6, 0), (0, 1.6, -10), focal_length=18, clipping=(0.1, 1000))

    passes = render(renderer, stage)

    assert len(np.unique(load_scene(tmp_path / "shot.usda").surfaces)) == 1
    column, crest = (round(v) for v in project(stage, (0.0, 1.0, -6.0)))
    assert passes.lineart[crest - 3 : crest + 2, column].max() == 255
    # Above the crest the ground runs to its far edge at a grazing angle: no lines.
    far_edge = round(project(stage, (0.0, 0.0, -150.0))[1])
    assert not passes.lineart[far_edge + 2 : crest - 3, column].any()


def test_scene_reads_characters_transforms_and_slate(tmp_path: Path) -> None:
    stage = new_shot(tmp_path / "shot.usda", shot="012_0040", size="CU")
    add_floor(stage)
    add_character(stage, "MAISIE", 3, (1.0, 0, -2))
    hidden = add_box(stage, "/Shot/Set/Dressing/Block_9", (0, 0, 0), (1, 1, 1), (1, 1, 1))
    hidden.MakeInvisible()
    add_camera(stage, (0, 1.5, 3), (0, 1.4, -2), focal_length=50)
    stage.Save()

    scene = load_scene(tmp_path / "shot.usda")

    assert scene.characters == {3: "MAISIE"}
    assert scene.slate == "012_0040  CU  50mm"
    assert len(scene.triangles) == 2 + 12 + 12  # floor quad, body and head boxes; the hidden block is skipped
    assert sorted(np.unique(scene.character_ids)) == [0, 3]
    maisie = scene.triangles[scene.character_ids == 3]
    assert maisie[..., 0].min() == pytest.approx(1 - 0.22) and maisie[..., 2].max() == pytest.approx(-2 + 0.14)
    assert scene.camera_path == "/Shot/Camera"
    assert scene.clipping_range == pytest.approx((0.1, 200.0))


def test_an_empty_set_renders_sky(tmp_path: Path, renderer: PrevisRenderer) -> None:
    stage = new_shot(tmp_path / "shot.usda")
    add_camera(stage, (0, 1, 0), (0, 1, -1), path="/Shot/Cameras/A")  # found though not at /Shot/Camera

    passes = render(renderer, stage)

    assert np.all(passes.storyboard == np.round(np.array(SKY) * 255).astype(np.uint8))
    assert not passes.depth.any() and not passes.ids.any() and not passes.lineart.any()
    assert passes.depth_range is None


def test_burn_in_changes_only_its_corner(tmp_path: Path, renderer: PrevisRenderer) -> None:
    stage = new_shot(tmp_path / "shot.usda")
    add_floor(stage)
    add_character(stage, "MAISIE", 3, (0, 0, -2))
    add_camera(stage, (0, 1.5, 3), (0, 1.0, -2))
    stage.Save()
    scene = load_scene(tmp_path / "shot.usda")

    plain = renderer.render(scene)
    slated = renderer.render(scene, burn_in=scene.slate)

    rows, columns = np.nonzero(np.any(plain.storyboard != slated.storyboard, axis=2))
    assert len(rows) > 200
    assert rows.min() > 0.9 * HEIGHT and columns.max() < 0.4 * WIDTH
    for name in ("depth", "lineart", "ids"):
        assert np.array_equal(getattr(plain, name), getattr(slated, name))


def test_one_context_for_many_shots_and_no_growth(tmp_path: Path, renderer: PrevisRenderer) -> None:
    # A floor of 12800 triangles: 1.7 MB of vertices per shot if they were never released.
    cells = 80
    grid = [(x * 0.25 - 10, 0.0, z * 0.25 - 10) for z in range(cells + 1) for x in range(cells + 1)]
    quads = [
        (z * (cells + 1) + x, (z + 1) * (cells + 1) + x, (z + 1) * (cells + 1) + x + 1, z * (cells + 1) + x + 1)
        for z in range(cells)
        for x in range(cells)
    ]
    paths = []
    for number in range(5):
        stage = new_shot(tmp_path / f"shot{number}.usda")
        add_mesh(stage, "/Shot/Set/Floor", grid, quads, (0.55, 0.5, 0.45))
        add_box(stage, "/Shot/Set/Walls/Back", (-6, 0, -6), (6, 3, -5.8), (0.7, 0.7, 0.6))
        add_character(stage, "MAISIE", 3, (number * 0.3 - 0.6, 0, -2))
        add_character(stage, "TOM", 5, (1.0, 0, -3 - number * 0.2), color=(0.2, 0.5, 0.3))
        add_camera(stage, (0.2 * number, 1.5, 3), (0, 1.1, -2), focal_length=30 + 5 * number)
        stage.Save()
        paths.append(stage.GetRootLayer().realPath)
    # The first shots warm up what stays: render targets, the burn-in font, llvmpipe's bins.
    for shot in range(50):
        passes = renderer.render(load_scene(Path(paths[shot % 5])), burn_in=f"shot {shot}")
        assert passes.ids.any() and renderer._ctx is gl_context()
        if shot == 9:
            warm = _resident_bytes()

    # Keeping one pass (0.9 MB), the vertices (1.7 MB) or one set of render targets (13 MB)
    # per shot would add up to far more over forty shots.
    assert _resident_bytes() - warm < 8 * 2**20


def _resident_bytes() -> int:
    """Resident memory in use: glibc keeps freed frames in its heap for reuse, which makes
    resident memory swing by tens of MB between shots unless it is trimmed first."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_unreadable_file_is_one_line_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "012_0030.usda"
    broken.write_text('#usda 1.0\n(\n    defaultPrim = "Shot"\n)\ndef Xform "Shot" {\n    not usd at all\n}\n')
    for path in (broken, tmp_path / "missing.usda"):
        with pytest.raises(RenderError) as raised:
            load_scene(path)
        message = str(raised.value)
        assert "\n" not in message and str(path) in message


def test_missing_camera_is_one_line_naming_file_and_prim(tmp_path: Path) -> None:
    stage = new_shot(tmp_path / "012_0030.usda")
    add_floor(stage)
    stage.Save()
    with pytest.raises(RenderError) as raised:
        load_scene(tmp_path / "012_0030.usda")
    message = str(raised.value)
    assert "\n" not in message and str(tmp_path / "012_0030.usda") in message and "/Shot/Camera" in message


def test_malformed_mesh_names_its_prim(tmp_path: Path) -> None:
    stage = new_shot(tmp_path / "shot.usda")
    add_mesh(stage, "/Shot/Set/Floor", [(0, 0, 0), (1, 0, 0), (1, 0, 1)], [(0, 1, 2, 7)], (0.5, 0.5, 0.5))
    add_camera(stage, (0, 1, 3), (0, 0, 0))
    stage.Save()
    with pytest.raises(RenderError, match="/Shot/Set/Floor"):
        load_scene(tmp_path / "shot.usda")


def test_character_id_beyond_8_bits_names_its_prim(tmp_path: Path) -> None:
    stage = new_shot(tmp_path / "shot.usda")
    add_character(stage, "MAISIE", 300)
    add_camera(stage, (0, 1, 3), (0, 1, 0))
    stage.Save()
    with pytest.raises(RenderError, match="/Shot/Characters/Maisie/Body: soundstage:characterId 300"):
        load_scene(tmp_path / "shot.usda")


def test_pngs_round_trip_every_pass(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    for number, array in enumerate(
        (
            rng.integers(0, 256, (9, 16, 3), dtype=np.uint8),
            rng.integers(0, 256, (9, 16), dtype=np.uint8),
            rng.integers(0, 65536, (9, 16), dtype=np.uint16),
        )
    ):
        png = tmp_path / f"{number}.png"
        png.write_bytes(to_png(array))
        for back in (read_png(png.read_bytes()), read_png(png)):
            assert back.dtype == array.dtype and np.array_equal(back, array)


def test_contact_sheet_lays_out_thumbnails_with_their_codes() -> None:
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40), (40, 200, 200)]
    frames = [(f"012_00{i}0", np.full((HEIGHT, WIDTH, 3), colour, np.uint8)) for i, colour in enumerate(colours, 1)]

    sheet = contact_sheet(frames, columns=4, thumb_width=160)

    assert sheet.dtype == np.uint8 and sheet.ndim == 3 and sheet.shape[2] == 3
    corners = []
    for colour in colours:
        cell = np.argwhere(np.all(sheet == colour, axis=2))
        assert len(cell) == 160 * 90  # 1280x720 shrinks to 160x90, pasted whole
        corners.append(tuple(cell.min(axis=0)))
    (top, left), (next_top, next_left) = corners[0], corners[4]
    assert [t for t, _ in corners[:4]] == [top] * 4 and next_top > top + 90
    assert sorted(x for _, x in corners[:4]) == [x for _, x in corners[:4]] and next_left == left
    for top, left in corners:
        # The shot code is written under its thumbnail in dark ink.
        label = sheet[top + 90 : top + 90 + 24, left : left + 160]
        assert (label.max(axis=2) < 100).sum() > 30
