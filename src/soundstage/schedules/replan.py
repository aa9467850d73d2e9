"""Re-planning after a revised screenplay: keep what did not change, place what did.

Scenes are matched by scene number. A scene whose work is the same as before (cast, length,
stage kind, set, location, INT/EXT, DAY/NIGHT) stays on the day it had, as a pin; a new
scene, or one whose work changed, is placed by the production model around them. The result
says which scenes were kept, placed and dropped, and which days changed, so that nobody's
call sheet changes without them being told.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from soundstage.schedules.model import SceneWork, Schedule, ScheduleProblem
from soundstage.schedules.production import solve_schedule


@dataclass(frozen=True, slots=True)
class Replan:
    """The new schedule and what changed against the previous one."""

    schedule: Schedule
    kept: tuple[str, ...]  # scene numbers on the same day as before
    placed: tuple[str, ...]  # new scenes and scenes whose work changed
    dropped: tuple[str, ...]  # scenes of the previous schedule no longer in the script
    changed_days: tuple[date, ...]  # days whose scenes are not what they were


def _same_work(a: SceneWork, b: SceneWork) -> bool:
    # The heading's wording may be revised without changing the work (a typo, a time note).
    return replace(a, heading="") == replace(b, heading="")


def replan(problem: ScheduleProblem, previous: Schedule, previous_scenes: Sequence[SceneWork]) -> Replan:
    """Schedule ``problem`` (the revised scenes) keeping every unchanged scene of ``previous``
    (planned from ``previous_scenes``) on its day."""
    before = {scene.number: scene for scene in previous_scenes}
    previous_day = {}
    for day in previous.days:
        for number in day.scenes:
            previous_day.setdefault(number, day.date)
    pins = dict(problem.pins)
    kept, placed = [], []
    for scene in problem.scenes:
        old = before.get(scene.number)
        day = previous_day.get(scene.number)
        unchanged = old is not None and day is not None and _same_work(old, scene)
        # A day the user pinned wins; a day the calendar no longer shoots cannot be kept.
        if unchanged and scene.number not in pins and problem.calendar.is_shoot_day(day):
            pins[scene.number] = day
            kept.append(scene.number)
        else:
            placed.append(scene.number)
    current = {scene.number for scene in problem.scenes}
    dropped = tuple(number for number in before if number not in current)
    schedule = solve_schedule(replace(problem, pins=pins))
    old_days = {day.date: set(day.scenes) for day in previous.days}
    new_days = {day.date: set(day.scenes) for day in schedule.days}
    changed = sorted(d for d in old_days.keys() | new_days.keys() if old_days.get(d, set()) != new_days.get(d, set()))
    return Replan(schedule, tuple(kept), tuple(placed), dropped, tuple(changed))
