"""Clip takes checked in time: seconds per clip check, and what it catches and falsely flags.

Plans the example (``examples/lantern_keepers.fountain``), lays out and renders scenes 3 and 4
at ``--size`` through the production, and for each moving shot queues one previs take of the
shot's length (the storyboard clip as an MP4 take) and works it. Then each take's picture is
swapped, in the production's database, for drifted versions of itself, and ``check`` runs the
intent checks on it as ``soundstage check`` does (the clip decoded from the media store, every
``clip_every``-th frame and the last checked against the previs clip's frame, then flicker,
identity and motion over the clip):

- clean: the previs take itself (any warn or fail is a false flag);
- flicker: frames 60-120 brighter by 12% every other three frames;
- identity swap: the first character's pixels (by the id pass) recoloured from frame 90;
- reversed: the frames in reverse order.

A drift counts as caught when its check (flicker, identity, motion) warns or fails; other
checks that flag a drifted take are counted too (the per-frame composition check fails a
reversed take where the blocking moves, as it should). The limits were tuned on 004_0060's
variants (tests/motion/test_clip_checks.py); the other moving shots were not tuned on.

Run: ``.venv/bin/python benchmarks/clip_checks.py [--size 320x180] [--scenes 3,4]`` (scenes 3 and 4 hold
the shot tuned on; ``--scenes 6,7,9,10`` are scenes the limits never saw). Prints markdown rows.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sqlalchemy import update

from soundstage.generate import clips
from soundstage.project import Production, TakeOptions
from soundstage.store.tables import TakeRow

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lantern_keepers.fountain"
EXPECTED = {"clean": None, "flicker": "flicker", "identity swap": "identity", "reversed": "motion"}


def flickering(frames: list[np.ndarray]) -> list[np.ndarray]:
    return [
        np.clip(f.astype(np.float32) * 1.12, 0, 255).astype(np.uint8) if 60 <= n <= 120 and (n // 3) % 2 else f
        for n, f in enumerate(frames)
    ]


def swapped(frames: list[np.ndarray], ids: list[np.ndarray], mask_id: int) -> list[np.ndarray]:
    out = []
    for n, frame in enumerate(frames):
        if n >= 90:
            frame = frame.copy()
            region = ids[n][..., 0] == mask_id
            frame[region] = frame[region][:, [2, 0, 1]]
        out.append(frame)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="320x180", help="previs size, WIDTHxHEIGHT")
    parser.add_argument("--scenes", default="3,4", help="scenes of the example to render, by number")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as folder, Production.init(Path(folder) / "pilot") as production:
        production.import_script(EXAMPLE)
        production.plan()
        start = time.perf_counter()
        for scene in args.scenes.split(","):
            production.layout(scene=scene)
            production.previs(size=(width, height), scene=scene)
        moving = [s for s in production.shots() if production.pass_clips(s.code)]
        print(f"set-up: layout and previs of scenes {args.scenes} in {time.perf_counter() - start:.1f} s", flush=True)
        start = time.perf_counter()
        for shot in moving:
            production.queue_takes(shot.code, TakeOptions(frames=shot.frames))
        production.work(workers=1)
        print(f"set-up: {len(moving)} clip takes made and checked in {time.perf_counter() - start:.1f} s", flush=True)
        times: list[float] = []
        caught: Counter[str] = Counter()
        side: Counter[str] = Counter()
        frames_checked = 0
        cast = 0  # moving shots with a character in frame
        clean_worst: dict[str, float] = {}  # the highest score of each check in time on a clean take
        drift_least: dict[str, float] = {}  # the lowest score of each on the drift it is for
        for shot in moving:
            (take,) = [t for t in production.takes(shot.code) if t.path is not None]
            stored = production.pass_clips(shot.code)
            assert stored is not None
            frames = clips.read_clip(take.path.read_bytes(), "take").frames
            ids = clips.read_clip(stored.paths["ids"].read_bytes(), "ids").frames
            # The character swapped: the one the id pass shows most over the clip.
            counts = np.bincount(np.concatenate([f[..., 0].ravel()[::7] for f in ids[::12]]), minlength=256)
            mask_id = int(np.argmax(counts[1:]) + 1)
            # How far the blocking moves anyone: a reversal of a shot that hardly moves is no wrong move.
            centres = [np.argwhere(f[..., 0] > 0).mean(axis=0) for f in ids if (f[..., 0] > 0).any()] or [np.zeros(2)]
            moved = max(float(np.linalg.norm(c - centres[0])) for c in centres)
            variants = {"clean": frames, "flicker": flickering(frames), "reversed": frames[::-1]}
            if counts[1:].any():  # a shot with nobody in frame (a camera move over the set) has no one to swap
                variants["identity swap"] = swapped(frames, ids, mask_id)
                cast += 1
            current = take.path.stem
            for kind, pictures in variants.items():
                sha = production.context.media.put_bytes(clips.write_clip(pictures, stored.fps), ".mp4")
                with production.context.transaction() as session:
                    session.execute(update(TakeRow).where(TakeRow.output_sha256 == current).values(output_sha256=sha))
                current = sha
                start = time.perf_counter()
                found = production.check([shot.code]).findings[take.name]
                times.append(time.perf_counter() - start)
                frames_checked = max(frames_checked, len(pictures))
                flagged = {f.check for f in found if f.verdict.value in ("warn", "fail")}
                expected = EXPECTED[kind]
                for check in ("flicker", "identity", "motion"):
                    worst = max((f.score for f in found if f.check == check), default=0.0)
                    if kind == "clean":
                        clean_worst[check] = max(clean_worst.get(check, 0.0), worst)
                    elif check == expected:
                        drift_least[check] = min(drift_least.get(check, 1.0), worst)
                if expected and expected in flagged:
                    caught[kind] += 1
                for check in sorted(flagged - {expected}):
                    side[f"{kind}: {check}"] += 1
                # Printed as each check ends, so a run stopped by its limit still gives its times.
                print(
                    f"{shot.code} (blocked move {moved:.1f} px) {kind}: flagged {sorted(flagged) or 'nothing'}, "
                    f"checked in {times[-1]:.2f} s",
                    flush=True,
                )
    shots = len(moving)
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"| figure ({width}x{height}, {shots} moving shots, {min(s.frames for s in moving)}-{frames_checked} frames) | value |"
    )
    print("| --- | --- |")
    print(
        f"| seconds per clip check (median / max of {len(times)}) | {statistics.median(times):.2f} / {max(times):.2f} |"
    )
    for kind, check in EXPECTED.items():
        if check:
            print(
                f"| {kind} caught ({check} warns or fails) | {caught[kind]} of {cast if check == 'identity' else shots} |"
            )
    margins = ", ".join(
        f"{c} {clean_worst.get(c, 0):.2f} / {drift_least.get(c, 0):.2f}" for c in ("flicker", "identity", "motion")
    )
    print(f"| highest score on a clean take / lowest on its drift | {margins} |")
    print(f"| other checks flagged | {', '.join(f'{k} {v}' for k, v in sorted(side.items())) or 'none'} |")


if __name__ == "__main__":
    main()
