"""A feature scheduled into shoot days: big_fish.fountain's 190 scenes with its breakdown's cast,
day capacity, two sound stages, exteriors on location with company moves.

Run: .venv/bin/python benchmarks/feature_schedule.py [SCRIPT] [--limit 120] [--per-day 24]
Prints markdown table rows for docs/benchmarks.md.

The problem, all from the screenplay except the money: every scene from ``scene_work_from_script``
(its speaking cast, its eighths; interiors on a sound stage, each set built once; exteriors on
location at the heading's place, one location a day); cast from ``cast_from_scenes``, day
rates by cast number (1-3: 2,500; 4-10: 1,200; the rest 600); Stage 1 (18,000 sq ft, 3,000 a
day) and Stage 2 (12,000 sq ft, 2,200 a day, booked by another show in the third week); crew
15,000 a shoot day; a company move 4,000. The time is the whole of ``solve_schedule``: the
talent solver's hint, the model, CP-SAT (2 workers) to its limit.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import ortools

from soundstage.schedules.evaluation import evaluate, start_days
from soundstage.schedules.hint import pack_days, talent_order
from soundstage.schedules.model import (
    Calendar,
    DateRange,
    ScheduleProblem,
    ScheduleSettings,
    Stage,
    StageBooking,
    StageKind,
    Zone,
    cast_from_scenes,
    scene_work_from_script,
)
from soundstage.schedules.occupancy import occupancy
from soundstage.schedules.production import solve_schedule
from soundstage.script.formats import read_script

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCRIPT = ROOT.parent / "shared" / "screenplays" / "big_fish.fountain"
START = date(2027, 3, 1)  # a Monday


def feature_problem(script_path: Path, per_day: int, limit: float) -> ScheduleProblem:
    script, _ = read_script(script_path, 50 * 1024 * 1024)
    scenes = scene_work_from_script(script)
    numbered = cast_from_scenes(scenes, Decimal(600))
    rates = {m.name: Decimal(2500 if m.number <= 3 else 1200 if m.number <= 10 else 600) for m in numbered}
    cast = cast_from_scenes(scenes, rates)
    other_show = StageBooking(
        "Stage 2", DateRange(START + timedelta(days=14), START + timedelta(days=18)), "Other Show"
    )
    stages = (
        Stage("Stage 1", StageKind.SOUND_STAGE, 18000, Zone.IN, Decimal(3000)),
        Stage("Stage 2", StageKind.SOUND_STAGE, 12000, Zone.IN, Decimal(2200), bookings=(other_show,)),
    )
    settings = ScheduleSettings(
        eighths_per_day=per_day,
        crew_day_rate=Decimal(15000),
        company_move_cost=Decimal(4000),
        time_limit=limit,
        workers=2,
    )
    return ScheduleProblem(
        tuple(scenes), tuple(cast), stages, Calendar(START, 5), settings=settings, production="Big Fish"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", nargs="?", type=Path, default=DEFAULT_SCRIPT)
    parser.add_argument("--limit", type=float, default=120.0)
    parser.add_argument("--per-day", type=int, default=24)
    args = parser.parse_args()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, OR-Tools {ortools.__version__}"
    problem = feature_problem(args.script, args.per_day, args.limit)
    print(
        f"# {args.script.name}: {len(problem.scenes)} scenes, {len(problem.cast)} cast, "
        f"{len({s.location for s in problem.scenes})} locations, {sum(s.eighths for s in problem.scenes)} eighths; {machine}\n"
    )
    started = time.perf_counter()
    order = talent_order(problem, seconds=2.0)
    hint_time = time.perf_counter() - started
    packed = pack_days(problem, order, 400)
    assert packed is not None
    hint_cost = evaluate(problem, packed, {}).cost.total  # stage rent not counted: no stages assigned yet
    started = time.perf_counter()
    schedule = solve_schedule(problem, hint=order)
    elapsed = time.perf_counter() - started
    check = evaluate(problem, start_days(schedule), schedule.stage_of)
    assert not check.conflicts, check.conflicts
    report = occupancy(problem, schedule)
    print("| figure | value |")
    print("| --- | --- |")
    print(f"| talent-solver order for the hint (cast, stages, sets, locations as members) | {hint_time:.1f} s |")
    print(
        f"| the hint packed into days (cast, moves, crew; before stages) | {len(set(packed.values()))} days, {hint_cost:,.2f} |"
    )
    print(f"| CP-SAT production model, to its {args.limit:g} s limit | {elapsed:.1f} s, status {schedule.status} |")
    print(f"| schedule | {len(schedule.days)} shoot days, {schedule.days[-1].date} last |")
    print(
        f"| cost | {schedule.cost.total:,.2f} (cast {sum(schedule.cost.cast.values()):,.2f}, stages "
        f"{sum(schedule.cost.stages.values()):,.2f}, moves {schedule.cost.moves:,.2f}, crew {schedule.cost.crew:,.2f}) |"
    )
    print(f"| proven lower bound | {schedule.lower_bound:,.2f} |")
    print(f"| proven gap | {schedule.gap:.1%} |")
    for stage in report.stages:
        t = report.totals(stage)
        print(
            f"| {stage}: occupied / used / idle shoot days | {t.occupied} / {t.used} / {t.idle} ({t.utilisation:.0%} used) |"
        )


if __name__ == "__main__":
    main()
