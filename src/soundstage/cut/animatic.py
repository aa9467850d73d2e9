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

Frames are streamed to the encoder one at a time and the sound is mixed a second at a time,
so neither piles up in memory however long the cut is (what does grow is FFmpeg's MP4 index,
one entry per frame and per audio packet, until the file is closed). A held still is converted to the encoder's pixel
format once; each frame then copies those planes and replaces only the timecode box, which is
far cheaper than converting a whole RGB frame per frame (and without burn-ins the same frame
is sent again with a new timestamp). The movie is written under a temporary name beside the
target and renamed at the end, so an interrupted encode leaves nothing at the final path.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

import av
import cv2
import numpy as np
import opentimelineio as otio
from av.video.frame import PictureType
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageDraw, ImageFont

from soundstage.cut.dialogue import DialogueMix, mix_true_peak
from soundstage.cut.timeline import NO_TAKE, Cut, CutShot, program_start
from soundstage.errors import CutError
from soundstage.render.previs import read_png

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core
AUDIO_RATE = 48_000  # what editing systems expect of picture sound
# The sound is normalised so its true peak sits here: under the -1 dBTP ceiling that delivery
# specifications (EBU R 128, the streaming services) set, with half a decibel for the AAC
# encoder, whose decoded peaks can land a little above the mix it was given (see H264).
AUDIO_PEAK_DBTP = -1.5
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
) -> AnimaticInfo:
    """Write the animatic of ``cut`` to ``path`` (.mp4, or .mov with ``prores``).

    ``progress`` gets (frames written, frames in all) after the slate and after each shot;
    if it raises, the encode stops and nothing is left at ``path``. ``date`` goes on the head
    slate (the day of ``cut.made_at`` by default), and ``cut.made_at`` is the movie's creation
    time. A folder that cannot be written, an odd frame size or an encoder failure is one
    CutError line.
    """
    spec = _format(path, prores)
    width, height = size
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise CutError(f"{path}: animatic size {width}x{height}: width and height must be even and at least 16")
    slate_frames = round(max(head_slate_s, 0.0) * cut.fps)
    total = slate_frames + cut.frames
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        container = av.open(str(temporary), "w", format=spec.container)
    except (OSError, av.FFmpegError) as error:
        raise CutError(f"{path}: cannot write the animatic: {_reason(error)}") from None
    warnings: list[str] = []
    try:
        try:
            encoder = _Encoder(container, spec, size, cut, slate_frames)
            art = _Art(size)
            if slate_frames:
                encoder.hold(encoder.convert(art.slate(_slate_lines(cut, date or cut.made_at.date()))), slate_frames)
                _report(progress, encoder.sent, total)
            for shot, start in zip(cut.shots, cut.starts()):
                _write_shot(encoder, art, shot, encoder.first_frame + slate_frames + start, cut.fps, burn_in, warnings)
                _report(progress, encoder.sent, total)
            encoder.finish()
        finally:
            container.close()
        # Content credentials (provenance/credentials.py) sign the finished movie here, on the
        # temporary file, so the file that appears at ``path`` is already signed.
        _sync(temporary)
        os.replace(temporary, path)
        _sync(path.parent)
    except (OSError, av.FFmpegError) as error:
        temporary.unlink(missing_ok=True)
        raise CutError(f"{path}: cannot write the animatic: {_reason(error)}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return AnimaticInfo(
        path, total, total / cut.fps, encoder.has_audio, tuple(warnings), encoder.timecode,
        encoder.sound_peak_dbtp, encoder.sound_gain_db,
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


def _write_shot(
    encoder: _Encoder, art: _Art, shot: CutShot, start: int, fps: int, burn_in: bool, warnings: list[str]
) -> None:
    """Send one shot's frames: its still held or moved, or a NO TAKE slate. ``start`` is the
    shot's first frame on the movie's timecode track, in frames from 00:00:00:00."""
    source, reason = _picture(shot)
    if source is None:
        if reason.startswith("unreadable"):  # assemble has warned of the other reasons
            warnings.append(f"{shot.code}: take {shot.take}: {reason}; {NO_TAKE} slate")
        source = art.no_take(shot, reason)
    picture = art.fit(source)
    label = art.label("   ".join(part for part in (_shot_label(shot), _take_label(shot), shot.status) if part))
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
        return
    if not burn_in:
        encoder.hold(encoder.convert(picture), shot.frames)
        return
    label.apply(picture)
    held = _HeldFrame(encoder.convert(picture), art.timecode_box, size=art.size)
    x0, y0, x1, y1 = art.timecode_box
    under = picture[y0:y1, x0:x1]
    for frame in range(shot.frames):
        patch = under.copy()
        timecode(frame).apply(patch, at=(0, 0))
        encoder.send(held.with_patch(encoder.convert(patch)), key=frame == 0)


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


def _shot_label(shot: CutShot) -> str:
    """The shot code with its size and lens, as the previs burn-in names them: ``012_0030  CU  35mm``."""
    lens = f"{shot.lens_mm:g}mm" if shot.lens_mm else ""
    return "  ".join(part for part in (shot.code, shot.size, lens) if part)


def _take_label(shot: CutShot) -> str:
    return f"take {shot.take.rpartition('/')[2]}" if shot.take else NO_TAKE


# -- encoding --------------------------------------------------------------------------------


class _Encoder:
    """The open container: a video stream at the cut's rate and, when the cut has dialogue, an
    audio stream that is mixed and sent a second at a time, following the picture."""

    def __init__(
        self, container: av.container.OutputContainer, spec: _Format, size: tuple[int, int], cut: Cut, slate_frames: int
    ) -> None:
        self.container = container
        self.fps = cut.fps
        self.pix_fmt = spec.pix_fmt
        container.metadata["title"] = cut.title
        container.metadata["comment"] = "Soundstage animatic"
        # ISO 8601 in UTC, the form FFmpeg's muxers and readers use for creation_time.
        container.metadata["creation_time"] = cut.made_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        self.video = container.add_stream(spec.codec, rate=Fraction(cut.fps))
        # The timecode track starts with the head slate, so the program starts on the cut's clock.
        self.first_frame = round(program_start(cut.fps).value) - slate_frames
        self.timecode = otio.opentime.to_timecode(otio.opentime.RationalTime(self.first_frame, cut.fps), cut.fps)
        self.video.metadata["timecode"] = self.timecode  # the mov/mp4 muxer writes it as a tmcd track
        self.video.width, self.video.height = size
        self.video.pix_fmt = spec.pix_fmt
        self.video.codec_context.time_base = Fraction(1, cut.fps)
        self.video.codec_context.options = dict(spec.options)
        if spec.container == "mp4":
            # The index at the front, so the review page can play the movie while it loads.
            container.options["movflags"] = "+faststart"
        self.has_audio = bool(cut.dialogue)
        self.audio = None
        self.sound_peak_dbtp: float | None = None
        self.sound_gain_db = 0.0
        if self.has_audio:
            self.audio = container.add_stream(spec.audio_codec, rate=AUDIO_RATE, layout="mono")
            if spec.audio_bit_rate:
                self.audio.codec_context.bit_rate = spec.audio_bit_rate
            # Lines are placed on the cut's timeline; the movie has the head slate before it.
            starts = [round((slate_frames + clip.start) * AUDIO_RATE / cut.fps) for clip in cut.dialogue]
            clips = list(zip(starts, (clip.wav for clip in cut.dialogue)))
            # Measured first (a pass over the mix), then played out at one gain: a limiter would
            # change the sound line by line, one gain keeps every line as it was spoken.
            length = round((slate_frames + cut.frames) * AUDIO_RATE / cut.fps)
            peak = mix_true_peak(clips, AUDIO_RATE, length)
            gain = 10 ** (AUDIO_PEAK_DBTP / 20) / peak if peak > 0 else 1.0
            if peak > 0:
                self.sound_peak_dbtp, self.sound_gain_db = 20 * math.log10(peak), 20 * math.log10(gain)
            self.mix = DialogueMix(clips, AUDIO_RATE, gain)
        self.reformatter = VideoReformatter()
        self.sent = 0  # video frames sent
        self.mixed = 0  # audio samples sent

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
        """Encode the next frame of the movie (a keyframe with ``key``)."""
        frame.pts = self.sent
        # Set on every send: a held frame object is sent again and must not stay a keyframe.
        frame.pict_type = PictureType.I if key else PictureType.NONE
        frame.time_base = self.video.codec_context.time_base
        self.container.mux(self.video.encode(frame))
        self.sent += 1
        if self.audio is not None and self.sent % self.fps == 0:
            self._mix_until(self.sent)

    def hold(self, frame: av.VideoFrame, count: int) -> None:
        """Send the same frame ``count`` times, the first as a keyframe: the encoder copies it
        each time, so only the timestamp changes between sends."""
        for index in range(count):
            self.send(frame, key=index == 0)

    def _mix_until(self, frames: int) -> None:
        target = round(frames * AUDIO_RATE / self.fps)
        if target <= self.mixed or self.audio is None:
            return
        samples = self.mix.read(self.mixed, target - self.mixed)
        chunk = av.AudioFrame.from_ndarray(samples[np.newaxis, :], format="flt", layout="mono")
        chunk.sample_rate = AUDIO_RATE
        chunk.pts = self.mixed
        chunk.time_base = Fraction(1, AUDIO_RATE)
        self.container.mux(self.audio.encode(chunk))
        self.mixed = target

    def finish(self) -> None:
        """Send the last of the sound and flush both encoders."""
        if self.audio is not None:
            self._mix_until(self.sent)
            self.container.mux(self.audio.encode(None))
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
