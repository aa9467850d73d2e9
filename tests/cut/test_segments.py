"""The animatic made of cached segments: a re-cut encodes only what changed and decodes as a
fresh cut does; damaged entries are made again; a stopped or killed cut leaves the previous
movie; a parallel cut is the serial one; sound joins only in silence."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import psutil
import pytest

from soundstage.cut import animatic
from soundstage.cut.animatic import write_animatic
from soundstage.cut.dialogue import DialogueMix
from soundstage.cut.segments import SegmentCache
from soundstage.cut.timeline import Cut, CutShot, DialogueClip, Line, assemble, to_otio
from soundstage.render.previs import read_png

SIZE = (320, 180)
FPS = 24
SLATE_S = 1.0
SLATE = round(SLATE_S * FPS)
LINES = (Line("JUNO", "Every lamp on this pier has a keeper."), Line("ORRIN", "Not this one, it isn't."))
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def cut(make_shot: Callable[..., CutShot], voices_dir: Path) -> Cut:
    """Five shots: lines in the first and fourth, a push-in, a NO TAKE, a pan."""
    shots = [
        make_shot("005_0010", 30, lines=(LINES[0],)),
        make_shot("005_0020", 24, move="push-in"),
        make_shot("005_0030", 12, take=None, image=None, status="todo"),
        make_shot("005_0040", 26, lines=(LINES[1],), move="pan"),
        make_shot("005_0050", 20),
    ]
    return assemble("The Lantern Keepers", shots, FPS, voices_dir)


def _cut_with(cut: Cut, index: int, shot: CutShot) -> Cut:
    """``cut`` with one shot replaced (same duration, so the dialogue stays where it was)."""
    shots = list(cut.shots)
    shots[index] = shot
    return Cut(cut.title, cut.fps, shots, list(cut.dialogue), made_at=cut.made_at)


def _new_takes(cut: Cut, make_still: Callable[..., Path]) -> Cut:
    """``cut`` with a new take (another picture) for each of its four shots that have one."""
    shots = [
        replace(s, take=f"{s.code}/2", image=make_still(f"{s.code}_t2", 70 + i)) if s.image else s
        for i, s in enumerate(cut.shots)
    ]
    return Cut(cut.title, cut.fps, shots, list(cut.dialogue), made_at=cut.made_at)


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _decode(path: Path) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
    """Every frame, the sound, and what FFmpeg's decoders warned of on the way."""
    handler = _Warnings()
    logger = logging.getLogger("libav")
    logger.addHandler(handler)
    av.logging.set_level(av.logging.WARNING)  # FFmpeg's log reaches Python's only when asked
    try:
        with av.open(str(path)) as container:
            frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
        with av.open(str(path)) as container:
            sound = container.streams.audio
            parts = [frame.to_ndarray().reshape(-1) for frame in container.decode(sound[0])] if sound else []
    finally:
        av.logging.set_level(None)
        logger.removeHandler(handler)
    sound = np.concatenate(parts) if parts else np.zeros(0)
    return frames, (sound / 32768.0 if sound.dtype == np.int16 else sound).astype(np.float64), handler.lines


def _keyframes(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        return [i for i, packet in enumerate(p for p in container.demux(video=0) if p.size) if packet.is_keyframe]


def _cache_digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.suffix == ".mp4"}


