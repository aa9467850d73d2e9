"""The exact solver: brute force on small instances, the published optima, time limits."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundstage.schedules.cpsat import solve_talent_cpsat
from soundstage.schedules.heuristic import OrderCoster, good_order
from soundstage.schedules.instances import TalentInstance, read_instance
from soundstage.schedules.talent import solve_talent

from .conftest import SCHEDULES, instance_files, known_optima


@st.composite
def instances(draw: st.DrawFn, max_scenes: int = 8) -> TalentInstance:
    scenes = draw(st.integers(1, max_scenes))
    cast = draw(st.integers(1, 7))
    casts = tuple(frozenset(draw(st.sets(st.integers(0, cast - 1), max_size=cast))) for _ in range(scenes))
    durations = tuple(draw(st.integers(1, 4)) for _ in range(scenes))
    costs = tuple(draw(st.integers(0, 30)) for _ in range(cast))
    return TalentInstance("drawn", durations, casts, costs)


def brute_force(instance: TalentInstance) -> int:
    return min(instance.cost(order) for order in itertools.permutations(range(instance.scenes)))


@settings(max_examples=300, deadline=None)
@given(instances())
def test_the_optimum_matches_brute_force(instance: TalentInstance) -> None:
    result = solve_talent(instance, heuristic_seconds=0.0)
    assert result.optimal
    assert sorted(result.order) == list(range(instance.scenes))
    assert result.cost == instance.cost(result.order) == brute_force(instance)
    assert result.lower_bound == result.cost
    assert result.idle_cost == result.cost - instance.fixed_cost() >= 0


@settings(max_examples=100, deadline=None)
@given(instances(max_scenes=7))
def test_local_search_costs_what_the_instance_says(instance: TalentInstance) -> None:
    order, cost = good_order(instance, seconds=0.01)
    assert cost == instance.cost(order) >= brute_force(instance)
    assert OrderCoster(instance).cost_of(order) == cost


@pytest.mark.parametrize("path", instance_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shared_instance_is_solved_to_its_known_optimum(path) -> None:
    optimum, idle = known_optima()[path.stem]
    instance = read_instance(path)
    result = solve_talent(instance)
    assert result.optimal, path
    assert result.cost == optimum == instance.cost(result.order)
    assert result.idle_cost == idle
    assert result.gap == 0.0


def test_a_time_limit_returns_the_best_order_with_a_proven_gap() -> None:
    rng = random.Random(7)
    scenes, cast = 34, 14
    casts = tuple(frozenset(rng.sample(range(cast), rng.randint(1, 5))) for _ in range(scenes))
    instance = TalentInstance(
        "random-34",
        tuple(rng.randint(1, 4) for _ in range(scenes)),
        casts,
        tuple(rng.randint(1, 100) for _ in range(cast)),
    )
    result = solve_talent(instance, time_limit=1.0)
    assert result.seconds < 5
    assert not result.optimal
    assert instance.cost(result.order) == result.cost
    # The bound is proven: at least what everybody costs on the days they play, never above the cost.
    assert instance.fixed_cost() <= result.lower_bound < result.cost
    assert 0 < result.gap < 1


def test_the_plain_cpsat_model_agrees_on_small_instances() -> None:
    for name in ("tiny", "small", "concert"):
        instance = read_instance(SCHEDULES / "minizinc" / f"{name}.dzn")
        peer = solve_talent_cpsat(instance, time_limit=30)
        assert peer.optimal and peer.cost == known_optima()[name][0] == instance.cost(peer.order)


def test_scenes_without_cast_and_free_cast_are_handled() -> None:
    # Scene 1 has nobody; cast member 2 costs nothing; cast member 0 is in every scene with cast
    # (which preprocessing takes out: they leave scenes 0 and 3 with the same cast, merged).
    instance = TalentInstance(
        "edge", (2, 1, 3, 1), (frozenset({0, 1}), frozenset(), frozenset({0, 2}), frozenset({0, 1})), (5, 3, 0)
    )
    result = solve_talent(instance)
    assert result.optimal and result.cost == brute_force(instance) == instance.cost(result.order)
