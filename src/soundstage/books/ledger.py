"""The books of one production as one value: the crew, their time entries and the spend, with the
wages that confirmed hours earned (the payroll the incentive programs count).

Wages are summed into one ``WageLine`` per person, role, department, work place and currency:
what a payroll summary shows and what a program decides on (a person's residence, the line, the
place of the work), so an estimate decides a few hundred wage lines rather than every entry.
Entries that are not confirmed (drafts from activity) count for nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property

from soundstage.books.model import (
    Account,
    Chart,
    CrewMember,
    Place,
    RateUnit,
    SpendKind,
    SpendLine,
    TimeEntry,
    load_chart,
)
from soundstage.errors import BooksError, RowsRefused

CENT = Decimal("0.01")
HOURS_IN_A_DAY = Decimal(24)


@dataclass(frozen=True, slots=True)
class WageLine:
    """What one person earned in one role, department and work place: confirmed hours and pay."""

    person: str
    role: str
    department: str
    location: Place | None
    currency: str
    hours: Decimal
    pay: Decimal
    entries: int
    member: CrewMember

    @property
    def atl(self) -> bool:
        return self.member.atl

    @property
    def residence(self) -> Place | None:
        return self.member.residence


@dataclass(frozen=True, slots=True)
class SpendClass:
    """What a program can ask of a spend line, apart from its amount: lines alike in all of it
    are decided once (a ledger of 50,000 lines has a few hundred classes)."""

    account: Account
    kind: SpendKind
    atl: bool
    location: Place | None
    vendor_local: bool
    department_kind: str
    currency: str

    @property
    def labour(self) -> bool:
        return self.kind is SpendKind.LABOUR


@dataclass
class Books:
    """A production's crew, hours and spend, and its chart of accounts."""

    crew: list[CrewMember]
    hours: list[TimeEntry]
    spend: list[SpendLine]
    chart: Chart = field(default_factory=load_chart)

    @cached_property
    def members(self) -> dict[str, CrewMember]:
        """The crew by name, matched without regard to case or spacing."""
        members: dict[str, CrewMember] = {}
        for member in self.crew:
            key = _key(member.name)
            if key in members:
                raise BooksError(f"crew member {member.name!r} is listed twice")
            members[key] = member
        return members

    def member(self, name: str) -> CrewMember | None:
        """The crew member of this name, or None."""
        return self.members.get(_key(name))

    @cached_property
    def wages(self) -> list[WageLine]:
        """The payroll: confirmed hours priced at each person's rate on the day (or the pay a
        payroll export gave), one line per person, role, department, work place and currency.
        Raises RowsRefused naming every entry of a person not in the crew, or with no rate in
        effect on its day."""
        return payroll(self)

    @cached_property
    def spend_classes(self) -> tuple[dict[SpendClass, tuple[Decimal, int]], list[SpendClass]]:
        """The spend lines sorted into classes: each class's total and number of lines, and each
        line's class (in the order of ``spend``). A line on an account the chart does not have is
        refused."""
        chart = self.chart
        totals: dict[SpendClass, list] = {}
        of_line: list[SpendClass] = []
        classes: dict[tuple, SpendClass] = {}
        refusals: list[tuple[str, int | None, str]] = []
        for line in self.spend:
            account = chart.account(line.account)
            if account is None:
                path, _, number = line.origin.rpartition(":")
                where = (
                    (path, int(number))
                    if path and number.isdigit()
                    else (line.origin or f"spend line {line.vendor}", None)
                )
                refusals.append((*where, f"account {line.account!r} is not in the chart of accounts ({chart.source})"))
                continue
            key = (line.account, line.kind, line.atl, line.location, line.vendor_local, line.department, line.currency)
            spend_class = classes.get(key)
            if spend_class is None:
                department_kind = chart.department_kind(line.department) if line.department else account.category
                spend_class = classes[key] = SpendClass(
                    account=account,
                    kind=line.kind or account.kind,
                    atl=account.atl if line.atl is None else line.atl,
                    location=line.location,
                    vendor_local=line.vendor_local,
                    department_kind=department_kind,
                    currency=line.currency,
                )
            of_line.append(spend_class)
            total = totals.get(spend_class)
            if total is None:
                totals[spend_class] = [line.amount, 1]
            else:
                total[0] += line.amount
                total[1] += 1
        if refusals:
            raise RowsRefused(refusals)
        return {k: (v[0], v[1]) for k, v in totals.items()}, of_line

    @cached_property
    def confirmed_hours(self) -> Decimal:
        """All confirmed crew hours on the books."""
        return sum((line.hours for line in self.wages), Decimal(0))


