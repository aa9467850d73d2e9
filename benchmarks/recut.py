"""Re-cutting a feature from its segment cache: the first cut with segments encoded in
parallel against plain PyAV, a re-cut after one take changed, and peak memory against the
length of the cut.

Run: .venv/bin/python benchmarks/recut.py [SCRIPT] [--shots N] [--workers N] [--peer-share 0.1]
        [--keep DIR [--take N]]
Prints markdown table rows for docs/benchmarks.md.

With ``--keep DIR`` the production, the cut and its segment cache stay in DIR; run again with
the same DIR, only the re-cuts are measured, from that warm cache (the changed take is named
``<shot>/N`` by ``--take``, so each such run changes a take the cache has not seen).

1. ``make`` up to previs on a fresh production (storyboards at 128x72 stand in for takes, as
   in benchmarks/animatic.py), a CutShot per shot, ``assemble`` with scratch dialogue.
2. The first cut of every shot into an empty segment cache with ``--workers`` processes.
3. The peer: the first ``--peer-share`` of the shots cut into a cache of their own, and PyAV
   encoding the same frames plainly (each shot's fitted still sent for its duration, one
   encoder, its own threads: benchmarks/animatic.py's raw encode), before and after ours.
4. Re-cuts from the warm cache: one take changed in the middle of the feature (another
   shot's storyboard in its place), and nothing changed.
5. Resident memory of the re-cut with nothing changed as its join passes each quarter of the
   frames (the join holds the MP4 index; the encoders hold one shot each: their peak is
   sampled during the first cut).

Each cut runs in a fresh spawned child, so its peak memory is its own; the first cut's
workers are sampled for theirs.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import av
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from animatic import DEFAULT_SCRIPT, HEAD_SLATE_S, _cut_shots, _raw_encode, _status_mb  # noqa: E402

from soundstage.cut.animatic import write_animatic  # noqa: E402
from soundstage.cut.timeline import Cut, assemble  # noqa: E402


@dataclass(frozen=True, slots=True)
class Run:
    """One child's figures."""

    shots: int
    frames: int
    seconds: float
    peak_rss_mb: float  # the cutting process
    rss_before_mb: float  # resident before the cut: interpreter and libraries
    rss_quarters_mb: tuple[float, ...]  # resident as the join passes 1/4, 1/2, 3/4 and all frames
    worker_peak_rss_mb: float  # the largest sampled resident size of any worker
    encoded: int
    segments: int
    sound_encoded: int
    sound_segments: int
    raw_seconds: float | None = None


def _sampler(stop: threading.Event, peak: list[float]) -> None:
    """The largest resident size of this process's children, sampled every 0.2 s."""
    me = psutil.Process()
    while not stop.wait(0.2):
        for child in me.children(recursive=True):
            with contextlib.suppress(psutil.Error):  # a worker that has just left
                peak[0] = max(peak[0], child.memory_info().rss / 2**20)


