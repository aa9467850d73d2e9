"""The animatic of a whole feature: wall time, peak memory against the length of the cut, and
the encoding rate against PyAV's raw encode of the same frames.

Run: .venv/bin/python benchmarks/animatic.py [SCRIPT] [--shots N] [--size 1280x720] [--previs 128x72] [--raw-all]
Prints markdown table rows for docs/benchmarks.md.

1. ``make`` up to previs on a fresh production (storyboards at the small --previs size, to keep
   the set-up short), then a CutShot per shot: its storyboard as its take, its lines of dialogue.
2. ``assemble`` with scratch dialogue (every line spoken by espeak-ng into a fresh voice cache),
   then the OTIO timeline, EDL and FCP XML.
3. The animatic of the first 10% of the shots, and then of all of them, each in a fresh child
   process so that its peak resident memory is the encode's alone. In the same child, before
   and after the animatic, PyAV encodes the same number of frames raw: each shot's fitted
   still, converted to a frame before the clock starts, sent for the shot's duration with the
   same codec and settings, no burn-ins, moves or sound. The ratio says what Soundstage costs
   on top of the encoder.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import av
import cv2
import numpy as np

from soundstage.cut.animatic import H264, write_animatic
from soundstage.cut.timeline import Cut, CutShot, assemble, spoken_lines, write_editorial
from soundstage.render.previs import read_png

if TYPE_CHECKING:
    from soundstage.project import Production

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCRIPT = ROOT.parent / "shared" / "screenplays" / "big_fish.fountain"
HEAD_SLATE_S = 3.0


@dataclass(frozen=True, slots=True)
class Encode:
    """One child's figures."""

    shots: int
    frames: int
    seconds: float
    rss_before_mb: float  # resident before the encode: interpreter and libraries
    peak_rss_mb: float
    rss_quarters_mb: tuple[float, ...]  # resident as the encode passes 1/4, 1/2, 3/4 and all frames
    raw_seconds: float | None


def _cut_shots(production: Production, limit: int | None) -> list[CutShot]:
    """Every shot (or the first ``limit``) with its storyboard as its take, and its lines.

    A previs take is the storyboard with its recipe embedded, so the storyboards stand in for
    takes here: the same pictures, without queueing 1,587 takes and their checks first.
    """
    spoken = spoken_lines(production.script())
    shots = []
    for shot in production.shots()[:limit]:
        image = production.storyboard(shot.code)
        shots.append(
            CutShot(
                code=shot.code, scene=shot.scene, frames=shot.frames,
                take=f"{shot.code}/1" if image else None, image=image,
                status="pending review" if image else "todo", move=shot.move.value,
                lines=tuple(spoken[n] for n in shot.lines if n in spoken), description=shot.description,
            )
        )  # fmt: skip
    return shots


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status, in MB. VmHWM (the peak) rather
    than getrusage: ru_maxrss survives exec, so a spawned child would report its parent's peak."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(f"{field}:"))
    return int(line.split()[1]) / 1024


def _encode(cut: Cut, out: Path, size: tuple[int, int], raw: bool) -> Encode:
    """In a child process: the animatic, then (optionally) the raw encode of as many frames."""
    # The raw encode runs before and after the animatic and the two are averaged: the
    # machines are shared, and a neighbour's load should not land on one side only.
    raw_before = _raw_encode(cut, out.with_name("raw.mp4"), size) if raw else None
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # resets VmHWM: the peak below is the animatic's, not the raw encode's
    before = _status_mb("VmRSS")
    samples: dict[int, float] = {}

    def sample(done: int, total: int) -> None:
        quarter = 4 * done // total  # resident memory as the encode passes each quarter
        if quarter and quarter not in samples:
            samples[quarter] = _status_mb("VmRSS")

    started = time.perf_counter()
    info = write_animatic(cut, out, size=size, head_slate_s=HEAD_SLATE_S, progress=sample)
    seconds = time.perf_counter() - started
    peak = _status_mb("VmHWM")
    raw_seconds = (raw_before + _raw_encode(cut, out.with_name("raw.mp4"), size)) / 2 if raw_before else None
    out.unlink()
    return Encode(len(cut.shots), info.frames, seconds, before, peak, tuple(samples.values()), raw_seconds)


