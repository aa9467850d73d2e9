"""What a placement of scenes on days costs and breaks: the one evaluation every schedule goes through.

The solver's schedules are costed here (exactly, in ``Decimal``, from where each scene is and on
which stage), and so is a schedule a producer edits by hand: ``move_scene`` moves one strip and
returns the new schedule with its cost and every conflict the move makes, one line each (over a
day's capacity, a cast member who cannot work that day, a stage not available, a set on two
stages, two locations in a day, a pin broken, a stage rented across a day it is booked).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from soundstage.errors import ScheduleError
from soundstage.schedules.model import (
    CostBreakdown,
    DateRange,
    SceneWork,
    Schedule,
    ScheduleProblem,
    ShootDay,
    StageBooking,
)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What a placement of scenes on days costs, and every rule it breaks (one line each)."""

    cost: CostBreakdown
    conflicts: tuple[str, ...]


def scene_days(scene: SceneWork, eighths_per_day: int) -> tuple[int, int]:
    """(days, eighths per day) a scene takes: one day with its eighths, or whole days."""
    if scene.eighths <= eighths_per_day:
        return 1, scene.eighths
    return math.ceil(scene.eighths / eighths_per_day), eighths_per_day


def evaluate(problem: ScheduleProblem, start_of: Mapping[str, int], stage_of: Mapping[str, str]) -> Evaluation:
    """Cost and conflicts of shooting each scene from shoot day ``start_of[number]`` (0-based)
    on stage ``stage_of[number]`` (scenes on location have none). This is what a producer who
    drags a strip sees update; the solver's schedules are evaluated the same way."""
    settings = problem.settings
    conflicts: list[str] = []
    missing = [s.number for s in problem.scenes if s.number not in start_of]
    if missing:
        conflicts.append(f"scenes not scheduled: {', '.join(missing)}")
    horizon = max(
        (
            start_of[s.number] + scene_days(s, settings.eighths_per_day)[0]
            for s in problem.scenes
            if s.number in start_of
        ),
        default=0,
    )
    dates = problem.calendar.shoot_days(horizon)
    load = [0] * horizon
    locations: list[dict[str, None]] = [{} for _ in range(horizon)]
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    stages = {stage.name: stage for stage in problem.stages}
    set_stage: dict[tuple[str, str], str] = {}
    for scene in problem.scenes:
        if scene.number not in start_of:
            continue
        start = start_of[scene.number]
        days, per_day = scene_days(scene, settings.eighths_per_day)
        span = range(start, start + days)
        for d in span:
            load[d] += per_day
            locations[d][scene.location] = None
        for name in scene.cast:
            member = problem.member(name)
            bad = [dates[d] for d in span if not member.can_work(dates[d])]
            if bad:
                conflicts.append(f"scene {scene.number} on {bad[0]}: {name} cannot work that day")
            first[name] = min(first.get(name, start), start)
            last[name] = max(last.get(name, span[-1]), span[-1])
        stage_name = stage_of.get(scene.number)
        if scene.stage_kind is None:
            continue
        stage = stages.get(stage_name or "")
        if stage is None:
            conflicts.append(f"scene {scene.number} needs a {scene.stage_kind} and has no stage")
            continue
        if stage.kind != scene.stage_kind:
            conflicts.append(f"scene {scene.number} needs a {scene.stage_kind}; {stage.name} is a {stage.kind}")
        bad = [dates[d] for d in span if stage.blocked_on(dates[d], problem.production)]
        if bad:
            conflicts.append(f"scene {scene.number} on {bad[0]}: {stage.name} is not available that day")
        key = (scene.set, str(scene.stage_kind))
        if set_stage.setdefault(key, stage.name) != stage.name:
            conflicts.append(f"set {scene.set} is on two stages ({set_stage[key]} and {stage.name})")
        first[stage.name] = min(first.get(stage.name, start), start)
        last[stage.name] = max(last.get(stage.name, span[-1]), span[-1])
    for d in range(horizon):
        if load[d] > settings.eighths_per_day:
            conflicts.append(
                f"{dates[d]}: {pages(load[d])} of script on a day that holds {pages(settings.eighths_per_day)}"
            )
        if settings.one_location_per_day and len(locations[d]) > 1:
            conflicts.append(f"{dates[d]}: the company is at {len(locations[d])} locations ({', '.join(locations[d])})")
    for number, pinned in problem.pins.items():
        if number in start_of and dates[start_of[number]] != pinned:
            conflicts.append(f"scene {number} is pinned to {pinned} but is on {dates[start_of[number]]}")
    for stage in problem.stages:
        if stage.name in first:
            rented = [dates[d] for d in range(first[stage.name], last[stage.name] + 1)]
            blocked = [d for d in rented if stage.blocked_on(d, problem.production)]
            if blocked:
                conflicts.append(
                    f"{stage.name} is rented {rented[0]}..{rented[-1]} across {blocked[0]}, when it is not available"
                )
    cast_cost = {m.name: m.day_rate * (last[m.name] - first[m.name] + 1) for m in problem.cast if m.name in first}
    stage_cost = {s.name: s.day_rate * (last[s.name] - first[s.name] + 1) for s in problem.stages if s.name in first}
    moves = _moves(locations)
    used = [d for d in range(horizon) if load[d]]
    crew_days = used[-1] + 1 if used else 0  # from the calendar's first day
    cost = CostBreakdown(cast_cost, stage_cost, settings.company_move_cost * moves, settings.crew_day_rate * crew_days)
    return Evaluation(cost, tuple(conflicts))


