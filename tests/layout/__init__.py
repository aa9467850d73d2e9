"""Tests of blocking: framing maths and the USD layouts.

``example_scenes`` gives each scene of the project's example screenplay with the shots the
coverage rules propose for it, the real input blocking works from; ``planned`` does the same
for any screenplay, with the scenes themselves (what motion is read from).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from soundstage.config import Plan
from soundstage.plan.coverage import cover_scene
from soundstage.plan.model import Shot
from soundstage.script.breakdown import SceneBreakdown, break_down
from soundstage.script.formats import parse_script
from soundstage.script.model import Scene

from conftest import EXAMPLE


@cache
def example_scenes() -> tuple[tuple[SceneBreakdown, tuple[Shot, ...]], ...]:
    """Every scene of the example with its planned shots (scenes numbered from 1)."""
    script = parse_script(EXAMPLE.read_bytes(), EXAMPLE)
    scenes, previous = [], None
    for number, (scene, breakdown) in enumerate(zip(script.scenes, break_down(script)), start=1):
        shots = cover_scene(scene, breakdown, str(number), previous, Plan(), 24)
        scenes.append((breakdown, tuple(shots)))
        previous = breakdown.location
    return tuple(scenes)


@cache
def planned(path: Path) -> tuple[tuple[Scene, SceneBreakdown, tuple[Shot, ...]], ...]:
    """Every scene of a screenplay with its breakdown and planned shots (scenes numbered
    from 1, the plan's defaults at 24 fps)."""
    script = parse_script(path.read_bytes(), path)
    scenes, previous = [], None
    for number, (scene, breakdown) in enumerate(zip(script.scenes, break_down(script)), start=1):
        shots = cover_scene(scene, breakdown, str(number), previous, Plan(), 24)
        scenes.append((scene, breakdown, tuple(shots)))
        previous = breakdown.location
    return tuple(scenes)


def shot_covering(path: Path, line: int) -> tuple[Scene, SceneBreakdown, tuple[Shot, ...], Shot]:
    """The scene of a screenplay that holds source ``line``, and the shot that covers it."""
    for scene, breakdown, shots in planned(path):
        for shot in shots:
            if line in shot.lines:
                return scene, breakdown, shots, shot
    raise LookupError(f"{path}: no shot covers line {line}")
