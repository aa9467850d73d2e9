"""Clips: the moving pictures that takes are made from and made into, read and written with PyAV.

What comes in. A moving shot's previs passes arrive in the media store as clips: Matroska
(FFV1, or lossless H.264) or MP4 (H.264), at the production's frame rate; a static shot's pass
is one PNG, held for as long as the take runs. 16-bit grey (the depth pass) stays 16-bit until
a backend turns it into the 8-bit picture its model reads, scaled, never clipped.

What goes out. A take of one frame is a PNG; a take that moves is an MP4: H.264 4:2:0 at a
near-lossless constant quantiser (QP 12), BT.709 and so tagged, one timestamp per frame at exactly the
recipe's rate (``24000/1001`` stays that fraction), because browsers (the dailies player), the
cut and editorial tools all play it. The encoder's settings are pinned, thread count included,
so the same frames give the same bytes. ``write_clip(lossless=True)`` writes the lossless
Matroska the control passes are kept in (FFV1: RGB, or 16-bit grey for depth).

Matroska keeps timestamps to the millisecond (its default time base) with the exact rate
beside them; MP4 keeps them exact, in a time base of the rate itself.

Reading. ``ClipReader`` is the one way any room reads a clip's pictures: frame by frame, in
order, never the whole clip in memory (the cut plays a take through it, the checks read a
take's first frame with ``first_frame``, ``read_clip`` and ``compare_clips`` are built on it);
``clip_length`` counts a clip's frames without decoding them. (``render.video`` reads back the
previs renderer's own pass files, whose tags it checks.)

``compare_clips`` tells whether two takes show the same pictures at the same times, frame by
frame, which is what ``take reproduce`` asks of a clip (container tags, such as the muxer's
version, may differ without the pictures differing).
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Literal

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace
from PIL import Image

from soundstage.errors import GenerateError

Kind = Literal["png", "mkv", "mp4"]
SUFFIXES: dict[Kind, str] = {"png": ".png", "mkv": ".mkv", "mp4": ".mp4"}
_PNG = b"\x89PNG\r\n\x1a\n"
_EBML = b"\x1a\x45\xdf\xa3"  # Matroska (and WebM) files open with an EBML header
# x264, pinned: the same frames give the same bytes. A constant quantiser, not CRF: CRF's
# adaptive quantisation and macroblock tree work in floating point and were seen to give other
# bytes for the same frames once PyTorch had run in the process (floating-point control state
# its kernels change is the likely cause); with a constant QP x264 decides in integers. QP 12 is near
# lossless for 8-bit pictures. The thread count is pinned too: x264's output depends on it.
TAKE_CODEC = "libx264"
TAKE_OPTIONS = {"qp": "12", "preset": "medium", "threads": "4"}
_GREY_PASSES = ("lineart", "ids")  # render.video.CODECS: the previs passes stored as 8-bit grey
_GREY16 = ("gray16le", "gray16be", "gray12le", "gray12be", "gray10le", "gray10be")
_BT709 = 1  # the H.273 code of BT.709 primaries, transfer and matrix
# Without it the Matroska muxer writes a random segment id (and both muxers their version), so
# the same pictures would not give the same bytes.
_BITEXACT = {"fflags": "+bitexact"}


def kind_of(data: bytes) -> Kind | None:
    """What the bytes are, by their signature: a PNG, a Matroska or an MP4 file, or None."""
    if data.startswith(_PNG):
        return "png"
    if data.startswith(_EBML):
        return "mkv"
    if data[4:8] == b"ftyp":
        return "mp4"
    return None


def file_kind(path: Path) -> Kind | None:
    """What a file is by its first bytes (``kind_of``); FileNotFoundError when it is not there."""
    with path.open("rb") as file:
        return kind_of(file.read(16))


def suffix_for(data: bytes) -> str:
    """The media store suffix of a take or a pass: ``.png``, ``.mkv`` or ``.mp4``."""
    kind = kind_of(data)
    if kind is None:
        raise GenerateError("a take must be a PNG, an MKV or an MP4 file; these bytes are none of them")
    return SUFFIXES[kind]


def take_suffix(frames: int) -> str:
    """The media store suffix of a take of ``frames`` frames: every backend makes a PNG for one
    frame and an MP4 for more (``write_take``)."""
    return SUFFIXES["png"] if frames == 1 else SUFFIXES["mp4"]


@dataclass(frozen=True)
class Clip:
    """Decoded pictures: RGB ``uint8`` (H, W, 3) frames, or 16-bit grey ``uint16`` (H, W) ones.
    ``fps`` is None for a still."""

    frames: list[np.ndarray]
    fps: Fraction | None

    @property
    def still(self) -> bool:
        return self.fps is None


def read_clip(data: bytes, what: str) -> Clip:
    """A PNG still or a clip, decoded; ``what`` names it in the one-line error (e.g. "shot 12A:
    the depth pass")."""
    kind = kind_of(data)
    if kind == "png":
        return Clip([_still(data)], None)
    if kind is None:
        raise GenerateError(f"{what} is not a PNG, an MKV or an MP4 file")
    reader = ClipReader(io.BytesIO(data), what, kind)
    return Clip(list(reader.frames()), reader.fps)


class ClipReader:
    """One clip (MKV or MP4), opened for its frames in order, one at a time: the one way every
    room reads a clip's pictures (the cut plays a take from it, the checks sample it), so a
    long clip never sits whole in memory. ``source`` is a file's path or a binary file object;
    ``what`` names it in the one-line GenerateError, ``kind`` says what file it is ("mp4")."""

    def __init__(self, source: Path | BinaryIO, what: str, kind: str = "") -> None:
        self.what, self._kind = what, f"{kind.upper()} " if kind else ""
        try:
            self._container = av.open(str(source) if isinstance(source, Path) else source)
        except FileNotFoundError:
            raise GenerateError(f"{what}: no such clip file") from None
        except av.FFmpegError as error:
            raise GenerateError(f"{what}: cannot decode the {self._kind}clip ({error})") from None
        if not self._container.streams.video:
            self._container.close()
            raise GenerateError(f"{what} is a {self._kind}file with no video stream")
        self._stream = self._container.streams.video[0]
        rate = self._stream.average_rate or self._stream.guessed_rate
        if not rate:
            self._container.close()
            raise GenerateError(f"{what} is a clip with no frame rate")
        self.fps = Fraction(rate)
        # A previs pass file says which pass it is (render.video): its grey ones are read as
        # stored, not through the decoder's video-range conversion.
        tags = {key.upper(): value for key, value in self._container.metadata.items()}
        self._grey = tags.get("SOUNDSTAGE_PASS") in _GREY_PASSES
        # What the container says; 0 where it does not know (counting means decoding).
        self.count = int(self._stream.frames or 0)

    def frames(self) -> Iterator[np.ndarray]:
        """Every frame in order (RGB uint8, or 16-bit grey for deep grey clips); the clip is
        closed when they are all read. GenerateError when it has none or cannot be decoded."""
        return (pixels for _, pixels in self.timed())

    def timed(self) -> Iterator[tuple[Fraction, np.ndarray]]:
        """Every frame in order with its presentation time in seconds, as ``frames``."""
        try:
            count = 0
            for frame in self._container.decode(self._stream):
                count += 1
                yield Fraction(frame.pts or 0) * self._stream.time_base, _pixels(frame, self._grey)
            if count == 0:
                raise GenerateError(f"{self.what} is a clip with no frames")
        except av.FFmpegError as error:
            raise GenerateError(f"{self.what}: cannot decode the {self._kind}clip ({error})") from None
        finally:
            self._container.close()

    def packets(self) -> int:
        """The clip's frames counted by its packets (one picture each), without decoding."""
        return sum(1 for packet in self._container.demux(self._stream) if packet.size)

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> ClipReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def first_frame(path: Path, what: str) -> np.ndarray:
    """The first picture of a take or pass file: a PNG's pixels, or a clip's first frame."""
    try:
        kind = file_kind(path)
    except FileNotFoundError:
        raise GenerateError(f"{what}: no such file {path}") from None
    if kind == "png":
        return _still(path.read_bytes())
    with ClipReader(path, what, kind or "") as reader:
        return next(reader.frames())


def clip_length(path: Path, what: str) -> int:
    """How many frames a clip file holds: what its container says, else its packets counted
    (no picture decoded)."""
    with ClipReader(path, what, file_kind(path) or "") as reader:
        if reader.count:
            return reader.count
        return reader.packets()


def _still(data: bytes) -> np.ndarray:
    """A PNG's pixels: RGB, or 16-bit grey as it was stored."""
    with Image.open(io.BytesIO(data)) as image:
        if image.mode.startswith("I"):
            return np.asarray(image, dtype=np.uint16)
        return np.asarray(image.convert("RGB"))


def each_frame(data: bytes, what: str) -> Iterator[np.ndarray]:
    """The pictures of a clip (or the one of a still) one by one, as ``read_clip`` decodes them,
    without holding them all: the clip checks keep only the frames they sample. Decoding
    errors come from ClipReader as one-line GenerateErrors."""
    return (pixels for _, pixels in _timed_frames(data, what))


def _pixels(frame: av.VideoFrame, grey: bool = False) -> np.ndarray:
    """A decoded frame as RGB, or as 16-bit grey when it was stored as deep grey (depth);
    ``grey``: an 8-bit grey picture (a line-art or id pass), spread over RGB as stored."""
    if frame.format.name in _GREY16:
        return frame.to_ndarray(format="gray16le")
    if grey:
        return rgb8(_luma(frame))
    return frame.to_ndarray(format="rgb24")


def _luma(frame: av.VideoFrame) -> np.ndarray:
    """An 8-bit grey frame's values as stored. H.264's decoder gives a grey picture back as
    4:2:0 with flat chroma; its luma plane is the grey, bit for bit (a conversion to grey or
    RGB would rescale it from video range). render.video reads its pass files the same way."""
    if frame.format.name == "gray":
        return frame.to_ndarray(format="gray")
    plane = frame.planes[0]
    rows = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)
    return rows[:, : frame.width].copy()


