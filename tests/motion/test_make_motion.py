"""``soundstage make`` on a small screenplay of our own with one moving shot: previs renders the
shot as a clip, its take is a clip, and the animatic plays it, so the moving shot moves in
cut.mp4 (its frames differ, each the clip's own) while a static shot holds."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest

from soundstage.cut.timeline import resolve_media_url
from soundstage.generate import clips

SCREENPLAY = """\
Title: The Keeper's Walk
Author: Soundstage tests

INT. LIGHTHOUSE LAMP ROOM - NIGHT

A round room of brass and glass. The great lamp turns slowly.

MAISIE stands by the door, a lantern in her hand.

MAISIE walks across to the window.

MAISIE
Still no ship.
"""
SIZE = (96, 54)
SLATE_S = 0.5
BURN_IN = 18  # rows at the bottom the burn-ins may cover at this size


@pytest.fixture(autouse=True)
def small_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small animatic without scratch dialogue, so every shot keeps its planned frames."""
    for key, value in (
        ("WIDTH", SIZE[0]),
        ("HEIGHT", SIZE[1]),
        ("SCRATCH_DIALOGUE", "false"),
        ("HEAD_SLATE_S", SLATE_S),
    ):
        monkeypatch.setenv(f"SOUNDSTAGE_CUT__{key}", str(value))


def _picture(frame: np.ndarray) -> np.ndarray:
    """A frame above the burn-ins, as signed integers."""
    return frame[: SIZE[1] - BURN_IN].astype(int)


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(_picture(a) - _picture(b)).mean())


def test_make_shows_the_moving_shot_moving_in_the_animatic(tmp_path: Path, cli) -> None:
    script = tmp_path / "walk.fountain"
    script.write_text(SCREENPLAY, encoding="utf-8")
    out = tmp_path / "out"
    result = cli("make", script, "-o", out, "--size", f"{SIZE[0]}x{SIZE[1]}")
    assert result.code == 0, result.err

    cut = out / "cut"
    timeline = otio.adapters.read_from_file(str(cut / "cut.otio"))
    track = timeline.video_tracks()[0]
    placed = [(item, track.range_of_child_at_index(i)) for i, item in enumerate(track)]
    moving = [(item, at) for item, at in placed if item.metadata["soundstage"].get("clip_frames")]
    still = [(item, at) for item, at in placed if not item.metadata["soundstage"].get("clip_frames")]
    assert len(moving) >= 1 and still, [item.name for item, _ in placed]

    with av.open(str(cut / "cut.mp4")) as container:
        movie = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    slate = round(SLATE_S * 24)
    assert len(movie) == slate + round(track.duration().value)

    for item, at in moving:
        # The take is the shot's previs clip, all of it played (no dialogue lengthened the shot).
        take = resolve_media_url(item.media_reference.target_url, cut)
        assert take.suffix == ".mp4"
        frames = list(clips.ClipReader(take, item.name).frames())
        first, length = slate + round(at.start_time.value), round(at.duration.value)
        assert (
            item.source_range.start_time.value == 0
            and length == len(frames) == item.metadata["soundstage"]["clip_frames"]
        )
        shot = movie[first : first + length]
        # It moves: frames within the shot differ...
        assert _diff(shot[0], shot[-1]) > 4, item.name
        # ...and each is the clip's own frame at that place, not a neighbour's.
        for number in (0, length // 2, length - 1):
            assert _diff(shot[number], frames[number]) < 2, (item.name, number)
        assert _diff(shot[length - 1], frames[0]) > _diff(shot[length - 1], frames[length - 1])

    for item, at in still:
        if item.metadata["soundstage"]["move"] != "static":
            continue
        first, length = slate + round(at.start_time.value), round(at.duration.value)
        # A still holds (what differs is the encoder's noise over a held picture, about 1).
        assert _diff(movie[first], movie[first + length - 1]) < 2, item.name
