"""Stages and the shooting schedule of a production: the stages it can rent, the production
model built from its own screenplay and breakdown, solved and stored.

The optimiser and the reports are the pure ``soundstage.schedules`` package; this service
turns the production's rows into its typed problem and keeps what it solves.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from soundstage.errors import ScheduleError
from soundstage.project import drafts
from soundstage.project.production import Context
from soundstage.schedules.model import (
    Calendar,
    CostBreakdown,
    DateRange,
    Schedule,
    ScheduleProblem,
    ScheduleSettings,
    ShootDay,
    Stage,
    StageKind,
    Zone,
    cast_from_scenes,
    money,
    scene_work_from_script,
)
from soundstage.schedules.production import solve_schedule
from soundstage.store.tables import ScheduleRow, StageRow

DEFAULT_CAST_DAY_RATE = Decimal(1000)  # until the books give each cast member a rate


def _stage(row: StageRow) -> Stage:
    available = None
    if row.available_from and row.available_to:
        available = DateRange(date.fromisoformat(row.available_from), date.fromisoformat(row.available_to))
    return Stage(row.name, StageKind(row.kind), row.size_sqft, Zone(row.zone), Decimal(row.day_rate), available)


def add_stage(
    context: Context,
    name: str,
    *,
    kind: str,
    size_sqft: int,
    zone: str,
    day_rate: str,
    available: DateRange | None = None,
) -> Stage:
    """Add a stage the production can rent; a name used twice or a bad value is one line."""
    if kind not in {k.value for k in StageKind}:
        kinds = " | ".join(k.value for k in StageKind)
        raise ScheduleError(f"stage {name}: unknown kind {kind!r}; one of {kinds}")
    if zone not in {z.value for z in Zone}:
        raise ScheduleError(f"stage {name}: zone must be in or out, not {zone!r}")
    stage_kind, stage_zone = StageKind(kind), Zone(zone)
    stage = Stage(name, stage_kind, size_sqft, stage_zone, money(day_rate, f"stage {name}: day rate"), available)
    with context.transaction() as session:
        if session.scalar(select(StageRow).where(StageRow.name == name)) is not None:
            raise ScheduleError(f"stage {name} exists already")
        session.add(
            StageRow(
                name=stage.name,
                kind=stage.kind.value,
                size_sqft=stage.size_sqft,
                zone=stage.zone.value,
                day_rate=str(stage.day_rate),
                available_from=available.first.isoformat() if available else None,
                available_to=available.last.isoformat() if available else None,
            )
        )
    return stage


def stages(context: Context) -> list[Stage]:
    """The production's stages, by name."""
    with context.reading() as session:
        return [_stage(row) for row in session.scalars(select(StageRow).order_by(StageRow.name))]


def problem(
    context: Context,
    *,
    start: date,
    days_per_week: int = 5,
    eighths_per_day: int = 24,
    time_limit: float = 30.0,
) -> ScheduleProblem:
    """The production model from the production's own screenplay: each scene's eighths, cast
    (the breakdown's speaking cast) and set or location (its heading), and the stages added."""
    script = drafts.script(context)
    scenes = scene_work_from_script(script)
    cast = cast_from_scenes(scenes, DEFAULT_CAST_DAY_RATE)
    settings = ScheduleSettings(eighths_per_day=eighths_per_day, time_limit=time_limit)
    calendar = Calendar(start, days_per_week)
    return ScheduleProblem(tuple(scenes), tuple(cast), tuple(stages(context)), calendar, settings=settings)


def solve(context: Context, schedule_problem: ScheduleProblem) -> Schedule:
    """Solve the production model and store the schedule (the latest is the current one)."""
    schedule = solve_schedule(schedule_problem)
    days = [
        {"date": d.date.isoformat(), "scenes": list(d.scenes), "stage_of": dict(d.stage_of), "location": d.location}
        for d in schedule.days
    ]
    with context.transaction() as session:
        session.add(
            ScheduleRow(
                days=days,
                cost=str(schedule.cost.total),
                lower_bound=str(schedule.lower_bound),
                status=schedule.status,
                seconds=schedule.seconds,
            )
        )
    return schedule


def current(context: Context) -> Schedule:
    """The latest stored schedule (its cost as one total); one line if none was solved."""
    with context.reading() as session:
        row = session.scalar(select(ScheduleRow).order_by(ScheduleRow.id.desc()).limit(1))
        if row is None:
            raise ScheduleError("no schedule yet: run `soundstage schedule solve`")
        days = tuple(
            ShootDay(i, date.fromisoformat(d["date"]), tuple(d["scenes"]), dict(d["stage_of"]), d["location"])
            for i, d in enumerate(row.days)
        )
        total = Decimal(row.cost)
        cost = CostBreakdown(cast={}, stages={}, moves=Decimal(0), crew=total)  # the total only
        return Schedule(days, (), cost, row.status == "OPTIMAL", Decimal(row.lower_bound), row.status, row.seconds)
