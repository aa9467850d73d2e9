"""The animatic: the cut played out as a movie through PyAV, H.264 in .mp4 or ProRes 422 in .mov.

A head slate, then each shot's take held for its duration (a slow push or pan where the shot's
camera move asks for one), a NO TAKE slate where there is no picture, burn-ins (shot code, size
and lens, take, status, timecode) and the scratch dialogue mixed into one audio track.

Burn-ins are one layer, drawn once, here: the takes cut in are the picture alone (a previs
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

Within a segment frames are streamed to the encoder one at a time and the sound is mixed a
second at a time, so neither piles up in memory however long the shot is. A held still is
converted to the encoder's pixel format once; each frame then copies those planes and replaces
only the timecode box, which is far cheaper than converting a whole RGB frame per frame (and
without burn-ins the same frame is sent again with a new timestamp). The movie is written
under a temporary name beside the target and renamed at the end, so an interrupted cut leaves
nothing at the final path, and the previous cut there as it was.
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
from functools import cache
from multiprocessing import get_context, parent_process
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import opentimelineio as otio
import PIL
from av.video.frame import PictureType
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageDraw, ImageFont

from soundstage.cut.dialogue import DialogueMix, mix_true_peak
from soundstage.cut.join import Joiner, Mismatch
from soundstage.cut.segments import Entry, SegmentCache, file_sha256, segment_key
from soundstage.cut.timeline import NO_TAKE, Cut, CutShot, program_start
from soundstage.errors import CutError
from soundstage.render.previs import read_png

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core
AUDIO_RATE = 48_000  # what editing systems expect of picture sound
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
# The MP4/MOV muxer's options for every segment and the movie: edit lists are counted in the
# movie's timescale, 1/1000 s by default, which cuts the last packet off a sound that ends
# between two milliseconds (found by joining segments: a shot's last 16 samples went missing);
# at the sound's own rate an edit list counts whole samples.
MOVIE_OPTIONS = {"movie_timescale": str(AUDIO_RATE)}
# Moves the animatic plays out; every other move holds the still.
PUSHES = {"push-in": (1.0, 1.12), "pull-out": (1.12, 1.0)}  # zoom at the first and last frame
PANS = {"pan", "track"}
PAN_ZOOM = 1.1  # a pan frames a little tighter, so there is picture to travel over
BURN_IN_HEIGHT = 0.034  # burn-in text height, fraction of the frame height
BACKGROUND = (20, 20, 24)  # letterbox and slate background
NO_TAKE_GREY = (64, 64, 72)

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


@dataclass(frozen=True, slots=True)
class _Format:
    container: str
    codec: str
    pix_fmt: str
    options: dict[str, str]
    audio_codec: str
    audio_bit_rate: int | None = None  # None: the codec's own (PCM has no choice)


# x264 "ultrafast" at CRF 20: an animatic is mostly held stills, which every preset codes to
# almost nothing after the shot's first frame, and ultrafast does so 2.3 times faster than
# "veryfast" (measured on held 1280x720 stills). What it gives up is size on the few shots that
# move (several times larger there), not picture. Each shot starts on a keyframe (IDR), so an
# editor's scrub lands on shot boundaries. Ultrafast alone codes Constrained Baseline (no
# CABAC, no 8x8 transform); with both turned back on the stream is High profile, what editing
# systems and players expect, for about 10% more encoding time and 12% smaller files (measured
# on held 1280x720 stills).
H264 = _Format(
    "mp4",
    "libx264",
    "yuv420p",
    {"preset": "ultrafast", "crf": "20", "forced-idr": "1", "profile": "high", "x264-params": "cabac=1:8x8dct=1"},
    "aac",
    # 128 kb/s: at FFmpeg's default for mono AAC (about 69 kb/s) the decoded peaks of a spoken
    # episode came out 1 dB over the mix it was given (1.7 dB at 64 kb/s); from 96 kb/s they
    # stayed within 0.05 dB of it.
    128_000,
)
H264_MOV = _Format("mov", H264.codec, H264.pix_fmt, H264.options, "pcm_s16le")
# prores_ks profile 2 is ProRes 422 (0 proxy, 1 LT, 3 HQ); "apl0" is what Apple's encoder writes.
PRORES = _Format("mov", "prores_ks", "yuv422p10le", {"profile": "2", "vendor": "apl0"}, "pcm_s16le")
# Each segment is encoded on one thread; the cut runs segments side by side in processes
# instead. One thread makes a segment's bytes the same on every machine and with any number of
# workers (x264's frame threads change its decisions), so a cache can be shared and a parallel
# cut is the serial cut, byte for byte.
SEGMENT_THREADS = "1"


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
    timecode = otio.opentime.to_timecode(otio.opentime.RationalTime(first_frame, cut.fps), cut.fps)
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
        path, total, total / cut.fps, bool(sound), tuple(warnings), timecode,
        20 * math.log10(peak) if peak > 0 else None, 20 * math.log10(gain) if peak > 0 else 0.0,
        len(plan.video), maker.made(plan.video), len(sound), maker.made(sound),
    )  # fmt: skip


def _format(path: Path, prores: bool) -> _Format:
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


def _slate_lines(cut: Cut, date: dt.date) -> list[tuple[str, float]]:
    """The head slate's lines and their sizes (relative to the frame height)."""
    runtime = otio.opentime.to_timecode(otio.opentime.RationalTime(cut.frames, cut.fps), cut.fps)
    shots = f"{len(cut.shots)} shot" + ("" if len(cut.shots) == 1 else "s")
    return [
        (cut.title or "Untitled", 0.09),
        ("ANIMATIC", 0.05),
        (date.isoformat(), 0.04),
        (f"{shots}   runtime {runtime}   {cut.fps} fps", 0.04),
        ("scratch picture and sound: not for release", 0.03),
    ]


