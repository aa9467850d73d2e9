"""Small hand-checkable production problems for the schedule tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from soundstage.schedules.model import (
    Calendar,
    CastMember,
    SceneWork,
    ScheduleProblem,
    ScheduleSettings,
    Stage,
    StageKind,
    Zone,
)

MONDAY = date(2027, 1, 4)  # the calendar starts on a Monday


def day(n: int) -> date:
    """The n-th weekday from MONDAY (0: Monday 4 January 2027; 5: Monday 11 January)."""
    return Calendar(MONDAY).shoot_days(n + 1)[n]


def scene(number: str, cast: tuple[str, ...] = (), eighths: int = 8, **fields) -> SceneWork:
    defaults = dict(stage_kind=None, set="PIER", location="PIER", int_ext="EXT", day_night="DAY")
    defaults.update(fields)
    return SceneWork(number=number, cast=cast, eighths=eighths, **defaults)


def member(name: str, rate: int, number: int, **fields) -> CastMember:
    return CastMember(name=name, day_rate=Decimal(rate), number=number, **fields)


def sound_stage(name: str, rate: int, **fields) -> Stage:
    return Stage(name=name, kind=StageKind.SOUND_STAGE, size_sqft=12000, zone=Zone.IN, day_rate=Decimal(rate), **fields)


def problem(scenes, cast=(), stages=(), *, pins=None, per_day: int = 8, crew: int = 0, move: int = 0, **calendar):
    return ScheduleProblem(
        scenes=tuple(scenes),
        cast=tuple(cast),
        stages=tuple(stages),
        calendar=Calendar(MONDAY, **calendar),
        pins=pins or {},
        settings=ScheduleSettings(
            eighths_per_day=per_day, crew_day_rate=Decimal(crew), company_move_cost=Decimal(move), time_limit=20
        ),
        production="Lantern Keepers",
    )
