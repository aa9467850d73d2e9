"""The production's books in its database: crew and rates, time entries (timesheets, and drafts
suggested from what people did in Soundstage: ``project.activity``), spend lines. The estimates,
what-ifs and reports made from them are ``project.incentives``.

The rules are the pure ``soundstage.books`` package; this service stores its values, refuses
input that would not price (a person not on the crew, a day with no rate, more than 24 hours in
a day, an account not in the chart) before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from soundstage.books import csvio
from soundstage.books.bulk import cycle_collection_paused
from soundstage.books.ledger import Books, long_days
from soundstage.books.model import (
    CrewMember,
    Place,
    Rate,
    RateUnit,
    SpendLine,
    TimeEntry,
    Union,
    currencies,
)
from soundstage.books.settings import BooksSettings
from soundstage.errors import BooksError, ConfigError, RowsRefused
from soundstage.project.book_rows import CONFIRMED, DRAFT, Parsed, entries, spend_lines, store_entries, store_spend
from soundstage.project.production import Context
from soundstage.store.tables import CrewMemberRow, CrewRateRow, TimeEntryRow


def books_settings(context: Context) -> BooksSettings:
    """The ``[books]`` section of soundstage.toml, validated; a mistake is one ConfigError line."""
    try:
        return BooksSettings.model_validate(context.settings.books)
    except ValidationError as invalid:
        error = invalid.errors()[0]
        key = ".".join(str(p) for p in error["loc"])
        raise ConfigError(f"soundstage.toml [books] {key}: {error['msg']}") from None


# -- rows and values --------------------------------------------------------------------------------


def _place(text: str | None) -> Place | None:
    return Place.parse(text) if text else None


def _member(row: CrewMemberRow, rates: Iterable[CrewRateRow]) -> CrewMember:
    return CrewMember(
        name=row.name,
        department=row.department,
        role=row.role,
        union=Union(row.union),
        union_local=row.union_local,
        residence=_place(row.residence),
        atl=row.atl,
        trainee=row.trainee,
        rates=tuple(
            Rate(Decimal(r.amount), RateUnit(r.unit), date.fromisoformat(r.effective), r.currency) for r in rates
        ),
    )


def crew_of(session: Session) -> list[CrewMember]:
    rates: dict[int, list[CrewRateRow]] = {}
    for rate in session.scalars(select(CrewRateRow)):
        rates.setdefault(rate.crew_id, []).append(rate)
    rows = session.scalars(select(CrewMemberRow).order_by(CrewMemberRow.name))
    return [_member(row, rates.get(row.id, ())) for row in rows]


@cycle_collection_paused()
def load_books(context: Context) -> Books:
    """The production's books as the pure package's value, with its chart of accounts."""
    chart = books_settings(context).chart()
    with context.reading() as session:
        return Books(crew_of(session), [e for _, e in entries(session)], spend_lines(session), chart)


# -- crew -----------------------------------------------------------------------------------------------


def _store_member(session: Session, member: CrewMember) -> None:
    if session.scalar(select(CrewMemberRow.id).where(CrewMemberRow.name == member.name)) is not None:
        raise BooksError(f"crew member {member.name} is on the books already (crew rate adds a rate)")
    row = CrewMemberRow(
        name=member.name,
        department=member.department,
        role=member.role,
        union=member.union.value,
        union_local=member.union_local,
        residence=str(member.residence) if member.residence else None,
        atl=member.atl,
        trainee=member.trainee,
    )
    session.add(row)
    session.flush()
    for rate in member.rates:
        session.add(_rate_row(row.id, rate))


def _rate_row(crew_id: int, rate: Rate) -> CrewRateRow:
    return CrewRateRow(
        crew_id=crew_id,
        amount=str(rate.amount),
        unit=rate.unit.value,
        effective=rate.effective.isoformat(),
        currency=rate.currency,
    )


def parse_member_rate(
    name: str, *, rate: str = "", day: str = "", effective: date | None = None, currency: str = ""
) -> Rate | None:
    """The rate of ``--rate 42.50/h`` or ``--day 480``; a rate needs its effective date."""
    if rate and day:
        raise BooksError(f"crew member {name}: give --rate or --day, not both")
    text = rate or (f"{day}/day" if day else "")
    if not text:
        return None
    if effective is None:
        raise BooksError(f"crew member {name}: a rate needs its effective date (--effective YYYY-MM-DD)")
    try:
        return csvio.parse_rate(text, effective=effective, currency=currency)
    except BooksError as bad:
        raise BooksError(f"crew member {name}: {bad}") from None


def add_crew(context: Context, member: CrewMember) -> CrewMember:
    """Put a person on the books; a name already there is refused."""
    with context.transaction() as session:
        _store_member(session, member)
    return member


def add_rate(context: Context, name: str, rate: Rate) -> CrewMember:
    """Give a crew member a new rate from its effective date (a raise); one line if the person is
    not on the books or already has a rate from that date."""
    with context.transaction() as session:
        row = session.scalar(select(CrewMemberRow).where(CrewMemberRow.name == name))
        if row is None:
            raise BooksError(f"crew member {name} is not on the books (crew add)")
        taken = select(CrewRateRow.id).where(
            CrewRateRow.crew_id == row.id, CrewRateRow.effective == rate.effective.isoformat()
        )
        if session.scalar(taken) is not None:
            raise BooksError(f"crew member {name} has a rate from {rate.effective} already")
        session.add(_rate_row(row.id, rate))
        session.flush()
        return _member(row, session.scalars(select(CrewRateRow).where(CrewRateRow.crew_id == row.id)))


def import_crew(context: Context, path: Path, *, date_format: str | None = None, ignore: Sequence[str] = ()) -> int:
    """Put a crew list's people on the books (csvio.import_crew); all or nothing."""
    members = csvio.import_crew(path, date_format=date_format, ignore=ignore)
    with context.transaction() as session:
        for member in members:
            _store_member(session, member)
    return len(members)