def test_a_recut_after_one_take_changed_encodes_that_shot_alone(
    cut: Cut, make_still: Callable[..., Path], tmp_path: Path
) -> None:
    cache, path = tmp_path / "segments", tmp_path / "out" / "cut.mp4"
    first = write_animatic(cut, path, size=SIZE, head_slate_s=SLATE_S, segment_cache=cache)
    assert (first.segments, first.encoded) == (1 + len(cut.shots), 1 + len(cut.shots))
    assert first.sound_segments == first.sound_encoded >= 1

    taken = cut.shots[1]
    changed = _cut_with(cut, 1, replace(taken, take="005_0020/2", image=make_still("005_0020_t2", 41)))
    again = write_animatic(changed, path, size=SIZE, head_slate_s=SLATE_S, segment_cache=cache)
    assert (again.segments, again.encoded, again.sound_encoded) == (first.segments, 1, 0)
    assert sorted(p.name for p in path.parent.iterdir()) == ["cut.mp4"]

    # The joined movie decodes without a warning, frame for frame as a fresh cut of the change.
    frames, sound, warnings = _decode(path)
    assert warnings == []
    fresh = tmp_path / "fresh.mp4"
    write_animatic(changed, fresh, size=SIZE, head_slate_s=SLATE_S)
    fresh_frames, fresh_sound, _ = _decode(fresh)
    assert len(frames) == len(fresh_frames) and all(np.array_equal(a, b) for a, b in zip(frames, fresh_frames))
    assert np.array_equal(sound, fresh_sound)

    # Its timecode and durations are the OTIO timeline's: the picture starts at the program
    # start after the slate, and every clip starts on a keyframe where the timeline says.
    timeline = to_otio(changed)
    durations = [clip.duration().to_frames() for clip in timeline.video_tracks()[0].find_clips()]
    assert len(frames) == SLATE + sum(durations) == again.frames
    assert _keyframes(path) == [0, *(SLATE + start for start in np.cumsum([0, *durations[:-1]]))]
    with av.open(str(path)) as container:
        (track,) = container.streams.data
        start = otio.opentime.from_timecode(track.metadata["timecode"], FPS)
        assert container.streams.video[0].codec_context.profile == "High"
        assert float(container.duration / av.time_base) == pytest.approx(again.duration_s, abs=0.05)
    assert start + otio.opentime.RationalTime(SLATE, FPS) == timeline.global_start_time
    # The sound is still normalised under -1 dBTP, at the first cut's gain.
    assert again.sound_gain_db == first.sound_gain_db
    assert 20 * np.log10(np.abs(sound).max()) <= -1.0


def test_a_damaged_segment_is_encoded_again_never_used(cut: Cut, tmp_path: Path) -> None:
    cache, path = tmp_path / "segments", tmp_path / "cut.mp4"
    write_animatic(cut, path, size=SIZE, head_slate_s=SLATE_S, segment_cache=cache)
    before, _, _ = _decode(path)
    digests = _cache_digests(cache)

    # A byte flipped inside one segment (same size, so only its sha256 tells).
    damaged = max(cache.rglob("*.mp4"), key=lambda p: p.stat().st_size)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    info = write_animatic(cut, path, size=SIZE, head_slate_s=SLATE_S, segment_cache=cache)
    assert info.encoded + info.sound_encoded == 1
    after, _, warnings = _decode(path)
    assert warnings == [] and all(np.array_equal(a, b) for a, b in zip(before, after))
    assert _cache_digests(cache) == digests  # made again, byte for byte

    # A sidecar torn by a crash, and a segment cut short: each made again.
    torn, shortened = sorted(cache.rglob("*.mp4"), key=lambda p: p.stat().st_size)[:2]
    torn.with_suffix(".json").write_text('{"sha2')
    shortened.write_bytes(shortened.read_bytes()[:100])
    info = write_animatic(cut, path, size=SIZE, head_slate_s=SLATE_S, segment_cache=cache)
    assert info.encoded + info.sound_encoded == 2
    assert _cache_digests(cache) == digests


def test_a_cut_stopped_between_segments_leaves_the_previous_movie(
    cut: Cut, make_still: Callable[..., Path], tmp_path: Path
) -> None:
    cache, path = tmp_path / "segments", tmp_path / "out" / "cut.mp4"
    write_animatic(cut, path, size=SIZE, head_slate_s=SLATE_S, segment_cache=cache)
    previous = path.read_bytes()
    changed = _new_takes(cut, make_still)
    shots = changed.shots

    def stop(done: int, total: int) -> None:
        if done > SLATE + shots[0].frames:  # between the second shot and the third
            raise RuntimeError("stopped")

    with pytest.raises(RuntimeError, match="stopped"):
        write_animatic(changed, path, size=SIZE, head_slate_s=SLATE_S, segment_cache=cache, progress=stop)
    assert path.read_bytes() == previous
    assert sorted(p.name for p in path.parent.iterdir()) == ["cut.mp4"]
    # What was encoded before the stop is kept: the next cut encodes the rest.
    info = write_animatic(changed, path, size=SIZE, head_slate_s=SLATE_S, segment_cache=cache)
    assert info.encoded == 2  # the two new takes after the stop; the two before it were kept