def _cut(cut: Cut, out: Path, cache: Path, size: tuple[int, int], workers: int, raw: bool) -> Run:
    """In a child process: the animatic of ``cut`` from ``cache``; with ``raw``, PyAV's plain
    encode of the same frames before and after it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    raw_before = _raw_encode(cut, out.with_name("raw.mp4"), size) if raw else None
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # resets VmHWM: the peak below is the cut's
    before = _status_mb("VmRSS")
    quarters: dict[int, float] = {}

    def sample(done: int, total: int) -> None:
        quarter = 4 * done // total  # resident memory as the join passes each quarter
        if quarter and quarter not in quarters:
            quarters[quarter] = _status_mb("VmRSS")

    peak, stop = [0.0], threading.Event()
    watcher = threading.Thread(target=_sampler, args=(stop, peak), daemon=True)
    watcher.start()
    started = time.perf_counter()
    info = write_animatic(
        cut, out, size=size, head_slate_s=HEAD_SLATE_S, segment_cache=cache, workers=workers, progress=sample
    )
    seconds = time.perf_counter() - started
    stop.set()
    watcher.join()
    own_peak = _status_mb("VmHWM")
    raw_seconds = (raw_before + _raw_encode(cut, out.with_name("raw.mp4"), size)) / 2 if raw_before else None
    return Run(
        len(cut.shots), info.frames, seconds, own_peak, before, tuple(quarters.values()), peak[0], info.encoded,
        info.segments, info.sound_encoded, info.sound_segments, raw_seconds,
    )  # fmt: skip


def _child(*args: object) -> Run:
    # An executor's process, not a multiprocessing.Pool's: a pool's are daemons, which may not
    # start the cut's own workers.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_cut, *args).result()


def _first(cut: Cut, count: int) -> Cut:
    """The cut of its first ``count`` shots, with their lines."""
    part = Cut(cut.title, cut.fps, cut.shots[:count], made_at=cut.made_at)
    part.dialogue = [clip for clip in cut.dialogue if clip.start < part.frames]
    return part


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", nargs="?", type=Path, default=DEFAULT_SCRIPT)
    parser.add_argument("--shots", type=int, default=None, help="only the first N shots (a quick run)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="segment encoder processes")
    parser.add_argument("--peer-share", type=float, default=0.1, help="share of the shots the peer encodes")
    parser.add_argument("--size", default="1280x720", help="animatic frame size")
    parser.add_argument("--previs", default="128x72", help="previs take size (the set-up, not measured)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work here; again: re-cuts only")
    parser.add_argument("--take", type=int, default=2, help="the changed take's number (with --keep)")
    args = parser.parse_args()
    from soundstage.make import make, open_or_init  # see benchmarks/animatic.py: not in the children

    size = tuple(int(n) for n in args.size.split("x"))
    with contextlib.ExitStack() as stack:
        if args.keep is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        else:
            root = args.keep.resolve()
            root.mkdir(parents=True, exist_ok=True)
        again = (root / "cut" / "cut.mp4").exists()
        production = open_or_init(root / "production")
        started = time.perf_counter()
        if not again:
            previs = tuple(int(n) for n in args.previs.split("x"))
            make(args.script, root / "out", production, size=previs, until="previs")
        setup = time.perf_counter() - started
        shots = _cut_shots(production, args.shots)
        title, fps = production.title(), production.settings.fps
        production.close()
        cut = assemble(title, shots, fps, root / "voices")
        cache, out = root / "segments", root / "cut" / "cut.mp4"
        machine = (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, PyAV {av.__version__}"
        )
        print(f"# {args.script.name}: {len(cut.shots)} shots, {float(cut.frames / fps / 60):.1f} min; {machine}")
        print(f"# set-up (make up to previs, storyboards at {args.previs}): {setup:.1f} s; workers: {args.workers}")
        print("| figure | value | target |")
        print("| --- | --- | --- |", flush=True)

        if not again:
            first = _child(cut, out, cache, size, args.workers, False)
            print(
                f"| first cut, every shot into an empty segment cache, {args.workers} workers: "
                f"{first.segments} picture + {first.sound_segments} sound segments, {first.frames:,} frames | "
                f"{first.seconds:.1f} s, {first.frames / first.seconds:.0f} frames/s | |"
            )
            print(
                f"| peak resident memory of a segment encoder (first cut, largest sample) | "
                f"{first.worker_peak_rss_mb:.0f} MB | |"
            )
            print(f"| peak resident memory of the first cut's own process | {first.peak_rss_mb:.0f} MB | |", flush=True)
            share = _first(cut, max(1, round(len(cut.shots) * args.peer_share)))
            peer = _child(share, root / "share" / "cut.mp4", root / "share-segments", size, args.workers, True)
            ours, raw = peer.frames / peer.seconds, peer.frames / (peer.raw_seconds or 1)
            print(
                f"| first cut against plain PyAV on the same frames, first {peer.shots} shots ({peer.frames:,} frames): "
                f"{ours:.0f} vs {raw:.0f} frames/s | {ours / raw:.2f}x | faster than 0.68x |",
                flush=True,
            )

        # One take changed in the middle: another shot's picture in its place, same duration.
        middle = next(i for i in range(len(cut.shots) // 2, len(cut.shots)) if cut.shots[i].image)
        other = next(s.image for s in cut.shots[middle + 1 :] if s.image and s.image != cut.shots[middle].image)
        changed = Cut(cut.title, cut.fps, list(cut.shots), list(cut.dialogue), made_at=cut.made_at)
        changed.shots[middle] = replace(cut.shots[middle], take=f"{cut.shots[middle].code}/{args.take}", image=other)
        recut = _child(changed, out, cache, size, args.workers, False)
        unchanged = _child(changed, out, cache, size, args.workers, False)
        segment_mb = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) / 1e6
        movie_mb = out.stat().st_size / 1e6
        print(
            f"| re-cut after one take changed: segments encoded (picture / sound) | "
            f"{recut.encoded} of {recut.segments} / {recut.sound_encoded} of {recut.sound_segments} | 1 / 0 |"
        )
        print(f"| re-cut after one take changed: wall time | {recut.seconds:.1f} s | under 10 s |")
        print(f"| re-cut with nothing changed (the join alone) | {unchanged.seconds:.1f} s | |")
        quarters = " / ".join(f"{mb:.0f}" for mb in (unchanged.rss_before_mb, *unchanged.rss_quarters_mb))
        print(
            f"| resident memory of the re-cut before it and at 1/4, 1/2, 3/4, all of the frames | {quarters} MB | flat |"
        )
        print(f"| &nbsp;&nbsp;its peak | {unchanged.peak_rss_mb:.0f} MB | |")
        print(f"| segment cache / the animatic | {segment_mb:.0f} / {movie_mb:.0f} MB | |")


if __name__ == "__main__":
    main()
