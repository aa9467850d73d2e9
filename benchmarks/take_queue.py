"""The take queue: overhead per take beyond the backend, and previs takes of a whole feature
with one worker against two.

Run: .venv/bin/python benchmarks/take_queue.py [SCRIPT] [--size 640x360]
Prints markdown table rows for docs/benchmarks.md.

1. Overhead: jobs of one shot are claimed as a worker claims them (``[generate] batch`` at a
   time), their recipe embedded in the PNG, stored in the media store and recorded, in this
   process; the backend's own time is timed apart and subtracted; per take.
2. Throughput: a previs take for every shot of the script, worked by ``soundstage work``
   with 1 worker process, then (on a copy of the same production) with 2.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from soundstage.generate import queue
from soundstage.generate.metadata import embed_recipe
from soundstage.generate.registry import backend_for
from soundstage.generate.worker import MediaInputs
from soundstage.make import make, open_or_init
from soundstage.project import Production, TakeOptions
from soundstage.store.db import session_scope
from soundstage.store.tables import ShotRow

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCRIPT = ROOT.parent / "shared" / "screenplays" / "big_fish.fountain"
OVERHEAD_JOBS = 200


def _overhead(production: Production) -> tuple[float, float]:
    """Median queue overhead and backend time per take, in ms."""
    code = production.shots()[0].code
    production.queue_takes(code, TakeOptions(count=OVERHEAD_JOBS, requested_by="bench"))
    backend = backend_for("previs", production.settings.generate, production.root)
    inputs = MediaInputs(production.media)
    overheads, backend_ms = [], []
    batch = production.settings.generate.batch  # what a worker claims at once
    while True:
        started = time.perf_counter()
        jobs = queue.claim(production.engine, "bench", lease_s=60, limit=batch)
        if not jobs:
            break
        t0 = time.perf_counter()
        outputs = backend.generate([j.recipe for j in jobs], inputs, lambda fraction: None)
        t1 = time.perf_counter()
        stored = [production.media.put_bytes(embed_recipe(png, j.recipe), ".png") for j, png in zip(jobs, outputs)]
        queue.complete(production.engine, list(zip(jobs, stored)))
        finished = time.perf_counter()
        backend_ms.append((t1 - t0) * 1000 / len(jobs))
        overheads.append(((finished - started) - (t1 - t0)) * 1000 / len(jobs))
    return statistics.median(overheads), statistics.median(backend_ms)


def _throughput(root: Path, workers: int) -> tuple[int, float]:
    """Takes made and seconds taken to work a previs take for every shot."""
    with Production.open(root) as production:
        queued = production.queue_missing_takes(requested_by="bench")
        started = time.perf_counter()
        report = production.work(workers=workers)
        seconds = time.perf_counter() - started
    assert report.takes == queued, (report, queued)
    return report.takes, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", nargs="?", type=Path, default=DEFAULT_SCRIPT)
    parser.add_argument("--size", default="640x360")
    args = parser.parse_args()
    size = tuple(int(n) for n in args.size.split("x"))

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        production = open_or_init(base)
        # Everything up to previs; takes are what is measured here.
        make(args.script, Path(tmp) / "out", production, size=size, until="previs")
        production.close()

        one, two, probe = Path(tmp) / "one", Path(tmp) / "two", Path(tmp) / "probe"
        for copy in (one, two, probe):
            shutil.copytree(base, copy)
        with Production.open(probe) as p:
            overhead, backend_ms = _overhead(p)
            with session_scope(p.engine) as session:
                shots = len(session.scalars(select(ShotRow.id)).all())
        takes_1, seconds_1 = _throughput(one, 1)
        takes_2, seconds_2 = _throughput(two, 2)

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"# {args.script.name}: {shots} shots, previs takes at {args.size}; {machine}")
    print("| figure | value | target |")
    print("| --- | --- | --- |")
    print(
        f"| queue overhead per take (claim, embed recipe, store, record), median over {OVERHEAD_JOBS} takes | {overhead:.1f} ms | < 5 ms |"
    )
    print(f"| &nbsp;&nbsp;previs backend's own time per take (median) | {backend_ms:.1f} ms | |")
    print(f"| previs takes, 1 worker | {takes_1} in {seconds_1:.1f} s, {takes_1 / seconds_1:.1f} takes/s | |")
    print(f"| previs takes, 2 workers | {takes_2} in {seconds_2:.1f} s, {takes_2 / seconds_2:.1f} takes/s | |")
    print(f"| speed-up of 2 workers over 1 | {seconds_1 / seconds_2:.2f}x | |")


if __name__ == "__main__":
    main()
