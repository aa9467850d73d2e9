"""Stages and the shooting schedule of a production: the stages it can rent, the production
model built from its own screenplay and breakdown, solved and stored.

The optimiser and the reports are the pure ``soundstage.schedules`` package; this service
turns the production's rows into its typed problem and keeps what it solves.

Long because it is the one service of the schedule (the problem from the screenplay and the
books, solving, re-planning, pins, moves, reports, rent): each part is short, and the heavy
libraries (OR-Tools, fpdf) are imported where they are used.
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

from soundstage.books.model import CrewMember, RateUnit
from soundstage.errors import ScheduleError, StripConflict
from soundstage.files import write_atomic
from soundstage.project import books, drafts, schedule_pins, stage_bookings
from soundstage.project.people import CONSOLE, Person
from soundstage.project.production import Context, console
from soundstage.project.trail import append_event
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
    from soundstage.schedules import dood, occupancy, stripboard
    from soundstage.schedules.replan import Replan

DEFAULT_CAST_DAY_RATE = Decimal(1000)  # for a cast member with no rate on the books


@dataclass(frozen=True, slots=True)
class CastRates:
    """What each cast member costs a shoot day: from the books where the cast member is a crew
    member with a rate in effect on the first shoot day, else ``DEFAULT_CAST_DAY_RATE``.
    ``source`` says where each rate came from; ``unrated`` is who took the default."""

    rates: dict[str, Decimal]
    source: dict[str, str]
    unrated: tuple[str, ...]


def _performer(context: Context, name: str) -> str:
    """Who plays the character ``name``: the bible's voice, likeness or motion performer (the
    first named), else the name itself (a live-action cast list names people)."""
    entry = context.settings.bible.characters.get(name.upper())
    if entry is not None:
        for performer in (entry.voice, entry.likeness, entry.motion):
            if performer.strip():
                return performer
    return name


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def cast_rates(context: Context, names: Sequence[str], first_day: date) -> CastRates:
    """Each cast member's day rate from the books. The rule: the character's performer (see
    ``_performer``) matched to a crew member by name, case and spacing ignored; the crew
    member's rate in effect on ``first_day`` is a day rate as it is, an hourly rate times
    ``[schedule] day_hours``. The rate is taken as written, in its own currency."""
    crew: dict[str, CrewMember] = {_key(m.name): m for m in books.crew(context)}
    day_hours = context.settings.schedule.day_hours
    rates: dict[str, Decimal] = {}
    source: dict[str, str] = {}
    unrated = []
    for name in names:
        performer = _performer(context, name)
        member = crew.get(_key(performer))
        rate = member.rate_on(first_day) if member is not None else None
        if member is None or rate is None:
            rates[name] = DEFAULT_CAST_DAY_RATE
            why = "not on the crew" if member is None else f"no rate in effect on {first_day}"
            source[name] = f"{performer}: {why}; default {DEFAULT_CAST_DAY_RATE}/day"
            unrated.append(name)
            continue
        if rate.unit is RateUnit.DAY:
            rates[name] = rate.amount
            source[name] = f"{member.name}: {rate.amount}/day from {rate.effective}"
        else:
            rates[name] = rate.amount * day_hours
            source[name] = f"{member.name}: {rate.amount}/h x {day_hours} h from {rate.effective}"
    return CastRates(rates, source, tuple(unrated))


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
    names = list(dict.fromkeys(name for scene in scenes for name in scene.cast))
    cast = cast_from_scenes(scenes, cast_rates(context, names, start).rates)
    settings = ScheduleSettings(eighths_per_day=eighths_per_day, time_limit=time_limit)
    calendar = Calendar(start, days_per_week)
    numbers_here = {scene.number for scene in scenes}
    # A pin of a scene the screenplay no longer has waits (unpin it, or it comes back).
    pins = {number: day for number, day in schedule_pins.pins(context).items() if number in numbers_here}
    return ScheduleProblem(
        tuple(scenes),
        tuple(cast),
        tuple(stages(context)),
        calendar,
        pins=pins,
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


# An event for the trail: actor, role, action, subject, detail (trail.append_event's arguments).
_Event = tuple[str, str, str, str, dict[str, Any]]


def _store(
    context: Context, schedule_problem: ScheduleProblem, schedule: Schedule, event: _Event | None = None
) -> None:
    """Store ``schedule`` as the current one, with ``event`` (a person's move) in the trail."""
    days = [{"index": d.index, "scenes": list(d.scenes), "stage_of": dict(d.stage_of)} for d in schedule.days]
    with context.transaction() as session:
        if event is not None:
            append_event(session, *event)
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


def pin(context: Context, scene: str, day: str) -> date:
    """Pin ``scene`` to ``day`` (a date, YYYY-MM-DD, or a 1-based shoot day of the current
    schedule): every solve and re-plan keeps it there. A scene the screenplay lacks, or a date
    that is not a shoot day of the current schedule's calendar, is one line, nothing stored."""
    from soundstage.schedules.production import why_not_a_shoot_day  # OR-Tools with it: pinning only

    if scene not in drafts.scene_numbers(context):
        raise ScheduleError(f"schedule pin: the screenplay has no scene {scene}")
    calendar = current(context)[0].calendar if has_schedule(context) else None
    if day.isdigit():
        if calendar is None:
            raise ScheduleError(f"schedule pin {scene} {day}: no schedule yet to count shoot days in; give a date")
        if int(day) < 1:
            raise ScheduleError(f"schedule pin {scene} {day}: shoot days count from 1")
        when = calendar.shoot_days(int(day))[-1]
    else:
        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise ScheduleError(
                f"schedule pin {scene}: {day!r} is neither a date (YYYY-MM-DD) nor a shoot day"
            ) from None
        if calendar is not None and not calendar.is_shoot_day(when):
            why = why_not_a_shoot_day(calendar, when)
            raise ScheduleError(f"schedule pin {scene}: {when} is not a shoot day ({why})")
    schedule_pins.store(context, scene, when)
    return when


def unpin(context: Context, scene: str) -> date:
    """Let the solver place ``scene`` again; the date it was pinned to."""
    return schedule_pins.remove(context, scene)


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


def move(context: Context, scene: str, day: int, *, by: Person | None = None) -> Schedule:
    """Move ``scene`` to shoot day ``day`` (1-based) by hand. A move that breaks a rule is
    refused with the first conflict as its one line, and nothing is stored. The move is a
    person's decision, so it is audited ("strip move"): ``by`` the person in the review room,
    else this console."""
    moved = try_move(context, scene, day)
    if moved.conflicts:
        raise StripConflict(f"scene {scene} cannot move to day {day}: {moved.conflicts[0]}")
    actor, role = (by.name, by.role.value) if by is not None else (console(), CONSOLE)
    detail: dict[str, Any] = {"day": day, "cost": str(moved.schedule.cost.total)}
    if by is not None and by.via is not None:
        detail |= by.via.as_detail()
    _store(context, moved.problem, moved.schedule, (actor, role, "strip move", f"scene {scene}", detail))
    return moved.schedule


def export(context: Context, folder: Path) -> list[Path]:
    """Write the stripboard (HTML, PDF), the day out of days (CSV), stage occupancy (HTML, PDF,
    CSV by week; each stage's state per shoot day, CSV) and the bookings and shoot days
    (iCalendar) into ``folder``; returns the files written."""
    from soundstage.schedules import dood, ical, occupancy, stripboard  # fpdf and icalendar: exporting only

    schedule_problem, schedule = current(context)
    title = drafts.title(context)
    board = stripboard.stripboard(schedule_problem, schedule, title=f"{title}: stripboard")
    occupied = occupancy.occupancy(schedule_problem, schedule, title=f"{title}: stage occupancy")
    files = {
        "stage_occupancy.html": occupancy.render_html(occupied).encode(),
        "stage_occupancy.pdf": occupancy.render_pdf(occupied),
        "stage_occupancy.csv": occupancy.render_csv(occupied).encode(),
        "stage_days.csv": occupancy.render_days_csv(occupancy.stage_days(schedule_problem, schedule)).encode(),
        "stripboard.html": stripboard.render_html(board).encode(),
        "stripboard.pdf": stripboard.render_pdf(board),
        "day_out_of_days.csv": dood.render_csv(dood.day_out_of_days(schedule_problem, schedule)).encode(),
        "schedule.ics": ical.bookings_calendar(schedule, production=title),
    }
    written = []
    for name, data in files.items():
        # write_atomic makes the folder; one it cannot make (a file there, a read-only disk) is
        # its one line, where a mkdir here was an OSError traceback.
        write_atomic(folder / name, data, what="schedule export", error=ScheduleError)
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


def current_cast_rates(context: Context) -> CastRates:
    """Where the current schedule's cast rates come from, and who had no rate on the books."""
    schedule_problem, _ = current(context)
    return cast_rates(context, [member.name for member in schedule_problem.cast], schedule_problem.calendar.start)


def stage_days(context: Context) -> tuple[occupancy.StageDay, ...]:
    """Each stage's state (used, standing, idle, blocked) on each shoot day of the schedule."""
    from soundstage.schedules import occupancy  # fpdf with it: reports only

    schedule_problem, schedule = current(context)
    return occupancy.stage_days(schedule_problem, schedule)
