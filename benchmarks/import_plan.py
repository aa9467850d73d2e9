"""Import, breakdown and plan of a feature screenplay, and Fountain parse time against peers.

Run: .venv/bin/python benchmarks/import_plan.py [SCRIPT] [--runs N]
(needs the bench extra: dev/setup bench). Prints markdown table rows for docs/benchmarks.md.

Each run of the whole path happens in a fresh child process on a fresh SQLite production, so
the time includes opening the database and the peak memory is that process's own maximum
resident set (ru_maxrss), interpreter included. Parsers are timed in this process, side by
side, on the same text.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCRIPT = ROOT.parent / "shared" / "screenplays" / "big_fish.fountain"


def _one_run(script: Path) -> dict[str, float]:
    """Child process: time import, breakdown and plan on a fresh production."""
    from soundstage.project import Production

    with tempfile.TemporaryDirectory() as tmp, Production.init(Path(tmp) / "bench") as production:
        t0 = time.perf_counter()
        report = production.import_script(script)
        t1 = time.perf_counter()
        sheets = production.breakdown()
        t2 = time.perf_counter()
        plan = production.plan()
        t3 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "import": t1 - t0,
        "breakdown": t2 - t1,
        "plan": t3 - t2,
        "total": t3 - t0,
        "peak_mb": peak_mb,
        "scenes": report.scenes,
        "sheets": len(sheets),
        "shots": plan.shots,
    }


def _median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _parsers(text: str, runs: int) -> dict[str, float]:
    from jouvence.parser import JouvenceParser
    from screenplain.parsers import fountain as screenplain_fountain

    from soundstage.script.fountain import parse_fountain

    return {
        "soundstage": _median_time(lambda: parse_fountain(text, "bench"), runs),
        "screenplain": _median_time(lambda: screenplain_fountain.parse(io.StringIO(text)), runs),
        "jouvence": _median_time(lambda: JouvenceParser().parseString(text), runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", nargs="?", type=Path, default=DEFAULT_SCRIPT)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_one_run(args.script)))
        return

    results = []
    for _ in range(args.runs):
        child = subprocess.run(
            [sys.executable, __file__, str(args.script), "--child"], capture_output=True, text=True, check=True
        )
        results.append(json.loads(child.stdout))
    med = {k: statistics.median(r[k] for r in results) for k in ("import", "breakdown", "plan", "total")}
    peak = max(r["peak_mb"] for r in results)
    parse = _parsers(args.script.read_text(encoding="utf-8"), runs=max(args.runs, 10))

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    first = results[0]
    print(f"# {args.script.name}: {first['scenes']} scenes, {first['shots']} shots; {machine}; median of {args.runs}")
    print("| figure | value | target |")
    print("| --- | --- | --- |")
    print(f"| import + breakdown + plan, {args.script.name} | {med['total'] * 1000:.0f} ms | < 500 ms |")
    stages = ("import", "breakdown", "plan")
    for stage in stages:
        share = med[stage] / sum(med[s] for s in stages)
        print(f"| &nbsp;&nbsp;{stage} | {med[stage] * 1000:.0f} ms ({share:.0%}) | |")
    print(f"| peak resident memory of that process | {peak:.0f} MB | < 200 MB |")
    ours = parse["soundstage"]
    for peer in ("screenplain", "jouvence"):
        print(
            f"| Fountain parse: Soundstage {ours * 1000:.1f} ms vs {peer} {parse[peer] * 1000:.1f} ms"
            f" | {parse[peer] / ours:.1f}x faster | |"
        )


if __name__ == "__main__":
    main()
