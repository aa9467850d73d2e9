"""The hint the production model starts from: the talent solver's order, packed into days.

A stage behaves like a cast member whose day cost is its rent, a set like one who stands from
first to last use, a location like one whose cost is a company move: with those as members,
the talent-scheduling order clusters the scenes that share people, stages, sets and places.
``pack_days`` then fills shoot days first-fit in that order, within capacity, cast and stage
days, one location a day and pins, and ``assign_stages`` gives each set the cheapest stage
free on its days. The hint need not be optimal, nor even feasible: CP-SAT repairs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from soundstage.schedules.evaluation import scene_days
from soundstage.schedules.instances import TalentInstance
from soundstage.schedules.model import SceneWork, ScheduleProblem, cents
from soundstage.schedules.talent import solve_talent


def talent_order(problem: ScheduleProblem, *, seconds: float = 1.0) -> list[str]:
    """Scene numbers in the order the talent solver likes: the cast at their day rates, each
    stage kind and each set as a "cast member" at the cheapest rent of the kind (a stage is
    rented, and a set stands, from first to last use) and each location at the company-move
    cost, durations in eighths."""
    members: dict[str, int] = {}
    costs: list[int] = []

    def member(key: str, cost: int) -> int:
        if key not in members:
            members[key] = len(costs)
            costs.append(cost)
        return members[key]

    cheapest = {}
    for stage in problem.stages:
        cheapest[stage.kind] = min(cheapest.get(stage.kind, stage.day_rate), stage.day_rate)
    casts = []
    for scene in problem.scenes:
        cast = {member("cast:" + name, cents(problem.member(name).day_rate)) for name in scene.cast}
        if scene.stage_kind is not None:
            # The stage is rented from first to last use, the set stands from first to last.
            cast.add(member(f"stage:{scene.stage_kind}", cents(cheapest[scene.stage_kind])))
            cast.add(member(f"set:{scene.set}:{scene.stage_kind}", cents(cheapest[scene.stage_kind])))
        if problem.settings.company_move_cost:
            cast.add(member("location:" + scene.location, cents(problem.settings.company_move_cost)))
        casts.append(frozenset(cast))
    instance = TalentInstance("hint", tuple(s.eighths for s in problem.scenes), tuple(casts), tuple(costs))
    # Half the time to local search, the rest to the exact search: a short schedule gets the
    # proven optimal order, a feature local search's.
    result = solve_talent(instance, time_limit=seconds, heuristic_seconds=seconds / 2, group_bound=False)
    return [problem.scenes[i].number for i in result.order]


def pack_days(problem: ScheduleProblem, order: Sequence[str], horizon: int) -> dict[str, int] | None:
    """Scenes in ``order`` packed first-fit into shoot days (capacity, cast and stage days, one
    location a day, pins); None when some scene finds no day within ``horizon``."""
    settings = problem.settings
    dates = problem.calendar.shoot_days(horizon)
    load = [0] * horizon
    place: list[str | None] = [None] * horizon
    start_of: dict[str, int] = {}
    scenes = {s.number: s for s in problem.scenes}
    stages = {kind: [s for s in problem.stages if s.kind == kind] for kind in {s.kind for s in problem.stages}}
    pinned_first = [n for n in order if n in problem.pins] + [n for n in order if n not in problem.pins]
    cursor = 0
    for number in pinned_first:
        scene = scenes[number]
        days, per_day = scene_days(scene, settings.eighths_per_day)

        def fits(d: int, scene: SceneWork = scene, days: int = days, per_day: int = per_day) -> bool:
            span = range(d, d + days)
            if span[-1] >= horizon:
                return False
            if any(load[k] + per_day > settings.eighths_per_day for k in span):
                return False
            if settings.one_location_per_day and any(place[k] not in (None, scene.location) for k in span):
                return False
            if any(not problem.member(n).can_work(dates[k]) for n in scene.cast for k in span):
                return False
            # Some stage of its kind is free on all of its days (or it needs none).
            return scene.stage_kind is None or any(
                not any(s.blocked_on(dates[k], problem.production) for k in span) for s in stages[scene.stage_kind]
            )

        if number in problem.pins:
            candidates = [dates.index(problem.pins[number])] if problem.pins[number] in dates else []
        else:
            candidates = list(range(cursor, horizon)) + list(range(0, cursor))
        day = next((d for d in candidates if fits(d)), None)
        if day is None:
            return None
        for k in range(day, day + days):
            load[k] += per_day
            place[k] = scene.location
        start_of[number] = day
        if number not in problem.pins:
            cursor = day
    return start_of


def assign_stages(problem: ScheduleProblem, start_of: Mapping[str, int], horizon: int) -> dict[str, str]:
    """A stage per set for a hint: the cheapest stage of its kind free on all of its days."""
    dates = problem.calendar.shoot_days(horizon)
    chosen: dict[tuple[str, str], str] = {}
    stage_of: dict[str, str] = {}
    by_cost = sorted(problem.stages, key=lambda s: (s.day_rate, s.name))
    for scene in problem.scenes:
        if scene.stage_kind is None:
            continue
        key = (scene.set, str(scene.stage_kind))
        if key not in chosen:
            group = [s for s in problem.scenes if (s.set, str(s.stage_kind)) == key]
            days = [
                dates[d]
                for s in group
                for d in range(
                    start_of[s.number], start_of[s.number] + scene_days(s, problem.settings.eighths_per_day)[0]
                )
            ]
            options = [s for s in by_cost if s.kind == scene.stage_kind]
            free = [s for s in options if not any(s.blocked_on(day, problem.production) for day in days)]
            chosen[key] = (free or options)[0].name
        stage_of[scene.number] = chosen[key]
    return stage_of
