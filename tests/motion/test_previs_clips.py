"""Previs in time through the production: a moving shot's layout is animated, and
``soundstage previs`` stores each of its passes as a lossless clip of the shot's frames,
aligned with one another and with the still passes of its first frame."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from soundstage.generate import clips
from soundstage.layout.animation import read_motion
from soundstage.project import Production
from soundstage.render.previs import PASSES, read_png

MOVING = "004_0060"  # the one shot of scene 4 whose action moves someone
STATIC = "004_0010"


def _centre(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


def test_a_moving_shot_has_every_pass_as_a_clip_of_its_frames(copy_production: Production) -> None:
    production = copy_production
    shot = production.shot(MOVING)
    motion = read_motion(production.layout_path(shot))
    assert motion is not None and not motion.static
    stored = production.pass_clips(MOVING)
    assert stored is not None
    assert stored.frames == shot.frames == motion.frames
    assert stored.fps == production.settings.fps == Fraction(24)
    decoded = {name: clips.read_clip(stored.paths[name].read_bytes(), name) for name in PASSES}
    for name, clip in decoded.items():
        assert stored.paths[name].suffix == ".mkv"
        assert len(clip.frames) == shot.frames, name
        assert clip.fps == stored.fps
    # Lossless: the clips' first frame is the stored still of each pass, bit for bit (grey
    # passes come back spread over RGB; depth stays 16-bit).
    render = production.context.media
    with production.context.reading() as session:
        from soundstage.store.tables import RenderRow, ShotRow

        row = session.query(RenderRow).join(ShotRow).filter(ShotRow.code == MOVING).one()
        stills = {name: read_png(render.path(getattr(row, f"{name}_sha256"), ".png")) for name in PASSES}
    for name in PASSES:
        first = decoded[name].frames[0]
        still = stills[name]
        assert np.array_equal(first if first.ndim == still.ndim else first[..., 0], still), name
    assert decoded["depth"].frames[0].dtype == np.uint16
    # Aligned: on every frame a character's pixels in the id pass are nearer than the sky in
    # the depth pass, and the line art outlines them.
    for number in (0, shot.frames // 2, shot.frames - 1):
        ids = decoded["ids"].frames[number][..., 0]
        depth = decoded["depth"].frames[number]
        figure = ids > 0
        assert figure.any(), number
        assert (depth[figure] > 0).all(), number
    # It moves: the characters are elsewhere at the end than at the start.
    start, end = (_centre(decoded["ids"].frames[n][..., 0] > 0) for n in (0, shot.frames - 1))
    assert np.linalg.norm(start - end) > 5


def test_a_static_shot_stays_one_frame(copy_production: Production) -> None:
    assert read_motion(copy_production.layout_path(copy_production.shot(STATIC))) is None
    assert copy_production.pass_clips(STATIC) is None
    assert copy_production.storyboard(STATIC).suffix == ".png"


@pytest.mark.parametrize("size", [(320, 180)])
def test_an_unchanged_moving_shot_is_not_rendered_again(copy_production: Production, size) -> None:
    before = copy_production.pass_clips(MOVING)
    report = copy_production.previs(size=size, scene="4")
    assert MOVING not in report.rendered and report.up_to_date == len(copy_production.shots("4"))
    assert copy_production.pass_clips(MOVING) == before


def test_previs_again_by_force_gives_the_same_clips(copy_production: Production, cli) -> None:
    before = copy_production.pass_clips(MOVING)
    root, count = copy_production.root, len(copy_production.shots("4"))
    copy_production.close()
    result = cli("-p", root, "previs", "--scene", "4", "--size", "320x180", "--force")
    assert result.code == 0, result.err
    assert f"{count} shots rendered (1 moving, as clips), 0 up to date" in result.out
    with Production.open(root) as production:
        assert production.pass_clips(MOVING) == before  # the same frames give the same bytes
