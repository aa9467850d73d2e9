"""Stages and the shooting schedule of a production: the stages it can rent, the production
model built from its own screenplay and breakdown, solved and stored.

The optimiser and the reports are the pure ``soundstage.schedules`` package; this service
turns the production's rows into its typed problem and keeps what it solves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from soundstage.errors import ScheduleError, StripConflict
from soundstage.files import write_atomic
from soundstage.project import drafts, stage_bookings
from soundstage.project.production import Context
from soundstage.schedules import rent
from soundstage.schedules.evaluation import build_schedule, move_scene
from soundstage.schedules.model import (
    Calendar,
    DateRange,
    SceneWork,
    Schedule,
    ScheduleProblem,
    ScheduleSettings,
    Stage,
    StageBooking,
    StageKind,
    Zone,
    cast_from_scenes,
    money,
    scene_work_from_script,
)
from soundstage.script.eighths import format_eighths
from soundstage.store.tables import Draft, ScheduleRow, StageRow

if TYPE_CHECKING:
    from soundstage.schedules import dood, stripboard
    from soundstage.schedules.replan import Replan

DEFAULT_CAST_DAY_RATE = Decimal(1000)  # until the books give each cast member a rate


def _stage(row: StageRow, bookings: tuple[StageBooking, ...] = ()) -> Stage:
    available = None
    if row.available_from and row.available_to:
        available = DateRange(date.fromisoformat(row.available_from), date.fromisoformat(row.available_to))
    return Stage(
        row.name, StageKind(row.kind), row.size_sqft, Zone(row.zone), Decimal(row.day_rate), available, bookings
    )


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
    """The production's stages, by name, each with its holds and bookings."""
    with context.reading() as session:
        booked = stage_bookings.calendars(session)
        rows = session.scalars(select(StageRow).order_by(StageRow.name))
        return [_stage(row, booked.get(row.name, ())) for row in rows]


def problem(
    context: Context,
    *,
    start: date,
    days_per_week: int = 5,
    eighths_per_day: int = 24,
    time_limit: float = 30.0,
    scenes: Sequence[SceneWork] | None = None,
) -> ScheduleProblem:
    """The production model from the production's own screenplay: each scene's eighths, cast
    (the breakdown's speaking cast) and set or location (its heading), and the stages added.
    ``scenes`` replaces the screenplay's (a stale schedule is read with the scenes it was
    solved from)."""
    if scenes is None:
        # By production scene numbers: they stay with a scene across revisions, where a new
        # scene's number in the file (none, or its position) may be another scene's.
        numbers = drafts.scene_numbers(context)
        scenes = [replace(work, number=n) for work, n in zip(scene_work_from_script(drafts.script(context)), numbers)]
    cast = cast_from_scenes(scenes, DEFAULT_CAST_DAY_RATE)
    settings = ScheduleSettings(eighths_per_day=eighths_per_day, time_limit=time_limit)
    calendar = Calendar(start, days_per_week)
    return ScheduleProblem(
        tuple(scenes),
        tuple(cast),
        tuple(stages(context)),
        calendar,
        settings=settings,
        production=stage_bookings.THIS_PRODUCTION,  # its own holds and bookings block nothing of its own
    )


def _settings(schedule_problem: ScheduleProblem) -> dict[str, object]:
    return {
        "start": schedule_problem.calendar.start.isoformat(),
        "days_per_week": schedule_problem.calendar.days_per_week,
        "eighths_per_day": schedule_problem.settings.eighths_per_day,
    }


def _scene_json(scene: SceneWork) -> dict[str, object]:
    return {
        "number": scene.number,
        "stage_kind": scene.stage_kind.value if scene.stage_kind else None,
        "cast": list(scene.cast),
        "eighths": scene.eighths,
        "set": scene.set,
        "location": scene.location,
        "int_ext": scene.int_ext,
        "day_night": scene.day_night,
        "heading": scene.heading,
    }


def _scene_of(data: dict[str, Any]) -> SceneWork:
    kind = StageKind(data["stage_kind"]) if data["stage_kind"] else None
    return SceneWork(**{**data, "stage_kind": kind, "cast": tuple(data["cast"])})


def _draft_id(session: Session) -> int | None:
    return session.scalar(select(func.max(Draft.id)))


def _store(context: Context, schedule_problem: ScheduleProblem, schedule: Schedule) -> None:
    days = [{"index": d.index, "scenes": list(d.scenes), "stage_of": dict(d.stage_of)} for d in schedule.days]
    with context.transaction() as session:
        session.add(
            ScheduleRow(
                days=days,
                settings=_settings(schedule_problem),
                cost=str(schedule.cost.total),
                lower_bound=str(schedule.lower_bound),
                status=schedule.status,
                seconds=schedule.seconds,
                draft_id=_draft_id(session),
                scenes=[_scene_json(scene) for scene in schedule_problem.scenes],
            )
        )


