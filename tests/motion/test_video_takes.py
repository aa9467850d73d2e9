"""Takes of a moving shot through the queue: recipes of the shot's frames at the production's
rate, conditioned on the previs clips, made by the video backend (previs by default) into MP4
clips in the media store, listed, and reproduced frame by frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soundstage.errors import ShotError
from soundstage.generate import clips
from soundstage.generate.backend import DEPTH, IDS, LINEART, STORYBOARD
from soundstage.generate.metadata import read_recipe
from soundstage.project import Production, TakeOptions

from .test_previs_clips import MOVING, STATIC


def _done(production: Production, code: str):
    return [t for t in production.takes(code) if t.path is not None]


def test_take_then_work_on_a_moving_shot_makes_a_clip(copy_production: Production, cli) -> None:
    root = copy_production.root
    shot = copy_production.shot(MOVING)
    passes = copy_production.pass_clips(MOVING)
    copy_production.close()
    result = cli("-p", root, "take", MOVING, "--no-run")
    assert result.code == 0, result.out + result.err
    assert cli("-p", root, "work", "--workers", 1).code == 0
    with Production.open(root) as production:
        (take,) = _done(production, MOVING)
        assert take.path.suffix == ".mp4"
        recipe = take.recipe
        assert (recipe.backend, recipe.frames, recipe.fps) == ("previs", shot.frames, "24")
        # The roles are the pass clips, so the take follows the blocking frame by frame.
        assert {role: recipe.conditioning[role] for role in (STORYBOARD, DEPTH, LINEART, IDS)} == passes.shas
        data = take.path.read_bytes()
        clip = clips.read_clip(data, "the take")
        assert len(clip.frames) == shot.frames and clip.fps == 24
        assert clip.frames[0].shape == (recipe.height, recipe.width, 3)
        assert read_recipe(data) == recipe
        # The previs take is the storyboard clip (near-lossless H.264): frame n is the
        # storyboard's frame n, not another one, so it moves as the blocking does.
        board = clips.read_clip(passes.paths[STORYBOARD].read_bytes(), "storyboard").frames
        last = shot.frames - 1
        for n in (0, last):
            here = np.abs(clip.frames[n].astype(int) - board[n]).mean()
            there = np.abs(clip.frames[n].astype(int) - board[last - n]).mean()
            assert here < 2 < there, (n, here, there)
    again = cli("-p", root, "take", "reproduce", f"{MOVING}/1")
    assert again.code == 0, again.out
    assert "reproduced" in again.out


def test_frames_override_and_its_limits(copy_production: Production) -> None:
    (job,) = copy_production.queue_takes(MOVING, TakeOptions(frames=12))
    (still,) = copy_production.queue_takes(MOVING, TakeOptions(frames=1))
    copy_production.work(workers=1)
    made = {t.recipe.frames: t for t in _done(copy_production, MOVING)}
    assert sorted(made) == [1, 12]
    assert made[1].path.suffix == ".png"
    # A still take of a moving shot reads the first frame's passes, the PNGs.
    assert made[1].recipe.conditioning[STORYBOARD] != copy_production.pass_clips(MOVING).shas[STORYBOARD]
    assert made[12].recipe.conditioning[STORYBOARD] == copy_production.pass_clips(MOVING).shas[STORYBOARD]
    assert len(clips.read_clip(made[12].path.read_bytes(), "take").frames) == 12
    frames = copy_production.shot(MOVING).frames
    with pytest.raises(ShotError, match=f"{frames} frames; --frames {frames + 1} asks for more"):
        copy_production.queue_takes(MOVING, TakeOptions(frames=frames + 1))
    with pytest.raises(ShotError, match="a still shot"):
        copy_production.queue_takes(STATIC, TakeOptions(frames=8))


def test_a_changed_clip_take_is_named_by_its_first_differing_frame(copy_production: Production, cli) -> None:
    (job,) = copy_production.queue_takes(MOVING, TakeOptions(frames=10))
    copy_production.work(workers=1)
    (take,) = _done(copy_production, MOVING)
    # The stored pass clip changes from frame 4 on (an artist's re-render, say): the stored
    # take no longer is what its recipe makes, and reproduce says from which frame.
    board = copy_production.pass_clips(MOVING).paths[STORYBOARD]
    frames = clips.read_clip(board.read_bytes(), "storyboard").frames
    changed = [f if n < 4 else 255 - f for n, f in enumerate(frames)]
    _replace(board, clips.write_clip(changed, copy_production.settings.fps, lossless=True))
    again = copy_production.reproduce_take(take.name)
    assert not again.same and not again.identical_pictures
    assert again.first_differing_frame == 4
    root = copy_production.root
    copy_production.close()
    result = cli("-p", root, "take", "reproduce", take.name)
    assert result.code == 1 and "differs from frame 4" in result.out


def _replace(path: Path, data: bytes) -> None:
    """Overwrite a media object (read-only in the store) as a damaged or swapped file would be."""
    path.chmod(0o644)
    path.write_bytes(data)
