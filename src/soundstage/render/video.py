"""Previs clips as video files: one Matroska file per pass, lossless, frame-exact.

Each pass keeps every bit the renderer made, so that a backend conditioned on a clip sees
what a still would have given it, frame by frame:

| pass | codec | pixels |
| --- | --- | --- |
| storyboard | H.264 RGB, lossless (libx264rgb, qp 0) | rgb24 |
| depth | FFV1 | gray16le: the 16-bit inverse depth as rendered |
| lineart, ids | H.264, lossless (libx264, qp 0) | gray |

H.264 at qp 0 is lossless and encodes flat toon colour and sparse lines three times as fast
as FFV1 (measured in ``benchmarks/previs_clips.py``'s run); it has no 16-bit mode, so depth is
FFV1, the archival lossless codec. A key frame every second keeps seeking to a frame cheap.
Matroska holds both. Frame ``n`` has the presentation time ``n / rate``; the files' tags say
the pass, the rate (``"24000/1001"``) and the frame count, so a reader checks it got every
frame. Per-frame depth ranges (the metres each frame's 65535 and 1 stand for) are not in the
files: they are in the clip's manifest (``ClipFiles.manifest``).

Encoding runs in threads beside the renderer (one encoder thread per pass, in order; FFmpeg
releases the GIL while it compresses), with a short queue so that memory stays flat.
"""

from __future__ import annotations

import contextlib
import json
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from soundstage.errors import RenderError
from soundstage.render.previs import PASSES, Passes

SUFFIX = ".mkv"


@dataclass(frozen=True, slots=True)
class PassCodec:
    """How one pass is encoded: FFmpeg codec, its pixel format, the array's pixel format,
    codec options."""

    codec: str
    pix_fmt: str
    array_format: str
    options: tuple[tuple[str, str], ...] = ()


_LOSSLESS_H264 = (("qp", "0"), ("preset", "ultrafast"))
CODECS: dict[str, PassCodec] = {
    "storyboard": PassCodec("libx264rgb", "rgb24", "rgb24", _LOSSLESS_H264),
    "depth": PassCodec("ffv1", "gray16le", "gray16le", (("level", "3"), ("slices", "4"))),
    "lineart": PassCodec("libx264", "gray", "gray", _LOSSLESS_H264),
    "ids": PassCodec("libx264", "gray", "gray", _LOSSLESS_H264),
}
QUEUE = 6  # frames a pass's encoder may lag behind the renderer


@dataclass(frozen=True)
class ClipFiles:
    """A previs clip on disk: a file per pass, and what the files do not say themselves."""

    paths: dict[str, Path]
    rate: Fraction
    frames: int
    size: tuple[int, int]
    depth_ranges: tuple[tuple[float, float] | None, ...] = field(default=())

    def manifest(self, files: dict[str, str] | None = None) -> dict[str, object]:
        """The clip as JSON-ready data: rate, frames, size, each pass's file (its name, or the
        media-store hash given in ``files``), and each frame's depth range."""
        return {
            "rate": _rate_text(self.rate),
            "frames": self.frames,
            "size": list(self.size),
            "passes": files or {name: path.name for name, path in self.paths.items()},
            "depth_ranges": [list(r) if r else None for r in self.depth_ranges],
        }

    def manifest_bytes(self, files: dict[str, str] | None = None) -> bytes:
        """The manifest as JSON bytes (sorted keys: the same clip gives the same bytes)."""
        return json.dumps(self.manifest(files), sort_keys=True, indent=1).encode()


def read_manifest(data: bytes, where: str) -> ClipFiles:
    """A clip's manifest (``ClipFiles.manifest_bytes``) back, its ``paths`` being what the
    manifest names (file names, or media-store hashes); a RenderError naming ``where`` and
    what is wrong when a pass, the rate or a frame's depth range is missing."""
    try:
        manifest = json.loads(data)
        passes = manifest["passes"]
        missing = [name for name in PASSES if name not in passes]
        if missing:
            raise RenderError(f"{where}: the previs clip has no {', '.join(missing)} pass")
        frames, ranges = int(manifest["frames"]), manifest["depth_ranges"]
        if len(ranges) != frames:
            raise RenderError(f"{where}: {len(ranges)} depth ranges for {frames} frames")
        return ClipFiles(
            paths={name: Path(passes[name]) for name in PASSES},
            rate=Fraction(manifest["rate"]),
            frames=frames,
            size=(int(manifest["size"][0]), int(manifest["size"][1])),
            depth_ranges=tuple((float(r[0]), float(r[1])) if r else None for r in ranges),
        )
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise RenderError(f"{where}: not a previs clip manifest ({error})") from None


