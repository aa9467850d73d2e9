"""The exact talent-scheduling solver: the scene order that pays the cast least for waiting.

The method follows Garcia de la Banda, Stuckey and Chu (INFORMS J. on Computing 23(1), 2011):
the cost of shooting scene ``s`` next depends only on the set ``Q`` of scenes not yet shot,

    cost(s, Q) = duration(s) x daily cost of (cast(s) + on_location(Q))
    on_location(Q) = cast of the scenes shot so far  &  cast of the scenes in Q

so the best cost of finishing from ``Q`` is a function of ``Q`` alone and memoises over
subsets (bitsets here). What is done on top, each step proven where it is taken:

1. Preprocessing (``_reduce``): cast members who cost nothing, or are in one scene only, or in every scene, cost the
   same in every order and leave the problem as fixed cost; scenes left without cast go
   first (nobody is on location yet, so they cost nothing there); scenes with identical cast
   are merged, because some optimal order shoots them back to back (moving the one with the
   costlier neighbourhood next to the other never costs more). Repeated until nothing changes.
2. Dominance, at every state: a scene whose cast is exactly who is on location is shot next
   (it adds nobody and nobody waits); a scene ``s`` is not shot next while some other
   remaining ``t`` has ``cast(s) <= cast(t) <= cast(s) + started`` (``t`` first is never worse:
   the rule of the paper's DP, as in the DIDP talent-scheduling model).
3. A lower bound on what the cast already on location will still cost (the paper's bound):
   each waiting cast member stays until their last remaining scene; share every scene among
   the waiting cast in it in proportion to their daily cost, order them by Smith's rule
   (weighted shortest processing time) and correct for the shares of one scene running at
   once. Everyone else is counted at the days they play.
4. Best-first search (A*) over the memoised states with that bound, instead of the paper's
   depth-first bounded DP: A* expands no state the bounded DP with the optimum as its bound
   would not, and its open list gives a proven lower bound at any moment, so a time limit
   returns the best order with a proven gap. Children that cannot beat the upper bound from
   local search (``heuristic.py``) are never stored.

5. When a time limit stops the search, a second proven bound (``cast_group_bound``): split the
   cast into small groups, solve each group's problem exactly, add the optima up. It is not
   in the paper; on random 40- and 60-scene instances it narrows the reported gap by a few
   points (docs/benchmarks.md).

The paper's last step, building the order from both ends, was measured here and left out: with
these bounds it expanded up to 10 times more states than building from the front (the states
become (remaining, open at the front, open at the back) and the extra bound from the back did
not pay for them); see docs/schedules.md.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from soundstage.schedules.heuristic import good_order
from soundstage.schedules.instances import TalentInstance

# A float bound is rounded up to whole cost only past this tolerance, so that rounding error in
# the proportional shares can never push it above the true value.
_TOLERANCE = 1e-6
# Stop storing states past this many (a few hundred MB in Python): report the gap instead.
MAX_STATES = 4_000_000


@dataclass(frozen=True, slots=True)
class TalentResult:
    """The best order found, its total cost, and how far from optimal it can at most be."""

    order: tuple[int, ...]  # scene indices in shooting order
    cost: int  # total cost (the README's convention)
    lower_bound: int  # proven: no order costs less
    optimal: bool
    seconds: float
    states: int  # states expanded by the search
    fixed_cost: int  # what the cast costs on the days they play (every order pays it)

    @property
    def gap(self) -> float:
        """(cost - lower bound) / cost; 0.0 when proven optimal."""
        return 0.0 if self.cost == 0 else (self.cost - self.lower_bound) / self.cost

    @property
    def idle_cost(self) -> int:
        """The cost of waiting days in this order (CSPLib's measure)."""
        return self.cost - self.fixed_cost


@dataclass(slots=True)
class _Reduced:
    """The instance after preprocessing, with the way back to the original scenes."""

    front: list[int]  # original scenes shot first, in this order (no cast left on them)
    groups: list[list[int]]  # per reduced scene, the original scenes merged into it
    casts: list[int]  # per reduced scene, bitmask of reduced cast members
    durations: list[int]
    costs: list[int]  # per reduced cast member
    fixed: int  # cost of the cast members taken out (the same in every order)


def _reduce(instance: TalentInstance) -> _Reduced:
    groups = [[s] for s in range(instance.scenes)]
    casts = [set(c) for c in instance.casts]
    durations = list(instance.durations)
    # Cast members who cost nothing change no order's cost.
    members = {a for a in range(instance.cast_size) if instance.cast_costs[a] > 0}
    for cast in casts:
        cast &= members
    front: list[int] = []
    fixed = 0
    changed = True
    while changed:
        changed = False
        # Scenes without cast go first: nobody has started, so nobody is paid through them.
        for index in [i for i, cast in enumerate(casts) if not cast]:
            front.extend(groups[index])
        keep = [i for i, cast in enumerate(casts) if cast]
        if len(keep) < len(casts):
            groups = [groups[i] for i in keep]
            casts = [casts[i] for i in keep]
            durations = [durations[i] for i in keep]
            changed = True
        total = sum(durations)
        for member in sorted(members):
            scenes = [i for i, cast in enumerate(casts) if member in cast]
            if len(scenes) == 1 or len(scenes) == len(casts):
                # One scene: paid for exactly its days. Every scene: paid for all of them.
                fixed += instance.cast_costs[member] * (durations[scenes[0]] if len(scenes) == 1 else total)
            elif scenes:
                continue
            members.discard(member)
            for i in scenes:
                casts[i].discard(member)
            changed = True
        merged: dict[frozenset[int], int] = {}
        new_groups: list[list[int]] = []
        new_casts: list[set[int]] = []
        new_durations: list[int] = []
        for group, cast, duration in zip(groups, casts, durations):
            key = frozenset(cast)
            if key in merged and key:
                at = merged[key]
                new_groups[at].extend(group)
                new_durations[at] += duration
                changed = True
                continue
            merged[key] = len(new_groups)
            new_groups.append(list(group))
            new_casts.append(set(cast))
            new_durations.append(duration)
        groups, casts, durations = new_groups, new_casts, new_durations
    kept = sorted(members)
    bit = {member: 1 << i for i, member in enumerate(kept)}
    return _Reduced(
        front=front,
        groups=groups,
        casts=[sum(bit[a] for a in cast) for cast in casts],
        durations=durations,
        costs=[instance.cast_costs[a] for a in kept],
        fixed=fixed,
    )


class _Masks:
    """Daily cost, squared costs and members of a cast bitmask, memoised (masks repeat a lot)."""

    def __init__(self, costs: list[int]) -> None:
        self.costs = costs
        self.known: dict[int, tuple[int, int, tuple[int, ...]]] = {}

    def info(self, mask: int) -> tuple[int, int, tuple[int, ...]]:
        found = self.known.get(mask)
        if found is None:
            members = tuple(i for i in range(mask.bit_length()) if mask >> i & 1)
            cost = sum(self.costs[i] for i in members)
            squares = sum(self.costs[i] ** 2 for i in members)
            found = self.known[mask] = (cost, squares, members)
        return found

    def cost(self, mask: int) -> int:
        return self.info(mask)[0]


def solve_talent(
    instance: TalentInstance,
    *,
    time_limit: float | None = None,
    hint: Sequence[int] | None = None,
    heuristic_seconds: float | None = None,
    max_states: int = MAX_STATES,
    group_bound: bool = True,
) -> TalentResult:
    """The optimal order of ``instance`` (or, past ``time_limit`` seconds, the best order found
    with a proven lower bound). ``hint`` is an order to start local search from as well.

    When the search stops short, the last tenth of the time limit goes to ``cast_group_bound``
    (unless ``group_bound`` is False), and the better of the two proven bounds is reported."""
    started_at = time.perf_counter()
    reduced = _reduce(instance)
    n = len(reduced.casts)
    if n == 0:
        order = tuple(reduced.front)
        cost = instance.cost(order)
        return TalentResult(order, cost, cost, True, time.perf_counter() - started_at, 0, instance.fixed_cost())
    # An upper bound and its order from local search on the original instance.
    if heuristic_seconds is None:
        # A* expands the same states whatever the upper bound (it only saves storing children
        # that cannot win), so a solve to optimality needs little local search; a solve that a
        # time limit may stop returns local search's order, so it gets up to a tenth of it.
        unlimited = 0.01 + 0.00002 * n * n
        heuristic_seconds = unlimited if time_limit is None else min(0.05 + 0.0005 * n * n, 0.1 * time_limit)
    upper_order, upper = good_order(instance, seconds=heuristic_seconds, hint=hint)
    search_limit = None if time_limit is None else (0.9 if group_bound else 1.0) * time_limit
    outcome = _search(reduced, upper, started_at, search_limit, max_states)
    if outcome.order is not None:
        order = tuple(reduced.front + [s for g in outcome.order for s in reduced.groups[g]])
        cost = instance.cost(order)
        assert cost == outcome.cost + reduced.fixed, "the search's cost disagrees with the instance's"
        lower = cost
    else:  # nothing found beats local search's order: optimal when the search ran out
        order, cost = tuple(upper_order), upper
        lower = min(cost, outcome.lower + reduced.fixed)
        if lower < cost and group_bound:
            left = 0.1 * time_limit if time_limit is not None else 1.0
            lower = max(lower, min(cost, cast_group_bound(instance, seconds=left)))
    elapsed = time.perf_counter() - started_at
    return TalentResult(order, cost, lower, lower == cost, elapsed, outcome.states, instance.fixed_cost())


def cast_group_bound(instance: TalentInstance, *, seconds: float = 1.0, seed: int = 0) -> int:
    """A proven lower bound on the cost of every order, from cast groups solved apart.

    What a cast member costs depends only on where their own scenes fall, so for any split of
    the cast into groups, the optimum of each group on its own (the same scenes, only that
    group's cast) is at most what the group costs in the best order of everybody, and the sum
    over the groups is a lower bound. Small groups solve exactly in milliseconds (their scenes
    merge into at most 2**size distinct casts); the bound is best when members who share many
    scenes are grouped together, so groups are grown greedily by shared cost, at sizes 3 to 6,
    while the time lasts. Each group's own proven bound is used if it is not solved in time."""
    deadline = time.perf_counter() + seconds
    members = [a for a in range(instance.cast_size) if instance.cast_costs[a] > 0]
    shared = {(a, b): 0 for a in members for b in members}
    for cast in instance.casts:
        for a in cast:
            for b in cast:
                if (a, b) in shared:
                    shared[a, b] += 1
    best = instance.fixed_cost()
    cache: dict[tuple[int, ...], int] = {}
    for size in (3, 4, 5, 6):
        if size >= len(members) and size > 3:
            break
        groups: list[tuple[int, ...]] = []
        ungrouped = sorted(members, key=lambda a: -instance.cast_costs[a] * shared[a, a])
        while ungrouped:
            group = [ungrouped.pop(0)]
            while ungrouped and len(group) < size:
                # The member with the most shared cost with the group so far joins it.
                def affinity(b: int, group: list[int] = group) -> int:
                    return sum(shared[a, b] * min(instance.cast_costs[a], instance.cast_costs[b]) for a in group)

                pick = max(ungrouped, key=affinity)
                ungrouped.remove(pick)
                group.append(pick)
            groups.append(tuple(sorted(group)))
        total = 0
        for group in groups:
            if group not in cache:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return best
                index = {a: i for i, a in enumerate(group)}
                sub = TalentInstance(
                    "group",
                    instance.durations,
                    tuple(frozenset(index[a] for a in cast if a in index) for cast in instance.casts),
                    tuple(instance.cast_costs[a] for a in group),
                )
                result = solve_talent(sub, time_limit=left, heuristic_seconds=min(0.02, left / 10), group_bound=False)
                cache[group] = result.lower_bound
            total += cache[group]
        best = max(best, total)
    return best


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What the search found: an order better than the upper bound (with its cost), or none,
    with the proven lower bound (the upper bound itself when the search was exhausted)."""

    order: list[int] | None
    cost: int
    lower: int
    states: int


def _search(reduced: _Reduced, upper: int, started_at: float, time_limit: float | None, max_states: int) -> _Outcome:
    """A* over remaining-scene sets of the reduced problem, looking for an order cheaper than
    ``upper`` (a cost of the original instance)."""
    casts, durations = reduced.casts, reduced.durations
    n = len(casts)
    masks = _Masks(reduced.costs)
    full = (1 << n) - 1
    members = len(reduced.costs)
    scenes_of = [sum(1 << s for s in range(n) if casts[s] >> a & 1) for a in range(members)]
    # The reduced problem's cost counts the days cast play (fixed) plus the days they wait.
    work = sum(durations[s] * masks.cost(casts[s]) for s in range(n))
    bound_above = upper - reduced.fixed - work  # idle cost to beat
    # Scenes whose cast contains scene s's (strictly): candidates for the dominance rule.
    supersets = [[t for t in range(n) if t != s and casts[s] & ~casts[t] == 0] for s in range(n)]
    bound_cache: dict[int, int] = {}
    # Per scene bit, its cast and duration (the bound's inner loop reads them by lowest bit).
    by_bit = {1 << s: (casts[s], durations[s]) for s in range(n)}
    known = masks.known  # the memo itself: a dict lookup is much cheaper than a method call
    info = masks.info
    costs = reduced.costs
    members_in = [info(casts[s])[2] for s in range(n)]

    def idle_bound(remaining: int, waiting: int) -> int:
        """Lower bound on the idle cost still to come of the cast ``waiting`` on location."""
        if not waiting:
            return 0
        found = bound_cache.get(remaining)
        if found is not None:
            return found
        # Durations of the remaining scenes, grouped by which waiting cast they need.
        shares: dict[int, int] = {}
        q = remaining
        while q:
            low = q & -q
            cast, days = by_bit[low]
            need = cast & waiting
            if need:
                shares[need] = shares.get(need, 0) + days
            q ^= low
        ratio = [0.0] * members
        correction = 0.0
        for need, days in shares.items():
            cost, squares, who = known.get(need) or info(need)
            share = days / cost
            for a in who:
                ratio[a] += share
            # The work itself, and what the proportional split undercounts.
            correction += days * (cost + squares / cost) / 2
        # Smith's rule: the waiting cast released in order of processing time per unit cost.
        elapsed = 0.0
        value = 0.0
        for a in sorted((known.get(waiting) or info(waiting))[2], key=ratio.__getitem__):
            cost_a = costs[a]
            elapsed += ratio[a] * cost_a
            value += cost_a * elapsed
        bound = math.ceil(value - correction - _TOLERANCE * (value if value > 1.0 else 1.0))
        bound = bound if bound > 0 else 0
        bound_cache[remaining] = bound
        return bound

    best_g: dict[int, int] = {full: 0}
    parent: dict[int, tuple[int, int]] = {}
    # Entries: (f, -g, remaining, cast of remaining, cast started). Deeper first among equal f.
    all_cast = (1 << members) - 1
    heap: list[tuple[int, int, int, int, int]] = [(0, 0, full, all_cast, 0)]
    expanded = 0
    while heap:
        f, minus_g, remaining, cast_left, started = heapq.heappop(heap)
        g = -minus_g
        if g > best_g.get(remaining, g):
            continue  # a stale entry: this state was reached more cheaply since
        if remaining == 0:
            order = []
            state = 0
            while state in parent:
                state, scene = parent[state]
                order.append(scene)
            order.reverse()
            return _Outcome(order, g + work, g + work, expanded)
        expanded += 1
        if expanded & 255 == 0 and (
            (time_limit is not None and time.perf_counter() - started_at > time_limit) or len(best_g) > max_states
        ):
            return _Outcome(None, 0, f + work, expanded)
        waiting = cast_left & started
        choices = []
        q = remaining
        forced = -1
        while q:
            low = q & -q
            s = low.bit_length() - 1
            q ^= low
            if casts[s] == waiting:
                forced = s
                break
            choices.append(s)
        if forced >= 0:
            choices = [forced]
        else:
            choices = [
                s
                for s in choices
                if not any(remaining >> t & 1 and casts[t] & ~(casts[s] | started) == 0 for t in supersets[s])
            ]
        for s in choices:
            after = remaining & ~(1 << s)
            # Cast of s with no scene left after it leave the location.
            gone = 0
            for a in members_in[s]:
                if not scenes_of[a] & after:
                    gone |= 1 << a
            paid = waiting & ~casts[s]
            g2 = g + durations[s] * (known.get(paid) or info(paid))[0]
            if g2 >= best_g.get(after, bound_above):
                continue
            cast_after = cast_left & ~gone
            started_after = started | casts[s]
            f2 = g2 + idle_bound(after, cast_after & started_after)
            if f2 >= bound_above:
                continue
            best_g[after] = g2
            parent[after] = (remaining, s)
            heapq.heappush(heap, (f2, -g2, after, cast_after, started_after))
    return _Outcome(None, 0, upper - reduced.fixed, expanded)
