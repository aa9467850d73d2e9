"""Clip takes in the cut: the animatic plays a clip's frames over its shot (trimmed, or its last
frame held), with the burn-ins over them, in a segment named by the clip's hash; the OTIO
timeline, EDL, FCP XML and FCPXML carry the clip's source range. Read back with PyAV and OTIO's
own readers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest

from soundstage.cut.animatic import write_animatic
from soundstage.cut.timeline import CutShot, assemble, resolve_media_url, write_editorial
from soundstage.generate import clips

from .conftest import SIZE

FPS = 24
CLIP = 20  # frames of the clip take


def moving_frames(count: int, size: tuple[int, int] = SIZE) -> list[np.ndarray]:
    """Frames of a clip that say which they are: a white block ``8 * n`` pixels from the left
    on frame ``n``, over a sky and a ground."""
    width, height = size
    frames = []
    for number in range(count):
        frame = np.zeros((height, width, 3), np.uint8)
        frame[: height // 2] = (200, 180, 120)
        frame[height // 2 :] = (40, 90, 160)
        frame[40:100, 8 * number : 8 * number + 24] = 255
        frames.append(frame)
    return frames


def block_at(frame: np.ndarray) -> int:
    """Where the white block starts in a decoded frame (its left edge, in pixels)."""
    row = frame[70, :, :].min(axis=1)
    return int(np.flatnonzero(row > 230)[0])


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


@pytest.fixture
def clip_take(tmp_path: Path) -> Path:
    path = tmp_path / "003_0020_t1.mp4"
    path.write_bytes(clips.write_take(moving_frames(CLIP), Fraction(FPS)))
    return path


def cut_of(make_shot: Callable[..., CutShot], clip_take: Path, frames: int):
    shots = [make_shot("003_0010", 12), make_shot("003_0020", frames, image=clip_take, move="push-in")]
    return assemble("Pilot", shots, FPS, None)


@pytest.mark.parametrize("frames", [CLIP - 8, CLIP + 10], ids=["trimmed", "held"])
def test_the_animatic_plays_a_clip_take_frame_for_frame(
    make_shot: Callable[..., CutShot], clip_take: Path, tmp_path: Path, frames: int
) -> None:
    cut = cut_of(make_shot, clip_take, frames)
    assert cut.shots[1].clip_frames == CLIP and cut.shots[0].clip_frames == 0
    path = tmp_path / "cut.mp4"
    info = write_animatic(cut, path, size=SIZE, head_slate_s=0, burn_in=False)
    movie = decoded(path)
    assert len(movie) == info.frames == 12 + frames
    shot = movie[12:]
    # Frame n of the shot is frame n of the clip (the block 8n pixels in), up to its last,
    # which is held; a longer clip is cut at the shot's end. Its push-in is not drawn over it.
    assert [block_at(f) for f in shot] == [8 * min(n, CLIP - 1) for n in range(frames)]


def test_burn_ins_go_over_the_clip_once_and_the_segment_is_named_by_the_clip(
    make_shot: Callable[..., CutShot], clip_take: Path, tmp_path: Path
) -> None:
    cut = cut_of(make_shot, clip_take, CLIP)
    cache = tmp_path / "segments"
    plain = decoded(_written(cut, tmp_path / "plain.mp4", cache, burn_in=False))
    burnt_path = _written(cut, tmp_path / "burnt.mp4", cache)
    burnt = decoded(burnt_path)
    width, height = SIZE
    for number in (12, 12 + CLIP - 1):
        # The bottom strip carries the label and timecode; the picture above is the clip's.
        assert np.abs(burnt[number][: height - 20].astype(int) - plain[number][: height - 20]).mean() < 2
        assert np.abs(burnt[number][height - 14 :].astype(int) - plain[number][height - 14 :]).mean() > 5
    # A re-cut finds the clip's segment; another clip with the same length is another segment.
    again = write_animatic(cut, tmp_path / "again.mp4", size=SIZE, head_slate_s=0, segment_cache=cache)
    assert again.encoded == 0
    other = tmp_path / "other.mp4"
    other.write_bytes(clips.write_take(moving_frames(CLIP)[::-1], Fraction(FPS)))
    changed = assemble("Pilot", [cut.shots[0], replace(cut.shots[1], image=other)], FPS, None)
    info = write_animatic(changed, tmp_path / "changed.mp4", size=SIZE, head_slate_s=0, segment_cache=cache)
    assert info.encoded == 1  # the clip's shot only; the still's segment is the same
    assert block_at(decoded(tmp_path / "changed.mp4")[12]) == 8 * (CLIP - 1)


def _written(cut, path: Path, cache: Path, *, burn_in: bool = True) -> Path:
    write_animatic(cut, path, size=SIZE, head_slate_s=0, burn_in=burn_in, segment_cache=cache)
    return path


@pytest.mark.parametrize("frames", [CLIP - 8, CLIP + 10], ids=["trimmed", "held"])
def test_editorial_files_carry_the_clips_source_range(
    make_shot: Callable[..., CutShot], clip_take: Path, tmp_path: Path, frames: int
) -> None:
    cut = cut_of(make_shot, clip_take, frames)
    out = tmp_path / "cut"
    written = write_editorial(cut, out, "cut", size=SIZE)
    timeline = otio.adapters.read_from_file(str(written["otio"]))
    items = list(timeline.video_tracks()[0])
    played = min(frames, CLIP)
    clip = items[1]
    assert clip.name == "003_0020"
    assert clip.source_range == otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, FPS), otio.opentime.RationalTime(played, FPS)
    )
    reference = clip.media_reference
    assert reference.available_range.duration.value == CLIP
    target = resolve_media_url(reference.target_url, out)
    assert target.suffix == ".mp4" and target.read_bytes() == clip_take.read_bytes()
    held = frames - CLIP
    if held > 0:
        hold = items[2]
        assert hold.name == "003_0020 hold" and hold.media_reference.target_url == reference.target_url
        assert (hold.source_range.start_time.value, hold.source_range.duration.value) == (CLIP - 1, held)
        assert [type(e) for e in hold.effects] == [otio.schema.FreezeFrame]
    else:
        assert len(items) == 2
    # The timeline is as long as the movie, shot for shot.
    assert timeline.video_tracks()[0].duration().value == cut.frames == 12 + frames
    movie = tmp_path / "cut.mp4"
    write_animatic(cut, movie, size=SIZE, head_slate_s=0, burn_in=False)
    with av.open(str(movie)) as container:
        stream = container.streams.video[0]
        assert stream.frames == cut.frames
        assert float(stream.duration * stream.time_base) == pytest.approx(cut.frames / FPS, abs=1e-6)

    # The EDL: the clip's source timecode in and out, a freeze (M2 at speed 0) for the hold.
    edl = otio.adapters.read_from_file(str(written["edl"]))
    events = list(edl.video_tracks()[0])
    names = [e.name for e in events if isinstance(e, otio.schema.Clip)]
    assert "003_0020" in names
    edl_clip = next(e for e in events if getattr(e, "name", "") == "003_0020")
    assert edl_clip.source_range.duration.value == played
    assert edl_clip.source_range.start_time.value == 0
    frozen = [e for e in events if any(isinstance(x, otio.schema.FreezeFrame) for x in getattr(e, "effects", []))]
    assert len(frozen) == (1 if held > 0 else 0)
    if held > 0:
        assert frozen[0].source_range.start_time.value == CLIP - 1
        assert frozen[0].source_range.duration.value == held
        assert "M2" in written["edl"].read_text()

    # FCP 7 XML: the clip as a file of its own length, played from its first frame.
    xml = otio.adapters.read_from_file(str(written["xml"]))
    xml_clip = next(c for c in xml.find_clips() if c.name == "003_0020")
    assert xml_clip.source_range.start_time.value == 0 and xml_clip.source_range.duration.value == played
    assert xml_clip.media_reference.target_url.endswith(".mp4")

    # FCPXML: the clip's asset lasts the clip's frames; the shot's video plays from 0s.
    text = written["fcpxml"].read_text()
    assert f'duration="{CLIP}/24s" hasVideo="1"' in text
    assert ".mp4" in text
    if held > 0:
        assert f'<timept time="0s" value="{CLIP - 1}/24s"' in text
