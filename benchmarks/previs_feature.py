"""Previs of a whole feature: per-shot pass timings and memory, and script-to-storyboards time.

Run: .venv/bin/python benchmarks/previs_feature.py [SCRIPT] [--size 1280x720]
Prints markdown table rows for docs/benchmarks.md.

1. ``make`` on a fresh production (import, breakdown, plan, layout, previs, shot list) with the
   time and share of each stage.
2. Then every shot's layout is loaded and rendered again, one GL context for the whole run,
   timing USD loading, the render of all passes (storyboard, depth, line art, ids), and PNG
   encoding separately; resident memory is sampled as the shot count grows.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

from soundstage.make import make, open_or_init
from soundstage.render.previs import PASSES, PrevisRenderer, load_scene, to_png

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCRIPT = ROOT.parent / "shared" / "screenplays" / "big_fish.fountain"


def _rss_mb() -> float:
    """Current resident set size in MB (Linux /proc), not the peak, to see growth."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", nargs="?", type=Path, default=DEFAULT_SCRIPT)
    parser.add_argument("--size", default="1280x720")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))

    with tempfile.TemporaryDirectory() as tmp:
        production = open_or_init(Path(tmp) / "production")
        started = time.perf_counter()
        result = make(args.script, Path(tmp) / "out", production, size=(width, height))
        total = time.perf_counter() - started
        shots = production.shots()
        paths = [production.layout_path(s) for s in shots]

        renderer = PrevisRenderer()
        load_ms, render_ms, encode_ms, rss = [], [], [], []
        checkpoints = {len(paths) // 8, len(paths) // 4, len(paths) // 2, len(paths)}
        for i, path in enumerate(paths, start=1):
            t0 = time.perf_counter()
            geometry = load_scene(path)
            t1 = time.perf_counter()
            passes = renderer.render(geometry, width=width, height=height, burn_in=path.stem)
            t2 = time.perf_counter()
            for name in PASSES:
                to_png(getattr(passes, name))
            t3 = time.perf_counter()
            load_ms.append((t1 - t0) * 1000)
            render_ms.append((t2 - t1) * 1000)
            encode_ms.append((t3 - t2) * 1000)
            if i in checkpoints:
                rss.append((i, _rss_mb()))
        production.close()

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"# {args.script.name}: {len(shots)} shots at {width}x{height}; {machine}")
    print("| figure | value | target |")
    print("| --- | --- | --- |")
    print(f"| script to rendered storyboards (make, all stages) | {total:.1f} s | |")
    stage_total = sum(s.seconds for s in result.stages)
    for stage in result.stages:
        print(f"| &nbsp;&nbsp;{stage.name} | {stage.seconds:.2f} s ({stage.seconds / stage_total:.0%}) | |")
    p95 = statistics.quantiles(render_ms, n=20)[-1]
    print(
        f"| all passes of one shot, render (median / p95) | {statistics.median(render_ms):.1f} / {p95:.1f} ms | < 50 ms |"
    )
    print(f"| &nbsp;&nbsp;USD load of one layout (median) | {statistics.median(load_ms):.1f} ms | |")
    print(f"| &nbsp;&nbsp;PNG encode of the four passes (median) | {statistics.median(encode_ms):.1f} ms | |")
    growth = ", ".join(f"{n}: {mb:.0f} MB" for n, mb in rss)
    print(f"| resident memory after N shots | {growth} | flat |")
    print(f"| peak resident memory | {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB | |")


if __name__ == "__main__":
    main()
