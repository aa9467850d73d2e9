"""Tests of blocking: framing maths and the USD layouts.

``example_scenes`` gives each scene of the project's example screenplay with the shots the
coverage rules propose for it, the real input blocking works from.
"""

from __future__ import annotations

from functools import cache

from soundstage.config import Plan
from soundstage.plan.coverage import cover_scene
from soundstage.plan.model import Shot
from soundstage.script.breakdown import SceneBreakdown, break_down
from soundstage.script.formats import parse_script

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
