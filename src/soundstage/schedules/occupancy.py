"""Stage occupancy against utilisation, per stage and week.

FilmLA's distinction: a stage is *occupied* on every day it is leased or booked, whether or
not anything is shot there; it is *used* on the days it is shot on. This production rents each
stage from its first shoot day there to its last, so the days in between with no scene on the
stage (a set standing, waiting) are occupied but not used: what the schedule pays to keep a
stage it is not shooting on. Days firmly booked by other productions are counted apart.
Weeks run Monday to Sunday; days are shoot days of the calendar.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from jinja2 import Environment, PackageLoader, select_autoescape

from soundstage.reports.pdf import ReportPdf
from soundstage.schedules.model import Schedule, ScheduleProblem

_TEMPLATES = Environment(
    loader=PackageLoader("soundstage.schedules", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class OccupancyRow:
    """One stage in one week."""

    stage: str
    week: date  # the Monday
    occupied: int  # shoot days rented by this production
    used: int  # shoot days with a scene on the stage
    booked_by_others: int  # shoot days firmly booked by another production

    @property
    def idle(self) -> int:
        """Occupied, not used: paid for, nothing shot."""
        return self.occupied - self.used

    @property
    def utilisation(self) -> float:
        return self.used / self.occupied if self.occupied else 0.0


@dataclass(frozen=True, slots=True)
class Occupancy:
    title: str
    rows: tuple[OccupancyRow, ...]

    def totals(self, stage: str) -> OccupancyRow:
        """The stage's row over all weeks (its ``week`` is the first week's)."""
        rows = [r for r in self.rows if r.stage == stage]
        return OccupancyRow(
            stage,
            rows[0].week if rows else date.min,
            sum(r.occupied for r in rows),
            sum(r.used for r in rows),
            sum(r.booked_by_others for r in rows),
        )

    @property
    def stages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.stage for r in self.rows))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def occupancy(problem: ScheduleProblem, schedule: Schedule, title: str = "Stage occupancy") -> Occupancy:
    """Occupied, used and others' days of every stage this production rents, week by week."""
    if not schedule.days:
        return Occupancy(title, ())
    shoot_days = [d for d in problem.calendar.shoot_days_until(schedule.days[-1].date) if d >= schedule.days[0].date]
    used_on: dict[str, set[date]] = {}
    for day in schedule.days:
        for stage in day.stages:
            used_on.setdefault(stage, set()).add(day.date)
    rows = []
    for stage in problem.stages:
        booking = next((b for b in schedule.bookings if b.stage == stage.name), None)
        if booking is None:
            continue
        weeks: dict[date, list[int]] = {}
        for day in shoot_days:
            counts = weeks.setdefault(_monday(day), [0, 0, 0])
            if day in booking.dates:
                counts[0] += 1
                counts[1] += day in used_on.get(stage.name, set())
            counts[2] += any(b.firm and b.holder != problem.production and day in b.dates for b in stage.bookings)
        rows.extend(OccupancyRow(stage.name, week, *counts) for week, counts in sorted(weeks.items()) if any(counts))
    return Occupancy(title, tuple(rows))


# What a stage is on one shoot day of the schedule, as `schedule show` and stage_days.csv say it.
USED, STANDING, IDLE, BLOCKED = "used", "standing", "idle", "blocked"
_LETTER = {USED: "U", STANDING: "S", IDLE: ".", BLOCKED: "x"}


@dataclass(frozen=True, slots=True)
class StageDay:
    """One stage on one shoot day: ``used`` (shot on), ``standing`` (rented by this production,
    nothing shot: a set standing), ``idle`` (not rented by this production: free for others) or
    ``blocked`` (outside its availability or firmly booked by another production)."""

    stage: str
    date: date
    state: str


def stage_days(problem: ScheduleProblem, schedule: Schedule) -> tuple[StageDay, ...]:
    """Every stage of the problem on every shoot day from the schedule's first to its last."""
    if not schedule.days:
        return ()
    shoot_days = [d for d in problem.calendar.shoot_days_until(schedule.days[-1].date) if d >= schedule.days[0].date]
    used_on = {(stage, day.date) for day in schedule.days for stage in day.stages}
    rented = {b.stage: b.dates for b in schedule.bookings}
    found = []
    for stage in problem.stages:
        for day in shoot_days:
            if (stage.name, day) in used_on:
                state = USED
            elif stage.name in rented and day in rented[stage.name]:
                state = STANDING
            elif stage.blocked_on(day, problem.production):
                state = BLOCKED
            else:
                state = IDLE
            found.append(StageDay(stage.name, day, state))
    return tuple(found)


def day_strip(days: tuple[StageDay, ...], stage: str) -> str:
    """One letter per shoot day for ``stage``: U used, S standing, . idle, x blocked."""
    return "".join(_LETTER[d.state] for d in days if d.stage == stage)


def render_days_csv(days: tuple[StageDay, ...]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Stage", "Date", "State"])
    for d in days:
        writer.writerow([d.stage, d.date.isoformat(), d.state])
    return out.getvalue()


def render_html(report: Occupancy) -> str:
    return _TEMPLATES.get_template("occupancy.html").render(report=report)


def render_csv(report: Occupancy) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Stage", "Week of", "Occupied", "Used", "Idle", "Utilisation", "Booked by others"])
    for r in report.rows:
        writer.writerow(
            [r.stage, r.week.isoformat(), r.occupied, r.used, r.idle, f"{r.utilisation:.0%}", r.booked_by_others]
        )
    return out.getvalue()


def render_pdf(report: Occupancy) -> bytes:
    pdf = ReportPdf(report.title, orientation="portrait")
    pdf.add_page()
    pdf.title_block(report.title, "Occupied: rented by this production. Used: shot on. Idle: occupied, not used.")
    widths = (40, 28, 22, 18, 18, 26, 30)
    headings = ("Stage", "Week of", "Occupied", "Used", "Idle", "Utilisation", "Others' bookings")
    pdf.set_font(pdf.font_name, "B", 8)
    pdf.set_fill_color(225, 225, 225)
    for heading, width in zip(headings, widths):
        pdf.cell(width, 6, heading, border=1, fill=True)
    pdf.ln()
    pdf.set_font(pdf.font_name, "", 8)
    for stage in report.stages:
        lines = [(r, r.week.isoformat()) for r in report.rows if r.stage == stage]
        lines.append((report.totals(stage), "all weeks"))
        for r, week in lines:
            pdf.set_font(pdf.font_name, "B" if week == "all weeks" else "", 8)
            cells = (r.stage, week, r.occupied, r.used, r.idle, f"{r.utilisation:.0%}", r.booked_by_others)
            for value, width in zip(cells, widths):
                pdf.cell(width, 5, pdf.text_of(value), border=1)
            pdf.ln()
    return bytes(pdf.output())