# -- segments: what each one shows, and its key ---------------------------------------------


@dataclass(frozen=True, slots=True)
class _VideoJob:
    """A picture segment: the head slate (``shot`` None) or one shot, and how to encode it."""

    cache: Path
    key: str
    suffix: str
    spec: _Format
    size: tuple[int, int]
    fps: int
    first: int  # its first frame in the movie
    frames: int
    shot: CutShot | None
    slate: tuple[tuple[str, float], ...] = ()
    timecode_frame: int = 0  # its first frame on the timecode track, in frames from 00:00:00:00
    burn_in: bool = True


@dataclass(frozen=True, slots=True)
class _SoundSegment:
    """A stretch of the sound: its samples and the spoken lines in it."""

    first: int  # its first sample in the movie
    samples: int
    clips: tuple[tuple[int, str], ...]  # (first sample in the segment, WAV file) of each line
    mix_key: str  # the key of the mix itself, before the gain; its true peak is kept under it


@dataclass(frozen=True, slots=True)
class _SoundJob:
    """A sound segment at the cut's gain, and how to encode it."""

    cache: Path
    key: str
    suffix: str
    spec: _Format
    first: int
    samples: int
    clips: tuple[tuple[int, str], ...]
    gain: float


@dataclass(frozen=True, slots=True)
class _PeakJob:
    """The true peak of a sound segment's mix, to be measured."""

    cache: Path
    key: str
    samples: int
    clips: tuple[tuple[int, str], ...]
    suffix: str = ".peak"