def _raw_encode(cut: Cut, out: Path, size: tuple[int, int]) -> float:
    """Seconds PyAV spends encoding and muxing the cut's stills held for their durations (a grey
    frame for a shot without a take and for the slate); each still is made a frame off the clock."""
    clock = 0.0
    with av.open(str(out), "w", format=H264.container) as container:
        stream = container.add_stream(H264.codec, rate=cut.fps)
        stream.width, stream.height = size
        stream.pix_fmt = H264.pix_fmt
        stream.codec_context.options = dict(H264.options)
        grey = np.full((size[1], size[0], 3), 64, np.uint8)
        pts = 0
        for image, count in [(None, round(HEAD_SLATE_S * cut.fps)), *((s.image, s.frames) for s in cut.shots)]:
            picture = cv2.resize(read_png(image), size, interpolation=cv2.INTER_LINEAR) if image else grey
            frame = av.VideoFrame.from_ndarray(cv2.cvtColor(picture, cv2.COLOR_RGB2YUV_I420), format="yuv420p")
            started = time.perf_counter()
            for _ in range(count):
                frame.pts = pts
                container.mux(stream.encode(frame))
                pts += 1
            clock += time.perf_counter() - started
        started = time.perf_counter()
        container.mux(stream.encode(None))
        clock += time.perf_counter() - started
    out.unlink()
    return clock


def _child(cut: Cut, out: Path, size: tuple[int, int], raw: bool) -> Encode:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_encode, (cut, out, size, raw))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", nargs="?", type=Path, default=DEFAULT_SCRIPT)
    parser.add_argument("--shots", type=int, default=None, help="only the first N shots (a quick run)")
    parser.add_argument("--size", default="1280x720", help="animatic frame size")
    parser.add_argument("--previs", default="128x72", help="previs take size (the set-up, not measured)")
    parser.add_argument("--raw-all", action="store_true", help="also compare with raw PyAV on all shots")
    args = parser.parse_args()
    # Imported here, not at the top: the encoding children import this module, and their peak
    # memory should be the animatic's, not the database's and the renderer's.
    from soundstage.make import make, open_or_init

    size = tuple(int(n) for n in args.size.split("x"))
    previs = tuple(int(n) for n in args.previs.split("x"))

    with tempfile.TemporaryDirectory() as tmp:
        production = open_or_init(Path(tmp) / "production")
        started = time.perf_counter()
        make(args.script, Path(tmp) / "out", production, size=previs, until="previs")
        setup = time.perf_counter() - started
        shots = _cut_shots(production, args.shots)
        title, fps = production.title(), production.settings.fps
        production.close()

        started = time.perf_counter()
        cut = assemble(title, shots, fps, Path(tmp) / "voices")
        speaking = time.perf_counter() - started
        started = time.perf_counter()
        write_editorial(cut, Path(tmp) / "out", "cut")
        editorial = time.perf_counter() - started

        tenth = Cut(cut.title, cut.fps, cut.shots[: max(1, len(cut.shots) // 10)])
        tenth.dialogue = [clip for clip in cut.dialogue if clip.start < tenth.frames]
        part = _child(tenth, Path(tmp) / "part.mp4", size, raw=True)
        whole = _child(cut, Path(tmp) / "all.mp4", size, raw=args.raw_all)
        # Credentials signing (provenance) is not part of this figure yet: write_animatic has
        # the hook where the signed manifest goes.

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, PyAV {av.__version__}"
    lines = len(cut.dialogue)
    minutes = whole.frames / fps / 60
    print(f"# {args.script.name}: {len(shots)} shots, {minutes:.1f} min at {fps} fps, {lines} lines; {machine}")
    print(f"# set-up (make up to previs, storyboards at {args.previs}): {setup:.1f} s")
    print("| figure | value | target |")
    print("| --- | --- | --- |")
    print(
        f"| animatic of every shot, {args.size} H.264 ({H264.options['preset']}, CRF {H264.options['crf']}) "
        f"with burn-ins and scratch dialogue: {whole.frames:,} frames | {whole.seconds:.1f} s, "
        f"{whole.frames / whole.seconds:.0f} frames/s | |"
    )
    print(f"| &nbsp;&nbsp;speaking {lines} lines with espeak-ng (fresh voice cache) | {speaking:.1f} s | |")
    print(f"| &nbsp;&nbsp;OTIO + EDL + FCP XML | {editorial * 1000:.0f} ms | |")
    print(
        f"| peak resident memory, first 10% ({part.shots} shots, {part.frames:,} frames) / all "
        f"({whole.shots} shots, {whole.frames:,} frames) | {part.peak_rss_mb:.0f} / {whole.peak_rss_mb:.0f} MB | flat |"
    )
    print(f"| &nbsp;&nbsp;resident before the encode (interpreter, PyAV, OpenCV...) | {whole.rss_before_mb:.0f} MB | |")
    quarters = " / ".join(f"{mb:.0f}" for mb in whole.rss_quarters_mb)
    print(f"| &nbsp;&nbsp;resident after 1/4, 1/2, 3/4, all of the frames (all shots) | {quarters} MB | flat |")
    for name, encode in (("first 10%", part), ("all shots", whole)):
        if encode.raw_seconds is None:
            continue
        ours, raw = encode.frames / encode.seconds, encode.frames / encode.raw_seconds
        print(
            f"| encoding rate against raw PyAV (same stills, durations, codec), {name}: "
            f"{ours:.0f} vs {raw:.0f} frames/s | {ours / raw:.2f}x | |"
        )


if __name__ == "__main__":
    main()