@dataclass(frozen=True, slots=True)
class Planned:
    """A schedule solved and stored; ``replan`` says what a re-plan kept and changed when the
    schedule before it was solved from an earlier draft (None for a schedule made afresh)."""

    schedule: Schedule
    replan: Replan | None = None


def plan(context: Context, schedule_problem: ScheduleProblem, *, fresh: bool = False) -> Planned:
    """Solve the production model and store the schedule (the latest is the current one).

    When the current schedule is stale (the screenplay was re-imported since), the unchanged
    scenes keep their days and only new and changed scenes are placed (``schedules.replan``),
    so that nobody's call sheet changes unasked; ``fresh`` solves from nothing instead."""
    from soundstage.schedules.production import solve_schedule  # OR-Tools (~70 MB): solving only
    from soundstage.schedules.replan import replan

    previous = None if fresh or not stale(context) else current(context)
    if previous is None:
        schedule = solve_schedule(schedule_problem)
        _store(context, schedule_problem, schedule)
        return Planned(schedule)
    previous_problem, previous_schedule = previous
    replanned = replan(schedule_problem, previous_schedule, previous_problem.scenes)
    _store(context, schedule_problem, replanned.schedule)
    return Planned(replanned.schedule, replanned)


def solve(context: Context, schedule_problem: ScheduleProblem, *, fresh: bool = False) -> Schedule:
    """``plan``'s schedule."""
    return plan(context, schedule_problem, fresh=fresh).schedule


def stale(context: Context) -> bool:
    """Whether the current schedule was solved from an earlier draft than the current one (a
    schedule stored before drafts were recorded with it is taken as current)."""
    with context.reading() as session:
        row = session.execute(
            select(ScheduleRow.draft_id, ScheduleRow.scenes).order_by(ScheduleRow.id.desc()).limit(1)
        ).first()
        if row is None or row.draft_id is None or row.scenes is None:
            return False
        return row.draft_id != _draft_id(session)


def has_schedule(context: Context) -> bool:
    """Whether a schedule was solved yet."""
    with context.reading() as session:
        return session.scalar(select(ScheduleRow.id).limit(1)) is not None


def current(context: Context) -> tuple[ScheduleProblem, Schedule]:
    """The latest stored schedule and its problem, rebuilt from today's screenplay and stages
    with the settings it was solved with, its cost evaluated again; one line if none. A stale
    schedule (see ``stale``) is rebuilt from the scenes it was solved from."""
    with context.reading() as session:
        row = session.scalar(select(ScheduleRow).order_by(ScheduleRow.id.desc()).limit(1))
        if row is None:
            raise ScheduleError("no schedule yet: run `soundstage schedule solve`")
        days, settings = row.days, row.settings
        stored_scenes = row.scenes if row.draft_id is not None and row.draft_id != _draft_id(session) else None
        optimal, lower_bound, status, seconds = (
            row.status == "OPTIMAL",
            Decimal(row.lower_bound),
            row.status,
            row.seconds,
        )
    schedule_problem = problem(
        context,
        start=date.fromisoformat(settings["start"]),
        days_per_week=settings["days_per_week"],
        eighths_per_day=settings["eighths_per_day"],
        scenes=[_scene_of(data) for data in stored_scenes] if stored_scenes is not None else None,
    )
    start_of: dict[str, int] = {}
    stage_of: dict[str, str] = {}
    for day in days:
        for number in day["scenes"]:
            start_of.setdefault(number, day["index"])
        stage_of.update(day["stage_of"])
    missing = [s.number for s in schedule_problem.scenes if s.number not in start_of]
    if missing:
        raise ScheduleError(f"scene {missing[0]} is not in the stored schedule; run `soundstage schedule solve`")
    order = [n for day in days for n in day["scenes"]]
    schedule = build_schedule(
        schedule_problem,
        start_of,
        stage_of,
        order=order,
        optimal=optimal,
        lower_bound=lower_bound,
        status=status,
        seconds=seconds,
    )
    return schedule_problem, schedule


@dataclass(frozen=True, slots=True)
class Moved:
    """A strip moved by hand: the schedule as it would be, what it costs, and every rule the
    move breaks (one line each; none for a move that may be stored)."""

    problem: ScheduleProblem
    schedule: Schedule
    conflicts: tuple[str, ...]