class _Plan:
    """Every segment of the movie with its key: the picture (slate, then one per shot) and the
    sound (a segment per shot where the sound is silent at its boundaries)."""

    def __init__(
        self,
        cut: Cut,
        spec: _Format,
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
        self.video: list[_VideoJob] = []
        if slate_frames:
            slate = tuple(_slate_lines(cut, date))
            key = segment_key("slate", video, slate, slate_frames)
            self.video.append(_VideoJob(folder, key, self.suffix, spec, size, cut.fps, 0, slate_frames, None, slate))
        for shot, start in zip(cut.shots, cut.starts()):
            first = slate_frames + start
            timecode_frame = first_frame + first
            what: dict[str, Any] = {
                "picture": self._picture_id(shot),
                "frames": shot.frames,
                "move": shot.move,
                "no_take": [shot.code, shot.take, shot.description],  # what a NO TAKE slate says
                # The burn-in: the label, and where the timecode starts (every frame's follows).
                "burn_in": [_label_text(shot), timecode_frame] if burn_in else None,
            }
            key = segment_key("shot", video, what)
            self.video.append(
                _VideoJob(folder, key, self.suffix, spec, size, cut.fps, first, shot.frames, shot,
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
        lines = sorted((_samples(slate_frames + clip.start, cut.fps), clip) for clip in cut.dialogue)
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
            if long_enough and join < length and (index == 0 or reach[index - 1] <= join):
                bounds.append(join)
        bounds.append(length)
        placed = [s for s, _ in lines]
        segments = []
        for first, stop in zip(bounds, bounds[1:]):
            low, high = bisect.bisect_left(placed, first), bisect.bisect_left(placed, stop)
            clips = tuple((s - first, str(clip.wav)) for s, clip in lines[low:high])
            mix = [(offset, self._wav_sha256(Path(wav))) for offset, wav in clips]
            key = segment_key("mix", AUDIO_RATE, stop - first, mix)
            segments.append(_SoundSegment(first, stop - first, clips, key))
        return segments

    def peak_job(self, segment: _SoundSegment) -> _PeakJob:
        return _PeakJob(self.folder, segment.mix_key, segment.samples, segment.clips)

    def sound_job(self, segment: _SoundSegment, gain: float) -> _SoundJob:
        key = segment_key("sound", self.sound_identity, segment.mix_key, repr(gain))
        return _SoundJob(self.folder, key, self.suffix, self.spec, segment.first, segment.samples, segment.clips, gain)


def _samples(frame: int, fps: int) -> int:
    """The sound sample where a frame starts."""
    return round(frame * AUDIO_RATE / fps)


def _video_identity(spec: _Format, size: tuple[int, int], fps: int) -> list[Any]:
    """What, beside the segment's own content, decides its bytes: the container and encoder
    with its settings, the frame size and rate, the libraries that draw and encode, the fonts."""
    faces = [_font(name, 12).getname() for name in ("DejaVuSansMono.ttf", "DejaVuSans.ttf")]
    return [
        spec.container, spec.codec, spec.pix_fmt, sorted(spec.options.items()), SEGMENT_THREADS, list(size), fps,
        av.__version__, list(av.library_versions["libavcodec"]), cv2.__version__, PIL.__version__, faces,
    ]  # fmt: skip


def _in_time_order(video: list[_VideoJob], sound: list[_SoundJob], fps: int) -> list[_VideoJob | _SoundJob]:
    """Picture and sound segments in the order the join reaches them."""
    jobs: list[tuple[Fraction, int, _VideoJob | _SoundJob]] = [(Fraction(j.first, fps), 0, j) for j in video]
    jobs += [(Fraction(j.first, AUDIO_RATE), 1, j) for j in sound]
    return [job for _, _, job in sorted(jobs, key=lambda item: item[:2])]


# -- making segments: in this process or in a pool ------------------------------------------


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

    def cancel(self) -> bool:
        return True


class _Workers:
    """Segment jobs run by a pool of ``count`` spawned processes, or deferred in this one.

    Spawned rather than forked: the caller may be a server with threads, which a fork would
    copy in whatever state they were in. The pool is started only when there is work for it."""

    def __init__(self, count: int) -> None:
        self.count = max(1, count)
        self._pool: ProcessPoolExecutor | None = None
        self._pending: list[Future[Any]] = []

    def start(self, jobs: int) -> None:
        """Start the pool for ``jobs`` jobs (no more processes than jobs; none for one job)."""
        size = min(self.count, jobs)
        if size > 1 and self._pool is None:
            self._pool = ProcessPoolExecutor(size, mp_context=get_context("spawn"), initializer=_worker_start)

    def submit(self, function: Callable[[Any], Any], job: Any) -> Future[Any] | _Deferred:
        if self._pool is None:
            return _Deferred(function, job)
        future = self._pool.submit(function, job)
        self._pending.append(future)
        return future

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
            self._making[job.key] = self.workers.submit(_MAKERS[type(job)], job)
            self._made.add(job.key)

    def entry(self, job: Any) -> Entry:
        """The job's segment, made now if it is missing or its bytes do not match their sha256."""
        making = self._making.get(job.key)
        if making is not None:
            making.result()
        entry = self.cache.find(job.key, job.suffix)
        if entry is None or entry.facts.get("length") != _length(job):
            entry = self.remake(job)
        return entry

    def remake(self, job: Any) -> Entry:
        """Make the job's segment in this process, whatever the cache holds."""
        self._made.add(job.key)
        self._making[job.key] = done = _Deferred(_MAKERS[type(job)], job)
        done.result()
        entry = self.cache.find(job.key, job.suffix)
        if entry is None:
            raise CutError(f"{self.cache.path(job.key, job.suffix)}: the segment does not read back as written")
        return entry

    def made(self, jobs: list[Any]) -> int:
        """How many of ``jobs``' segments were made here (a key shared by several counts once)."""
        return len({job.key for job in jobs} & self._made)


def _length(job: _VideoJob | _SoundJob | _PeakJob) -> int:
    return job.frames if isinstance(job, _VideoJob) else job.samples


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
    sound: list[_SoundJob],
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


def _add(add: Callable[[Path], int], maker: _Maker, job: _VideoJob | _SoundJob) -> Entry:
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


# -- encoding one segment (in a worker process, or in this one) ----------------------------


def _make_video(job: _VideoJob) -> None:
    SegmentCache(job.cache).make(job.key, job.suffix, lambda path: _encode_video(job, path))


def _make_sound(job: _SoundJob) -> None:
    SegmentCache(job.cache).make(job.key, job.suffix, lambda path: _encode_sound(job, path))


def _make_peak(job: _PeakJob) -> None:
    def measure(path: Path) -> dict[str, Any]:
        clips = [(offset, Path(wav)) for offset, wav in job.clips]
        path.write_text(repr(mix_true_peak(clips, AUDIO_RATE, job.samples)))
        return {"length": job.samples}

    SegmentCache(job.cache).make(job.key, job.suffix, measure)


_MAKERS: dict[type, Callable[[Any], None]] = {_VideoJob: _make_video, _SoundJob: _make_sound, _PeakJob: _make_peak}


def _encode_video(job: _VideoJob, path: Path) -> dict[str, Any]:
    """Encode a picture segment to ``path``; returns its facts (frames, why a shot shows a
    NO TAKE slate)."""
    container = av.open(str(path), "w", format=job.spec.container, options=dict(MOVIE_OPTIONS))
    try:
        encoder = _VideoEncoder(container, job.spec, job.size, job.fps)
        art = _Art(job.size)
        reason = ""
        if job.shot is None:
            encoder.hold(encoder.convert(art.slate(list(job.slate))), job.frames)
        else:
            reason = _write_shot(encoder, art, job.shot, job.timecode_frame, job.fps, job.burn_in)
        encoder.finish()
    finally:
        container.close()
    return {"length": encoder.sent, "reason": reason}


def _encode_sound(job: _SoundJob, path: Path) -> dict[str, Any]:
    """Encode a sound segment to ``path``: its lines mixed a second at a time, at the gain."""
    container = av.open(str(path), "w", format=job.spec.container, options=dict(MOVIE_OPTIONS))
    try:
        stream = container.add_stream(job.spec.audio_codec, rate=AUDIO_RATE, layout="mono")
        if job.spec.audio_bit_rate:
            stream.codec_context.bit_rate = job.spec.audio_bit_rate
        stream.codec_context.options = {"threads": SEGMENT_THREADS}
        mix = DialogueMix([(offset, Path(wav)) for offset, wav in job.clips], AUDIO_RATE, job.gain)
        for start in range(0, job.samples, AUDIO_RATE):
            samples = mix.read(start, min(AUDIO_RATE, job.samples - start))
            chunk = av.AudioFrame.from_ndarray(samples[np.newaxis, :], format="flt", layout="mono")
            chunk.sample_rate = AUDIO_RATE
            chunk.pts = start
            chunk.time_base = Fraction(1, AUDIO_RATE)
            container.mux(stream.encode(chunk))
        container.mux(stream.encode(None))
    finally:
        container.close()
    return {"length": job.samples}


def _write_shot(encoder: _VideoEncoder, art: _Art, shot: CutShot, start: int, fps: int, burn_in: bool) -> str:
    """Send one shot's frames: its still held or moved, or a NO TAKE slate; returns why there
    is no picture ("" when there is one). ``start`` is the shot's first frame on the movie's
    timecode track, in frames from 00:00:00:00."""
    source, reason = _picture(shot)
    if source is None:
        source = art.no_take(shot, reason)
    picture = art.fit(source)
    label = art.label(_label_text(shot))
    move = shot.move if reason == "" else "static"  # a slate does not move

    def timecode(frame: int) -> _Burn:
        return art.timecode(otio.opentime.to_timecode(otio.opentime.RationalTime(start + frame, fps), fps))

    if move in PUSHES or move in PANS:
        for frame in range(shot.frames):
            moving = art.moved(picture, move, frame / max(1, shot.frames - 1))
            if burn_in:
                label.apply(moving)
                timecode(frame).apply(moving)
            encoder.send(encoder.convert(moving), key=frame == 0)
        return reason
    if not burn_in:
        encoder.hold(encoder.convert(picture), shot.frames)
        return reason
    label.apply(picture)
    held = _HeldFrame(encoder.convert(picture), art.timecode_box, size=art.size)
    x0, y0, x1, y1 = art.timecode_box
    under = picture[y0:y1, x0:x1]
    for frame in range(shot.frames):
        patch = under.copy()
        timecode(frame).apply(patch, at=(0, 0))
        encoder.send(held.with_patch(encoder.convert(patch)), key=frame == 0)
    return reason


def _picture(shot: CutShot) -> tuple[np.ndarray | None, str]:
    """The take's image as RGB uint8, or None and why there is none ("" when there is one)."""
    if shot.take is None:
        return None, "no take yet"
    if shot.image is None:
        return None, "media missing"
    try:
        image = read_png(shot.image)
    except FileNotFoundError:
        return None, "media missing"
    except (OSError, ValueError) as error:  # Pillow's UnidentifiedImageError is an OSError
        return None, f"unreadable image ({error.__class__.__name__})"
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, np.newaxis], 3, axis=2)
    return np.ascontiguousarray(image), ""


def _label_text(shot: CutShot) -> str:
    """The bottom-left burn-in: shot code with size and lens, take, review status."""
    return "   ".join(part for part in (_shot_label(shot), _take_label(shot), shot.status) if part)


def _shot_label(shot: CutShot) -> str:
    """The shot code with its size and lens, as the previs burn-in names them: ``012_0030  CU  35mm``."""
    lens = f"{shot.lens_mm:g}mm" if shot.lens_mm else ""
    return "  ".join(part for part in (shot.code, shot.size, lens) if part)


def _take_label(shot: CutShot) -> str:
    return f"take {shot.take.rpartition('/')[2]}" if shot.take else NO_TAKE


class _VideoEncoder:
    """A segment's open container: one video stream at the cut's rate, starting on an IDR."""

    def __init__(self, container: av.container.OutputContainer, spec: _Format, size: tuple[int, int], fps: int) -> None:
        self.container = container
        self.pix_fmt = spec.pix_fmt
        self.video = container.add_stream(spec.codec, rate=Fraction(fps))
        self.video.width, self.video.height = size
        self.video.pix_fmt = spec.pix_fmt
        self.video.codec_context.time_base = Fraction(1, fps)
        self.video.codec_context.options = {**spec.options, "threads": SEGMENT_THREADS}
        self.reformatter = VideoReformatter()
        self.sent = 0  # frames sent

    def convert(self, picture: np.ndarray) -> av.VideoFrame:
        """An RGB picture (even width and height) as a frame in the encoder's pixel format."""
        if self.pix_fmt == "yuv420p":
            # OpenCV converts about four times faster than swscale, with the same BT.601
            # limited-range matrix (only the chroma filter at sharp edges differs by a step or
            # two); it matters for the frames that move, which are converted one by one.
            return av.VideoFrame.from_ndarray(cv2.cvtColor(picture, cv2.COLOR_RGB2YUV_I420), format="yuv420p")
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        return self.reformatter.reformat(frame, format=self.pix_fmt)

    def send(self, frame: av.VideoFrame, *, key: bool = False) -> None:
        """Encode the next frame of the segment (a keyframe with ``key``)."""
        frame.pts = self.sent
        # Set on every send: a held frame object is sent again and must not stay a keyframe.
        frame.pict_type = PictureType.I if key else PictureType.NONE
        frame.time_base = self.video.codec_context.time_base
        self.container.mux(self.video.encode(frame))
        self.sent += 1

    def hold(self, frame: av.VideoFrame, count: int) -> None:
        """Send the same frame ``count`` times, the first as a keyframe: the encoder copies it
        each time, so only the timestamp changes between sends."""
        for index in range(count):
            self.send(frame, key=index == 0)

    def finish(self) -> None:
        """Flush the encoder."""
        self.container.mux(self.video.encode(None))


class _HeldFrame:
    """A still in the encoder's pixel format, copied per frame with one box replaced.

    Works on any planar format whose chroma is subsampled by at most two (yuv420p, yuv422p10le):
    the box is aligned to even pixels, so it covers whole chroma samples.
    """

    def __init__(self, base: av.VideoFrame, box: tuple[int, int, int, int], *, size: tuple[int, int]) -> None:
        self.base = base
        self.width, self.height = size
        self.x0, self.y0 = box[0], box[1]
        sample = 2 if av.VideoFormat(base.format.name).components[0].bits > 8 else 1
        self.sample_bytes = sample
        self.planes = [_plane(plane, sample) for plane in base.planes]

    def with_patch(self, patch: av.VideoFrame) -> av.VideoFrame:
        """A new frame: the still with ``patch`` (a frame of the box's size) in the box."""
        frame = av.VideoFrame(self.width, self.height, self.base.format.name)
        for target, still, small in zip(frame.planes, self.planes, patch.planes):
            view = _plane(target, self.sample_bytes)
            view[:] = still
            top = self.y0 * target.height // self.height
            left = self.x0 * target.width // self.width * self.sample_bytes
            piece = _plane(small, self.sample_bytes)
            view[top : top + piece.shape[0], left : left + piece.shape[1]] = piece
        return frame


def _plane(plane: av.video.plane.VideoPlane, sample_bytes: int) -> np.ndarray:
    """A writable view of a plane's pixels (rows without the padding at their ends)."""
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width * sample_bytes]


