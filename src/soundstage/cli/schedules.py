"""Commands of stages and the shooting schedule: stage add, list, hold, book and release;
schedule solve, show (with each stage's rent and the cast's rates), move, pin and unpin,
book-rent (stage rent to the books as spend) and export."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from soundstage.cli.app import app, opened, out
from soundstage.errors import ScheduleError
from soundstage.schedules import occupancy
from soundstage.schedules.model import MAX_BOOKING_DAYS, DateRange

stage_app = typer.Typer(help="Stages the production can rent.", no_args_is_help=True)
schedule_app = typer.Typer(help="The shooting schedule: solve it, look at it.", no_args_is_help=True)
app.add_typer(stage_app, name="stage")
app.add_typer(schedule_app, name="schedule")


@stage_app.command("add")
def stage_add(
    name: str,
    kind: Annotated[str, typer.Option(help="sound-stage | led-volume | mocap | voice-booth | adr")],
    size_sqft: Annotated[int, typer.Option("--size-sqft")],
    zone: Annotated[str, typer.Option(help="in | out")],
    day_rate: Annotated[str, typer.Option("--day-rate")],
    available: Annotated[str | None, typer.Option(help="FROM..TO, YYYY-MM-DD..YYYY-MM-DD")] = None,
) -> None:
    """Add a stage."""
    window = DateRange.parse(available) if available else None
    with opened() as production:
        stage = production.add_stage(
            name, kind=kind, size_sqft=size_sqft, zone=zone, day_rate=day_rate, available=window
        )
    out.print(f"stage {stage.name}: {stage.kind.value}, {stage.size_sqft} sq ft, {stage.day_rate}/day")


@stage_app.command("list")
def stage_list() -> None:
    """List the stages with their holds and bookings."""
    with opened() as production:
        found = production.stages()
    table = Table("stage", "kind", "sq ft", "zone", "day rate", "available")
    for s in found:
        table.add_row(
            s.name, s.kind.value, str(s.size_sqft), s.zone.value, str(s.day_rate), str(s.available or "any day")
        )
    out.print(table)
    for s in found:
        for b in s.bookings:
            out.print(f"{s.name}: {b.status} {b.dates} by {b.holder}", soft_wrap=True)


By = Annotated[str | None, typer.Option("--by", help="another production's name (default: this production)")]
Dates = Annotated[str, typer.Argument(help="FROM..TO (or one date), YYYY-MM-DD..YYYY-MM-DD")]


def _claimed_days(command: str, dates: str) -> DateRange:
    """The days of ``stage hold|book|release``, refused (one line, before the production is
    opened) when they span more than MAX_BOOKING_DAYS."""
    days = DateRange.parse(dates)
    span = (days.last - days.first).days + 1
    if span > MAX_BOOKING_DAYS:
        raise ScheduleError(
            f"stage {command}: DATES {days} spans {span:,} days; a hold, booking or release covers at most"
            f" {MAX_BOOKING_DAYS:,} days (3 years)"
        )
    return days


@stage_app.command("hold")
def stage_hold(name: str, dates: Dates, by: By = None) -> None:
    """Hold a stage on days (a pencilled claim: it blocks nobody)."""
    days = _claimed_days("hold", dates)
    with opened() as production:
        made = production.hold_stage(name, days, by=by)
    out.print(f"stage {made.stage}: hold {made.dates} by {made.holder}")


@stage_app.command("book")
def stage_book(name: str, dates: Dates, by: By = None) -> None:
    """Book a stage on days (firm: another production's booking keeps this schedule off them)."""
    days = _claimed_days("book", dates)
    with opened() as production:
        made = production.book_stage(name, days, by=by)
    out.print(f"stage {made.stage}: booked {made.dates} by {made.holder}")


@stage_app.command("release")
def stage_release(name: str, dates: Dates, by: By = None) -> None:
    """Release days of a stage's holds and bookings."""
    days = _claimed_days("release", dates)
    with opened() as production:
        days = production.release_stage(name, days, by=by)
    out.print(f"stage {name}: {days} days released")


@schedule_app.command("solve")
def schedule_solve(
    start: Annotated[str, typer.Option(help="first shoot day, YYYY-MM-DD")],
    days_per_week: Annotated[int, typer.Option("--days-per-week")] = 5,
    eighths_per_day: Annotated[int, typer.Option("--eighths-per-day")] = 24,
    time_limit: Annotated[float, typer.Option("--time-limit", help="seconds")] = 30.0,
    fresh: Annotated[bool, typer.Option("--fresh", help="solve from nothing, not around the last schedule")] = False,
) -> None:
    """Order the screenplay's scenes into shoot days and store the schedule. After a re-import
    the unchanged scenes keep their days and only new and changed scenes are placed."""
    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise ScheduleError(f"--start: not a date: {start!r}; expected YYYY-MM-DD") from None
    with opened() as production:
        planned = production.plan_schedule(
            start=first,
            days_per_week=days_per_week,
            eighths_per_day=eighths_per_day,
            time_limit=time_limit,
            fresh=fresh,
        )
    schedule, replan = planned.schedule, planned.replan
    word = "optimal" if schedule.optimal else f"gap {schedule.gap:.1%}"
    out.print(f"{len(schedule.days)} shoot days, cost {schedule.cost.total} ({word}), {schedule.seconds:.1f} s")
    if replan is not None:
        out.print(f"re-planned: {len(replan.kept)} scenes kept their days")
        for what, numbers in (("placed", replan.placed), ("dropped", replan.dropped)):
            if numbers:
                out.print(f"{what}: {' '.join(numbers)}")
        days = ", ".join(d.isoformat() for d in replan.changed_days) or "none"
        out.print(f"days changed: {days}")


@schedule_app.command("show")
def schedule_show() -> None:
    """Show the stored schedule, day by day."""
    with opened() as production:
        schedule = production.schedule()
        stale = production.schedule_stale()
        rent_lines = production.stage_rent()
        rates = production.schedule_cast_rates()
        pins = production.scene_pins()
        stage_days = production.stage_days()
    if stale:
        out.print("stale: the screenplay was re-imported since; `soundstage schedule solve` re-plans")
    table = Table("day", "date", "location", "scenes")
    for day in schedule.days:
        table.add_row(str(day.index + 1), day.date.isoformat(), day.location, " ".join(day.scenes))
    out.print(table)
    if pins:
        out.print("pinned: " + ", ".join(f"{scene} {day.isoformat()}" for scene, day in pins.items()), soft_wrap=True)
    rent = Table("stage", "rented", "days", "used", "standing", "rent")
    for stage, lines in groupby(rent_lines, key=lambda line: line.stage):
        days = list(lines)
        used = sum(1 for line in days if line.used)
        total = sum((line.amount for line in days), Decimal(0))
        rented = f"{days[0].date.isoformat()}..{days[-1].date.isoformat()}"
        rent.add_row(stage, rented, str(len(days)), str(used), str(len(days) - used), str(total))
    out.print(rent)
    out.print(f"cost {schedule.cost.total}")
    use = Table("stage", "used", "standing", "idle", "blocked", "day by day (U used, S standing, . idle, x blocked)")
    for stage in dict.fromkeys(d.stage for d in stage_days):
        states = [d.state for d in stage_days if d.stage == stage]
        counts = [str(states.count(state)) for state in (occupancy.USED, occupancy.STANDING, occupancy.IDLE)]
        use.add_row(stage, *counts, str(states.count(occupancy.BLOCKED)), occupancy.day_strip(stage_days, stage))
    out.print(use)
    cast = Table("cast", "day rate", "from")
    for name, amount in rates.rates.items():
        cast.add_row(name, str(amount), rates.source[name])
    out.print(cast)
    if rates.unrated:
        out.print(f"no rate on the books, costed at the default: {', '.join(rates.unrated)}", soft_wrap=True)


@schedule_app.command("move")
def schedule_move(scene: str, day: int) -> None:
    """Move SCENE to shoot day DAY (1-based); refused if it breaks a rule."""
    with opened() as production:
        schedule = production.move_scene(scene, day)
    out.print(f"scene {scene} on day {day}; cost {schedule.cost.total}")


@schedule_app.command("pin")
def schedule_pin(
    scene: str, day: Annotated[str, typer.Argument(help="a date, YYYY-MM-DD, or a shoot day of the schedule: 3")]
) -> None:
    """Pin SCENE to DAY: every solve and re-plan keeps it there (solve again to apply)."""
    with opened() as production:
        when = production.pin_scene(scene, day)
    out.print(f"scene {scene} pinned to {when.isoformat()}; `soundstage schedule solve` places it there")


@schedule_app.command("unpin")
def schedule_unpin(scene: str) -> None:
    """Let the solver place SCENE again."""
    with opened() as production:
        when = production.unpin_scene(scene)
    out.print(f"scene {scene} unpinned (was {when.isoformat()})")


@schedule_app.command("book-rent")
def schedule_book_rent() -> None:
    """Book the schedule's stage rent as spend: one line per stage for its rented span (run it
    again after a re-solve: rent booked from the earlier schedule is reversed)."""
    with opened() as production:
        done = production.book_stage_rent()
    for line in done.reversed:
        out.print(f"reversed {line.vendor}: {line.amount} {line.currency}", soft_wrap=True)
    for line in done.booked:
        out.print(f"booked {line.vendor}: {line.amount} {line.currency}, {line.description}", soft_wrap=True)
    for stage in done.unchanged:
        out.print(f"unchanged {stage}: on the books already")


@schedule_app.command("export")
def schedule_export(folder: Annotated[Path, typer.Option("-o", "--output", help="folder to write into")]) -> None:
    """Write the stripboard (HTML, PDF), day out of days (CSV), stage occupancy (HTML, PDF,
    CSV) and each stage's days (CSV), and bookings (iCalendar)."""
    with opened() as production:
        written = production.export_schedule(folder)
    for path in written:
        out.print(str(path))
