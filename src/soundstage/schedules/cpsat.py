"""A plain CP-SAT model of talent scheduling: the peer the exact solver is measured against.

The model is the textbook one (as in the MiniZinc models and the figure in
``../shared/schedules/README.md``): a boolean per scene and position, exactly one scene per
position and one position per scene; per cast member the first and last position they play;
a cast member is paid through a scene when the scene sits between (or at) their first and last
positions, and costs their daily rate for its days. No
preprocessing, no dominance, no hint: CP-SAT's own presolve and search do the work.

The production model, which CP-SAT solves for real schedules, is ``production.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from soundstage.schedules.instances import TalentInstance


@dataclass(frozen=True, slots=True)
class CpSatResult:
    """What CP-SAT returned within its time limit."""

    order: tuple[int, ...]  # empty when no solution was found
    cost: int | None
    lower_bound: int
    optimal: bool
    seconds: float
    status: str  # OPTIMAL, FEASIBLE, UNKNOWN


def solve_talent_cpsat(instance: TalentInstance, *, time_limit: float = 60.0, workers: int = 2) -> CpSatResult:
    """Solve ``instance`` with the plain position model; stops at ``time_limit`` seconds."""
    clock = time.perf_counter()
    n, m = instance.scenes, instance.cast_size
    model = cp_model.CpModel()
    at = [[model.NewBoolVar(f"scene{s}_at{p}") for p in range(n)] for s in range(n)]
    for s in range(n):
        model.AddExactlyOne(at[s])
    for p in range(n):
        model.AddExactlyOne(at[s][p] for s in range(n))
    cost_terms = []
    for a in range(m):
        scenes = [s for s in range(n) if a in instance.casts[s]]
        if not scenes or instance.cast_costs[a] == 0:
            continue
        # plays[p]: a plays at position p; started[p] / ends_after[p]: a has played at or before
        # p / plays at or after p; a is paid at p when both hold (on location from first to last).
        plays = [model.NewBoolVar(f"plays{a}_{p}") for p in range(n)]
        for p in range(n):
            model.Add(plays[p] == sum(at[s][p] for s in scenes))
        started = [model.NewBoolVar(f"started{a}_{p}") for p in range(n)]
        ends_after = [model.NewBoolVar(f"ends_after{a}_{p}") for p in range(n)]
        for p in range(n):
            model.AddBoolOr([plays[p], started[p - 1]] if p else [plays[p]]).OnlyEnforceIf(started[p])
            model.AddImplication(plays[p], started[p])
            if p:
                model.AddImplication(started[p - 1], started[p])
            model.AddBoolOr([plays[p], ends_after[p + 1]] if p + 1 < n else [plays[p]]).OnlyEnforceIf(ends_after[p])
            model.AddImplication(plays[p], ends_after[p])
            if p + 1 < n:
                model.AddImplication(ends_after[p + 1], ends_after[p])
        for s in range(n):
            if s in scenes:
                cost_terms.append(instance.cast_costs[a] * instance.durations[s])
                continue
            # paid during scene s: s sits at a position where a has started and plays again later.
            paid = model.NewBoolVar(f"paid{a}_{s}")
            for p in range(n):
                model.AddBoolOr([at[s][p].Not(), started[p].Not(), ends_after[p].Not(), paid])
            cost_terms.append(instance.cast_costs[a] * instance.durations[s] * paid)
    model.Minimize(sum(cost_terms))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    status = solver.Solve(model)
    seconds = time.perf_counter() - clock
    name = solver.StatusName(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return CpSatResult((), None, int(solver.BestObjectiveBound()), False, seconds, name)
    order = tuple(next(s for s in range(n) if solver.Value(at[s][p])) for p in range(n))
    cost = instance.cost(order)
    return CpSatResult(order, cost, int(round(solver.BestObjectiveBound())), status == cp_model.OPTIMAL, seconds, name)
