"""Re-planning after a revision keeps unchanged scenes on their days."""

from __future__ import annotations

from dataclasses import replace

from soundstage.schedules.production import solve_schedule
from soundstage.schedules.replan import replan

from .helpers import member, problem, scene


def test_a_revision_keeps_unchanged_scenes_and_places_new_ones() -> None:
    cast = [member("ANNA", 100, 1), member("BEN", 80, 2), member("CARL", 60, 3)]
    scenes = [
        scene("1", ("ANNA",), 8),
        scene("2", ("ANNA", "BEN"), 8),
        scene("3", ("BEN",), 8),
        scene("4", ("CARL",), 8),
        scene("5", ("ANNA",), 8),
    ]
    before = problem(scenes, cast, crew=10)
    first = solve_schedule(before)
    # The revision: scene 3 grows, scene 5 is cut, a new scene 6 (ANNA and CARL) comes in.
    revised_scenes = [scenes[0], scenes[1], replace(scenes[2], eighths=16), scenes[3], scene("6", ("ANNA", "CARL"), 8)]
    revised = replace(before, scenes=tuple(revised_scenes), settings=replace(before.settings, eighths_per_day=16))
    result = replan(revised, first, before.scenes)
    assert set(result.kept) == {"1", "2", "4"}
    assert set(result.placed) == {"3", "6"}
    assert result.dropped == ("5",)
    for number in result.kept:
        assert result.schedule.day_of(number).date == first.day_of(number).date
    old = {d.date: set(d.scenes) for d in first.days}
    new = {d.date: set(d.scenes) for d in result.schedule.days}
    assert set(result.changed_days) == {d for d in old.keys() | new.keys() if old.get(d, set()) != new.get(d, set())}
    # Scene 5's day lost it, and the days of 3 and 6 changed; untouched days are not listed.
    assert first.day_of("5").date in result.changed_days
    assert result.schedule.day_of("6").date in result.changed_days
    assert all(new.get(d) == old.get(d) for d in old.keys() - set(result.changed_days))
