"""The production schedule: scenes into shoot days with CP-SAT, seeded by the talent solver.

What the model holds (``ScheduleProblem`` in ``model.py``):

* Shoot days from the calendar (days per week, blackout dates); each scene is shot on one day,
  or on consecutive whole days when it is longer than a day holds.
* Day capacity in page eighths.
* Cast paid from their first shoot day to their last, at their day rate; each cast member
  works only inside their availability window and never on their blackout days.
* Stages rented from their first day in use to their last, at their day rate, like a cast
  member; a scene goes on a stage of the kind it needs; a set is built once, so every scene
  of one set is on the same stage; a stage is never used, nor rented across, a day it is
  unavailable (outside its window, or firmly booked by another production).
* The company at one location a day (an option), and a cost each time consecutive shoot days
  change location (a company move).
* Crew paid per shoot day from the calendar's first day (the shoot starts then) to the last.
* Days people pinned (scene number -> date).

The objective is what all of that costs, in cents. CP-SAT starts from a hint (``hint.py``: the
talent solver's order with stages, sets and locations as "cast members", packed into days).
Implied day counts (a cast member's scenes need so many days by their eighths, and a day per
location) are added as constraints so that CP-SAT's proven bound starts above the trivial one.
The schedule's cost is evaluated exactly from the placement (``evaluation.py``) and reported
with CP-SAT's proven bound and the gap.

Bad input is one ``ScheduleError`` line: a scene that needs a stage kind no stage has, a
pinned day that is not a shoot day, a scene with no day its cast and a stage can all make
(naming who is available when). When the constraints together admit no schedule, the model
is solved again with one assumption literal per constraint group (a cast member's window, a
blackout day, a stage's calendar, a pin, day capacity, one location a day); CP-SAT's
sufficient assumptions for infeasibility are shrunk one by one to a minimal conflicting set,
and the error names it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ortools.sat.python import cp_model

from soundstage.errors import ScheduleError
from soundstage.schedules.evaluation import build_schedule, pages, scene_days
from soundstage.schedules.hint import assign_stages, pack_days, talent_order
from soundstage.schedules.model import (
    Calendar,
    CostBreakdown,
    SceneWork,
    Schedule,
    ScheduleProblem,
    cents,
)

CENTS = Decimal("0.01")


# ----------------------------------------------------------------------------- checks


def _check(problem: ScheduleProblem) -> None:
    """The mistakes that need no solver to find: one ScheduleError line each."""
    kinds = {stage.kind for stage in problem.stages}
    for scene in problem.scenes:
        if scene.stage_kind is not None and scene.stage_kind not in kinds:
            have = ", ".join(sorted(str(k) for k in kinds)) or "no stages at all"
            raise ScheduleError(f"scene {scene.number} needs a {scene.stage_kind}; no stage is of that kind ({have})")
    calendar = problem.calendar
    for number, pinned in problem.pins.items():
        if not calendar.is_shoot_day(pinned):
            raise ScheduleError(
                f"scene {number} is pinned to {pinned}, which is not a shoot day ({why_not_a_shoot_day(calendar, pinned)})"
            )


def why_not_a_shoot_day(calendar: Calendar, day: date) -> str:
    """Why ``day`` is not a shoot day of ``calendar``, in a few words."""
    if day < calendar.start:
        return f"the calendar starts {calendar.start}"
    if day in calendar.blackout:
        return "a blackout date"
    return f"a {day:%A}; the calendar shoots {calendar.days_per_week} days a week"


# ----------------------------------------------------------------------------- the model


@dataclass(slots=True)
class _Group:
    """One user-level constraint that can be switched off to explain infeasibility."""

    description: str
    literal: cp_model.IntVar | None = None


@dataclass(slots=True)
class _Model:
    model: cp_model.CpModel
    starts: dict[str, dict[int, cp_model.IntVar]]  # scene -> start day -> boolean
    stage_choice: dict[tuple[str, str], dict[str, cp_model.IntVar]]  # (set, kind) -> stage -> boolean
    groups: list[_Group] = field(default_factory=list)


class _Builder:
    """Builds the CP-SAT model of a problem over ``horizon`` shoot days. With ``explain``,
    every user-level constraint is guarded by its group's literal instead of being built into
    the variables' domains (slower, but each can be switched off)."""

    def __init__(self, problem: ScheduleProblem, horizon: int, explain: bool) -> None:
        self.problem = problem
        self.horizon = horizon
        self.explain = explain
        self.dates = problem.calendar.shoot_days(horizon)
        self.cap = problem.settings.eighths_per_day
        self.model = cp_model.CpModel()
        self.groups: list[_Group] = []
        self._group_of: dict[tuple[str, ...], _Group] = {}

    def group(self, key: tuple[str, ...], description: str) -> cp_model.IntVar | None:
        """The literal of a constraint group (None when not explaining: the constraint is hard)."""
        if not self.explain:
            return None
        found = self._group_of.get(key)
        if found is None:
            found = _Group(description, self.model.NewBoolVar("group:" + "/".join(key)))
            self._group_of[key] = found
            self.groups.append(found)
        return found.literal

    def forbid(self, literal: cp_model.IntVar, key: tuple[str, ...], description: str) -> None:
        """Forbid ``literal`` while group ``key`` is on (explaining only)."""
        guard = self.group(key, description)
        if guard is not None:
            self.model.AddImplication(guard, literal.Not())

    def build(self) -> _Model:
        problem, model, dates, horizon = self.problem, self.model, self.dates, self.horizon
        starts: dict[str, dict[int, cp_model.IntVar]] = {}
        start_expr: dict[str, cp_model.LinearExpr] = {}
        span_of: dict[str, int] = {}
        per_day_load: dict[str, int] = {}
        stages_of_kind = {
            kind: [s for s in problem.stages if s.kind == kind] for kind in {s.kind for s in problem.stages}
        }
        for scene in problem.scenes:
            days, per_day = scene_days(scene, self.cap)
            span_of[scene.number], per_day_load[scene.number] = days, per_day
            choices: dict[int, cp_model.IntVar] = {}
            for d in range(horizon - days + 1):
                reasons = self._blocked(scene, d, days, stages_of_kind)
                if reasons and not self.explain:
                    continue  # out of the domain: nothing to switch off
                var = model.NewBoolVar(f"s{scene.number}_d{d}")
                for key, description in reasons:
                    # A stage's days are guarded per stage below; here only the cast's.
                    if key[0] != "stage":
                        self.forbid(var, key, description)
                choices[d] = var
            if not choices:
                raise ScheduleError(self._no_day_message(scene, stages_of_kind))
            model.AddExactlyOne(choices.values())
            starts[scene.number] = choices
            start_expr[scene.number] = cp_model.LinearExpr.WeightedSum(list(choices.values()), list(choices))
            pinned = problem.pins.get(scene.number)
            if pinned is not None:
                day = dates.index(pinned) if pinned in dates else -1
                guard = self.group(("pin", scene.number), f"scene {scene.number} is pinned to {pinned}")
                if day in choices:
                    if guard is None:
                        model.Add(choices[day] == 1)
                    else:
                        model.AddImplication(guard, choices[day])
                elif guard is None:
                    raise ScheduleError(
                        f"scene {scene.number} cannot be shot on its pinned day {pinned}: {self._why(scene, day, stages_of_kind)}"
                    )
                else:
                    model.AddBoolOr([guard.Not()])
        # Day capacity.
        occupies: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in range(horizon)]
        for scene in problem.scenes:
            days = span_of[scene.number]
            for d, var in starts[scene.number].items():
                for k in range(days):
                    occupies[d + k].append((per_day_load[scene.number], var))
        capacity_guard = self.group(("capacity",), f"a day holds at most {pages(self.cap)} of script")
        for d in range(horizon):
            if sum(load for load, _ in occupies[d]) > self.cap:
                constraint = model.Add(sum(load * var for load, var in occupies[d]) <= self.cap)
                if capacity_guard is not None:
                    constraint.OnlyEnforceIf(capacity_guard)
        cost_terms: list[cp_model.LinearExprT] = []
        # Cast: paid from first to last shoot day.
        for member in problem.cast:
            scenes = [s for s in problem.scenes if member.name in s.cast]
            if not scenes:
                continue
            first = model.NewIntVar(0, horizon - 1, f"first:{member.name}")
            last = model.NewIntVar(0, horizon - 1, f"last:{member.name}")
            for scene in scenes:
                model.Add(first <= start_expr[scene.number])
                model.Add(last >= start_expr[scene.number] + span_of[scene.number] - 1)
            if not self.explain:
                # Implied (each day holds so much, one location a day): it gives CP-SAT's bound a start.
                model.Add(last - first + 1 >= days_needed(scenes, self.cap, problem.settings.one_location_per_day))
            cost_terms.append(cents(member.day_rate) * (last - first + 1))
        # Stages: one per (set, kind), rented from first to last use, never across a blocked day.
        stage_choice: dict[tuple[str, str], dict[str, cp_model.IntVar]] = {}
        for scene in problem.scenes:
            if scene.stage_kind is None:
                continue
            key = (scene.set, str(scene.stage_kind))
            if key not in stage_choice:
                options = {
                    s.name: model.NewBoolVar(f"set:{scene.set}@{s.name}") for s in stages_of_kind[scene.stage_kind]
                }
                model.AddExactlyOne(options.values())
                stage_choice[key] = options
        rented: dict[object, list[cp_model.IntVar]] = {kind: [] for kind in stages_of_kind}
        for stage in problem.stages:
            users = [s for s in problem.scenes if s.stage_kind == stage.kind]
            if not users:
                continue
            used = model.NewBoolVar(f"used:{stage.name}")
            first = model.NewIntVar(0, horizon - 1, f"first:{stage.name}")
            last = model.NewIntVar(0, horizon - 1, f"last:{stage.name}")
            span = model.NewIntVar(0, horizon, f"rented:{stage.name}")
            model.Add(span >= last - first + 1).OnlyEnforceIf(used)
            guard = self.group(("stage", stage.name), self._stage_description(stage))
            blocked = [d for d in range(horizon) if stage.blocked_on(dates[d], problem.production)]
            for scene in users:
                on_stage = stage_choice[(scene.set, str(scene.stage_kind))][stage.name]
                model.AddImplication(on_stage, used)
                model.Add(first <= start_expr[scene.number]).OnlyEnforceIf(on_stage)
                model.Add(last >= start_expr[scene.number] + span_of[scene.number] - 1).OnlyEnforceIf(on_stage)
                for d, var in starts[scene.number].items():
                    if any(d <= b < d + span_of[scene.number] for b in blocked):
                        clause = [on_stage.Not(), var.Not()]
                        if guard is not None:
                            clause.append(guard.Not())
                        model.AddBoolOr(clause)
            for low, high in _runs(blocked):
                # Rented across no blocked run: the rental ends before it or starts after it.
                before = model.NewBoolVar(f"{stage.name}_before_{low}")
                enforce = [used] + ([guard] if guard is not None else [])
                model.Add(last <= low - 1).OnlyEnforceIf([*enforce, before])
                model.Add(first >= high + 1).OnlyEnforceIf([*enforce, before.Not()])
            cost_terms.append(cents(stage.day_rate) * span)
            rented[stage.kind].append(span)
        if not self.explain:
            # Every day a scene of a kind is shot, some stage of that kind is rented.
            for kind, spans in rented.items():
                users = [s for s in problem.scenes if s.stage_kind == kind]
                if spans and users:
                    model.Add(sum(spans) >= days_needed(users, self.cap, False))
        # Locations: one a day (an option) and the cost of company moves.
        settings = problem.settings
        places = sorted({s.location for s in problem.scenes})
        if settings.one_location_per_day or settings.company_move_cost:
            at: dict[str, list[cp_model.IntVar]] = {
                p: [model.NewBoolVar(f"at:{p}:{d}") for d in range(horizon)] for p in places
            }
            here: dict[tuple[str, int], list[cp_model.IntVar]] = {}
            for scene in problem.scenes:
                for d, var in starts[scene.number].items():
                    for k in range(span_of[scene.number]):
                        model.AddImplication(var, at[scene.location][d + k])
                        here.setdefault((scene.location, d + k), []).append(var)
            # The company is at a place on a day only when it shoots there (so an empty day
            # cannot hold a location to save a move).
            for p in places:
                for d in range(horizon):
                    model.Add(at[p][d] <= sum(here.get((p, d), [])))
            if settings.one_location_per_day:
                guard = self.group(("location",), "the company works at one location a day")
                for d in range(horizon):
                    constraint = model.AddAtMostOne(at[p][d] for p in places)
                    if guard is not None:
                        constraint.OnlyEnforceIf(guard)
            if settings.company_move_cost:
                arrivals = []
                for p in places:
                    for d in range(horizon):
                        arrive = model.NewBoolVar(f"arrive:{p}:{d}")
                        if d:
                            model.AddBoolOr([at[p][d].Not(), at[p][d - 1], arrive])
                        else:
                            model.AddImplication(at[p][d], arrive)
                        arrivals.append(arrive)
                moves = model.NewIntVar(0, len(arrivals), "moves")
                model.Add(moves >= sum(arrivals) - 1)
                if not self.explain:
                    model.Add(moves >= len(places) - 1)
                cost_terms.append(cents(settings.company_move_cost) * moves)
        if settings.crew_day_rate:
            # The shoot starts on the calendar's first day: crew are paid from then to the last.
            last_day = model.NewIntVar(0, horizon - 1, "last_day")
            for scene in problem.scenes:
                model.Add(last_day >= start_expr[scene.number] + span_of[scene.number] - 1)
            if not self.explain:
                model.Add(last_day + 1 >= days_needed(problem.scenes, self.cap, settings.one_location_per_day))
            cost_terms.append(cents(settings.crew_day_rate) * (last_day + 1))
        model.Minimize(sum(cost_terms))
        return _Model(model, starts, stage_choice, self.groups)

    def _blocked(
        self, scene: SceneWork, d: int, days: int, stages_of_kind: Mapping[object, list]
    ) -> list[tuple[tuple[str, ...], str]]:
        """Why ``scene`` cannot start on day ``d``: the groups that forbid it (none: it can)."""
        reasons: list[tuple[tuple[str, ...], str]] = []
        span = self.dates[d : d + days]
        for name in scene.cast:
            member = self.problem.member(name)
            if member.available is not None and any(day not in member.available for day in span):
                reasons.append((("window", name), f"{name} is available only {member.available}"))
            for day in span:
                if day in member.blackout:
                    reasons.append((("blackout", name, day.isoformat()), f"{name} cannot work on {day}"))
        if scene.stage_kind is not None:
            stages = stages_of_kind[scene.stage_kind]
            if all(any(s.blocked_on(day, self.problem.production) for day in span) for s in stages):
                for s in stages:
                    reasons.append((("stage", s.name), self._stage_description(s)))
        return reasons

    def _why(self, scene: SceneWork, d: int, stages_of_kind: Mapping[object, list]) -> str:
        if d < 0:
            return "that day is past the schedule's horizon"
        reasons = self._blocked(scene, d, scene_days(scene, self.cap)[0], stages_of_kind)
        return "; ".join(dict.fromkeys(description for _, description in reasons)) or "it does not fit"

    def _no_day_message(self, scene: SceneWork, stages_of_kind: Mapping[object, list]) -> str:
        who = []
        for name in scene.cast:
            member = self.problem.member(name)
            if member.available is not None:
                who.append(f"{name} is available {member.available}")
            elif member.blackout:
                who.append(f"{name} is out on {len(member.blackout)} days")
        if scene.stage_kind is not None:
            for stage in stages_of_kind[scene.stage_kind]:
                if stage.available is not None or stage.bookings:
                    who.append(self._stage_description(stage))
        return f"scene {scene.number} has no shoot day its cast and a stage can all make: " + (
            "; ".join(who) or "none in the calendar"
        )

    def _stage_description(self, stage) -> str:
        parts = []
        if stage.available is not None:
            parts.append(f"available only {stage.available}")
        booked = [b for b in stage.bookings if b.firm and b.holder != self.problem.production]
        parts.extend(f"booked by {b.holder} {b.dates}" for b in booked)
        return f"{stage.name} is " + (", ".join(parts) if parts else "its calendar")


