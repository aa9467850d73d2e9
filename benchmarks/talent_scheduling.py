"""The exact talent-scheduling solver on the published instances, against a plain CP-SAT model,
and on random instances of growing size.

Run: .venv/bin/python benchmarks/talent_scheduling.py [--cpsat-limit 60] [--scaling-limit 10]
     [--skip-cpsat] [--skip-scaling]
Prints markdown table rows for docs/benchmarks.md.

1. Every instance of ../shared/schedules (the MiniZinc files; the ddo files hold the same
   numbers and are read alike) solved by ``solve_talent``: median wall time of 3 runs, each
   from the file, and the states the search expanded; checked against the optimum in the
   README's table. Side by side in the same run, the plain CP-SAT model (``cpsat.py``, 2
   workers) with a time limit: its result, proven bound and time, and the ratio of times.
2. Scaling: random instances (seeded) of 20, 30, 40 and 60 scenes with 8 to 20 cast; each
   scene has 1 to max(2, cast/3) cast members, daily costs 1-100, durations 1-4 days. Time to
   the proven optimum, or the gap between the best order and the proven bound at the limit.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import time
from pathlib import Path

import ortools

from soundstage.schedules.cpsat import solve_talent_cpsat
from soundstage.schedules.instances import TalentInstance, read_instance
from soundstage.schedules.talent import solve_talent

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "schedules"


def known_optima() -> dict[str, int]:
    optima = {}
    for line in (SHARED / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*(\w+)\s*\|\s*\d+ x \d+\s*\|\s*(\d+)\s*\|", line)
        if match:
            optima[match[1]] = int(match[2])
    return optima


def random_instance(scenes: int, cast: int, seed: int) -> TalentInstance:
    rng = random.Random(seed)
    casts = tuple(frozenset(rng.sample(range(cast), rng.randint(1, max(2, cast // 3)))) for _ in range(scenes))
    durations = tuple(rng.randint(1, 4) for _ in range(scenes))
    costs = tuple(rng.randint(1, 100) for _ in range(cast))
    return TalentInstance(f"random-{scenes}x{cast}-{seed}", durations, casts, costs)


def published(cpsat_limit: float, skip_cpsat: bool) -> None:
    optima = known_optima()
    print(
        "| instance | scenes x cast | optimum | Soundstage (median of 3) | states | CP-SAT plain model | CP-SAT time | ratio |"
    )
    print("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |")
    ours_total = 0.0
    for path in sorted((SHARED / "minizinc").glob("*.dzn"), key=lambda p: read_instance(p).scenes):
        times = []
        for _ in range(3):
            started = time.perf_counter()
            instance = read_instance(path)
            result = solve_talent(instance)
            times.append(time.perf_counter() - started)
        assert result.optimal and result.cost == optima[path.stem], (path, result)
        ours = statistics.median(times)
        ours_total += ours
        if skip_cpsat:
            peer, peer_time, ratio = "not run", "", ""
        else:
            p = solve_talent_cpsat(instance, time_limit=cpsat_limit, workers=2)
            if p.optimal:
                peer = f"{p.cost} optimal"
            elif p.cost is not None:
                peer = f"{p.cost}, bound {p.lower_bound} (gap {(p.cost - p.lower_bound) / p.cost:.1%}) at the limit"
            else:
                peer = "no solution at the limit"
            peer_time = f"{p.seconds:.2f} s" if p.optimal else f"> {cpsat_limit:g} s"
            ratio = f"{p.seconds / ours:.0f}x" if p.optimal else f"> {cpsat_limit / ours:.0f}x"
        print(
            f"| {path.stem} | {instance.scenes} x {instance.cast_size} | {result.cost} | {ours * 1000:.0f} ms "
            f"| {result.states:,} | {peer} | {peer_time} | {ratio} |",
            flush=True,
        )
    print(f"\nall ten instances, Soundstage: {ours_total:.2f} s in all")


def scaling(limit: float) -> None:
    print("\n| random instance | scenes x cast | result | time | states | gap at the limit |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    rng = random.Random(2026)
    for scenes in (20, 30, 40, 60):
        for seed in range(3):
            cast = rng.randint(8, 20)
            instance = random_instance(scenes, cast, seed)
            result = solve_talent(instance, time_limit=limit)
            outcome = "optimal" if result.optimal else f"best {result.cost}, bound {result.lower_bound}"
            shown = f"{result.seconds:.2f} s" if result.optimal else f"{limit:g} s (limit)"
            gap = "0" if result.optimal else f"{result.gap:.1%}"
            print(
                f"| {instance.name} | {scenes} x {cast} | {outcome} | {shown} | {result.states:,} | {gap} |", flush=True
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpsat-limit", type=float, default=60.0)
    parser.add_argument("--scaling-limit", type=float, default=10.0)
    parser.add_argument("--skip-cpsat", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, OR-Tools {ortools.__version__}"
    print(f"# talent scheduling; {machine}; {time.strftime('%Y-%m-%d')}\n")
    published(args.cpsat_limit, args.skip_cpsat)
    if not args.skip_scaling:
        scaling(args.scaling_limit)


if __name__ == "__main__":
    main()
