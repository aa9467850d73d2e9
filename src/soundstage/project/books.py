"""The production's books in its database: crew and rates, time entries (timesheets, and drafts
suggested from what people did in Soundstage), spend lines, and the incentive estimates,
what-ifs and reports made from them.

The rules are the pure ``soundstage.books`` package; this service stores its values, refuses
input that would not price (a person not on the crew, a day with no rate, more than 24 hours in
a day, an account not in the chart) before anything is written, and gathers the activity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from soundstage import plugins
from soundstage.books import csvio
from soundstage.books.incentives import Estimate, countable, estimate
from soundstage.books.ledger import Books, long_days
from soundstage.books.model import (
    Activity,
    ActivityKind,
    CrewMember,
    EntrySource,
    Place,
    Rate,
    RateUnit,
    SpendKind,
    SpendLine,
    TimeEntry,
    Union,
    currencies,
)
from soundstage.books.programs import Catalog, builtin_folder, load_programs
from soundstage.books.settings import BooksSettings
from soundstage.books.suggest import DayCheck, reconcile, suggest_hours
from soundstage.books.summary import Summary, summarize
from soundstage.books.whatif import Comparison, WhatIf, compare, evaluate, load_design
from soundstage.errors import BooksError, ConfigError, RowsRefused
from soundstage.project.production import Context
from soundstage.review.workflow import Action
from soundstage.store.tables import CrewMemberRow, CrewRateRow, EventRow, JobRow, ShotRow, SpendLineRow, TimeEntryRow

DRAFT, CONFIRMED = "draft", "confirmed"
PROGRAMS_KIND = "incentives"  # the data search path's kind (plugins.search_path)
_DECISIONS = frozenset(
    {Action.START, Action.SUBMIT, Action.APPROVE, Action.REQUEST_CHANGES, Action.FINAL, Action.REOPEN, Action.ASSIGN}
)


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


def _crew(session: Session) -> list[CrewMember]:
    rates: dict[int, list[CrewRateRow]] = {}
    for rate in session.scalars(select(CrewRateRow)):
        rates.setdefault(rate.crew_id, []).append(rate)
    rows = session.scalars(select(CrewMemberRow).order_by(CrewMemberRow.name))
    return [_member(row, rates.get(row.id, ())) for row in rows]


_ENTRY_COLUMNS = (
    TimeEntryRow.id,
    TimeEntryRow.person,
    TimeEntryRow.day,
    TimeEntryRow.hours,
    TimeEntryRow.role,
    TimeEntryRow.department,
    TimeEntryRow.location,
    TimeEntryRow.scene,
    TimeEntryRow.shot,
    TimeEntryRow.task,
    TimeEntryRow.status,
    TimeEntryRow.source,
    TimeEntryRow.pay,
    TimeEntryRow.currency,
    TimeEntryRow.origin,
)


def _entries(session: Session, *where: Any) -> list[tuple[int, TimeEntry]]:
    # Plain column tuples, not ORM objects: a year's timesheets are a hundred thousand rows.
    found = []
    for r in session.execute(select(*_ENTRY_COLUMNS).where(*where).order_by(TimeEntryRow.id)):
        entry = TimeEntry(
            person=r.person,
            day=date.fromisoformat(r.day),
            hours=Decimal(r.hours),
            role=r.role,
            department=r.department,
            location=_place(r.location),
            scene=r.scene,
            shot=r.shot,
            task=r.task,
            confirmed=r.status == CONFIRMED,
            source=EntrySource(r.source),
            pay=Decimal(r.pay) if r.pay is not None else None,
            currency=r.currency,
            origin=r.origin or f"time entry {r.id}",
        )
        found.append((r.id, entry))
    return found


def _entry_values(entry: TimeEntry) -> dict[str, Any]:
    return {
        "person": entry.person,
        "day": entry.day.isoformat(),
        "hours": str(entry.hours),
        "role": entry.role,
        "department": entry.department,
        "location": str(entry.location) if entry.location else None,
        "scene": entry.scene,
        "shot": entry.shot,
        "task": entry.task,
        "status": CONFIRMED if entry.confirmed else DRAFT,
        "source": entry.source.value,
        "pay": str(entry.pay) if entry.pay is not None else None,
        "currency": entry.currency,
        "origin": entry.origin,
    }


def _spend(session: Session) -> list[SpendLine]:
    lines = []
    for r in session.execute(select(SpendLineRow.__table__).order_by(SpendLineRow.id)):
        lines.append(
            SpendLine(
                vendor=r.vendor,
                account=r.account,
                amount=Decimal(r.amount),
                currency=r.currency,
                day=date.fromisoformat(r.day),
                location=_place(r.location),
                vendor_local=r.vendor_local,
                atl=r.atl,
                kind=SpendKind(r.kind) if r.kind else None,
                department=r.department,
                description=r.description,
                origin=r.origin or f"spend line {r.id}",
            )
        )
    return lines


def _spend_values(line: SpendLine) -> dict[str, Any]:
    return {
        "vendor": line.vendor,
        "account": line.account,
        "amount": str(line.amount),
        "currency": line.currency,
        "day": line.day.isoformat(),
        "location": str(line.location) if line.location else None,
        "vendor_local": line.vendor_local,
        "atl": line.atl,
        "kind": line.kind.value if line.kind else None,
        "department": line.department,
        "description": line.description,
        "origin": line.origin,
    }


def load_books(context: Context) -> Books:
    """The production's books as the pure package's value, with its chart of accounts."""
    chart = books_settings(context).chart()
    with context.reading() as session:
        return Books(_crew(session), [e for _, e in _entries(session)], _spend(session), chart)


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
        return _crew(session)


# -- hours ----------------------------------------------------------------------------------------------


def _check_hours(session: Session, context: Context, new: list[TimeEntry], *, ignoring: set[int] = frozenset()) -> None:
    """Refuse (RowsRefused, naming each entry's file and line) new confirmed entries that would not
    price or that make a day over 24 hours with the person's confirmed entries already stored."""
    members = _crew(session)
    confirmed = [e for e in new if e.confirmed]
    refusals: list[tuple[str, int | None, str]] = []
    try:
        Books(members, confirmed, [], books_settings(context).chart()).wages  # noqa: B018 (prices or refuses)
    except RowsRefused as refused:
        refusals += refused.refusals
    people = {e.person for e in confirmed}
    stored = [
        e
        for i, e in _entries(session, TimeEntryRow.status == CONFIRMED, TimeEntryRow.person.in_(people))
        if i not in ignoring
    ]
    mine = {id(e) for e in confirmed}
    for entry, reason in long_days(stored + confirmed):
        if id(entry) in mine:
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
        _check_hours(session, context, [entry])
        session.execute(insert(TimeEntryRow), [_entry_values(entry)])
    return entry


def import_hours(
    context: Context, path: Path, *, date_format: str | None = None, ignore: Sequence[str] = ()
) -> list[TimeEntry]:
    """Book a timesheet export (``hours import``): every refused row named with file and line, and
    nothing stored if any row is refused, in the file or against the books (a person not on the
    crew, no rate in effect on the day, a day over 24 hours with hours already booked)."""
    entries = csvio.import_hours(path, date_format=date_format, ignore=ignore)
    with context.transaction() as session:
        _check_hours(session, context, entries)
        if entries:
            session.execute(insert(TimeEntryRow), [_entry_values(e) for e in entries])
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
        return [BookedEntry(i, e) for i, e in _entries(session, *where)]


# -- hours from activity ------------------------------------------------------------------------------


def activities(context: Context) -> list[Activity]:
    """What people did in Soundstage, each with its person and time: takes they requested (the
    job's queue time), review decisions and notes (the audit trail).

    Not yet here: layouts edited by hand (the layout file's change carries no person) and consents
    (the guardrails are not yet in the database)."""
    found: list[Activity] = []
    with context.reading() as session:
        for actor, at, action, subject in session.execute(
            select(EventRow.actor, EventRow.at, EventRow.action, EventRow.subject)
        ):
            if action == Action.NOTE:
                kind = ActivityKind.NOTE
            elif action in _DECISIONS:
                kind = ActivityKind.REVIEW_DECISION
            else:
                continue  # adding users, sharing playlists: administration, not work on the film
            found.append(Activity(actor, at, kind, subject.partition("/")[0]))
        requester = JobRow.recipe["requested_by"].as_string()
        jobs = select(requester, JobRow.created_at, ShotRow.code).join(ShotRow, ShotRow.id == JobRow.shot_id)
        for person, at, code in session.execute(jobs):
            if person:
                found.append(Activity(person, at, ActivityKind.TAKE_REQUESTED, code))
    return found


@dataclass(frozen=True)
class SuggestReport:
    """What ``hours suggest`` did: drafts stored (replacing earlier drafts of the same days) and
    the person-days it left alone because they were confirmed already."""

    drafts: list[TimeEntry]
    replaced: int
    kept: int


def suggest(context: Context) -> SuggestReport:
    """Draft time entries per person and day from the activity (books.suggest.suggest_hours with
    the ``[books]`` gap, padding and time zone). A day whose activity draft was confirmed is kept;
    earlier drafts of the other days are replaced, so running it again is safe."""
    settings = books_settings(context)
    members = {m.name: m for m in crew(context)}
    drafts = suggest_hours(activities(context), gap=settings.gap, pad=settings.pad, tz=settings.zone(), crew=members)
    with context.transaction() as session:
        confirmed = {
            (p.casefold(), d)
            for p, d in session.execute(
                select(TimeEntryRow.person, TimeEntryRow.day).where(
                    TimeEntryRow.source == EntrySource.ACTIVITY.value, TimeEntryRow.status == CONFIRMED
                )
            )
        }
        fresh = [d for d in drafts if (d.person.casefold(), d.day.isoformat()) not in confirmed]
        old = delete(TimeEntryRow).where(
            TimeEntryRow.source == EntrySource.ACTIVITY.value, TimeEntryRow.status == DRAFT
        )
        replaced = session.execute(old).rowcount or 0
        for draft in fresh:
            draft.origin = f"activity {draft.person} {draft.day}"
        if fresh:
            session.execute(insert(TimeEntryRow), [_entry_values(d) for d in fresh])
    return SuggestReport(fresh, replaced, len(drafts) - len(fresh))


def confirm(
    context: Context, *, ids: Sequence[int] = (), person: str = "", first: date | None = None, last: date | None = None
) -> list[TimeEntry]:
    """Confirm drafts so they count: those of ``ids``, or of ``person`` and/or days ``first`` to
    ``last``. A draft for a day that already has confirmed hours of that person is refused (the
    day would be counted twice), as is one that would not price."""
    if not (ids or person or first or last):
        raise BooksError("hours confirm: name the drafts (--id, --person, --from/--to)")
    where = [TimeEntryRow.status == DRAFT]
    if ids:
        where.append(TimeEntryRow.id.in_(list(ids)))
    if person:
        where.append(TimeEntryRow.person == person)
    if first:
        where.append(TimeEntryRow.day >= first.isoformat())
    if last:
        where.append(TimeEntryRow.day <= last.isoformat())
    with context.transaction() as session:
        drafts = _entries(session, *where)
        if ids and len(drafts) != len(set(ids)):
            missing = sorted(set(ids) - {i for i, _ in drafts})
            raise BooksError(f"hours confirm: no draft with id {', '.join(map(str, missing))}")
        booked = {
            (p, d)
            for p, d in session.execute(
                select(TimeEntryRow.person, TimeEntryRow.day).where(
                    TimeEntryRow.status == CONFIRMED, TimeEntryRow.person.in_({e.person for _, e in drafts})
                )
            )
        }
        twice = [
            (e.origin, None, f"{e.person} has confirmed hours on {e.day} already; confirming would count the day twice")
            for _, e in drafts
            if (e.person, e.day.isoformat()) in booked
        ]
        if twice:
            raise RowsRefused(twice)
        for _, entry in drafts:
            entry.confirmed = True
        _check_hours(session, context, [e for _, e in drafts])
        if drafts:
            session.execute(
                update(TimeEntryRow).where(TimeEntryRow.id.in_([i for i, _ in drafts])).values(status=CONFIRMED)
            )
    return [e for _, e in drafts]


def disagreements(context: Context, *, tolerance: Decimal = Decimal(1)) -> list[DayCheck]:
    """Each person's day where the confirmed timesheet and the activity differ by over ``tolerance``."""
    settings = books_settings(context)
    with context.reading() as session:
        sheets = [e for _, e in _entries(session, TimeEntryRow.source == EntrySource.TIMESHEET.value)]
    return reconcile(
        sheets, activities(context), tolerance=tolerance, gap=settings.gap, pad=settings.pad, tz=settings.zone()
    )


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
        session.execute(insert(SpendLineRow), [_spend_values(line)])
    return line


def import_spend(
    context: Context, path: Path, *, date_format: str | None = None, ignore: Sequence[str] = ()
) -> list[SpendLine]:
    """Book a ledger export (``spend import``): every refused row named, nothing stored if any is."""
    lines = csvio.import_spend(path, chart=books_settings(context).chart(), date_format=date_format, ignore=ignore)
    with context.transaction() as session:
        if lines:
            session.execute(insert(SpendLineRow), [_spend_values(line) for line in lines])
    return lines


# -- incentives and reports -----------------------------------------------------------------------------


def program_folders(context: Context) -> list[Path]:
    """Where studios' program files are found, lowest priority first (a later file of the same id
    replaces an earlier one): the data search path of kind ``incentives`` (Soundstage's own
    defaults, each ``$SOUNDSTAGE_PATH`` folder, the production's ``incentives/``), where such a
    folder exists, then the folders ``[books] programs`` names (which must exist)."""
    builtin = builtin_folder().resolve()
    found = [f for f in reversed(plugins.search_path(context.root, PROGRAMS_KIND)) if f.is_dir()]
    found = [f for f in found if f.resolve() != builtin]
    return found + books_settings(context).program_folders(context.root)


def catalog(context: Context) -> Catalog:
    """The shipped programs and the studio's, validated."""
    return load_programs(program_folders(context))


@dataclass(frozen=True)
class Incentives:
    """An estimate of the production's programs, the what-if designs and their comparison."""

    books: Books
    estimate: Estimate
    whatifs: list[WhatIf]
    comparisons: list[Comparison]
    skipped: list[tuple[str, str]]  # programs left out, with why (no exchange rate given)
    currency: str


def incentives(
    context: Context,
    *,
    programs: Sequence[str] = (),
    as_of: date | None = None,
    what_if: Sequence[Path] = (),
) -> Incentives:
    """Estimate every program in effect on ``as_of`` (default today), or those named (an unknown
    id or an expired rule set is one line), from the production's books and ``[books.facts]``."""
    settings = books_settings(context)
    facts = settings.production_facts()
    books = load_books(context)
    day = as_of or date.today()
    chosen = catalog(context).select(list(programs) or None, day)
    skipped: list[tuple[str, str]] = []
    if not programs:  # a program named is estimated or refused; unnamed ones may be left out
        chosen, left_out = countable(chosen, books, facts)
        skipped = [(program.id, why) for program, why in left_out]
    result = estimate(books, facts, chosen, day)
    whatifs = [evaluate(load_design(path), books, facts) for path in what_if]
    fte = whatifs[0].design.fte_hours if whatifs else None
    extra = {"fte_hours": fte} if fte is not None else {}
    comparisons = compare(books, facts, result, whatifs, currency=settings.currency, **extra)
    return Incentives(books, result, whatifs, comparisons, skipped, settings.currency)


def summary(context: Context) -> Summary:
    """The books summed for people, in the ``[books]`` currency."""
    settings = books_settings(context)
    return summarize(load_books(context), settings.production_facts(), settings.currency)


def write_report(
    context: Context,
    out_dir: Path,
    *,
    what_if: Sequence[Path] = (),
    as_of: date | None = None,
    include_pay: bool = True,
) -> list[Path]:
    """``books report``: books.html and books.pdf into ``out_dir`` (books.report)."""
    from soundstage.books.report import write_books_report  # matplotlib and fpdf2 only when asked

    found = incentives(context, as_of=as_of, what_if=what_if)
    facts = books_settings(context).production_facts()
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_books_report(
        out_dir,
        found.books,
        facts,
        found.estimate,
        found.whatifs,
        currency=found.currency,
        include_pay=include_pay,
        title=context.settings.title,
        skipped=found.skipped,
    )


def parse_amount(text: str, what: str) -> Decimal:
    """A money amount typed on the command line, exact; one line naming ``what`` otherwise."""
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise BooksError(f"{what}: {text!r} is not an amount") from None
    if not value.is_finite():
        raise BooksError(f"{what}: {text!r} is not an amount")
    return value
