"""Good scene orders fast: a greedy start and local search, for upper bounds and for hints.

The exact solver (``talent.py``) needs a good upper bound to prune with, and the production
model (``production.py``) needs a good order to seed CP-SAT with on features too large to
solve exactly. Both come from here: a greedy order that keeps the cast on location busy,
improved by moving single scenes and short runs of scenes to their best place until no move
helps, then perturbed and improved again while time is left (iterated local search).

Candidate moves are costed in batches with numpy: every position a scene (or run) could move
to is one row of a matrix of orders, and first and last days per cast member come out of one
vectorised min/max. That is what makes local search on a 190-scene feature take a second
rather than a minute in Python.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

import numpy as np

from soundstage.schedules.instances import TalentInstance


class OrderCoster:
    """Costs of many scene orders of one instance at once (the total-cost convention)."""

    def __init__(self, instance: TalentInstance) -> None:
        self.durations = np.array(instance.durations, dtype=np.int64)
        self.costs = np.array(instance.cast_costs, dtype=np.int64)
        # plays[a, s]: cast member a is in scene s.
        self.plays = np.zeros((instance.cast_size, instance.scenes), dtype=bool)
        for scene, cast in enumerate(instance.casts):
            for member in cast:
                self.plays[member, scene] = True
        self._present = self.plays.any(axis=1)

    def costs_of(self, orders: np.ndarray) -> np.ndarray:
        """The total cost of each row of ``orders`` (k x n scene indices)."""
        k, n = orders.shape
        ends = np.cumsum(self.durations[orders], axis=1)  # end day of the scene at each position
        starts = ends - self.durations[orders]
        # Per order, the start and end day of every scene (indexed by scene, not position).
        start_of = np.empty((k, n), dtype=np.int64)
        end_of = np.empty((k, n), dtype=np.int64)
        rows = np.arange(k)[:, None]
        start_of[rows, orders] = starts
        end_of[rows, orders] = ends
        big = np.int64(1) << 40
        first = np.where(self.plays[None, :, :], start_of[:, None, :], big).min(axis=2)
        last = np.where(self.plays[None, :, :], end_of[:, None, :], -big).max(axis=2)
        spans = np.where(self._present[None, :], last - first, 0)
        return spans @ self.costs

    def cost_of(self, order: Sequence[int]) -> int:
        return int(self.costs_of(np.array([order], dtype=np.int64))[0])


def greedy_order(instance: TalentInstance) -> list[int]:
    """An order built front to back: next, the scene that adds least to who is on location.

    Ties go to the scene whose cast overlaps most with those already there, then to the
    longest (so that the cast who wait, wait for work rather than for nothing)."""
    remaining = set(range(instance.scenes))
    needed_by = [sum(1 for cast in instance.casts if a in cast) for a in range(instance.cast_size)]
    left = list(needed_by)
    started: set[int] = set()
    order: list[int] = []
    costs = instance.cast_costs
    while remaining:
        best_key: tuple[int, int, int] | None = None
        scene = -1
        for candidate in sorted(remaining):
            cast = instance.casts[candidate]
            newcomers = sum(costs[a] * left[a] for a in cast - started)
            # Who is on location and still needed later, but not in this scene, waits through it.
            waiting = sum(costs[a] for a in started if left[a] > 0 and a not in cast)
            key = (
                newcomers + waiting * instance.durations[candidate],
                -len(cast & started),
                -instance.durations[candidate],
            )
            if best_key is None or key < best_key:
                best_key, scene = key, candidate
        order.append(scene)
        remaining.discard(scene)
        for a in instance.casts[scene]:
            left[a] -= 1
        started |= instance.casts[scene]
    return order


def improve_order(
    instance: TalentInstance,
    order: Sequence[int],
    *,
    seconds: float,
    seed: int = 0,
    coster: OrderCoster | None = None,
) -> tuple[list[int], int]:
    """Local search from ``order`` for about ``seconds``; returns the best order and its cost.

    Moves: take one scene, or a run of two or three consecutive scenes, out of the order and
    put it back where it costs least. When no move helps, a random run of the order is
    shuffled (a perturbation) and the search goes on from there; the best order seen wins.
    Deterministic for a given seed and time budget up to where the clock stops it."""
    coster = coster or OrderCoster(instance)
    deadline = time.perf_counter() + seconds
    rng = random.Random(seed)
    current = list(order)
    current_cost = coster.cost_of(current)
    best, best_cost = list(current), current_cost
    n = len(current)
    if n < 3:
        return best, best_cost
    while time.perf_counter() < deadline:
        improved = True
        while improved and time.perf_counter() < deadline:
            improved = False
            for length in (1, 2, 3):
                for start in rng.sample(range(n - length + 1), n - length + 1):
                    candidate, cost = _best_reinsertion(coster, current, start, length)
                    if cost < current_cost:
                        current, current_cost, improved = candidate, cost, True
                    if time.perf_counter() >= deadline:
                        break
        if current_cost < best_cost:
            best, best_cost = list(current), current_cost
        # Perturb the best order found so far: shuffle a short run of it.
        current = list(best)
        width = min(n, rng.randint(3, 6))
        at = rng.randint(0, n - width)
        run = current[at : at + width]
        rng.shuffle(run)
        current[at : at + width] = run
        current_cost = coster.cost_of(current)
    return best, best_cost


def _best_reinsertion(coster: OrderCoster, order: list[int], start: int, length: int) -> tuple[list[int], int]:
    """The best order obtained by moving ``order[start:start+length]`` to any other place."""
    run = order[start : start + length]
    rest = order[:start] + order[start + length :]
    places = len(rest) + 1
    candidates = np.empty((places, len(order)), dtype=np.int64)
    for place in range(places):
        candidates[place] = rest[:place] + run + rest[place:]
    costs = coster.costs_of(candidates)
    place = int(np.argmin(costs))
    return list(candidates[place]), int(costs[place])


def good_order(
    instance: TalentInstance, *, seconds: float, hint: Sequence[int] | None = None, seed: int = 0
) -> tuple[list[int], int]:
    """The best order local search finds in about ``seconds`` from the greedy order (and ``hint``)."""
    coster = OrderCoster(instance)
    starts = [greedy_order(instance)]
    if hint is not None:
        starts.append(list(hint))
    best: list[int] = []
    best_cost = -1
    for index, start in enumerate(starts):
        order, cost = improve_order(instance, start, seconds=seconds / len(starts), seed=seed + index, coster=coster)
        if best_cost < 0 or cost < best_cost:
            best, best_cost = order, cost
    return best, best_cost