def long_days(
    entries: list[TimeEntry], booked: Iterable[tuple[str, date, Decimal]] = ()
) -> list[tuple[TimeEntry, str]]:
    """Every entry of a person's day whose entries add up to more than 24 hours, with the reason
    (naming the other entries' lines where they came from a file). ``booked`` is hours already on
    the books as (person, day, hours): they count towards the day but are not reported.
    ``import_hours`` checks a whole file this way, ``hours add|import`` the new entries against the
    books."""
    totals: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for entry in entries:
        totals[(_key(entry.person), entry.day)] += entry.hours
    earlier: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for person, day, hours in booked:
        key = (_key(person), day)
        if key in totals:  # only the days the new entries touch can become too long
            earlier[key] += hours
    for key, hours in earlier.items():
        totals[key] += hours
    long = {key: total for key, total in totals.items() if total > HOURS_IN_A_DAY}
    if not long:
        return []
    of_day: dict[tuple[str, date], list[TimeEntry]] = defaultdict(list)
    for entry in entries:
        key = (_key(entry.person), entry.day)
        if key in long:
            of_day[key].append(entry)
    found = []
    for key, day_entries in of_day.items():
        lines = [str(line) for _, line in map(_where, day_entries) if line]
        where = f" (lines {', '.join(lines)})" if lines else ""
        if key in earlier:
            where += f" with {earlier[key]} booked already"
        for entry in day_entries:
            found.append((entry, f"{entry.person} has {long[key]} hours on {entry.day}{where}, over 24 in a day"))
    return found


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _where(entry: TimeEntry) -> tuple[str, int | None]:
    path, _, line = entry.origin.rpartition(":")
    if path and line.isdigit():
        return path, int(line)
    return entry.origin or f"time entry of {entry.person} on {entry.day}", None


def payroll(books: Books) -> list[WageLine]:
    """The wage lines of ``books`` (see ``Books.wages``).

    A day rate pays once per day worked, whatever the hours; a day split over several entries
    (two shots, two places) is shared between them in proportion to their hours, to the cent, the
    last entry taking the remainder so that the day adds up to the rate exactly."""
    refusals: list[tuple[str, int | None, str]] = []
    totals: dict[tuple, list] = {}
    day_entries: dict[tuple[str, date], list[tuple[TimeEntry, CrewMember]]] = defaultdict(list)
    # The crew member of each name as written, looked up once: a name is on thousands of entries.
    of_name: dict[str, CrewMember | None] = {}
    for entry in books.hours:
        if not entry.confirmed:
            continue
        member = of_name.get(entry.person, books)  # books: not looked up yet
        if member is books:
            member = of_name[entry.person] = books.member(entry.person)
        if member is None:
            refusals.append((*_where(entry), f"{entry.person} is not in the crew"))
            continue
        rate = member.rate_on(entry.day)
        if entry.pay is not None:
            currency = entry.currency or (rate.currency if rate is not None else None)
            if currency is None:
                refusals.append((*_where(entry), f"pay for {member.name} on {entry.day} has no currency"))
            else:
                _add(totals, entry, member, entry.pay, currency)
            continue
        if rate is None:
            refusals.append((*_where(entry), f"{member.name} has no rate in effect on {entry.day}"))
            continue
        if rate.unit is RateUnit.HOUR:
            _add(totals, entry, member, entry.hours * rate.amount, rate.currency)
        else:
            day_entries[(_key(member.name), entry.day)].append((entry, member))
    for entries in day_entries.values():
        entry, member = entries[0]
        rate = member.rate_on(entry.day)
        assert rate is not None  # checked above
        day_hours = sum((e.hours for e, _ in entries), Decimal(0))
        if day_hours == 0:
            for entry, member in entries:
                _add(totals, entry, member, Decimal(0), rate.currency)
            continue
        left = rate.amount
        for position, (entry, member) in enumerate(entries):
            if position == len(entries) - 1:
                share = left
            else:
                share = (rate.amount * entry.hours / day_hours).quantize(CENT, ROUND_HALF_EVEN)
                left -= share
            _add(totals, entry, member, share, rate.currency)
    if refusals:
        raise RowsRefused(refusals)
    return [
        WageLine(person, role, department, location, currency, hours, pay, count, member)
        for (person, role, department, location, currency), (hours, pay, count, member) in totals.items()
    ]


def _add(totals: dict[tuple, list], entry: TimeEntry, member: CrewMember, pay: Decimal, currency: str) -> None:
    key = (member.name, entry.role or member.role, entry.department or member.department, entry.location, currency)
    total = totals.get(key)
    if total is None:
        totals[key] = [entry.hours, pay, 1, member]
    else:
        total[0] += entry.hours
        total[1] += pay
        total[2] += 1