def crew(context: Context) -> list[CrewMember]:
    """The crew, by name."""
    with context.reading() as session:
        return crew_of(session)


# -- hours ----------------------------------------------------------------------------------------------


@cycle_collection_paused()
def check_hours(session: Session, context: Context, new: list[TimeEntry]) -> None:
    """Refuse (RowsRefused, naming each entry's file and line) new confirmed entries that would not
    price (a person not on the crew, no rate on the day) or that make a day over 24 hours with the
    person's confirmed entries already stored. The crew and rates are read once and the stored
    hours of the days concerned summed in one query, however many entries are new."""
    confirmed = [e for e in new if e.confirmed]
    if not confirmed:
        return
    refusals: list[tuple[str, int | None, str]] = []
    try:
        Books(crew_of(session), confirmed, [], books_settings(context).chart()).wages  # noqa: B018 (prices or refuses)
    except RowsRefused as refused:
        refusals += refused.refusals
    days = [e.day for e in confirmed]
    stored = session.connection().execute(
        select(TimeEntryRow.person, TimeEntryRow.day, TimeEntryRow.hours).where(
            TimeEntryRow.status == CONFIRMED,
            TimeEntryRow.person.in_({e.person for e in confirmed}),
            TimeEntryRow.day.between(min(days).isoformat(), max(days).isoformat()),
        )
    )
    parsed = Parsed()
    booked = ((person, parsed.day(day), parsed.decimal(hours)) for person, day, hours in stored)
    for entry, reason in long_days(confirmed, booked):
        path, _, line = entry.origin.rpartition(":")
        refusals.append((path, int(line), reason) if path and line.isdigit() else (entry.origin, None, reason))
    if refusals:
        raise RowsRefused(refusals)


def add_hours(context: Context, entry: TimeEntry) -> TimeEntry:
    """Book one time entry (``hours add``), refused with one line if it would not price or makes
    the person's day longer than 24 hours."""
    if not Decimal(0) <= entry.hours <= Decimal(24):
        raise BooksError(f"hours add: {entry.hours} hours for {entry.person} on {entry.day}: not 0 to 24")
    entry.origin = entry.origin or f"hours add {entry.person} {entry.day}"
    with context.transaction() as session:
        check_hours(session, context, [entry])
        store_entries(session, [entry])
    return entry


@cycle_collection_paused()
def import_hours(
    context: Context, path: Path, *, date_format: str | None = None, ignore: Sequence[str] = ()
) -> list[TimeEntry]:
    """Book a timesheet export (``hours import``): every refused row named with file and line, and
    nothing stored if any row is refused, in the file or against the books (a person not on the
    crew, no rate in effect on the day, a day over 24 hours with hours already booked)."""
    entries = csvio.import_hours(path, date_format=date_format, ignore=ignore)
    with context.transaction() as session:
        check_hours(session, context, entries)
        store_entries(session, entries)
    return entries


@dataclass(frozen=True)
class BookedEntry:
    """A time entry as stored, with the id ``hours confirm --id`` names."""

    id: int
    entry: TimeEntry


def hours(context: Context, *, drafts_only: bool = False, person: str = "") -> list[BookedEntry]:
    """The time entries on the books (only drafts with ``drafts_only``), in the order booked."""
    where = []
    if drafts_only:
        where.append(TimeEntryRow.status == DRAFT)
    if person:
        where.append(TimeEntryRow.person == person)
    with context.reading() as session:
        return [BookedEntry(i, e) for i, e in entries(session, *where)]


# -- spend ----------------------------------------------------------------------------------------------


def _check_spend(context: Context, lines: list[SpendLine]) -> None:
    Books([], [], lines, books_settings(context).chart()).spend_classes  # noqa: B018 (refuses unknown accounts)


def add_spend(context: Context, line: SpendLine) -> SpendLine:
    """Book one spend line (``spend add``): an account the chart lacks or an unknown currency is refused."""
    if line.currency not in currencies():
        raise BooksError(f"spend add {line.vendor}: unknown currency {line.currency!r} (ISO 4217)")
    line.origin = line.origin or f"spend add {line.vendor} {line.day}"
    _check_spend(context, [line])
    with context.transaction() as session:
        store_spend(session, [line])
    return line


@cycle_collection_paused()
def import_spend(
    context: Context, path: Path, *, date_format: str | None = None, ignore: Sequence[str] = ()
) -> list[SpendLine]:
    """Book a ledger export (``spend import``): every refused row named, nothing stored if any is."""
    lines = csvio.import_spend(path, chart=books_settings(context).chart(), date_format=date_format, ignore=ignore)
    with context.transaction() as session:
        store_spend(session, lines)
    return lines


def parse_amount(text: str, what: str) -> Decimal:
    """A money amount typed on the command line, exact; one line naming ``what`` otherwise. The
    same rule as a ledger's cells, so what ``spend add`` takes ``spend import`` takes too (and an
    amount like 1e99999 never reaches the report)."""
    return csvio.parse_number(text, what=what)
