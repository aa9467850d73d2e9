"""Stage rent, day by day: what a schedule pays for each stage on each shoot day it rents it.

A stage is rented from its first shoot day in use to its last (the cost model of
``evaluation.evaluate``), so a rent line is one stage on one of those shoot days, at its day
rate, marked used (a scene is shot on it) or standing (rented, the set waiting, nothing shot).
The lines of a stage add up to what the schedule's cost says it pays for that stage; the books
take them as spend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from soundstage.schedules.model import Schedule, ScheduleProblem


@dataclass(frozen=True, slots=True)
class RentLine:
    """One stage rented on one shoot day."""

    stage: str
    date: date
    amount: Decimal  # the stage's day rate
    used: bool  # shot on that day; False: rented and standing


def rent_lines(problem: ScheduleProblem, schedule: Schedule) -> list[RentLine]:
    """Every stage's rent lines in ``schedule``, stage by stage (as the problem lists them),
    day by day."""
    lines = []
    for stage in problem.stages:
        used = {day.date for day in schedule.days if stage.name in day.stages}
        if not used:
            continue
        first, last = min(used), max(used)
        for day in problem.calendar.shoot_days_until(last):
            if day >= first:
                lines.append(RentLine(stage.name, day, stage.day_rate, day in used))
    return lines
