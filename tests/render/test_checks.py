"""Framing checks on rendered shots: characters in frame, headroom by shot size."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pxr import Gf, Usd, UsdGeom

from soundstage.render.checks import CU_MAX_HEAD_TOP, FramingIssue, check_framing
from soundstage.render.previs import Passes, PrevisRenderer, load_scene

from . import HEIGHT, WIDTH, add_box, add_camera, add_character, add_floor, new_shot, project

MAISIE = {"MAISIE": 3}


@pytest.fixture(scope="module")
def renderer() -> Iterator[PrevisRenderer]:
    renderer = PrevisRenderer()
    yield renderer
    renderer.close()


def shot(path: Path, size: str, eye: tuple[float, ...], target: tuple[float, ...], lens: float) -> Usd.Stage:
    """MAISIE (1.7 m) on her mark in a room, seen by the given camera."""
    stage = new_shot(path, size=size)
    add_floor(stage)
    add_box(stage, "/Shot/Set/Walls/Back", (-6, 0, -6), (6, 4, -5.8), (0.7, 0.7, 0.6))
    add_character(stage, "MAISIE", 3, (0, 0, -2))
    add_character(stage, "TOM", 5, (2.5, 0, -4), color=(0.2, 0.5, 0.3))
    add_camera(stage, eye, target, focal_length=lens)
    stage.Save()
    return stage


def framing(renderer: PrevisRenderer, stage: Usd.Stage, size: str, expected: dict[str, int] = MAISIE):
    return check_framing(renderer.render(load_scene(Path(stage.GetRootLayer().realPath))), expected, size)


def test_a_character_in_frame_passes(tmp_path: Path, renderer: PrevisRenderer) -> None:
    stage = shot(tmp_path / "ms.usda", "MS", eye=(0, 1.5, 1.2), target=(0, 1.3, -2), lens=35)
    assert framing(renderer, stage, "MS") == []


def test_a_character_moved_out_of_frame_is_named(tmp_path: Path, renderer: PrevisRenderer) -> None:
    stage = shot(tmp_path / "ms.usda", "MS", eye=(0, 1.5, 1.2), target=(0, 1.3, -2), lens=35)
    # An artist moves MAISIE's mark off to the side, as in a DCC: her translate op.
    mark = UsdGeom.Xformable(stage.GetPrimAtPath("/Shot/Characters/Maisie")).GetOrderedXformOps()[0]
    mark.Set(Gf.Vec3d(12, 0, -2))
    stage.Save()

    issues = framing(renderer, stage, "MS", {"MAISIE": 3, "TOM": 5})

    assert issues == [FramingIssue("MAISIE", "MAISIE is not in frame (0.0% of the frame, needs 0.5%)")]


def test_a_cu_whose_head_touches_the_top_is_reported(tmp_path: Path, renderer: PrevisRenderer) -> None:
    stage = shot(tmp_path / "cu.usda", "CU", eye=(0, 1.45, -0.9), target=(0, 1.45, -2), lens=50)
    assert project(stage, (0, 1.7, -1.89))[1] < 0  # the top of her head is above the frame

    issues = framing(renderer, stage, "CU")

    assert issues == [FramingIssue("MAISIE", "no headroom: MAISIE's head touches the top of frame")]
    # An extreme close-up may cut the head; no headroom rule applies.
    assert framing(renderer, stage, "ECU") == []


def test_a_cu_with_too_much_headroom_is_reported(tmp_path: Path, renderer: PrevisRenderer) -> None:
    stage = shot(tmp_path / "cu.usda", "CU", eye=(0, 1.6, 0), target=(0, 1.75, -2), lens=50)
    head_top = project(stage, (0, 1.7, -1.89))[1] / HEIGHT
    assert head_top > CU_MAX_HEAD_TOP

    [issue] = framing(renderer, stage, "CU")

    assert issue.character == "MAISIE"
    said = re.fullmatch(
        r"too much headroom: MAISIE's head starts (\d+)% down the frame \(a CU wants it in the top 35%\)", issue.reason
    )
    assert said and abs(int(said.group(1)) - head_top * 100) <= 1
    # The same frame as a medium shot only needs the head inside the frame.
    assert framing(renderer, stage, "MS") == []


def test_an_ots_lets_the_near_shoulder_leave_frame_but_not_the_speaker(
    tmp_path: Path, renderer: PrevisRenderer
) -> None:
    stage = new_shot(tmp_path / "ots.usda", size="OTS")
    add_floor(stage)
    add_character(stage, "MAISIE", 3, (0.45, 0, -0.7), facing_degrees=180)  # the listener, back to camera
    add_character(stage, "FUSE", 7, (-0.3, 0, -3.5), color=(0.2, 0.3, 0.8))
    add_camera(stage, (0.3, 1.45, 0.3), (-0.3, 1.4, -3.5), focal_length=50)
    stage.Save()
    assert project(stage, (0.45, 1.7, -0.7 + 0.11))[1] < 0  # MAISIE's head leaves the top of frame

    assert framing(renderer, stage, "OTS", {"FUSE": 7, "MAISIE": 3}) == []
    # Framed as a two-shot, the same cut head is a problem.
    assert framing(renderer, stage, "2S", {"FUSE": 7, "MAISIE": 3}) == [
        FramingIssue("MAISIE", "no headroom: MAISIE's head touches the top of frame")
    ]


def ids_passes(ids: np.ndarray) -> Passes:
    """Passes around a given id mask: the checks read nothing else."""
    blank = np.zeros(ids.shape, np.uint8)
    return Passes(np.zeros((*ids.shape, 3), np.uint8), blank.astype(np.uint16), blank, ids, None)


def test_small_and_missing_characters_are_told_apart() -> None:
    ids = np.zeros((HEIGHT, WIDTH), np.uint8)
    ids[600:620, 100:130] = 3  # 600 px: 0.07% of the frame
    ids[200:400, 600:720] = 5  # 24000 px: 2.6%, headroom fine

    issues = check_framing(ids_passes(ids), {"MAISIE": 3, "TOM": 5, "ELSA": 9}, "CU")

    assert [(issue.character, issue.reason) for issue in issues] == [
        ("MAISIE", "MAISIE is barely in frame (0.1% of the frame, needs 3.0%)"),
        ("TOM", "TOM is too small for a CU (2.6% of the frame, needs 3.0%)"),
        ("ELSA", "ELSA is not in frame (0.0% of the frame, needs 3.0%)"),
    ]
    assert check_framing(ids_passes(ids), {"TOM": 5}, "WS") == []
