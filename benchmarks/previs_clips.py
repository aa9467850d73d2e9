"""Previs clips on the CPU: every frame of every pass of the example episode's moving shots.

Plans the example (``examples/lantern_keepers.fountain``), blocks every scene with its props,
derives each shot's motion, writes the layouts (readable stand-ins: labels, faces) and keeps
the shots that move. Then, at 1280x720 on the process's one GL context (Mesa llvmpipe here):

1. render: every frame of every moving shot through ``ClipRenderer.frames`` (the layout read
   once, transforms per frame, GL drawing the next frame while the CPU finishes this one),
   all four passes and the labels; median and p95 per frame, frames per second overall;
2. peers on the same frames, side by side in the same run: the same frames drawn one after
   another (``ShotClip.geometry`` + ``PrevisRenderer.render``, no overlap), and the naive way
   (``load_scene(path, time=t)`` per frame: the USD file opened and read for every frame);
3. encode: the rendered frames of each shot (up to ``--encode-frames``) encoded apart from the
   render through ``render.video.ClipWriter`` (a thread per pass), frames per second;
4. render and encode together, streaming, as ``previs`` would run it: frames per second.

Run: ``.venv/bin/python benchmarks/previs_clips.py [--peer-frames 48] [--encode-frames 48]``
(about three minutes on two cores). Prints one markdown table row per figure.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from fractions import Fraction
from pathlib import Path

from soundstage.config import Plan
from soundstage.layout.action import scene_motion
from soundstage.layout.framing import block_scene, character_colour
from soundstage.layout.standins import StandIns
from soundstage.layout.usd import build_layout, save_layout
from soundstage.plan.coverage import cover_scene
from soundstage.render.clips import ClipRenderer, ShotClip
from soundstage.render.gl import gl_context
from soundstage.render.previs import load_scene
from soundstage.render.video import ClipWriter
from soundstage.script.breakdown import break_down
from soundstage.script.formats import parse_script

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lantern_keepers.fountain"
SIZE = (1280, 720)
FPS = 24


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-frames", type=int, default=48, help="frames per shot the peers render")
    parser.add_argument("--encode-frames", type=int, default=48, help="frames per shot encoded apart")
    args = parser.parse_args()
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as folder:
        paths, shots = _layouts(Path(folder))
        clips = [ShotClip(p) for p in paths]
        moving = [c for c in clips if not c.timing.static]
        frames = sum(c.timing.frames for c in moving)
        renderer = ClipRenderer()
        next(iter(renderer.frames(moving[0], *SIZE)))  # warm the shaders and targets
        per_frame, wall, render_cpu = _render(renderer, moving)
        loads.append(os.getloadavg()[0])
        sequential, naive, ours = _peers(renderer, moving, args.peer_frames)
        loads.append(os.getloadavg()[0])
        encode_fps, encoded, encode_cpu = _encode(renderer, moving, args.encode_frames, Path(folder))
        loads.append(os.getloadavg()[0])
        both_wall = _render_and_encode(renderer, moving, Path(folder))
        loads.append(os.getloadavg()[0])
        renderer.close()
    info = gl_context().info
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{info['GL_RENDERER']}; load average {', '.join(f'{v:.1f}' for v in loads)} (before, after each step)"
    )
    print(
        f"episode: {shots} shots, {len(moving)} moving ({frames} frames at {FPS} fps, "
        f"{frames / FPS:.1f} s of screen time); the rest are static (one frame each)"
    )
    print()
    print("| figure | value | goal |")
    print("| --- | --- | --- |")
    print(
        f"| all four passes and labels of a 1280x720 frame, render median / p95 ({frames} frames) | "
        f"{_ms(per_frame, 50)} / {_ms(per_frame, 95)} ms | |"
    )
    print(f"| render, whole episode's moving shots ({frames} frames) | {frames / wall:.1f} frames/s | >= 40 frames/s |")
    peer = f"first {args.peer_frames} frames of each moving shot"
    print(f"| &nbsp;&nbsp;the same frames pipelined / one after another / load_scene per frame ({peer}) | "
          f"{ours:.1f} / {sequential:.1f} / {naive:.1f} frames/s | |")  # fmt: skip
    print(f"| &nbsp;&nbsp;CPU time per frame, all threads (llvmpipe's too) | {render_cpu / frames * 1000:.1f} ms | |")
    print(f"| encode apart from the render, 4 passes in threads ({encoded} frames) | {encode_fps:.1f} frames/s | |")
    print(f"| &nbsp;&nbsp;CPU time per frame, all threads | {encode_cpu * 1000:.1f} ms | |")
    print(f"| render and encode together, streaming, whole episode | {frames / both_wall:.1f} frames/s | |")


def _layouts(folder: Path) -> tuple[list[Path], int]:
    """Every shot of the example as an animated layout with readable stand-ins."""
    script = parse_script(EXAMPLE.read_bytes(), EXAMPLE)
    previous, paths, count = None, [], 0
    for number, (scene, breakdown) in enumerate(zip(script.scenes, break_down(script)), start=1):
        shots = cover_scene(scene, breakdown, str(number), previous, Plan(), FPS)
        previous = breakdown.location
        blockings = block_scene(shots, breakdown, props=True)
        motions = scene_motion(shots, scene, breakdown, blockings, Fraction(FPS))
        for shot in shots:
            count += 1
            blocking = blockings[shot.code]
            names = sorted(blocking.marks)
            ids = {name: i for i, name in enumerate(names, start=1)}
            colours = {n: character_colour(n, ids[n]) for n in names}
            stage = build_layout(shot, blocking, colours, ids, stand_ins=StandIns(), motion=motions[shot.code])
            path = folder / f"{shot.code}.usda"
            save_layout(stage, path)
            paths.append(path)
    return paths, count


def _render(renderer: ClipRenderer, clips: list[ShotClip]) -> tuple[list[float], float, float]:
    """Seconds per frame (time between frames handed out), the whole wall time, and the CPU
    time of the process (every thread, llvmpipe's too), which other work on the machine
    inflates far less than wall time."""
    per_frame = []
    started, cpu = time.perf_counter(), time.process_time()
    for clip in clips:
        last = time.perf_counter()
        for _ in renderer.frames(clip, *SIZE, burn_in=clip.path.stem):
            now = time.perf_counter()
            per_frame.append(now - last)
            last = now
    return per_frame, time.perf_counter() - started, time.process_time() - cpu


def _peers(renderer: ClipRenderer, clips: list[ShotClip], limit: int) -> tuple[float, float, float]:
    """Frames per second of the same frames one after another, with load_scene per frame,
    and pipelined (ours), measured in turns on each shot so that load changes hit all three."""
    totals = {"sequential": 0.0, "naive": 0.0, "ours": 0.0}
    count = 0
    for clip in clips:
        frames = range(min(limit, clip.timing.frames))
        count += len(frames)
        started = time.perf_counter()
        for frame in frames:
            geometry = clip.geometry(frame)
            passes = renderer.renderer.render(geometry, *SIZE, burn_in=clip.path.stem)
            renderer._paint(clip, frame, passes, geometry)
        totals["sequential"] += time.perf_counter() - started
        started = time.perf_counter()
        for frame in frames:
            geometry = load_scene(clip.path, time=clip.timing.times[frame])
            passes = renderer.renderer.render(geometry, *SIZE, burn_in=clip.path.stem)
            renderer._paint(clip, frame, passes, geometry)
        totals["naive"] += time.perf_counter() - started
        started = time.perf_counter()
        for n, _ in zip(frames, renderer.frames(clip, *SIZE, burn_in=clip.path.stem), strict=False):
            del n
        totals["ours"] += time.perf_counter() - started
    return count / totals["sequential"], count / totals["naive"], count / totals["ours"]


def _encode(renderer: ClipRenderer, clips: list[ShotClip], limit: int, folder: Path) -> tuple[float, int, float]:
    """Frames per second of the encode alone (each shot's first frames rendered into memory,
    then encoded), how many frames, and CPU seconds per frame."""
    seconds, cpu_seconds, count = 0.0, 0.0, 0
    for clip in clips:
        frames = []
        for passes in renderer.frames(clip, *SIZE):
            frames.append(passes)
            if len(frames) == limit:
                break
        started, cpu = time.perf_counter(), time.process_time()
        with ClipWriter(folder / "encode", clip.path.stem, SIZE, clip.timing.rate, len(frames)) as writer:
            for passes in frames:
                writer.add(passes)
            writer.close()
        seconds += time.perf_counter() - started
        cpu_seconds += time.process_time() - cpu
        count += len(frames)
    return count / seconds, count, cpu_seconds / count


def _render_and_encode(renderer: ClipRenderer, clips: list[ShotClip], folder: Path) -> float:
    """Wall seconds to render and encode every moving shot, streaming."""
    started = time.perf_counter()
    for clip in clips:
        with ClipWriter(folder / "clips", clip.path.stem, SIZE, clip.timing.rate, clip.timing.frames) as writer:
            for passes in renderer.frames(clip, *SIZE, burn_in=clip.path.stem):
                writer.add(passes)
            writer.close()
    return time.perf_counter() - started


def _ms(seconds: list[float], percentile: int) -> str:
    ordered = sorted(seconds)
    if percentile == 50:
        return f"{statistics.median(ordered) * 1000:.1f}"
    return f"{ordered[min(len(ordered) - 1, round(percentile / 100 * (len(ordered) - 1)))] * 1000:.1f}"


if __name__ == "__main__":
    main()