def try_move(context: Context, scene: str, day: int) -> Moved:
    """What moving ``scene`` to shoot day ``day`` (1-based) would make, stored or not: what the
    stripboard shows while a strip is dragged."""
    if stale(context):
        raise ScheduleError(
            "the screenplay was re-imported since this schedule was solved: run `soundstage schedule solve` to re-plan"
        )
    schedule_problem, schedule = current(context)
    if day < 1:
        raise ScheduleError(f"scene {scene} cannot move to day {day}: shoot days count from 1")
    moved, evaluation = move_scene(schedule_problem, schedule, scene, day - 1)
    return Moved(schedule_problem, moved, evaluation.conflicts)


def move(context: Context, scene: str, day: int) -> Schedule:
    """Move ``scene`` to shoot day ``day`` (1-based) by hand. A move that breaks a rule is
    refused with the first conflict as its one line, and nothing is stored."""
    moved = try_move(context, scene, day)
    if moved.conflicts:
        raise StripConflict(f"scene {scene} cannot move to day {day}: {moved.conflicts[0]}")
    _store(context, moved.problem, moved.schedule)
    return moved.schedule


def export(context: Context, folder: Path) -> list[Path]:
    """Write the stripboard (HTML, PDF), the day out of days (CSV) and the bookings and shoot
    days (iCalendar) into ``folder``; returns the files written."""
    from soundstage.schedules import dood, ical, stripboard  # fpdf and icalendar: exporting only

    schedule_problem, schedule = current(context)
    title = drafts.title(context)
    board = stripboard.stripboard(schedule_problem, schedule, title=f"{title}: stripboard")
    files = {
        "stripboard.html": stripboard.render_html(board).encode(),
        "stripboard.pdf": stripboard.render_pdf(board),
        "day_out_of_days.csv": dood.render_csv(dood.day_out_of_days(schedule_problem, schedule)).encode(),
        "schedule.ics": ical.bookings_calendar(schedule, production=title),
    }
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        write_atomic(folder / name, data)
        written.append(folder / name)
    return written


@dataclass(frozen=True, slots=True)
class BoardDay:
    """One shoot day of the review room's stripboard: its strips in shooting order (none on a
    shoot day with nothing scheduled, so that a strip can be dragged there)."""

    index: int  # 0-based shoot day
    date: date
    strips: tuple[stripboard.Strip, ...]
    eighths: int
    location: str

    @property
    def pages(self) -> str:
        return format_eighths(self.eighths)


@dataclass(frozen=True, slots=True)
class BoardView:
    """The current schedule as the review room shows it: every shoot day from the first to one
    past the last, the cast by number, the cost and its proven bound, and the day out of days."""

    title: str
    days: tuple[BoardDay, ...]
    cast: tuple[tuple[int, str], ...]
    cost: Decimal
    lower_bound: Decimal
    status: str
    dood: dood.DayOutOfDays
    stale: bool = False  # solved from an earlier draft: shown as it was, moved after a re-plan


def board_view(context: Context) -> BoardView | None:
    """The stripboard and day out of days of the current schedule; None before the first solve."""
    from soundstage.schedules import dood, stripboard  # fpdf (~50 MB) with them: the stripboard page only

    if not has_schedule(context):
        return None
    schedule_problem, schedule = current(context)
    title = drafts.title(context)
    board = stripboard.stripboard(schedule_problem, schedule, title=f"{title}: stripboard")
    breaks = {row.day: row for row in board.rows if isinstance(row, stripboard.DayBreak)}
    last = schedule.days[-1].index if schedule.days else -1
    # One free day after the last: where a strip goes to be shot last, on a day of its own.
    dates = schedule_problem.calendar.shoot_days(last + 2)
    days = []
    for index, day_date in enumerate(dates):
        strips = tuple(s for s in board.strips if s.day == index)
        done = breaks.get(index)
        days.append(BoardDay(index, day_date, strips, done.eighths if done else 0, done.location if done else ""))
    return BoardView(
        title=title,
        days=tuple(days),
        cast=board.cast,
        cost=schedule.cost.total,
        lower_bound=schedule.lower_bound,
        status=schedule.status,
        dood=dood.day_out_of_days(schedule_problem, schedule, title=f"{title}: day out of days"),
        stale=stale(context),
    )


def rent_lines(context: Context) -> list[rent.RentLine]:
    """The current schedule's stage rent, one line per stage per shoot day rented (first to
    last use), used or standing: what the books take as stage spend."""
    schedule_problem, schedule = current(context)
    return rent.rent_lines(schedule_problem, schedule)