def rgb8(frame: np.ndarray) -> np.ndarray:
    """A frame as 8-bit RGB: 16-bit grey is scaled (0..65535 -> 0..255), not clipped; 8-bit grey spread to RGB."""
    if frame.dtype == np.uint16:
        frame = np.round(frame.astype(np.float64) / 257).astype(np.uint8)
    if frame.ndim == 2:
        return np.repeat(frame[..., None], 3, axis=2)
    return frame


def pass_frames(clip: Clip, frames: int, fps: Fraction, what: str) -> list[np.ndarray]:
    """The first ``frames`` pictures of a pass for a take at ``fps``; a still is held throughout.

    A clip at another rate is refused rather than resampled: its frames would not line up in
    time with the blocking it was rendered from. A clip longer than the take gives its first
    frames (the take covers the start of the shot); a shorter one is refused."""
    if clip.still:
        return clip.frames * frames
    if clip.fps != fps:
        raise GenerateError(f"{what} runs at {_rate(clip.fps)} fps, the take at {_rate(fps)}")
    if len(clip.frames) < frames:
        raise GenerateError(f"{what} has {len(clip.frames)} frames, fewer than the take's {frames}")
    return clip.frames[:frames]


def stream_pass(data: bytes, frames: int, fps: Fraction, what: str) -> Iterator[np.ndarray]:
    """``pass_frames`` of a pass file's bytes without decoding it whole: its first ``frames``
    pictures one by one (a still held throughout), refused in the same words. A long clip take
    made from a pass holds a frame at a time, not the shot."""
    kind = kind_of(data)
    if kind == "png":
        return itertools.repeat(_still(data), frames)
    if kind is None:
        raise GenerateError(f"{what} is not a PNG, an MKV or an MP4 file")
    reader = ClipReader(io.BytesIO(data), what, kind)
    if reader.fps != fps:
        reader.close()
        raise GenerateError(f"{what} runs at {_rate(reader.fps)} fps, the take at {_rate(fps)}")
    return _first_frames(reader, frames, what)


