"""The CP-SAT production model: each constraint on a schedule checked by hand, bad input,
and the explanation of infeasible schedules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from soundstage.errors import ScheduleError
from soundstage.schedules.evaluation import evaluate, move_scene, start_days
from soundstage.schedules.model import DateRange, StageBooking, StageKind
from soundstage.schedules.production import solve_schedule

from .helpers import day, member, problem, scene, sound_stage

ANNA, BEN = "ANNA", "BEN"


def dates_of(schedule, *numbers: str) -> set:
    return {schedule.day_of(n).date for n in numbers}


def test_a_cast_window_moves_the_scenes_around_it() -> None:
    # BEN can only work on Tuesday: his scene goes there, and ANNA's two scenes sit together
    # after it: Monday and Wednesday would pay her for three days instead of two (313), and a
    # crew day rate of 1 keeps the shoot from spreading out (Wednesday and Thursday: 214).
    scenes = [scene("1", (ANNA,)), scene("2", (ANNA,)), scene("3", (BEN,))]
    cast = [member(ANNA, 100, 1), member(BEN, 10, 2, available=DateRange(day(1), day(1)))]
    schedule = solve_schedule(problem(scenes, cast, crew=1))
    assert schedule.optimal
    assert schedule.day_of("3").date == day(1)
    assert dates_of(schedule, "1", "2") == {day(2), day(3)}
    assert schedule.cost.cast == {ANNA: Decimal("200.00"), BEN: Decimal("10.00")}
    assert schedule.cost.crew == Decimal("4.00")
    assert schedule.cost.total == schedule.lower_bound == Decimal("214.00")


def test_a_blackout_day_costs_a_hold_day() -> None:
    # Without the blackout: 1, 2, 3 on Monday to Wednesday, each of them paid two days (400)
    # plus three crew days (3000). With ANNA out on Tuesday, BEN's scene takes Tuesday and
    # ANNA is paid through it: 300 + 200 + 3000.
    scenes = [scene("1", (ANNA,)), scene("2", (ANNA, BEN)), scene("3", (BEN,))]
    free = solve_schedule(problem(scenes, [member(ANNA, 100, 1), member(BEN, 100, 2)], crew=1000))
    assert free.cost.total == Decimal("3400.00") and free.optimal
    cast = [member(ANNA, 100, 1, blackout=frozenset({day(1)})), member(BEN, 100, 2)]
    schedule = solve_schedule(problem(scenes, cast, crew=1000))
    assert schedule.optimal
    assert schedule.day_of("3").date == day(1)
    assert dates_of(schedule, "1", "2") == {day(0), day(2)}
    assert schedule.cost.total == Decimal("3500.00")
    assert sum(schedule.cost.cast.values()) == Decimal("500.00")


def test_a_stage_booked_by_another_show_is_not_rented_across() -> None:
    # Stage B is cheaper but booked by another show on Tuesday: the two kitchen days go on B
    # Wednesday and Thursday (600) rather than A Monday and Tuesday (1000)...
    kitchen = dict(stage_kind=StageKind.SOUND_STAGE, set="KITCHEN", location="STUDIO", int_ext="INT")
    scenes = [scene("1", **kitchen), scene("2", **kitchen)]
    busy = StageBooking("B", DateRange(day(1), day(1)), "Other Show")
    stages = [sound_stage("A", 500), sound_stage("B", 300, bookings=(busy,))]
    schedule = solve_schedule(problem(scenes, (), stages))
    assert schedule.optimal
    assert schedule.stage_of == {"1": "B", "2": "B"}
    # With no crew day rate nothing prefers Wednesday and Thursday to Thursday and Friday (the
    # solver's workers may find either): two days in a row on B after its booked Tuesday.
    first, last = sorted(dates_of(schedule, "1", "2"))
    assert first > day(1)
    assert schedule.cost.stages == {"B": Decimal("600.00")}
    assert [(b.stage, b.dates) for b in schedule.bookings] == [("B", DateRange(first, last))]
    # ...unless crew days make starting on Monday worth it: A Monday and Tuesday, 1000 + 2000.
    schedule = solve_schedule(problem(scenes, (), stages, crew=1000))
    assert schedule.stage_of == {"1": "A", "2": "A"}
    assert dates_of(schedule, "1", "2") == {day(0), day(1)}
    assert schedule.cost.total == Decimal("3000.00")


def test_a_set_is_built_on_one_stage() -> None:
    # Two kitchen scenes on the same day would fit on two stages, but a set is built once.
    kitchen = dict(stage_kind=StageKind.SOUND_STAGE, set="KITCHEN", location="STUDIO", int_ext="INT")
    scenes = [scene("1", eighths=4, **kitchen), scene("2", eighths=4, **kitchen)]
    schedule = solve_schedule(problem(scenes, (), [sound_stage("A", 300), sound_stage("B", 300)]))
    assert len(set(schedule.stage_of.values())) == 1
    assert schedule.cost.total == Decimal("300.00")


def test_a_pinned_scene_stays_on_its_day() -> None:
    # Scene 2 is pinned to Wednesday: ANNA's three scenes run Monday to Wednesday (crew from
    # Monday either way), not Wednesday to Friday.
    scenes = [scene("1", (ANNA,)), scene("2", (ANNA,)), scene("3", (ANNA,))]
    schedule = solve_schedule(problem(scenes, [member(ANNA, 100, 1)], pins={"2": day(2)}, crew=100))
    assert schedule.day_of("2").date == day(2)
    assert dates_of(schedule, "1", "3") == {day(0), day(1)}
    assert schedule.cost.total == Decimal("600.00") and schedule.optimal


def test_day_capacity_packs_days_and_long_scenes_take_whole_days() -> None:
    scenes = [scene("1", (ANNA,), 8), scene("2", (ANNA,), 8), scene("3", (ANNA,), 4), scene("4", (ANNA,), 12)]
    plan = problem(scenes, [member(ANNA, 100, 1)], per_day=16, crew=100)
    schedule = solve_schedule(plan)
    assert len(schedule.days) == 2
    for shoot_day in schedule.days:
        assert sum(plan.scene(n).eighths for n in shoot_day.scenes) == 16
    assert schedule.cost.total == Decimal("400.00")
    # A five-page scene on two-page days takes three whole days of its own.
    scenes = [scene("1", (ANNA,), 8), scene("5", (ANNA,), 40)]
    schedule = solve_schedule(problem(scenes, [member(ANNA, 100, 1)], per_day=16, crew=100))
    long_days = [d.date for d in schedule.days if "5" in d.scenes]
    assert len(long_days) == 3 and all(d.scenes == ("5",) for d in schedule.days if "5" in d.scenes)
    assert len(schedule.days) == 4 and schedule.cost.total == Decimal("800.00")


def test_company_moves_cost_and_one_location_a_day() -> None:
    # Two pier scenes and two studio scenes, half a day each: one location a day, and the two
    # locations on consecutive days cost one move.
    studio = dict(stage_kind=StageKind.SOUND_STAGE, set="ATTIC", location="STUDIO", int_ext="INT")
    scenes = [
        scene("1", eighths=4),
        scene("2", eighths=4, **studio),
        scene("3", eighths=4),
        scene("4", eighths=4, **studio),
    ]
    schedule = solve_schedule(problem(scenes, (), [sound_stage("A", 100)], move=250))
    assert {d.location for d in schedule.days} == {"PIER", "STUDIO"} and len(schedule.days) == 2
    assert schedule.cost.moves == Decimal("250.00")
    assert schedule.cost.total == Decimal("350.00")


def test_bad_input_is_one_line() -> None:
    volume = scene("1", stage_kind=StageKind.LED_VOLUME, set="SPACE", location="STUDIO")
    with pytest.raises(ScheduleError, match=r"^scene 1 needs a led-volume; no stage is of that kind \(sound-stage\)$"):
        solve_schedule(problem([volume], (), [sound_stage("A", 100)]))
    with pytest.raises(ScheduleError, match=r"scene 1 is pinned to 2027-01-09, which is not a shoot day \(a Saturday"):
        solve_schedule(problem([scene("1")], pins={"1": day(4).replace(day=9)}))
    with pytest.raises(ScheduleError, match="not a shoot day .a blackout date"):
        solve_schedule(problem([scene("1")], pins={"1": day(1)}, blackout=frozenset({day(1)})))
    # Two cast members whose windows never meet: say who and when.
    cast = [
        member(ANNA, 100, 1, available=DateRange(day(0), day(1))),
        member(BEN, 100, 2, available=DateRange(day(5), day(6))),
    ]
    with pytest.raises(ScheduleError) as caught:
        solve_schedule(problem([scene("7", (ANNA, BEN))], cast))
    assert str(caught.value) == (
        "scene 7 has no shoot day its cast and a stage can all make: "
        "ANNA is available 2027-01-04..2027-01-05; BEN is available 2027-01-11..2027-01-12"
    )
    with pytest.raises(ScheduleError, match="scene 3: CARL is not in the cast list"):
        problem([scene("3", ("CARL",))], cast)


def test_a_pin_outside_a_cast_window_says_why() -> None:
    cast = [member(ANNA, 100, 1, available=DateRange(day(0), day(1)))]
    with pytest.raises(ScheduleError) as caught:
        solve_schedule(problem([scene("1", (ANNA,))], cast, pins={"1": day(2)}))
    assert str(caught.value) == (
        "scene 1 cannot be shot on its pinned day 2027-01-06: ANNA is available only 2027-01-04..2027-01-05"
    )


def test_infeasible_schedules_name_the_smallest_conflicting_set() -> None:
    # ANNA has three full days of work and a two-day window. BEN's blackout and a pin on
    # another scene are in the problem too but play no part in the conflict.
    scenes = [scene("1", (ANNA,), 16), scene("2", (ANNA,), 16), scene("3", (ANNA,), 16), scene("4", (BEN,), 8)]
    cast = [
        member(ANNA, 100, 1, available=DateRange(day(0), day(1))),
        member(BEN, 100, 2, blackout=frozenset({day(3)})),
    ]
    with pytest.raises(ScheduleError) as caught:
        solve_schedule(problem(scenes, cast, pins={"4": day(2)}, per_day=16))
    message = str(caught.value)
    assert message.startswith("no schedule satisfies these together: ")
    parts = set(message.removeprefix("no schedule satisfies these together: ").split("; "))
    assert parts == {"ANNA is available only 2027-01-04..2027-01-05", "a day holds at most 2 pages of script"}


def test_two_pins_on_a_full_day_conflict_with_capacity() -> None:
    scenes = [scene("1", (ANNA,), 12), scene("2", (BEN,), 12), scene("3", (ANNA,), 4)]
    cast = [member(ANNA, 100, 1), member(BEN, 100, 2)]
    with pytest.raises(ScheduleError) as caught:
        solve_schedule(problem(scenes, cast, pins={"1": day(0), "2": day(0)}, per_day=16))
    parts = set(str(caught.value).split(": ", 1)[1].split("; "))
    assert parts == {
        "scene 1 is pinned to 2027-01-04",
        "scene 2 is pinned to 2027-01-04",
        "a day holds at most 2 pages of script",
    }


def test_dragging_a_strip_updates_cost_and_conflicts() -> None:
    scenes = [scene("1", (ANNA,)), scene("2", (ANNA,)), scene("3", (BEN,))]
    cast = [member(ANNA, 100, 1), member(BEN, 10, 2, blackout=frozenset({day(4)}))]
    plan = problem(scenes, cast, crew=1)
    schedule = solve_schedule(plan)
    assert schedule.cost.total == Decimal("213.00")  # ANNA's two days, BEN's one, three crew days
    # Scene 3 onto ANNA's day: over capacity. Then onto Friday, when BEN is out.
    anna_day = schedule.day_of("1").index
    moved, evaluation = move_scene(plan, schedule, "3", anna_day)
    assert evaluation.conflicts == (f"{day(anna_day)}: 2 pages of script on a day that holds 1 page",)
    assert moved.day_of("3").index == anna_day
    moved, evaluation = move_scene(plan, schedule, "3", 4)
    assert evaluation.conflicts == ("scene 3 on 2027-01-08: BEN cannot work that day",)
    # Splitting ANNA's scenes pays her for the days between.
    first = start_days(schedule)["1"]
    moved, evaluation = move_scene(plan, schedule, "2", first + 3)
    assert evaluation.conflicts == ()
    assert moved.cost.cast[ANNA] == Decimal("400.00")
    assert evaluate(plan, start_days(moved), moved.stage_of).cost == moved.cost