def days_needed(scenes: Sequence[SceneWork], eighths_per_day: int, one_location_per_day: bool) -> int:
    """Shoot days ``scenes`` need at least: whole days of the long ones and the rest by eighths,
    and a day per location when the company works at one location a day."""
    whole = sum(scene_days(s, eighths_per_day)[0] for s in scenes if s.eighths > eighths_per_day)
    short = sum(s.eighths for s in scenes if s.eighths <= eighths_per_day)
    needed = whole + math.ceil(short / eighths_per_day)
    if one_location_per_day:
        needed = max(needed, len({s.location for s in scenes}))
    return needed


def _runs(days: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive runs of day indices: [3, 4, 5, 9] -> [(3, 5), (9, 9)]."""
    runs: list[tuple[int, int]] = []
    for d in days:
        if runs and runs[-1][1] == d - 1:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


# ----------------------------------------------------------------------------- solve


def solve_schedule(problem: ScheduleProblem, *, hint: Sequence[str] | None = None) -> Schedule:
    """The cheapest schedule CP-SAT finds within the settings' time limit, with its proven
    bound; ``hint`` is a scene order to seed it with (default: the talent solver's order)."""
    clock = time.perf_counter()
    _check(problem)
    settings = problem.settings
    if not problem.scenes:
        return Schedule((), (), CostBreakdown({}, {}, Decimal(0), Decimal(0)), True, Decimal(0), "EMPTY", 0.0)
    order = list(hint) if hint is not None else talent_order(problem, seconds=min(2.0, 0.1 * settings.time_limit))
    full = _full_horizon(problem)
    packed = pack_days(problem, order, full)
    if packed is not None:
        used = max(packed[s.number] + scene_days(s, settings.eighths_per_day)[0] for s in problem.scenes)
        # Room to spread out from the hint, but not the whole worst case: the model grows with it.
        horizon = min(full, max(used + 5, math.ceil(used * 1.25)))
    else:
        horizon = full
    built = _Builder(problem, horizon, explain=False).build()
    if packed is not None:
        stage_hint = assign_stages(problem, packed, horizon)
        for number, choices in built.starts.items():
            for d, var in choices.items():
                built.model.AddHint(var, d == packed[number])
        for (set_name, kind), options in built.stage_choice.items():
            scene = next(s for s in problem.scenes if s.set == set_name and str(s.stage_kind) == kind)
            for name, var in options.items():
                built.model.AddHint(var, stage_hint.get(scene.number) == name)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, settings.time_limit - (time.perf_counter() - clock))
    solver.parameters.num_workers = settings.workers
    status = solver.Solve(built.model)
    if status == cp_model.INFEASIBLE and horizon < full:
        # The hint's days may not be feasible (it ignores sets and rental spans): try them all.
        horizon = full
        built = _Builder(problem, horizon, explain=False).build()
        status = solver.Solve(built.model)
    if status == cp_model.INFEASIBLE:
        raise ScheduleError(_explain(problem, horizon, settings.time_limit))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise ScheduleError(
            f"no schedule found in {settings.time_limit:g} s (none found and none proven impossible); allow more time"
        )
    start_of = {
        number: next(d for d, v in choices.items() if solver.Value(v)) for number, choices in built.starts.items()
    }
    stage_of = {}
    for scene in problem.scenes:
        if scene.stage_kind is not None:
            options = built.stage_choice[(scene.set, str(scene.stage_kind))]
            stage_of[scene.number] = next(name for name, v in options.items() if solver.Value(v))
    schedule = build_schedule(
        problem,
        start_of,
        stage_of,
        order=order,
        optimal=status == cp_model.OPTIMAL,
        lower_bound=Decimal(math.ceil(solver.BestObjectiveBound() - 1e-6)) * CENTS,
        status=solver.StatusName(status),
        seconds=time.perf_counter() - clock,
    )
    # The model's first and last days are only bounded by the scenes, so a solution short of
    # optimal may pay for more days than its placement needs: the evaluated cost is exact.
    objective = Decimal(round(solver.ObjectiveValue())) * CENTS
    assert schedule.cost.total <= objective, f"evaluated {schedule.cost.total} above CP-SAT's objective {objective}"
    return schedule


def _full_horizon(problem: ScheduleProblem) -> int:
    """Shoot days enough for any feasible schedule: every scene on days of its own, after the
    latest day anybody or anything becomes available or is pinned."""
    cap = problem.settings.eighths_per_day
    need = sum(scene_days(s, cap)[0] for s in problem.scenes)
    latest = [m.available.first for m in problem.cast if m.available is not None]
    latest += [s.available.first for s in problem.stages if s.available is not None]
    latest += [b.dates.last for s in problem.stages for b in s.bookings]
    latest += list(problem.pins.values())
    delay = 0
    if latest:
        delay = len(problem.calendar.shoot_days_until(max(latest)))
    return need + delay + 1


# ----------------------------------------------------------------------------- explanation


def _explain(problem: ScheduleProblem, horizon: int, time_limit: float) -> str:
    """The smallest set of constraint groups that together admit no schedule, as one line."""
    built = _Builder(problem, horizon, explain=True).build()
    groups = built.groups
    literals = {g.literal.Index(): g for g in groups if g.literal is not None}
    budget = max(1.0, time_limit / 4)

    def infeasible(active: list[_Group]) -> tuple[bool, list[_Group]]:
        model = built.model.Clone()
        model.ClearAssumptions()
        model.AddAssumptions([g.literal for g in active])
        model.ClearObjective()
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = budget
        solver.parameters.num_workers = 1  # sufficient assumptions come from a single worker
        status = solver.Solve(model)
        if status != cp_model.INFEASIBLE:
            return False, []
        core = [literals[i] for i in solver.SufficientAssumptionsForInfeasibility() if i in literals]
        return True, core or active

    found, core = infeasible(groups)
    if not found:
        return f"no schedule satisfies all constraints within {horizon} shoot days, and no smaller conflict was found"
    # Shrink to a minimal set: a group stays only if the others without it admit a schedule.
    at = 0
    while at < len(core):
        rest = core[:at] + core[at + 1 :]
        still, smaller = infeasible(rest) if rest else (False, [])
        if still:
            core = [g for g in rest if g in smaller]
        else:
            at += 1
    return "no schedule satisfies these together: " + "; ".join(g.description for g in core)
