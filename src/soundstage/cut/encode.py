"""Encoding one segment of the animatic, in a worker process or in the cutting one: a picture
segment (the head slate, or a shot's frames with their burn-ins) or a sound segment (the
scratch dialogue of its stretch, mixed at the cut's gain), or the true peak of a sound
segment's mix. Each is written into the segment cache, whole or not at all.

Frames are streamed to the encoder one at a time and the sound is mixed a second at a time,
so neither piles up in memory however long the shot is. A held still is converted to the
encoder's pixel format once; each frame then copies those planes and replaces only the
timecode box, which is far cheaper than converting a whole RGB frame per frame (and without
burn-ins the same frame is sent again with a new timestamp).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import opentimelineio as otio
from av.video.frame import PictureType
from av.video.reformatter import VideoReformatter

from soundstage.cut.dialogue import DialogueMix, mix_true_peak
from soundstage.cut.pictures import PANS, PUSHES, Art, Burn, clip_pictures, label_text, take_picture
from soundstage.cut.segments import SegmentCache
from soundstage.cut.timeline import CutShot

AUDIO_RATE = 48_000  # what editing systems expect of picture sound
# The MP4/MOV muxer's options for every segment and the movie: edit lists are counted in the
# movie's timescale, 1/1000 s by default, which cuts the last packet off a sound that ends
# between two milliseconds (found by joining segments: a shot's last 16 samples went missing);
# at the sound's own rate an edit list counts whole samples.
MOVIE_OPTIONS = {"movie_timescale": str(AUDIO_RATE)}


@dataclass(frozen=True, slots=True)
class Format:
    """A container and its codecs, with the encoder settings."""

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
H264 = Format(
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
H264_MOV = Format("mov", H264.codec, H264.pix_fmt, H264.options, "pcm_s16le")


# prores_ks profile 2 is ProRes 422 (0 proxy, 1 LT, 3 HQ); "apl0" is what Apple's encoder writes.
PRORES = Format("mov", "prores_ks", "yuv422p10le", {"profile": "2", "vendor": "apl0"}, "pcm_s16le")


# Each segment is encoded on one thread; the cut runs segments side by side in processes
# instead. One thread makes a segment's bytes the same on every machine and with any number of
# workers (x264's frame threads change its decisions), so a cache can be shared and a parallel
# cut is the serial cut, byte for byte.
SEGMENT_THREADS = "1"


@dataclass(frozen=True, slots=True)
class VideoJob:
    """A picture segment: the head slate (``shot`` None) or one shot, and how to encode it."""

    cache: Path
    key: str
    suffix: str
    spec: Format
    size: tuple[int, int]
    fps: Fraction
    first: int  # its first frame in the movie
    frames: int
    shot: CutShot | None
    slate: tuple[tuple[str, float], ...] = ()
    timecode_frame: int = 0  # its first frame on the timecode track, in frames from 00:00:00:00
    burn_in: bool = True


@dataclass(frozen=True, slots=True)
class SoundJob:
    """A sound segment at the cut's gain, and how to encode it."""

    cache: Path
    key: str
    suffix: str
    spec: Format
    first: int
    samples: int
    clips: tuple[tuple[int, str], ...]
    gain: float


@dataclass(frozen=True, slots=True)
class PeakJob:
    """The true peak of a sound segment's mix, to be measured."""

    cache: Path
    key: str
    samples: int
    clips: tuple[tuple[int, str], ...]
    suffix: str = ".peak"


def make_video(job: VideoJob) -> None:
    """Encode a picture segment into the cache."""
    SegmentCache(job.cache).make(job.key, job.suffix, lambda path: _encode_video(job, path))


def make_sound(job: SoundJob) -> None:
    """Mix and encode a sound segment into the cache."""
    SegmentCache(job.cache).make(job.key, job.suffix, lambda path: _encode_sound(job, path))


def make_peak(job: PeakJob) -> None:
    """Measure the true peak of a sound segment's mix (before the gain) into the cache."""

    def measure(path: Path) -> dict[str, Any]:
        clips = [(offset, Path(wav)) for offset, wav in job.clips]
        path.write_text(repr(mix_true_peak(clips, AUDIO_RATE, job.samples)))
        return {"length": job.samples}

    SegmentCache(job.cache).make(job.key, job.suffix, measure)


# What makes each kind of job (module-level functions: a worker process is sent them by name).
MAKERS: dict[type, Callable[[Any], None]] = {VideoJob: make_video, SoundJob: make_sound, PeakJob: make_peak}


def _encode_video(job: VideoJob, path: Path) -> dict[str, Any]:
    """Encode a picture segment to ``path``; returns its facts (frames, why a shot shows a
    NO TAKE slate)."""
    container = av.open(str(path), "w", format=job.spec.container, options=dict(MOVIE_OPTIONS))
    try:
        encoder = _VideoEncoder(container, job.spec, job.size, job.fps)
        art = Art(job.size)
        reason = ""
        if job.shot is None:
            encoder.hold(encoder.convert(art.slate(list(job.slate))), job.frames)
        else:
            reason = _write_shot(encoder, art, job.shot, job.timecode_frame, job.fps, job.burn_in)
        encoder.finish()
    finally:
        container.close()
    return {"length": encoder.sent, "reason": reason}


def _encode_sound(job: SoundJob, path: Path) -> dict[str, Any]:
    """Encode a sound segment to ``path``: its lines mixed a second at a time, at the gain."""
    container = av.open(str(path), "w", format=job.spec.container, options=dict(MOVIE_OPTIONS))
    try:
        stream = container.add_stream(job.spec.audio_codec, rate=AUDIO_RATE, layout="mono")
        if job.spec.audio_bit_rate:
            stream.codec_context.bit_rate = job.spec.audio_bit_rate
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


def _write_shot(encoder: _VideoEncoder, art: Art, shot: CutShot, start: int, fps: Fraction, burn_in: bool) -> str:
    """Send one shot's frames: its clip played, its still held or moved, or a NO TAKE slate; returns why there
    is no picture ("" when there is one). ``start`` is the shot's first frame on the movie's
    timecode track, in frames from 00:00:00:00."""
    source, reason = take_picture(shot)
    if source is None:
        source = art.no_take(shot, reason)
    picture = art.fit(source)
    label = art.label(label_text(shot))
    move = shot.move if reason == "" else "static"  # a slate does not move

    def timecode(frame: int) -> Burn:
        # Non-drop timecode at the rounded rate (OTIO's float rate 23.976... counts 24 a second).
        rate = float(fps)
        return art.timecode(otio.opentime.to_timecode(otio.opentime.RationalTime(start + frame, rate), rate))

    if reason == "" and shot.plays_clip:
        # A clip take moves by itself (the camera's move is in it): its frames, fitted one by
        # one, with the burn-ins drawn over each.
        for frame, still in enumerate(clip_pictures(shot)):
            playing = art.fit(still)
            if burn_in:
                label.apply(playing)
                timecode(frame).apply(playing)
            encoder.send(encoder.convert(playing), key=frame == 0)
        return reason
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


class _VideoEncoder:
    """A segment's open container: one video stream at the cut's rate, starting on an IDR."""

    def __init__(
        self, container: av.container.OutputContainer, spec: Format, size: tuple[int, int], fps: Fraction
    ) -> None:
        self.container = container
        self.pix_fmt = spec.pix_fmt
        self.video = container.add_stream(spec.codec, rate=Fraction(fps))
        self.video.width, self.video.height = size
        self.video.pix_fmt = spec.pix_fmt
        self.video.codec_context.time_base = 1 / Fraction(fps)  # 1001/24000 at 23.976
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