class ClipWriter:
    """Writes the passes of a clip frame by frame: ``add`` each frame's ``Passes`` in order,
    then ``close`` for the files. Files are written under temporary names and renamed on
    ``close``; a writer left by an error (``with`` block) removes what it wrote."""

    def __init__(self, folder: Path, stem: str, size: tuple[int, int], rate: Fraction, frames: int) -> None:
        width, height = size
        if width < 2 or height < 2 or width % 2 or height % 2:
            raise RenderError(f"clip size {width}x{height}: width and height must be even")
        self.size, self.rate, self.frames = size, Fraction(rate), frames
        Path(folder).mkdir(parents=True, exist_ok=True)
        self.paths = {name: Path(folder) / f"{stem}.{name}{SUFFIX}" for name in PASSES}
        self._partial = {name: path.with_name(f".{path.name}.partial") for name, path in self.paths.items()}
        self._encoders = {name: _PassEncoder(self._partial[name], name, size, self.rate, frames) for name in PASSES}
        # One thread per pass keeps each pass's frames in order; the passes run side by side.
        self._threads = {name: ThreadPoolExecutor(1, thread_name_prefix=f"clip-{name}") for name in PASSES}
        self._pending: deque[Future[None]] = deque()
        self._depth_ranges: list[tuple[float, float] | None] = []
        self._closed = False

    def add(self, passes: Passes) -> None:
        """Queue one frame's passes for encoding (the arrays must not change afterwards)."""
        if len(self._depth_ranges) >= self.frames:
            raise RenderError(f"{self.paths['storyboard']}: more than the {self.frames} frames the clip was opened for")
        self._depth_ranges.append(passes.depth_range)
        for name in PASSES:
            self._pending.append(self._threads[name].submit(self._encoders[name].encode, getattr(passes, name)))
        while len(self._pending) > QUEUE * len(PASSES):
            self._pending.popleft().result()

    def close(self) -> ClipFiles:
        """Finish every file and return the clip; raises if a frame is missing."""
        for future in self._pending:
            future.result()
        for name in PASSES:
            self._threads[name].submit(self._encoders[name].close).result()
            self._threads[name].shutdown()
        self._closed = True
        if len(self._depth_ranges) != self.frames:
            self._discard()
            raise RenderError(f"{self.paths['storyboard']}: {len(self._depth_ranges)} of {self.frames} frames written")
        for name in PASSES:
            self._partial[name].replace(self.paths[name])
        return ClipFiles(dict(self.paths), self.rate, self.frames, self.size, tuple(self._depth_ranges))

    def _discard(self) -> None:
        for name in PASSES:
            if not self._closed:
                self._threads[name].shutdown(cancel_futures=True)
                # The first error is the one to report; closing after it may fail too.
                with contextlib.suppress(Exception):
                    self._encoders[name].close()
            self._partial[name].unlink(missing_ok=True)

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is not None:
            self._discard()


class _PassEncoder:
    """One pass's Matroska file and encoder."""

    def __init__(self, path: Path, name: str, size: tuple[int, int], rate: Fraction, frames: int) -> None:
        spec = CODECS[name]
        self.spec, self.count = spec, 0
        # bitexact: no muxing date or random segment id, so the same frames give the same bytes
        # (a forced re-render stores nothing new in the media store).
        self.container = av.open(str(path), mode="w", format="matroska", options={"fflags": "+bitexact"})
        self.container.metadata.update(
            {"SOUNDSTAGE_PASS": name, "SOUNDSTAGE_RATE": _rate_text(rate), "SOUNDSTAGE_FRAMES": str(frames)}
        )
        self.stream = self.container.add_stream(spec.codec, rate=rate, options=dict(spec.options))
        self.stream.width, self.stream.height = size
        self.stream.pix_fmt = spec.pix_fmt
        self.stream.time_base = 1 / rate
        self.stream.codec_context.gop_size = max(1, round(rate))
        # The passes encode side by side, a thread each: more threads per encoder only contend.
        self.stream.codec_context.thread_count = 1

    def encode(self, array: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format=self.spec.array_format)
        frame.pts = self.count
        self.count += 1
        self.container.mux(self.stream.encode(frame))

    def close(self) -> None:
        if self.container is None:
            return
        try:
            self.container.mux(self.stream.encode(None))
        finally:
            self.container.close()
            self.container = None  # type: ignore[assignment]