# -- pictures --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _Burn:
    """Text to burn in: where its box goes and the text's coverage (0..255) in the box."""

    at: tuple[int, int]
    mask: np.ndarray  # uint8, box height x box width

    def apply(self, picture: np.ndarray, *, at: tuple[int, int] | None = None) -> None:
        """Darken the box (so white text reads on any picture) and draw the text, in place."""
        x, y = self.at if at is None else at
        height, width = self.mask.shape
        region = picture[y : y + height, x : x + width]
        mask = self.mask[: region.shape[0], : region.shape[1], np.newaxis].astype(np.uint16)
        dark = region // 3
        region[:] = dark + ((255 - dark) * mask // 255).astype(np.uint8)


@cache
def _font(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A DejaVu face, else Pillow's own font where fonts-dejavu-core is not installed."""
    try:
        return ImageFont.truetype(str(FONT_DIR / name), size)
    except OSError:
        return ImageFont.load_default(size)


class _Art:
    """Everything drawn into the frame at one output size: fitting, moves, burn-ins, slates."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size
        width, height = size
        self.font = _font("DejaVuSansMono.ttf", max(10, round(height * BURN_IN_HEIGHT)))
        left, top, right, bottom = self.font.getbbox("00:00:00:00")
        self.pad = max(2, (bottom - top) // 3)
        self.text_offset = (self.pad - left, self.pad - top)
        box_w, box_h = _even(right - left + 2 * self.pad), _even(bottom - top + 2 * self.pad)
        x0, y0 = _even(width - box_w - self.pad) - 2, _even(height - box_h - self.pad) - 2
        self.timecode_box = (max(0, x0), max(0, y0), min(width, x0 + box_w), min(height, y0 + box_h))
        self._seconds: tuple[str, np.ndarray] = ("", np.zeros(0, np.uint8))  # see timecode()
        self._frames: dict[str, np.ndarray] = {}
        self._monospaced = len({self.font.getlength(c) for c in "0123456789: "}) == 1

    # Pictures ---------------------------------------------------------------------------

    def fit(self, image: np.ndarray) -> np.ndarray:
        """The image scaled to fit the frame, centred, letterboxed where the shapes differ."""
        width, height = self.size
        h, w = image.shape[:2]
        if (w, h) == (width, height):
            return image.copy()
        scale = min(width / w, height / h)
        new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
        frame = np.empty((height, width, 3), np.uint8)
        frame[:] = BACKGROUND
        x, y = (width - new_w) // 2, (height - new_h) // 2
        frame[y : y + new_h, x : x + new_w] = resized
        return frame

    def moved(self, picture: np.ndarray, move: str, t: float) -> np.ndarray:
        """The frame at ``t`` (0 first, 1 last) of a slow push or pan over a fitted picture:
        a crop at a sub-pixel position, scaled back up to the frame. (Two cheap passes rather
        than one affine warp, which OpenCV does ten times slower at this size.)"""
        width, height = self.size
        ease = t * t * (3 - 2 * t)  # starts and stops gently
        if move in PUSHES:
            first, last = PUSHES[move]
            zoom, x = first + (last - first) * ease, width / 2
        else:
            zoom = PAN_ZOOM
            half = width / zoom / 2
            x = half + (width - 2 * half) * ease  # from the left of the picture to its right
        crop = (round(width / zoom), round(height / zoom))
        window = cv2.getRectSubPix(picture, crop, ((x - 0.5), (height - 1) / 2))
        return cv2.resize(window, self.size, interpolation=cv2.INTER_LINEAR)

    # Burn-ins ---------------------------------------------------------------------------

    def label(self, text: str) -> _Burn:
        """Shot code, take and status for the bottom-left corner."""
        left, top, right, bottom = self.font.getbbox(text)
        x0, y0, x1, y1 = self.timecode_box
        width = min(right - left + 2 * self.pad, x0 - 2 * self.pad)
        return self._burn(text, (self.pad, y0), (max(1, width), y1 - y0))

    def timecode(self, text: str) -> _Burn:
        """A timecode ``HH:MM:SS:FF`` for the bottom-right corner.

        Drawing text is most of the per-frame cost of a held still, so the mask is put
        together from two drawn once: "HH:MM:SS:" (new once a second) and "FF" (one per frame
        number). The face is monospaced, so "FF" after nine spaces lands where it would in the
        whole string, and the two never touch.
        """
        x0, y0, x1, y1 = self.timecode_box
        if not self._monospaced:  # Pillow's own font, where DejaVu is missing: draw it whole
            return self._burn(text, (x0, y0), (x1 - x0, y1 - y0))
        head, frames = text[:-2], text[-2:]
        if self._seconds[0] != head:
            self._seconds = (head, self._mask(head, (x1 - x0, y1 - y0)))
        if frames not in self._frames:
            self._frames[frames] = self._mask(" " * len(head) + frames, (x1 - x0, y1 - y0))
        return _Burn((x0, y0), np.maximum(self._seconds[1], self._frames[frames]))

    def _burn(self, text: str, at: tuple[int, int], size: tuple[int, int]) -> _Burn:
        return _Burn(at, self._mask(text, size))

    def _mask(self, text: str, size: tuple[int, int]) -> np.ndarray:
        """How much of each pixel of a box of ``size`` the text covers (0..255)."""
        mask = Image.new("L", size, 0)
        ImageDraw.Draw(mask).text(self.text_offset, text, fill=255, font=self.font)
        return np.asarray(mask)

    # Slates -----------------------------------------------------------------------------

    def slate(self, lines: list[tuple[str, float]], background: tuple[int, int, int] = BACKGROUND) -> np.ndarray:
        """A frame of centred lines of text, each (text, height as a fraction of the frame)."""
        width, height = self.size
        canvas = Image.new("RGB", self.size, background)
        draw = ImageDraw.Draw(canvas)
        fonts = [self._fitting(text, fraction) for text, fraction in lines]
        heights = [font.getbbox("Ag")[3] * 1.5 for font in fonts]
        y = (height - sum(heights)) / 2
        for (text, _), font, line_height in zip(lines, fonts, heights):
            draw.text((width / 2, y + line_height / 2), text, fill=(235, 235, 235), font=font, anchor="mm")
            y += line_height
        return np.asarray(canvas)

    def _fitting(self, text: str, fraction: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        """The sans face at ``fraction`` of the frame height, smaller where the text is too wide."""
        width, height = self.size
        size = max(8, round(height * fraction))
        font = _font("DejaVuSans.ttf", size)
        text_width = font.getlength(text) if text else 0
        if text_width > width * 0.9:
            font = _font("DejaVuSans.ttf", max(8, int(size * width * 0.9 / text_width)))
        return font

    def no_take(self, shot: CutShot, reason: str) -> np.ndarray:
        """The slate that stands in for a shot without a picture."""
        why = reason if shot.take is None else f"{shot.take}: {reason}"
        description = shot.description if len(shot.description) <= 90 else shot.description[:89] + "…"
        lines = [(NO_TAKE, 0.14), (shot.code, 0.07), (why, 0.04)]
        if description:
            lines.append((description, 0.035))
        return self.slate(lines, NO_TAKE_GREY)


def _even(value: int) -> int:
    """``value`` rounded up to an even number (chroma planes are half width)."""
    return value + (value & 1)
