"""Day out of days: for every cast member and every shoot day, what they do that day.

The codes are the industry's: SW start work (their first work day), W work, H hold (paid,
on standby, between work days), WF work finish (their last work day), SWF start and finish on
the same day (one day only), T travel (the day before they start and after they finish, for
cast flown in). Totals per cast member as DOOD reports give them: travel, work and hold
days, start and finish dates, and the total of paid days. Work plus hold is exactly what the
schedule pays a cast member for (first to last shoot day), which a test holds to.

Written as HTML (Jinja2), PDF (fpdf2) and CSV.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from jinja2 import Environment, PackageLoader, select_autoescape

from soundstage.reports.pdf import ReportPdf
from soundstage.schedules.model import Schedule, ScheduleProblem

_TEMPLATES = Environment(
    loader=PackageLoader("soundstage.schedules", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


class Code(StrEnum):
    START_WORK = "SW"
    WORK = "W"
    HOLD = "H"
    WORK_FINISH = "WF"
    START_WORK_FINISH = "SWF"
    TRAVEL = "T"


WORKING = frozenset({Code.START_WORK, Code.WORK, Code.WORK_FINISH, Code.START_WORK_FINISH})


@dataclass(frozen=True, slots=True)
class DoodRow:
    """One cast member's line: a code (or "") per shoot day, and the totals."""

    number: int
    name: str
    codes: tuple[str, ...]
    start: date | None
    finish: date | None

    @property
    def work(self) -> int:
        return sum(1 for c in self.codes if c in WORKING)

    @property
    def hold(self) -> int:
        return self.codes.count(Code.HOLD)

    @property
    def travel(self) -> int:
        return self.codes.count(Code.TRAVEL)

    @property
    def total(self) -> int:
        return self.work + self.hold + self.travel


@dataclass(frozen=True, slots=True)
class DayOutOfDays:
    title: str
    dates: tuple[date, ...]  # every shoot day from the first to the last
    rows: tuple[DoodRow, ...]


def day_out_of_days(problem: ScheduleProblem, schedule: Schedule, title: str = "Day out of days") -> DayOutOfDays:
    """The day-out-of-days of ``schedule``, cast by cast number."""
    if not schedule.days:
        return DayOutOfDays(title, (), ())
    dates = tuple(d for d in problem.calendar.shoot_days_until(schedule.days[-1].date) if d >= schedule.days[0].date)
    column = {d: i for i, d in enumerate(dates)}
    works: dict[str, set[int]] = {}
    for day in schedule.days:
        for number in day.scenes:
            for name in problem.scene(number).cast:
                works.setdefault(name, set()).add(column[day.date])
    members = sorted(problem.cast, key=lambda m: (m.number <= 0, m.number, m.name))
    rows = []
    for member in members:
        worked = works.get(member.name)
        codes = [""] * len(dates)
        if worked:
            first, last = min(worked), max(worked)
            for i in range(first, last + 1):
                codes[i] = Code.WORK if i in worked else Code.HOLD
            if first == last:
                codes[first] = Code.START_WORK_FINISH
            else:
                codes[first], codes[last] = Code.START_WORK, Code.WORK_FINISH
            if member.travels:
                if first > 0:
                    codes[first - 1] = Code.TRAVEL
                if last + 1 < len(dates):
                    codes[last + 1] = Code.TRAVEL
        rows.append(
            DoodRow(
                number=member.number,
                name=member.name,
                codes=tuple(str(c) for c in codes),
                start=dates[min(worked)] if worked else None,
                finish=dates[max(worked)] if worked else None,
            )
        )
    return DayOutOfDays(title, dates, tuple(rows))


def render_html(dood: DayOutOfDays) -> str:
    """The report as one self-contained HTML page."""
    return _TEMPLATES.get_template("dood.html").render(dood=dood)


TOTALS = ("Travel", "Work", "Hold", "Start", "Finish", "Total")


def render_csv(dood: DayOutOfDays) -> str:
    """One row per cast member: number, name, a code per shoot day, then the totals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["No.", "Cast", *(d.isoformat() for d in dood.dates), *TOTALS])
    for row in dood.rows:
        writer.writerow(
            [
                row.number,
                row.name,
                *row.codes,
                row.travel,
                row.work,
                row.hold,
                row.start.isoformat() if row.start else "",
                row.finish.isoformat() if row.finish else "",
                row.total,
            ]
        )
    return out.getvalue()


def render_pdf(dood: DayOutOfDays, *, days_per_page: int = 20) -> bytes:
    """The report as a PDF: the days in pages of ``days_per_page`` columns, totals on each."""
    pdf = ReportPdf(dood.title)
    name_width, day_width, total_width = 45, 10.5, 12
    for at in range(0, max(1, len(dood.dates)), days_per_page):
        dates = dood.dates[at : at + days_per_page]
        pdf.add_page()
        pdf.title_block(dood.title, f"Shoot days {at + 1} to {at + len(dates)} of {len(dood.dates)}")
        pdf.set_font(pdf.font_name, "B", 7)
        pdf.set_fill_color(225, 225, 225)
        pdf.cell(name_width, 8, "Cast", border=1, fill=True)
        for d in dates:
            pdf.cell(day_width, 8, d.strftime("%d/%m"), border=1, fill=True, align="C")
        for heading in ("Trv", "Work", "Hold", "Total"):
            pdf.cell(total_width, 8, heading, border=1, fill=True, align="C")
        pdf.ln()
        pdf.set_font(pdf.font_name, "", 7)
        for row in dood.rows:
            pdf.cell(name_width, 5, pdf.text_of(f"{row.number}. {row.name}"[:30]), border=1)
            for code in row.codes[at : at + days_per_page]:
                pdf.cell(day_width, 5, code, border=1, align="C")
            for value in (row.travel, row.work, row.hold, row.total):
                pdf.cell(total_width, 5, str(value), border=1, align="R")
            pdf.ln()
    return bytes(pdf.output())
