"""The animatic: the cut played out as a movie through PyAV, H.264 in .mp4 or ProRes 422 in .mov.

A head slate, then each shot's take for its duration: a still held (a slow push or pan where
the shot's camera move asks for one), a clip take played frame for frame (trimmed where it is
longer than the shot, its last frame held where shorter), a NO TAKE slate where there is no picture, burn-ins (shot code, size
and lens, take, status, timecode) and the scratch dialogue mixed into one audio track.

Burn-ins are one layer, drawn once, by the animatic: the takes cut in are the picture alone (a previs
take copies its storyboard, which is rendered for the cut without a burn-in of its own), so
nothing is drawn over another burn-in; the label names the shot's size and lens as the
storyboard's burn-in did. The movie has a timecode track (QuickTime ``tmcd``) on the cut's clock: the
first frame of the first shot is the program start (01:00:00:00), the head slate runs before
it, and the burned-in timecode is the track's, frame for frame, as in the EDL and the XMLs.

The movie is made of segments: the head slate and each shot are encoded on their own (each
starts on an IDR frame, all with one encoder and one set of parameters) and kept in a segment
cache (``segments.py``) by a key of what they show, then joined by copying their packets
(``join.py``). A re-cut encodes only the segments whose key is new, so changing one take
re-encodes one shot; the first cut encodes segments in a pool of worker processes. The sound
is segmented too, at shot boundaries where it is silent (AAC joins exactly only there), and
normalised by one gain for the whole cut, measured from the true peak of each segment (kept
in the cache as well). Without a cache folder the segments go in a temporary one.

What each frame shows is drawn in ``pictures.py``; a segment is encoded in ``encode.py``.
The movie is written under a temporary name beside the target and renamed at the end, so an
interrupted cut leaves nothing at the final path, and the previous cut there as it was.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import os
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from fractions import Fraction
from multiprocessing import get_context, parent_process
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import opentimelineio as otio
import PIL

from soundstage.config import rate_text
from soundstage.cut.encode import (
    AUDIO_RATE,
    H264,
    H264_MOV,
    MAKERS,
    MOVIE_OPTIONS,
    PRORES,
    SEGMENT_THREADS,
    Format,
    PeakJob,
    SoundJob,
    VideoJob,
)
from soundstage.cut.join import Joiner, Mismatch
from soundstage.cut.pictures import face, label_text, slate_lines
from soundstage.cut.segments import Entry, SegmentCache, file_sha256, segment_key
from soundstage.cut.timeline import NO_TAKE, Cut, CutShot, program_start
from soundstage.errors import CutError

# The sound is normalised so its true peak sits here: under the -1 dBTP ceiling that delivery
# specifications (EBU R 128, the streaming services) set, with half a decibel for the AAC
# encoder, whose decoded peaks can land a little above the mix it was given (see H264).
AUDIO_PEAK_DBTP = -1.5
# Sound segments start on whole AAC frames (1,024 samples), so the joined stream's packets
# run on without a gap, and only where the mix is silent this far either side: an AAC
# packet's transform reaches one frame into each neighbour (see join.py). Two frames, and
# more than the true-peak filter's reach, so a segment's peak is the whole mix's there.
AAC_FRAME = 1024
SILENT_JOIN = 2 * AAC_FRAME
# A sound segment runs for at least this long (shots share one until then): a take changed
# leaves every sound segment as it was, a line changed makes one again, and a feature's sound
# is a few hundred segments to open in a re-cut rather than one per shot.
SOUND_SEGMENT_S = 30

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class AnimaticInfo:
    """What ``write_animatic`` wrote."""

    path: Path
    frames: int  # head slate included
    duration_s: float
    audio: bool
    warnings: tuple[str, ...] = ()  # one line each, e.g. an image that could not be read
    timecode: str = ""  # the timecode track's first frame (the head slate's), HH:MM:SS:FF
    sound_peak_dbtp: float | None = None  # the dialogue mix's true peak before it was normalised
    sound_gain_db: float = 0.0  # the gain that normalised it
    segments: int = 0  # picture segments joined: the head slate and each shot
    encoded: int = 0  # of those, the ones encoded by this call (the rest came from the cache)
    sound_segments: int = 0  # sound segments joined
    sound_encoded: int = 0  # of those, the ones encoded by this call


def write_animatic(
    cut: Cut,
    path: Path,
    *,
    size: tuple[int, int] = (1280, 720),
    prores: bool = False,
    burn_in: bool = True,
    head_slate_s: float = 3.0,
    progress: Progress | None = None,
    date: dt.date | None = None,
    segment_cache: Path | None = None,
    workers: int = 1,
) -> AnimaticInfo:
    """Write the animatic of ``cut`` to ``path`` (.mp4, or .mov with ``prores``).

    ``progress`` gets (frames written, frames in all) after the slate and after each shot;
    if it raises, the cut stops and nothing is left at ``path`` (a movie already there stays
    as it was). ``date`` goes on the head slate (the day of ``cut.made_at`` by default), and
    ``cut.made_at`` is the movie's creation time. A folder that cannot be written, an odd
    frame size or an encoder failure is one CutError line.

    ``segment_cache``: the folder of encoded segments (a production's ``cache/segments/``);
    segments found there with their bytes intact are joined as they are, the others encoded
    and added. Without it the segments are encoded into a temporary folder. ``workers``:
    processes that encode segments side by side (1: in this process, as the join reaches them).
    A shot's segment is known by the sha256 of its take's picture: ``CutShot.picture_sha256``
    where the caller knows it (the take's media id), else the image file's bytes are hashed.
    """
    spec = _format(path, prores)
    width, height = size
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise CutError(f"{path}: animatic size {width}x{height}: width and height must be even and at least 16")
    slate_frames = round(max(head_slate_s, 0.0) * cut.fps)
    total = slate_frames + cut.frames
    first_frame = round(program_start(cut.fps).value) - slate_frames
    timecode = otio.opentime.to_timecode(otio.opentime.RationalTime(first_frame, cut.rate), cut.rate)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    scratch: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if segment_cache is None:
            scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}.segments.", dir=path.parent))
        folder = segment_cache if segment_cache is not None else scratch
        assert folder is not None
        cache = SegmentCache(folder)
        if segment_cache is not None:
            cache.sweep()
    except OSError as error:
        raise CutError(f"{path}: cannot write the animatic: {_reason(error)}") from None
    plan = _Plan(cut, spec, size, burn_in, slate_frames, first_frame, date or cut.made_at.date(), folder)
    metadata = {
        "title": cut.title,
        "comment": "Soundstage animatic",
        # ISO 8601 in UTC, the form FFmpeg's muxers and readers use for creation_time.
        "creation_time": cut.made_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
    }
    # The index at the front of an MP4, so the review page can play the movie while it loads.
    options = {**MOVIE_OPTIONS, "movflags": "+faststart"} if spec.container == "mp4" else dict(MOVIE_OPTIONS)
    try:
        with _Workers(workers) as pool:
            maker = _Maker(cache, pool)
            gain, peak = _gain(plan, maker)
            sound = [plan.sound_job(segment, gain) for segment in plan.sound]
            maker.submit_all(_in_time_order(plan.video, sound, cut.fps))
            warnings = _join(plan, sound, maker, temporary, timecode, metadata, options, progress, total)
        # Content credentials (provenance/credentials.py) sign the finished movie after
        # this, from the file at ``path`` (the caller writes it under a temporary name too).
        _sync(temporary)
        os.replace(temporary, path)
        _sync(path.parent)
    except (OSError, av.FFmpegError) as error:
        raise CutError(f"{path}: cannot write the animatic: {_reason(error)}") from None
    except BrokenProcessPool:
        raise CutError(f"{path}: a segment encoder process died; cut again") from None
    finally:
        temporary.unlink(missing_ok=True)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return AnimaticInfo(
        path, total, float(total / cut.fps), bool(sound), tuple(warnings), timecode,
        20 * math.log10(peak) if peak > 0 else None, 20 * math.log10(gain) if peak > 0 else 0.0,
        len(plan.video), maker.made(plan.video), len(sound), maker.made(sound),
    )  # fmt: skip


def _format(path: Path, prores: bool) -> Format:
    if prores:
        if path.suffix.lower() != ".mov":
            raise CutError(f"{path}: a ProRes animatic goes in a .mov file")
        return PRORES
    if path.suffix.lower() not in (".mp4", ".mov"):
        raise CutError(f"{path}: an H.264 animatic goes in a .mp4 (or .mov) file")
    return H264 if path.suffix.lower() == ".mp4" else H264_MOV


def _reason(error: BaseException) -> str:
    return str(getattr(error, "strerror", None) or error)


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def _sync(path: Path) -> None:
    """fsync a file or folder: the rename is durable only once both are on disk."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


@dataclass(frozen=True, slots=True)
class _SoundSegment:
    """A stretch of the sound: its samples and the spoken lines in it."""

    first: int  # its first sample in the movie
    samples: int
    clips: tuple[tuple[int, str], ...]  # (first sample in the segment, WAV file) of each line
    mix_key: str  # the key of the mix itself, before the gain; its true peak is kept under it


class _Plan:
    """Every segment of the movie with its key: the picture (the slate, then one per shot) and
    the sound (stretches of ``SOUND_SEGMENT_S`` or more that start where the sound is silent)."""

    def __init__(
        self,
        cut: Cut,
        spec: Format,
        size: tuple[int, int],
        burn_in: bool,
        slate_frames: int,
        first_frame: int,
        date: dt.date,
        folder: Path,
    ) -> None:
        self.spec, self.folder, self.fps = spec, folder, cut.fps
        self.suffix = f".{spec.container}"
        self._hashes: dict[Path, str] = {}
        video = _video_identity(spec, size, cut.fps)
        self.video: list[VideoJob] = []
        if slate_frames:
            slate = tuple(slate_lines(cut, date))
            key = segment_key("slate", video, slate, slate_frames)
            self.video.append(VideoJob(folder, key, self.suffix, spec, size, cut.fps, 0, slate_frames, None, slate))
        for shot, start in zip(cut.shots, cut.starts()):
            first = slate_frames + start
            timecode_frame = first_frame + first
            what: dict[str, Any] = {
                "picture": self._picture_id(shot),
                "frames": shot.frames,
                # A clip take is played, not held: its segment is another one than its first
                # frame's (the picture's sha256 above is the clip's).
                **({"plays": ["clip", shot.clip_frames]} if shot.plays_clip else {}),
                "move": shot.move,
                "no_take": [shot.code, shot.take, shot.description],  # what a NO TAKE slate says
                # The burn-in: the label, and where the timecode starts (every frame's follows).
                "burn_in": [label_text(shot), timecode_frame] if burn_in else None,
            }
            key = segment_key("shot", video, what)
            self.video.append(
                VideoJob(folder, key, self.suffix, spec, size, cut.fps, first, shot.frames, shot,
                          timecode_frame=timecode_frame, burn_in=burn_in)
            )  # fmt: skip
        self.sound = self._sound_segments(cut, slate_frames) if cut.dialogue else []
        self.sound_identity = [
            spec.container, spec.audio_codec, spec.audio_bit_rate, AUDIO_RATE, av.__version__,
            list(av.library_versions["libavcodec"]),
        ]  # fmt: skip

    def _picture_id(self, shot: CutShot) -> str:
        """What the shot's picture is, by content: its sha256, or why there is none."""
        if shot.take is None or shot.image is None:
            return ""
        if shot.picture_sha256:
            return shot.picture_sha256
        try:
            return file_sha256(shot.image)
        except FileNotFoundError:
            return "missing"
        except OSError as error:
            return f"unreadable: {error.__class__.__name__}"

    def _wav_sha256(self, path: Path) -> str:
        if path not in self._hashes:
            try:
                self._hashes[path] = file_sha256(path)
            except OSError as error:
                raise CutError(f"{path}: cannot read the spoken line: {_reason(error)}") from None
        return self._hashes[path]

    def _sound_segments(self, cut: Cut, slate_frames: int) -> list[_SoundSegment]:
        """The sound cut into segments of ``SOUND_SEGMENT_S`` or more, at shot boundaries
        (rounded down to a whole AAC frame) where no line is within ``SILENT_JOIN`` samples."""
        length = _samples(slate_frames + cut.frames, cut.fps)
        # Lines are placed on the cut's timeline; the movie has the head slate before it.
        lines = sorted(((_samples(slate_frames + clip.start, cut.fps), clip) for clip in cut.dialogue), key=_first)
        # Where no join may go: each line, a part frame counted whole, and the margin.
        spans = [
            (s - SILENT_JOIN, s + math.ceil(clip.frames * AUDIO_RATE / cut.fps) + SILENT_JOIN) for s, clip in lines
        ]
        starts = [span[0] for span in spans]
        reach = list(np.maximum.accumulate([span[1] for span in spans])) if spans else []
        bounds = [0]
        for start in cut.starts():
            sample = _samples(slate_frames + start, cut.fps)
            join = sample - sample % AAC_FRAME
            # Lines starting before the join all end before it (the furthest end among them).
            index = bisect.bisect_right(starts, join)
            long_enough = join - bounds[-1] >= SOUND_SEGMENT_S * AUDIO_RATE
            if long_enough and bounds[-1] < join < length and (index == 0 or reach[index - 1] <= join):
                bounds.append(join)
        bounds.append(length)
        placed = [s for s, _ in lines]
        segments = []
        for first, stop in zip(bounds, bounds[1:]):
            low, high = bisect.bisect_left(placed, first), bisect.bisect_left(placed, stop)
            clips = tuple((s - first, str(clip.wav)) for s, clip in lines[low:high])
            mix = [(offset, self._wav_sha256(Path(wav))) for offset, wav in clips]
            # The lines are resampled by FFmpeg and the peak measured by SciPy: their versions too.
            key = segment_key("mix", AUDIO_RATE, stop - first, mix, av.__version__, _scipy_version())
            segments.append(_SoundSegment(first, stop - first, clips, key))
        return segments

    def peak_job(self, segment: _SoundSegment) -> PeakJob:
        return PeakJob(self.folder, segment.mix_key, segment.samples, segment.clips)

    def sound_job(self, segment: _SoundSegment, gain: float) -> SoundJob:
        key = segment_key("sound", self.sound_identity, segment.mix_key, repr(gain))
        return SoundJob(self.folder, key, self.suffix, self.spec, segment.first, segment.samples, segment.clips, gain)


def _first(item: tuple[int, Any]) -> int:
    return item[0]


def _scipy_version() -> str:
    """The version of scipy, whose filter measures the mix (imported only when a cut mixes)."""
    import scipy

    return str(scipy.__version__)


def _samples(frame: int, fps: Fraction) -> int:
    """The sound sample where a frame starts."""
    return round(frame * AUDIO_RATE / fps)


def _video_identity(spec: Format, size: tuple[int, int], fps: Fraction) -> list[Any]:
    """What, beside the segment's own content, decides its bytes: the container and encoder
    with its settings, the frame size and rate, the libraries that draw and encode, the fonts."""
    faces = [face(name, 12).getname() for name in ("DejaVuSansMono.ttf", "DejaVuSans.ttf")]
    return [
        spec.container, spec.codec, spec.pix_fmt, sorted(spec.options.items()), SEGMENT_THREADS, list(size),
        int(fps) if fps.denominator == 1 else rate_text(fps),  # a whole rate as before: cached segments still match
        av.__version__, list(av.library_versions["libavcodec"]), cv2.__version__, PIL.__version__, faces,
    ]  # fmt: skip


def _in_time_order(video: list[VideoJob], sound: list[SoundJob], fps: Fraction) -> list[VideoJob | SoundJob]:
    """Picture and sound segments in the order the join reaches them."""
    jobs: list[tuple[Fraction, int, VideoJob | SoundJob]] = [(Fraction(j.first, fps), 0, j) for j in video]
    jobs += [(Fraction(j.first, AUDIO_RATE), 1, j) for j in sound]
    return [job for _, _, job in sorted(jobs, key=lambda item: item[:2])]


class _Deferred:
    """A job run in this process when its result is first asked for (``workers=1``): the join
    reaches segments in order, so a cut stopped by ``progress`` encodes nothing past it."""

    def __init__(self, function: Callable[[Any], Any], job: Any) -> None:
        self.function, self.job = function, job
        self.done, self.value = False, None

    def result(self) -> Any:
        if not self.done:
            self.value, self.done = self.function(self.job), True
        return self.value


class _Workers:
    """Segment jobs run by a pool of ``count`` spawned processes, or deferred in this one.

    Spawned rather than forked: the caller may be a server with threads, which a fork would
    copy in whatever state they were in. The pool is started only when there is work for it."""

    def __init__(self, count: int) -> None:
        self.count = max(1, count)
        self._pool: ProcessPoolExecutor | None = None

    def start(self, jobs: int) -> None:
        """Start the pool when ``jobs`` jobs are to come (none for one: it would only add a
        process start). A spawning pool starts a process per job submitted, up to ``count``."""
        if self.count > 1 and jobs > 1 and self._pool is None:
            self._pool = ProcessPoolExecutor(self.count, mp_context=get_context("spawn"), initializer=_worker_start)

    def submit(self, function: Callable[[Any], Any], job: Any) -> Future[Any] | _Deferred:
        if self._pool is None:
            return _Deferred(function, job)
        return self._pool.submit(function, job)

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if self._pool is not None:
            # On a failure, jobs not yet started are dropped and the cut does not wait for
            # the running ones: their segments land in the cache whole, or not at all.
            self._pool.shutdown(wait=error is None, cancel_futures=error is not None)


def _worker_start() -> None:
    # Ctrl-C is the parent's to handle: it stops the pool. A worker that took it too would
    # print a traceback for every job it was running.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A parent killed outright (SIGKILL, the OOM killer) cannot stop its pool, and the
    # workers would wait for jobs for ever: each watches its parent and leaves with it.
    parent = parent_process()
    if parent is not None:
        threading.Thread(target=_leave_with, args=(parent.sentinel,), daemon=True).start()


def _leave_with(sentinel: int) -> None:
    wait([sentinel])
    os._exit(1)  # mid-job: whatever it was writing is a temporary file, never an entry


class _Maker:
    """Finds each segment in the cache or has it made, once per key, and counts what it made."""

    def __init__(self, cache: SegmentCache, workers: _Workers) -> None:
        self.cache, self.workers = cache, workers
        self._making: dict[str, Future[Any] | _Deferred] = {}
        self._made: set[str] = set()

    def submit_all(self, jobs: list[Any]) -> None:
        """Have every job that the cache lacks made (in the pool when there is one)."""
        missing = [job for job in jobs if job.key not in self._making and not self.cache.has(job.key, job.suffix)]
        self.workers.start(len({job.key for job in missing}))
        for job in missing:
            self.submit(job)

    def submit(self, job: Any) -> None:
        if job.key not in self._making and not self.cache.has(job.key, job.suffix):
            self._making[job.key] = self.workers.submit(MAKERS[type(job)], job)
            self._made.add(job.key)

    def entry(self, job: Any) -> Entry:
        """The job's segment, made now if it is missing or its bytes do not match their sha256."""
        making = self._making.get(job.key)
        if making is not None:
            making.result()
        entry = self.cache.find(job.key, job.suffix)
        # A segment drawn as a NO TAKE slate because its picture could not be read is made
        # again by every later cut: its key names the picture meant (``picture_sha256``), and
        # once the picture reads again the slate must not stand in for it.
        stale = entry is not None and entry.facts.get("reason", "").startswith("unreadable")
        if entry is None or entry.facts.get("length") != _length(job) or (stale and job.key not in self._made):
            entry = self.remake(job)
        return entry

    def remake(self, job: Any) -> Entry:
        """Make the job's segment in this process, whatever the cache holds."""
        self._made.add(job.key)
        self._making[job.key] = done = _Deferred(MAKERS[type(job)], job)
        done.result()
        entry = self.cache.find(job.key, job.suffix)
        if entry is None:
            raise CutError(f"{self.cache.path(job.key, job.suffix)}: the segment does not read back as written")
        return entry

    def made(self, jobs: list[Any]) -> int:
        """How many of ``jobs``' segments were made here (a key shared by several counts once)."""
        return len({job.key for job in jobs} & self._made)


def _length(job: VideoJob | SoundJob | PeakJob) -> int:
    return job.frames if isinstance(job, VideoJob) else job.samples


def _gain(plan: _Plan, maker: _Maker) -> tuple[float, float]:
    """The one gain for the cut's sound, and the true peak it was set from: the largest of the
    segments' peaks (each measured once and kept in the cache). Measured first, then played
    out at one gain: a limiter would change the sound line by line, one gain keeps every line
    as it was spoken."""
    jobs = [plan.peak_job(segment) for segment in plan.sound if segment.clips]
    maker.submit_all(jobs)
    peak = max((_read_peak(maker.entry(job)) for job in jobs), default=0.0)
    return (10 ** (AUDIO_PEAK_DBTP / 20) / peak if peak > 0 else 1.0), peak


def _read_peak(entry: Entry) -> float:
    return float(entry.path.read_text())


def _join(
    plan: _Plan,
    sound: list[SoundJob],
    maker: _Maker,
    temporary: Path,
    timecode: str,
    metadata: dict[str, str],
    options: dict[str, str],
    progress: Progress | None,
    total: int,
) -> list[str]:
    """Join every segment into ``temporary``, picture and sound interleaved; returns the
    warnings of the shots drawn as NO TAKE slates."""
    warnings: list[str] = []
    first_sound = maker.entry(sound[0]).path if sound else None
    joiner = Joiner(
        temporary, plan.spec.container, fps=plan.fps, video=maker.entry(plan.video[0]).path, audio=first_sound,
        timecode=timecode, metadata=metadata, options=options,
    )  # fmt: skip
    try:
        pending = iter(sound)
        next_sound = next(pending, None)
        for job in plan.video:
            entry = _add(joiner.add_video, maker, job)
            reason = entry.facts.get("reason", "")
            if job.shot is not None and reason.startswith("unreadable"):  # assemble has warned of the rest
                warnings.append(f"{job.shot.code}: take {job.shot.take}: {reason}; {NO_TAKE} slate")
            # The sound up to the end of the picture so far, so the muxer holds at most a shot.
            while next_sound is not None and next_sound.first * plan.fps < joiner.frames * AUDIO_RATE:
                _add(joiner.add_audio, maker, next_sound)
                next_sound = next(pending, None)
            _report(progress, joiner.frames, total)
        while next_sound is not None:
            _add(joiner.add_audio, maker, next_sound)
            next_sound = next(pending, None)
    finally:
        joiner.close()
    return warnings


def _add(add: Callable[[Path], int], maker: _Maker, job: VideoJob | SoundJob) -> Entry:
    """Copy the job's segment in; one whose parameters differ from the movie's is made again."""
    entry = maker.entry(job)
    try:
        add(entry.path)
    except Mismatch:
        entry = maker.remake(job)
        try:
            add(entry.path)
        except Mismatch as error:
            raise CutError(str(error)) from None
    return entry