def test_a_cut_killed_mid_way_leaves_the_previous_movie_and_a_usable_cache(
    cut: Cut, make_still: Callable[..., Path], tmp_path: Path
) -> None:
    cache, path = tmp_path / "segments", tmp_path / "out" / "cut.mp4"
    write_animatic(cut, path, size=SIZE, head_slate_s=SLATE_S, segment_cache=cache)
    previous = path.read_bytes()
    changed = _new_takes(cut, make_still)
    shots = changed.shots
    pickled = tmp_path / "changed.pickle"
    pickled.write_bytes(pickle.dumps(changed))
    # A cut in its own process, with a pool of two encoders, SIGKILLed (no clean-up of any
    # kind runs) once the join has passed the second shot.
    script = textwrap.dedent(f"""
        import os, pickle, signal
        from pathlib import Path
        import psutil
        from soundstage.cut.animatic import write_animatic

        def kill(done, total):
            if done > {SLATE + shots[0].frames}:
                workers = [child.pid for child in psutil.Process().children()]
                Path({str(tmp_path / "workers")!r}).write_text(" ".join(map(str, workers)))
                os.kill(os.getpid(), signal.SIGKILL)

        if __name__ == "__main__":
            cut = pickle.loads(Path({str(pickled)!r}).read_bytes())
            write_animatic(cut, Path({str(path)!r}), size={SIZE}, head_slate_s={SLATE_S},
                           segment_cache=Path({str(cache)!r}), workers=2, progress=kill)
    """)
    (tmp_path / "kill.py").write_text(script)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(tmp_path / "kill.py")], env=environment, timeout=300, check=False)
    assert result.returncode == -signal.SIGKILL
    assert path.read_bytes() == previous
    # Its encoder processes leave with it rather than wait for jobs for ever.
    workers = [
        psutil.Process(int(pid)) for pid in (tmp_path / "workers").read_text().split() if psutil.pid_exists(int(pid))
    ]
    gone, alive = psutil.wait_procs(workers, timeout=20)
    assert alive == []

    # The cache holds whole entries or none: the next cut uses what is there and decodes clean.
    info = write_animatic(changed, path, size=SIZE, head_slate_s=SLATE_S, segment_cache=cache)
    assert info.encoded < 4
    frames, _, warnings = _decode(path)
    assert warnings == [] and len(frames) == SLATE + changed.frames


def test_a_parallel_first_cut_is_the_serial_cut(cut: Cut, tmp_path: Path) -> None:
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    one = write_animatic(cut, serial / "cut.mp4", size=SIZE, head_slate_s=SLATE_S, segment_cache=serial / "cache")
    two = write_animatic(
        cut, parallel / "cut.mp4", size=SIZE, head_slate_s=SLATE_S, segment_cache=parallel / "cache", workers=2
    )
    assert (one.encoded, one.sound_encoded) == (two.encoded, two.sound_encoded)
    assert _cache_digests(serial / "cache") == _cache_digests(parallel / "cache")
    frames_one, sound_one, _ = _decode(serial / "cut.mp4")
    frames_two, sound_two, warnings = _decode(parallel / "cut.mp4")
    assert warnings == [] and len(frames_one) == len(frames_two) == SLATE + cut.frames
    assert all(np.array_equal(a, b) for a, b in zip(frames_one, frames_two))
    assert np.array_equal(sound_one, sound_two)


