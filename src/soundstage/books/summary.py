"""The books in tables people read: confirmed hours (and, for producers, wages) by department,
role, union and residence; hours week by week per department; spend by account, local and not;
each person's confirmed AI-assisted hours.
The report and the producer's page in the review room show the same tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from soundstage.books.facts import ProductionFacts
from soundstage.books.ledger import Books, WageLine
from soundstage.books.model import TimeEntry

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class HoursRow:
    """Confirmed hours of one department, role, union or residence, with the people and wages."""

    key: str
    people: int
    hours: Decimal
    wages: Decimal


@dataclass(frozen=True, slots=True)
class SpendRow:
    """Spend of one account or place."""

    key: str
    lines: int
    amount: Decimal


@dataclass(frozen=True)
class Summary:
    """The books of a production summed for people, amounts in ``currency``."""

    currency: str
    confirmed_hours: Decimal
    draft_hours: Decimal  # suggested from activity, not confirmed: not counted anywhere
    people: int
    wages: Decimal
    by_department: tuple[HoursRow, ...]
    by_role: tuple[HoursRow, ...]
    by_union: tuple[HoursRow, ...]
    by_residence: tuple[HoursRow, ...]
    weeks: tuple[date, ...]  # the Monday of each week with confirmed hours
    hours_by_week: dict[str, tuple[Decimal, ...]]  # department -> hours in each of ``weeks``
    spend: Decimal
    local_spend: Decimal
    non_local_spend: Decimal
    spend_by_account: tuple[SpendRow, ...]
    spend_by_place: tuple[SpendRow, ...]
    # Confirmed AI-assisted hours by the person who did them (``ai_assisted_hours``, the figures
    # ``hours list`` prints), in the order people first appear; empty when none were booked.
    ai_hours: tuple[tuple[str, Decimal], ...] = ()

    @property
    def ai_hours_total(self) -> Decimal:
        """Confirmed AI-assisted hours of everyone together."""
        return sum((h for _, h in self.ai_hours), ZERO)


def summarize(books: Books, facts: ProductionFacts, currency: str) -> Summary:
    """The tables of ``books``, converting money to ``currency`` at the producer's rates."""
    wages = books.wages

    def rows(key: Callable[[WageLine], str]) -> tuple[HoursRow, ...]:
        hours: dict[str, Decimal] = defaultdict(Decimal)
        pay: dict[str, Decimal] = defaultdict(Decimal)
        people: dict[str, set[str]] = defaultdict(set)
        for line in wages:
            k = key(line)
            hours[k] += line.hours
            pay[k] += line.pay * facts.rate(line.currency, currency)
            people[k].add(line.person)
        return tuple(HoursRow(k, len(people[k]), hours[k], pay[k]) for k in sorted(hours, key=lambda k: (-hours[k], k)))

    by_week: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    draft_hours = ZERO
    for entry in books.hours:
        if not entry.confirmed:
            draft_hours += entry.hours
            continue
        member = books.member(entry.person)
        department = entry.department or (member.department if member else "")
        by_week[department or "no department"][entry.day - timedelta(days=entry.day.weekday())] += entry.hours
    weeks = tuple(sorted({week for days in by_week.values() for week in days}))
    if weeks:
        weeks = tuple(weeks[0] + timedelta(weeks=n) for n in range((weeks[-1] - weeks[0]).days // 7 + 1))

    classes, _ = books.spend_classes
    accounts: dict[str, list] = defaultdict(lambda: [0, ZERO])
    places: dict[str, list] = defaultdict(lambda: [0, ZERO])
    local = non_local = ZERO
    for spend_class, (amount, count) in classes.items():
        converted = amount * facts.rate(spend_class.currency, currency)
        account = accounts[f"{spend_class.account.code} {spend_class.account.name}"]
        account[0] += count
        account[1] += converted
        place = places[str(spend_class.location) if spend_class.location else "no place given"]
        place[0] += count
        place[1] += converted
        if spend_class.vendor_local:
            local += converted
        else:
            non_local += converted

    def spend_rows(table: dict[str, list]) -> tuple[SpendRow, ...]:
        return tuple(SpendRow(k, v[0], v[1]) for k, v in sorted(table.items(), key=lambda kv: (-kv[1][1], kv[0])))

    return Summary(
        currency=currency,
        confirmed_hours=books.confirmed_hours,
        draft_hours=draft_hours,
        people=len({line.person for line in wages}),
        wages=sum((line.pay * facts.rate(line.currency, currency) for line in wages), ZERO),
        by_department=rows(lambda line: line.department),
        by_role=rows(lambda line: line.role),
        by_union=rows(lambda line: line.member.union_label),
        by_residence=rows(lambda line: str(line.member.residence) if line.member.residence else "not given"),
        weeks=weeks,
        hours_by_week={d: tuple(days.get(w, ZERO) for w in weeks) for d, days in sorted(by_week.items())},
        spend=local + non_local,
        local_spend=local,
        non_local_spend=non_local,
        spend_by_account=spend_rows(accounts),
        spend_by_place=spend_rows(places),
        ai_hours=tuple(ai_assisted_hours(books.hours).items()),
    )


def ai_assisted_hours(entries: Iterable[TimeEntry]) -> dict[str, Decimal]:
    """Confirmed AI-assisted hours by the person who did them (drafts count for nothing), in the
    order people first appear."""
    found: dict[str, Decimal] = {}
    for entry in entries:
        if entry.ai_assisted and entry.confirmed:
            found[entry.person] = found.get(entry.person, ZERO) + entry.hours
    return found
