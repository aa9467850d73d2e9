"""Stage rent from the shooting schedule to the production's books: one spend line per stage
for the days the schedule rents it, booked through ``project.books.add_spend`` (the books'
own rules check the account and currency; this module writes no table of the books).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby

from soundstage.books.model import SpendKind, SpendLine
from soundstage.errors import ScheduleError
from soundstage.project import books
from soundstage.project.production import Context
from soundstage.project.schedules import rent_lines, stages
from soundstage.schedules.model import Zone

# The origin of a spend line booked from the schedule: how book_rent finds its own lines again
# (and leaves every other spend line alone).
RENT_ORIGIN, REVERSAL_ORIGIN = "schedule rent: ", "schedule rent reversed: "


@dataclass(frozen=True, slots=True)
class RentBooked:
    """What ``book_rent`` put on the books: new rent lines, reversals of rent booked before
    from an earlier schedule, and the stages whose booked rent was the schedule's already."""

    booked: tuple[SpendLine, ...]
    reversed: tuple[SpendLine, ...]
    unchanged: tuple[str, ...]


def _rent_account(context: Context) -> str:
    chart = books.books_settings(context).chart()
    codes = sorted(code for code, account in chart.accounts.items() if account.kind is SpendKind.STAGE_RENTAL)
    if not codes:
        raise ScheduleError(f"the chart of accounts ({chart.source}) has no stage-rental account to book stage rent to")
    return codes[0]


def _wanted_rent(context: Context) -> dict[str, SpendLine]:
    """One spend line per stage for its rented span in the current schedule."""
    account, currency = _rent_account(context), books.books_settings(context).currency
    zones = {stage.name: stage.zone for stage in stages(context)}
    wanted = {}
    for stage, lines in groupby(rent_lines(context), key=lambda line: line.stage):
        days = list(lines)
        used = sum(1 for line in days if line.used)
        span = f"{days[0].date.isoformat()}..{days[-1].date.isoformat()}"
        wanted[stage] = SpendLine(
            vendor=stage,
            account=account,
            amount=sum((line.amount for line in days), Decimal(0)),
            currency=currency,
            day=days[0].date,
            vendor_local=zones.get(stage) is Zone.IN,
            description=f"stage rent {span}: {len(days)} days, {used} used, {len(days) - used} standing",
            origin=RENT_ORIGIN + stage,
        )
    return wanted


def book_rent(context: Context) -> RentBooked:
    """Book the current schedule's stage rent as spend: one line per stage for its rented span
    (vendor the stage, the chart's stage-rental account, local for a stage in the zone), through
    ``project.books.add_spend``. Idempotent: a stage whose booked rent is the schedule's is left
    as it is; rent booked from an earlier schedule is reversed (a negative line, as a ledger
    corrects itself; the books have no way to delete a line) before the new line is booked, so
    that the schedule's rent lines on the books always add up to the current schedule's rent.
    Spend lines not booked from the schedule are never touched."""
    wanted = _wanted_rent(context)
    net: dict[str, Decimal] = {}
    latest: dict[str, SpendLine] = {}
    for line in books.load_books(context).spend:
        for origin in (RENT_ORIGIN, REVERSAL_ORIGIN):
            if line.origin.startswith(origin):
                stage = line.origin.removeprefix(origin)
                net[stage] = net.get(stage, Decimal(0)) + line.amount
                if origin == RENT_ORIGIN:
                    latest[stage] = line
    booked, reversals, unchanged = [], [], []
    for stage in sorted(set(wanted) | set(net)):
        line, before = wanted.get(stage), latest.get(stage)
        standing = net.get(stage, Decimal(0))
        same = before is not None and line is not None and standing == before.amount
        if same and (before.amount, before.day, before.description) == (line.amount, line.day, line.description):
            unchanged.append(stage)
            continue
        if standing and before is not None:
            reversal = SpendLine(
                vendor=before.vendor,
                account=before.account,
                amount=-standing,
                currency=before.currency,
                day=before.day,
                vendor_local=before.vendor_local,
                description=f"reverses {before.description}",
                origin=REVERSAL_ORIGIN + stage,
            )
            reversals.append(books.add_spend(context, reversal))
        if line is not None:
            booked.append(books.add_spend(context, line))
    return RentBooked(tuple(booked), tuple(reversals), tuple(unchanged))