def _moves(locations: Sequence[Mapping[str, None]]) -> int:
    """Company moves: each time a location is in use on a day and was not the day before, less
    the first arrival."""
    arrivals = 0
    for d, here in enumerate(locations):
        before = locations[d - 1] if d else {}
        arrivals += sum(1 for place in here if place not in before)
    return max(0, arrivals - 1)


def pages(eighths: int) -> str:
    """Eighths as a day's length is said: "2 pages", "1 3/8 pages", "6/8 page"."""
    pages, rest = divmod(eighths, 8)
    if not rest:
        return f"{pages} pages" if pages != 1 else "1 page"
    return f"{pages} {rest}/8 pages" if pages else f"{rest}/8 page"


def build_schedule(
    problem: ScheduleProblem,
    start_of: Mapping[str, int],
    stage_of: Mapping[str, str],
    *,
    order: Sequence[str] = (),
    optimal: bool = False,
    lower_bound: Decimal | None = None,
    status: str = "",
    seconds: float = 0.0,
) -> Schedule:
    """A Schedule from a placement: days with their scenes (within a day, in ``order``, then by
    scene number), stage bookings from first to last use, the evaluated cost."""
    cap = problem.settings.eighths_per_day
    rank = {number: i for i, number in enumerate(order)}
    horizon = max((start_of[s.number] + scene_days(s, cap)[0] for s in problem.scenes), default=0)
    dates = problem.calendar.shoot_days(horizon)
    on_day: list[list[SceneWork]] = [[] for _ in range(horizon)]
    for scene in problem.scenes:
        for k in range(scene_days(scene, cap)[0]):
            on_day[start_of[scene.number] + k].append(scene)
    days = []
    for d, scenes in enumerate(on_day):
        if not scenes:
            continue
        scenes.sort(key=lambda s: (rank.get(s.number, len(rank)), s.number))
        numbers = tuple(s.number for s in scenes)
        days.append(
            ShootDay(
                index=d,
                date=dates[d],
                scenes=numbers,
                stage_of={n: stage_of[n] for n in numbers if n in stage_of},
                location=", ".join(dict.fromkeys(s.location for s in scenes)),
            )
        )
    bookings = []
    for stage in problem.stages:
        used = [d for d in days if stage.name in d.stages]
        if used:
            rented = problem.calendar.shoot_days_until(used[-1].date)
            first = next(day for day in rented if day >= used[0].date)
            bookings.append(
                StageBooking(stage.name, DateRange(first, used[-1].date), problem.production or "this production")
            )
    evaluation = evaluate(problem, start_of, stage_of)
    total = evaluation.cost.total
    return Schedule(
        days=tuple(days),
        bookings=tuple(bookings),
        cost=evaluation.cost,
        optimal=optimal,
        lower_bound=total if lower_bound is None else min(lower_bound, total),
        status=status,
        seconds=seconds,
    )


def start_days(schedule: Schedule) -> dict[str, int]:
    """Each scene's first shoot day (0-based) in ``schedule``."""
    start: dict[str, int] = {}
    for day in schedule.days:
        for number in day.scenes:
            start.setdefault(number, day.index)
    return start


def move_scene(problem: ScheduleProblem, schedule: Schedule, scene: str, day: int) -> tuple[Schedule, Evaluation]:
    """The schedule with ``scene`` moved to start on shoot day ``day`` (0-based), everything
    else where it was: what a producer dragging a strip on the stripboard sees, with the new
    cost and every conflict the move makes."""
    if day < 0:
        raise ScheduleError(f"shoot day {day + 1} is before the first")
    problem.scene(scene)
    start_of = start_days(schedule)
    start_of[scene] = day
    stage_of = schedule.stage_of
    order = [n for d in schedule.days for n in d.scenes]
    moved = build_schedule(problem, start_of, stage_of, order=order, status="EDITED")
    return moved, evaluate(problem, start_of, stage_of)