def _first_frames(reader: ClipReader, frames: int, what: str) -> Iterator[np.ndarray]:
    pictures = reader.frames()
    count = 0
    try:
        for pixels in itertools.islice(pictures, frames):
            count += 1
            yield pixels
    finally:
        pictures.close()  # closes the clip when the take needs fewer frames than it holds
    if count < frames:
        raise GenerateError(f"{what} has {count} frames, fewer than the take's {frames}")


def _rate(fps: Fraction | None) -> str:
    return str(fps) if fps is not None else "none"


def write_take(frames: Sequence[np.ndarray], fps: Fraction) -> bytes:
    """A take's file: a PNG for one frame, an MP4 (H.264) for more. Frames are 8-bit RGB."""
    if len(frames) == 1:
        out = io.BytesIO()
        Image.fromarray(rgb8(frames[0])).save(out, format="PNG", compress_level=1)
        return out.getvalue()
    return write_clip(frames, fps)


def write_clip(frames: Iterable[np.ndarray], fps: Fraction, *, lossless: bool = False) -> bytes:
    """Frames as a clip at exactly ``fps``: an MP4 (H.264, near-lossless), or with ``lossless``
    a Matroska file (FFV1; 16-bit grey frames stay 16-bit). Deterministic for the same frames.
    The frames are encoded as they come: an iterator of them is never held whole."""
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise GenerateError("a clip needs at least one frame")
    height, width = first.shape[:2]
    deep = first.dtype == np.uint16
    if not lossless and (width % 2 or height % 2):
        # 4:2:0 halves the colour planes, so H.264 needs even sizes.
        raise GenerateError(f"a {width}x{height} clip cannot be H.264 4:2:0; its width and height must be even")
    out = io.BytesIO()
    with av.open(out, "w", format="matroska" if lossless else "mp4", options=dict(_BITEXACT)) as container:
        if lossless:
            stream = container.add_stream("ffv1", rate=fps)
            stream.pix_fmt = "gray16le" if deep else "bgr0"
        else:
            stream = container.add_stream(TAKE_CODEC, rate=fps)
            stream.pix_fmt = "yuv420p"
            stream.options = dict(TAKE_OPTIONS)
            stream.codec_context.gop_size = max(1, round(fps))  # a key frame a second, for scrubbing
            context = stream.codec_context
            context.color_primaries = context.color_trc = context.colorspace = _BT709
            context.color_range = ColorRange.MPEG.value
        stream.width, stream.height = width, height
        stream.time_base = 1 / fps
        for number, pixels in enumerate(itertools.chain([first], frames)):
            if pixels.shape[:2] != (height, width):
                raise GenerateError("the frames of a clip must all have one size")
            frame = _frame(pixels, lossless)
            frame.pts, frame.time_base = number, 1 / fps
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