def test_sound_joins_only_in_silence_and_decodes_as_one_encode(
    cut: Cut, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = write_animatic(cut, tmp_path / "whole.mp4", size=SIZE, head_slate_s=SLATE_S)
    assert whole.sound_segments == 1  # under SOUND_SEGMENT_S: one segment, one AAC encode
    monkeypatch.setattr(animatic, "SOUND_SEGMENT_S", 0)
    joined = write_animatic(cut, tmp_path / "joined.mp4", size=SIZE, head_slate_s=SLATE_S)
    assert joined.sound_segments == 1 + len(cut.shots)  # a join at every shot: all silent there
    _, one, _ = _decode(tmp_path / "whole.mp4")
    _, many, warnings = _decode(tmp_path / "joined.mp4")
    assert warnings == [] and len(one) == len(many)
    # Against the mix itself, the joined sound is as close as one encode of the whole...
    rate, gain = 48_000, 10 ** (joined.sound_gain_db / 20)
    mix = _mix(cut, rate, gain, len(one))
    assert np.abs(many - mix).max() < 1.5 * np.abs(one - mix).max()
    # ...and silent at every shot boundary: no click where segments meet.
    for start in cut.starts():
        join = (SLATE + start) * rate // FPS
        assert np.abs(many[join - 3000 : join + 3000]).max() < 1e-3

    # A line laid across a shot boundary (a cut made by hand): no join there.
    line = cut.dialogue[0]
    across = DialogueClip(line.shot, line.character, line.text, line.wav, cut.starts()[2] - 6, line.frames)
    crossed = Cut(cut.title, cut.fps, cut.shots, [*cut.dialogue, across], made_at=cut.made_at)
    info = write_animatic(crossed, tmp_path / "crossed.mp4", size=SIZE, head_slate_s=SLATE_S)
    crossed_starts = [start for start in cut.starts() if across.start < start < across.start + across.frames]
    assert crossed_starts and info.sound_segments == joined.sound_segments - len(crossed_starts)
    _, sound, warnings = _decode(tmp_path / "crossed.mp4")
    assert warnings == [] and 20 * np.log10(np.abs(sound).max()) <= -1.0


def test_a_picture_that_could_not_be_read_is_drawn_again_once_it_can(
    make_shot: Callable[..., CutShot], make_still: Callable[..., Path], tmp_path: Path
) -> None:
    # The caller names the picture by its media id; the file cut in is damaged this time.
    image = tmp_path / "take.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    shot = replace(make_shot("006_0010", 12, image=image), picture_sha256="ab" * 32)
    cut = assemble("Pilot", [shot], FPS, None)
    cache, path = tmp_path / "segments", tmp_path / "cut.mp4"
    broken = write_animatic(cut, path, size=SIZE, head_slate_s=0, segment_cache=cache, burn_in=False)
    assert "unreadable image" in broken.warnings[0]

    image.write_bytes(make_still("good", 5).read_bytes())  # the same picture, now whole
    mended = write_animatic(cut, path, size=SIZE, head_slate_s=0, segment_cache=cache, burn_in=False)
    assert mended.encoded == 1 and mended.warnings == ()
    frames, _, _ = _decode(path)
    assert np.abs(frames[0].astype(int) - read_png(image).astype(int)).mean() < 3
    assert write_animatic(cut, path, size=SIZE, head_slate_s=0, segment_cache=cache, burn_in=False).encoded == 0


def _mix(cut: Cut, rate: int, gain: float, length: int) -> np.ndarray:
    """The cut's dialogue mixed at ``gain`` as the movie places it (after the slate)."""
    clips = [(round((SLATE + clip.start) * rate / FPS), clip.wav) for clip in cut.dialogue]
    return DialogueMix(clips, rate, gain).read(0, length).astype(np.float64)


def test_the_segment_cache_checks_bytes_and_sweeps_leftovers(tmp_path: Path) -> None:
    cache = SegmentCache(tmp_path / "segments")
    key = "ab" * 32

    def write(path: Path) -> dict[str, object]:
        path.write_bytes(b"segment bytes")
        return {"length": 3}

    made = cache.make(key, ".mp4", write)
    assert made.path == tmp_path / "segments" / "ab" / f"{key}.mp4" and made.facts["length"] == 3
    assert cache.has(key, ".mp4") and cache.find(key, ".mp4") == made
    made.path.write_bytes(b"segment byteZ")
    assert cache.has(key, ".mp4") and cache.find(key, ".mp4") is None  # same size: the hash tells
    assert cache.find("cd" * 32, ".mp4") is None and not cache.has("cd" * 32, ".mp4")

    leftover = made.path.with_name(".incoming-0123-x.mp4")
    leftover.write_bytes(b"half")
    fresh = made.path.with_name(".incoming-4567-y.mp4")
    fresh.write_bytes(b"being written")
    os.utime(leftover, (0, 0))
    assert cache.sweep() == 1 and not leftover.exists() and fresh.exists()
