"""Small production books built in code for the incentive tests: a crew whose confirmed hours at
their rates earn an exact payroll, and spend lines, so each worked example runs through the real
payroll and the real rule files rather than through totals typed in."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from soundstage.books.ledger import Books
from soundstage.books.model import CrewMember, Place, Rate, RateUnit, SpendLine, TimeEntry, Union

START = date(2025, 3, 3)


class Ledger:
    """Crew, hours and spend, added a group at a time."""

    def __init__(self, currency: str = "USD") -> None:
        self.currency = currency
        self.crew: list[CrewMember] = []
        self.hours: list[TimeEntry] = []
        self.spend: list[SpendLine] = []

    def wages(
        self,
        total: int,
        *,
        people: int = 4,
        department: str = "animation",
        role: str = "Animator",
        lives: str = "US-CA/la-zone",
        works: str = "US-CA/la-zone",
        atl: bool = False,
        trainee: bool = False,
        union: Union = Union.NONE,
        rate: int = 50,
    ) -> None:
        """``people`` crew members earning ``total`` together: each works whole 8-hour days at
        ``rate`` an hour (``total`` must divide into them exactly)."""
        each = Decimal(total) / people
        hours = each / rate
        days, left = divmod(hours, 8)
        assert hours == int(hours), f"{total} does not make whole hours at {rate}/h for {people} people"
        for _ in range(people):
            name = f"{role} {len(self.crew) + 1}"
            member = CrewMember(
                name,
                department,
                role,
                union,
                None,
                Place.parse(lives),
                atl=atl,
                trainee=trainee,
                rates=(Rate(Decimal(rate), RateUnit.HOUR, START, self.currency),),
            )
            self.crew.append(member)
            location = Place.parse(works)
            for day in range(int(days)):
                self.hours.append(TimeEntry(name, START + timedelta(days=day), Decimal(8), location=location))
            if left:
                self.hours.append(TimeEntry(name, START + timedelta(days=int(days)), left, location=location))

    def cost(self, amount: int, account: str, where: str, *, vendor: str = "", local: bool = True, **extra) -> None:
        """One spend line on ``account``."""
        self.spend.append(
            SpendLine(
                vendor or f"Vendor {len(self.spend) + 1}",
                account,
                Decimal(amount),
                self.currency,
                START,
                Place.parse(where),
                local,
                origin=f"spend.csv:{len(self.spend) + 2}",
                **extra,
            )
        )

    def books(self) -> Books:
        return Books(list(self.crew), list(self.hours), list(self.spend))