def _frame(pixels: np.ndarray, lossless: bool) -> av.VideoFrame:
    if pixels.dtype == np.uint16:
        if not lossless:
            pixels = rgb8(pixels)
        else:
            return av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="gray16le")
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb8(pixels)), format="rgb24")
    if lossless:
        return frame.reformat(format="bgr0")  # the same values, rearranged (FFV1 has no packed RGB)
    return frame.reformat(format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG)


def retag(data: bytes, tags: dict[str, str]) -> bytes:
    """The same clip with these container tags (added to its own): the packets are copied, not
    encoded again, so the pictures stay bit for bit. Deterministic."""
    kind = kind_of(data)
    if kind not in ("mkv", "mp4"):
        raise GenerateError("only an MKV or an MP4 clip can carry tags")
    out = io.BytesIO()
    # MP4 keeps only its own few tags unless told to write every tag as a metadata item.
    options = {**_BITEXACT, "movflags": "use_metadata_tags"} if kind == "mp4" else dict(_BITEXACT)
    with av.open(io.BytesIO(data)) as source, av.open(out, "w", format=_MUXERS[kind], options=options) as target:
        for key, value in {**source.metadata, **tags}.items():
            if key.lower() not in _MUXER_OWN:
                target.metadata[key] = value
        video = source.streams.video[0]
        copy = target.add_stream_from_template(video)
        for packet in source.demux(video):
            if packet.dts is None:  # the demuxer's empty packet at the end
                continue
            packet.stream = copy
            target.mux(packet)
    return out.getvalue()


_MUXERS: dict[str, str] = {"mkv": "matroska", "mp4": "mp4"}
# Tags the muxer writes itself from the stream, so copying them would only repeat them.
_MUXER_OWN = {"major_brand", "minor_version", "compatible_brands", "encoder", "duration"}


def tags(data: bytes) -> dict[str, str]:
    """A clip's container tags, keys in lower case (Matroska stores them in upper case)."""
    with av.open(io.BytesIO(data)) as container:
        return {key.lower(): value for key, value in container.metadata.items()}


def _timed_frames(data: bytes, what: str) -> Iterator[tuple[Fraction, np.ndarray]]:
    """(time in seconds, pixels) of each frame; a still is one frame at time 0."""
    kind = kind_of(data)
    if kind == "png":
        yield Fraction(0), read_clip(data, what).frames[0]
        return
    if kind is None:
        raise GenerateError(f"{what} is not a PNG, an MKV or an MP4 file")
    yield from ClipReader(io.BytesIO(data), what, kind).timed()


def compare_clips(a: bytes, b: bytes) -> tuple[bool, int | None]:
    """Whether two takes show the same pictures at the same times, and else the number (from 0)
    of the first frame that differs in pixels or in time; a clip that ends early differs at the
    frame it lacks. Stills compare as one-frame clips."""
    first, second = _timed_frames(a, "the first clip"), _timed_frames(b, "the second clip")
    number = 0
    while True:
        one, other = next(first, None), next(second, None)
        if one is None and other is None:
            return True, None
        if one is None or other is None or one[0] != other[0] or not np.array_equal(one[1], other[1]):
            return False, number
        number += 1
