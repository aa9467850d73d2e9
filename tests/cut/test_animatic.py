"""The animatic written by PyAV and read back by PyAV: streams, frames, burn-ins, moves,
slates, sound, and what an interrupted or impossible encode leaves behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest

from soundstage.cut.animatic import write_animatic
from soundstage.cut.dialogue import true_peak
from soundstage.cut.pictures import Art
from soundstage.cut.timeline import Cut, CutShot, Line, assemble, spoken_lines, write_editorial
from soundstage.errors import CutError
from soundstage.project import Production
from soundstage.render.previs import read_png

SIZE = (320, 180)
FPS = 24
SLATE_S = 1.0
SLATE = round(SLATE_S * FPS)
LINE = Line("JUNO", "Every lamp on this pier has a keeper.")


def _frames(path: Path) -> Iterator[np.ndarray]:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


def _frame(path: Path, index: int) -> np.ndarray:
    return next(frame for i, frame in enumerate(_frames(path)) if i == index)


def _sound(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        rate = container.streams.audio[0].sample_rate
        samples = [frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)]
    sound = np.concatenate(samples)
    # Full scale 1.0 whatever the codec decodes to (AAC: float; PCM: 16-bit integers).
    return (sound / 32768.0 if sound.dtype == np.int16 else sound).astype(np.float64), rate


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.fixture
def cut(make_shot: Callable[..., CutShot], voices_dir: Path) -> Cut:
    """Four short shots: a held still with a line, a push-in, a NO TAKE, a pan."""
    shots = [
        make_shot("003_0010", 36, lines=(LINE,)),
        make_shot("003_0020", 24, move="push-in", status="pending review"),
        make_shot("003_0030", 12, take=None, image=None, status="todo"),
        make_shot("003_0040", 24, move="pan"),
    ]
    return assemble("The Lantern Keepers", shots, FPS, voices_dir)


def test_the_mp4_has_the_slate_every_frame_and_the_sound(cut: Cut, tmp_path: Path) -> None:
    path = tmp_path / "out" / "pilot.mp4"
    info = write_animatic(cut, path, size=SIZE, head_slate_s=SLATE_S)

    total = SLATE + cut.frames
    assert (info.path, info.frames, info.audio) == (path, total, True)
    assert info.duration_s == pytest.approx(total / FPS)
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "h264"
        assert (video.width, video.height, video.codec_context.pix_fmt) == (*SIZE, "yuv420p")
        assert video.average_rate == FPS and video.frames == total
        assert float(video.duration * video.time_base) == pytest.approx(total / FPS)
        (audio,) = container.streams.audio
        assert (audio.codec_context.name, audio.sample_rate, audio.channels) == ("aac", 48000, 1)
        assert float(container.duration / av.time_base) == pytest.approx(total / FPS, abs=0.05)
    assert sum(1 for _ in _frames(path)) == total
    # Every shot starts on a keyframe, so scrubbing lands on shot boundaries.
    with av.open(str(path)) as container:
        keys = [i for i, packet in enumerate(container.demux(video=0)) if packet.is_keyframe]
    assert keys == [0, *(SLATE + start for start in cut.starts())]
    assert sorted(p.name for p in path.parent.iterdir()) == ["pilot.mp4"]

    # The line is heard where the cut placed it, and the slate is silent.
    sound, rate = _sound(path)
    line = cut.dialogue[0]
    begin, end = ((SLATE + line.start) * rate // FPS, (SLATE + line.start + line.frames) * rate // FPS)
    assert np.abs(sound[: SLATE * rate // FPS]).max() < 0.01
    assert np.sqrt(np.mean(sound[begin:end] ** 2)) > 0.03
    assert np.abs(sound[end + rate // 10 :]).max() < 0.01


def test_prores_goes_in_a_mov_with_pcm_sound(cut: Cut, tmp_path: Path) -> None:
    path = tmp_path / "pilot.mov"
    info = write_animatic(cut, path, size=SIZE, prores=True, head_slate_s=SLATE_S)
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "prores"
        assert video.codec_context.profile == "Standard"  # ProRes 422
        assert video.codec_context.pix_fmt == "yuv422p10le"
        assert video.frames == info.frames == SLATE + cut.frames
        assert container.streams.audio[0].codec_context.name == "pcm_s16le"
    with pytest.raises(CutError, match=r"\.mov"):
        write_animatic(cut, tmp_path / "pilot.mp4", size=SIZE, prores=True)


def test_burn_ins_are_drawn_over_the_picture_and_the_timecode_runs(cut: Cut, tmp_path: Path) -> None:
    burnt, plain = tmp_path / "burnt.mp4", tmp_path / "plain.mp4"
    write_animatic(cut, burnt, size=SIZE, head_slate_s=0)
    write_animatic(cut, plain, size=SIZE, head_slate_s=0, burn_in=False)
    first, second = (frame for _, frame in zip(range(2), _frames(burnt)))
    clean = _frame(plain, 0)
    still = read_png(cut.shots[0].image)

    # Without burn-ins the frame is the still (to the codec's error)...
    assert _diff(clean, still) < 3
    # ...with them, the bottom corners carry text on a darkened box; the rest is untouched.
    bottom_left, bottom_right, top = (np.s_[-20:, :80], np.s_[-20:, -80:], np.s_[:-30, :])
    assert _diff(first[bottom_left], clean[bottom_left]) > 30
    assert _diff(first[bottom_right], clean[bottom_right]) > 30
    assert _diff(first[top], clean[top]) < 2
    # The timecode changes with every frame; the shot's label does not.
    assert _diff(first[bottom_right], second[bottom_right]) > 1
    assert _diff(first[bottom_left], second[bottom_left]) < 1


def test_push_and_pan_move_and_a_static_shot_holds(cut: Cut, tmp_path: Path) -> None:
    path = tmp_path / "plain.mp4"
    write_animatic(cut, path, size=SIZE, head_slate_s=0, burn_in=False)
    frames = list(_frames(path))
    starts = cut.starts()

    def shot(index: int) -> list[np.ndarray]:
        return frames[starts[index] : starts[index] + cut.shots[index].frames]

    held, push, pan = shot(0), shot(1), shot(3)
    assert _diff(held[0], held[-1]) < 1
    assert _diff(push[0], read_png(cut.shots[1].image)) < 3  # the push starts on the still
    for moving in (push, pan):
        assert _diff(moving[0], moving[len(moving) // 2]) > 5
        assert _diff(moving[len(moving) // 2], moving[-1]) > 5
    # A push-in ends closer: the stripes drawn every 16 pixels are further apart.
    edges = [np.flatnonzero(np.abs(np.diff(f[90, :, 1].astype(int))) > 30) for f in (push[0], push[-1])]
    assert len(edges[1]) < len(edges[0])


def test_a_shot_without_a_picture_gets_a_no_take_slate(cut: Cut, tmp_path: Path) -> None:
    path = tmp_path / "pilot.mp4"
    write_animatic(cut, path, size=SIZE, head_slate_s=0, burn_in=False)
    slate = _frame(path, cut.starts()[2])
    assert cut.warnings == ["003_0030: no take; NO TAKE slate"]
    # A flat grey card with light text, nothing like the still around it.
    grey = np.median(slate.reshape(-1, 3), axis=0)
    assert np.all(np.abs(grey - (64, 64, 72)) < 6)
    assert (slate.max(axis=2) > 200).sum() > 200


def test_an_unreadable_image_gets_a_slate_and_a_warning(make_shot: Callable[..., CutShot], tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    cut = assemble("Pilot", [make_shot("003_0010", 12, image=broken)], FPS, None)
    info = write_animatic(cut, tmp_path / "pilot.mp4", size=SIZE, head_slate_s=0)
    assert info.warnings == ("003_0010: take 003_0010/1: unreadable image (UnidentifiedImageError); NO TAKE slate",)
    assert (info.frames, info.audio) == (12, False)


def test_an_interrupted_encode_leaves_no_file(cut: Cut, tmp_path: Path) -> None:
    seen = []

    def interrupt(done: int, total: int) -> None:
        seen.append(done)
        if len(seen) == 2:  # after the slate and the first shot
            raise KeyboardInterrupt

    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(KeyboardInterrupt):
        write_animatic(cut, out / "pilot.mp4", size=SIZE, head_slate_s=SLATE_S, progress=interrupt)
    assert seen == [SLATE, SLATE + cut.shots[0].frames]
    assert list(out.iterdir()) == []  # neither the movie nor its temporary file


def test_an_unwritable_place_or_size_is_one_line(cut: Cut, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(CutError) as error:
        write_animatic(cut, blocker / "pilot.mp4", size=SIZE)
    assert str(blocker / "pilot.mp4") in str(error.value) and "cannot write the animatic" in str(error.value)
    with pytest.raises(CutError, match="even"):
        write_animatic(cut, tmp_path / "out" / "pilot.mp4", size=(321, 180))
    assert not (tmp_path / "out").exists()


def test_the_example_episode_cuts_from_its_storyboards(
    rendered_example: Path, voices_dir: Path, tmp_path: Path
) -> None:
    with Production.open(rendered_example) as production:
        spoken = spoken_lines(production.script())
        shots = [
            CutShot(
                shot.code, shot.scene, shot.frames, f"{shot.code}/1", production.storyboard(shot.code),
                "pending review", shot.move.value, tuple(spoken[n] for n in shot.lines if n in spoken),
                description=shot.description,
            )
            for shot in production.shots(scene="3")
            if shot.code in ("003_0040", "003_0060", "003_0120")  # an insert and two short speeches
        ]  # fmt: skip
        fps = production.settings.fps
    cut = assemble("The Lantern Keepers", shots, fps, voices_dir)
    assert [clip.shot for clip in cut.dialogue] == ["003_0060", "003_0120"] and cut.warnings == []
    info = write_animatic(cut, tmp_path / "pilot.mp4", size=SIZE, head_slate_s=0)
    assert info.frames == cut.frames and info.audio
    storyboard = read_png(shots[0].image)
    assert _diff(_frame(tmp_path / "pilot.mp4", 0)[:-30], storyboard[:-30]) < 4


def test_the_movie_has_a_timecode_track_and_burns_in_its_clock(cut: Cut, tmp_path: Path) -> None:
    path = tmp_path / "pilot.mp4"
    info = write_animatic(cut, path, size=SIZE, head_slate_s=SLATE_S)
    with av.open(str(path)) as container:
        (track,) = container.streams.data
        assert track.metadata["handler_name"] == "TimeCodeHandler"  # QuickTime tmcd, as ffprobe lists it
        first = otio.opentime.from_timecode(track.metadata["timecode"], FPS)
        assert container.streams.video[0].codec_context.profile == "High"
    # The head slate runs before the program start, 01:00:00:00, where the EDL's record starts.
    assert track.metadata["timecode"] == info.timecode == "00:59:59:00"
    assert first + otio.opentime.RationalTime(SLATE, FPS) == otio.opentime.from_timecode("01:00:00:00", FPS)

    # The burned-in timecode of every shot's first frame is the track's for that frame.
    art, frames = Art(SIZE), list(_frames(path))
    x0, y0, x1, y1 = art.timecode_box
    for start in cut.starts():
        frame = frames[SLATE + start]
        expected = otio.opentime.to_timecode(first + otio.opentime.RationalTime(SLATE + start, FPS), FPS)
        clean = _frame_without_burn_in(cut, tmp_path, SLATE + start)
        drawn = {}
        for text in (expected, otio.opentime.to_timecode(otio.opentime.RationalTime(start, FPS), FPS)):
            box = clean[y0:y1, x0:x1].copy()
            art.timecode(text).apply(box, at=(0, 0))
            drawn[text] = _diff(frame[y0:y1, x0:x1], box)
        assert min(drawn, key=drawn.get) == expected and drawn[expected] < 6, (start, drawn)


def _frame_without_burn_in(cut: Cut, tmp_path: Path, index: int) -> np.ndarray:
    path = tmp_path / "plain.mp4"
    if not path.exists():
        write_animatic(cut, path, size=SIZE, head_slate_s=SLATE_S, burn_in=False)
    return _frame(path, index)


def test_the_sound_is_normalised_to_its_true_peak(cut: Cut, tmp_path: Path) -> None:
    path = tmp_path / "pilot.mp4"
    info = write_animatic(cut, path, size=SIZE, head_slate_s=SLATE_S)
    sound, rate = _sound(path)
    peak_db = 20 * np.log10(true_peak(sound))
    # Under -1 dBTP as decoded from the AAC, and not far under: normalised, not just turned down.
    assert -2.0 < peak_db <= -1.0
    assert info.sound_peak_dbtp is not None and info.sound_gain_db == pytest.approx(-1.5 - info.sound_peak_dbtp)
    mov = tmp_path / "pilot.mov"
    write_animatic(cut, mov, size=SIZE, prores=True, head_slate_s=SLATE_S)
    pcm, _ = _sound(mov)
    assert 20 * np.log10(true_peak(pcm)) == pytest.approx(-1.5, abs=0.05)  # PCM keeps the mix's level


def test_a_cut_at_23_976_is_an_ntsc_movie_on_the_edls_clock(
    make_shot: Callable[..., CutShot], voices_dir: Path, tmp_path: Path
) -> None:
    ntsc = Fraction(24000, 1001)
    shots = [make_shot("003_0010", 36, lines=(LINE,)), make_shot("003_0020", 24, move="push-in")]
    cut = assemble("The Lantern Keepers", shots, 23.976, voices_dir)  # the trade's name for 24000/1001
    assert cut.fps == ntsc
    path = tmp_path / "ntsc.mp4"
    info = write_animatic(cut, path, size=SIZE, head_slate_s=SLATE_S)
    written = write_editorial(cut, tmp_path, "ntsc")
    slate = round(SLATE_S * ntsc)
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert video.average_rate == ntsc and video.guessed_rate == ntsc
        times = [frame.time for frame in container.decode(video=0)]
        (track,) = container.streams.data
        timecode = track.metadata["timecode"]
    assert len(times) == slate + cut.frames == info.frames
    # Each frame lasts 1001/24000 s: the movie runs 0.1% longer than its frame count at 24.
    assert times[-1] == pytest.approx(float((len(times) - 1) * 1001 / 24000), abs=1e-4)
    assert info.duration_s == pytest.approx(float(len(times) / ntsc))
    # Non-drop timecode counts 24 a second: the slate's 24 frames end at 01:00:00:00.
    assert slate == 24 and timecode == info.timecode == "00:59:59:00"

    timeline = otio.adapters.read_from_file(str(written["otio"]))
    clips = [(c.name, c.duration()) for c in timeline.video_tracks()[0].find_clips()]
    assert [d.rate for _, d in clips] == [pytest.approx(float(ntsc))] * 2
    assert timeline.duration().to_seconds() == pytest.approx(float(cut.frames / ntsc))
    edl = otio.adapters.read_from_file(str(written["edl"]), rate=float(ntsc))
    assert [(c.name, c.duration().to_frames()) for c in edl.find_clips()] == [
        (name, d.to_frames()) for name, d in clips
    ]
    assert edl.duration().to_seconds() == pytest.approx(timeline.duration().to_seconds())
    assert len(times) - slate == timeline.duration().to_frames()