def encode_clip(
    frames: Iterable[Passes], folder: Path, stem: str, size: tuple[int, int], rate: Fraction, count: int
) -> ClipFiles:
    """Encode ``count`` frames of passes into ``folder`` (``<stem>.<pass>.mkv``)."""
    with ClipWriter(folder, stem, size, rate, count) as writer:
        for passes in frames:
            writer.add(passes)
        return writer.close()


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class ClipPass:
    """What a pass file says about itself."""

    name: str
    rate: Fraction
    frames: int
    size: tuple[int, int]


def probe_pass(path: Path) -> ClipPass:
    """The pass, rate, frame count and size a clip file was written with."""
    with _open(path) as container:
        tags = {k.upper(): v for k, v in container.metadata.items()}
        stream = container.streams.video[0]
        try:
            return ClipPass(
                tags["SOUNDSTAGE_PASS"],
                Fraction(tags["SOUNDSTAGE_RATE"]),
                int(tags["SOUNDSTAGE_FRAMES"]),
                (stream.codec_context.width, stream.codec_context.height),
            )
        except (KeyError, ValueError):
            raise RenderError(f"{path}: not a Soundstage previs clip (no pass, rate and frame count)") from None


def read_pass(path: Path) -> Iterator[np.ndarray]:
    """Every frame of a pass file in order, as the renderer made them (RGB uint8 HxWx3 for
    the storyboard, uint16 for depth, uint8 for line art and ids); raises when a frame is
    missing or out of place."""
    info = probe_pass(path)
    with _open(path) as container:
        stream = container.streams.video[0]
        expected = 0
        for frame in container.decode(stream):
            index = _index(frame, stream, info.rate)
            if index != expected:
                raise RenderError(f"{path}: frame {expected} missing (found frame {index} in its place)")
            expected += 1
            yield _array(frame, info.name)
        if expected != info.frames:
            raise RenderError(f"{path}: {expected} frames, the clip was written with {info.frames}")


def read_pass_frame(path: Path, index: int) -> np.ndarray:
    """Frame ``index`` (0-based) of a pass file, by seeking to the key frame before it."""
    info = probe_pass(path)
    if not 0 <= index < info.frames:
        raise RenderError(f"{path}: no frame {index}; the clip has frames 0-{info.frames - 1}")
    with _open(path) as container:
        stream = container.streams.video[0]
        target = int(index / info.rate / stream.time_base)
        container.seek(target, stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            found = _index(frame, stream, info.rate)
            if found == index:
                return _array(frame, info.name)
            if found > index:
                break
    raise RenderError(f"{path}: frame {index} could not be decoded")


def _array(frame: av.VideoFrame, name: str) -> np.ndarray:
    """A decoded frame as the renderer's array. H.264's decoder gives a grey picture back as
    4:2:0 with flat chroma; its luma plane is the grey, bit for bit (a conversion to grey
    would rescale it from video range)."""
    wanted = CODECS[name].array_format
    if wanted != "gray" or frame.format.name == "gray":
        return frame.to_ndarray(format=wanted)
    plane = frame.planes[0]
    rows = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)
    return rows[:, : frame.width].copy()


def _index(frame: av.VideoFrame, stream: av.video.stream.VideoStream, rate: Fraction) -> int:
    # Matroska keeps times in milliseconds: round back to the frame they stand for.
    return round(frame.pts * stream.time_base * rate)


def _open(path: Path) -> av.container.InputContainer:
    if not Path(path).is_file():
        raise RenderError(f"{path}: no such clip file")
    try:
        return av.open(str(path), mode="r")
    except av.error.FFmpegError as error:
        raise RenderError(f"{path}: not a readable video file: {error}") from None


def _rate_text(rate: Fraction) -> str:
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"
