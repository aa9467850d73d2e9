"""The production books' rows in the database, at the speed of a year's books: time entries and
spend lines stored at the driver (one statement or COPY per import) and read back as plain
tuples into the ``soundstage.books`` values, each distinct date, hour figure and place parsed
once. ``project.books`` checks what is stored; this module only moves values in and out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from soundstage.books.bulk import cycle_collection_paused
from soundstage.books.model import EntrySource, Place, SpendKind, SpendLine, TimeEntry
from soundstage.store.tables import SpendLineRow, TimeEntryRow, utcnow

DRAFT, CONFIRMED = "draft", "confirmed"  # a time entry's status
_REBUILD_FROM = 1000  # rows in one batch before the indexes may be rebuilt after it

# The stored columns of a time entry and a spend line, in the order the tuples below give them.
_ENTRY_FIELDS = (
    "person",
    "day",
    "hours",
    "role",
    "department",
    "location",
    "scene",
    "shot",
    "task",
    "status",
    "source",
    "pay",
    "currency",
    "origin",
    "ai_assisted",
)
_SPEND_FIELDS = (
    "vendor",
    "account",
    "amount",
    "currency",
    "day",
    "location",
    "vendor_local",
    "atl",
    "kind",
    "department",
    "description",
    "origin",
)
_SOURCES = {source.value: source for source in EntrySource}
_KINDS = {kind.value: kind for kind in SpendKind}


class Parsed:
    """Dates, hours and places read back from their text, each distinct text parsed once: a
    year's books name a few hundred days, a few dozen hour figures and a handful of places a
    hundred thousand times."""

    def __init__(self) -> None:
        self.days: dict[str, date] = {}
        self.hours: dict[str, Decimal] = {}
        self.places: dict[str | None, Place | None] = {None: None, "": None}

    def day(self, text: str) -> date:
        found = self.days.get(text)
        if found is None:
            found = self.days[text] = date.fromisoformat(text)
        return found

    def decimal(self, text: str) -> Decimal:
        found = self.hours.get(text)
        if found is None:
            found = self.hours[text] = Decimal(text)
        return found

    def place(self, text: str | None) -> Place | None:
        if text in self.places:
            return self.places[text]
        found = self.places[text] = Place.parse(text)  # type: ignore[arg-type]  (None is in places)
        return found


def _select(session: Session, table: Any, fields: Sequence[str], *where: Any) -> Any:
    """Plain tuples of ``fields`` (after the id) in the order booked, through Core rather than the
    ORM: no objects made per row."""
    columns = [table.c.id, *(table.c[name] for name in fields)]
    return session.connection().execute(select(*columns).where(*where).order_by(table.c.id))


@cycle_collection_paused()
def entries(session: Session, *where: Any) -> list[tuple[int, TimeEntry]]:
    """The stored time entries (those matching ``where``) with their ids, in the order booked."""
    parsed = Parsed()
    day, decimal, place, sources = parsed.day, parsed.decimal, parsed.place, _SOURCES
    found = []
    rows = _select(session, TimeEntryRow.__table__, _ENTRY_FIELDS, *where)
    for (
        id_,
        person,
        day_,
        hours_,
        role,
        department,
        location,
        scene,
        shot,
        task,
        status,
        source,
        pay,
        currency,
        origin,
        ai_assisted,
    ) in rows.all():
        entry = TimeEntry(
            person,
            day(day_),
            decimal(hours_),
            role,
            department,
            place(location),
            scene,
            shot,
            task,
            status == CONFIRMED,
            sources[source],
            Decimal(pay) if pay is not None else None,
            currency,
            origin or f"time entry {id_}",
            bool(ai_assisted),
        )
        found.append((id_, entry))
    return found


def _entry_row(entry: TimeEntry) -> tuple[Any, ...]:
    """A time entry as the tuple of ``_ENTRY_FIELDS``."""
    return (
        entry.person,
        entry.day.isoformat(),
        str(entry.hours),
        entry.role,
        entry.department,
        str(entry.location) if entry.location else None,
        entry.scene,
        entry.shot,
        entry.task,
        CONFIRMED if entry.confirmed else DRAFT,
        entry.source.value,
        str(entry.pay) if entry.pay is not None else None,
        entry.currency,
        entry.origin,
        entry.ai_assisted,
    )


@cycle_collection_paused()
def spend_lines(session: Session) -> list[SpendLine]:
    parsed = Parsed()
    day, place, kinds = parsed.day, parsed.place, _KINDS
    lines = []
    rows = _select(session, SpendLineRow.__table__, _SPEND_FIELDS)
    for (
        id_,
        vendor,
        account,
        amount,
        currency,
        day_,
        location,
        local,
        atl,
        kind,
        department,
        description,
        origin,
    ) in rows.all():
        lines.append(
            SpendLine(
                vendor,
                account,
                Decimal(amount),
                currency,
                day(day_),
                place(location),
                bool(local),
                None if atl is None else bool(atl),
                kinds[kind] if kind else None,
                department,
                description,
                origin or f"spend line {id_}",
            )
        )
    return lines


def _spend_row(line: SpendLine) -> tuple[Any, ...]:
    """A spend line as the tuple of ``_SPEND_FIELDS``."""
    return (
        line.vendor,
        line.account,
        str(line.amount),
        line.currency,
        line.day.isoformat(),
        str(line.location) if line.location else None,
        line.vendor_local,
        line.atl,
        line.kind.value if line.kind else None,
        line.department,
        line.description,
        line.origin,
    )


def _insert(session: Session, table: Any, fields: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Many plain rows (tuples of ``fields``) at the driver, in the session's transaction:
    SQLAlchemy's own executemany processed every parameter of every row in Python, which was most
    of an import's time (100,000 timesheet rows). PostgreSQL takes the rows through COPY (psycopg
    3), its bulk path; SQLite through the driver's executemany. Every row gets the same
    ``created_at``, converted for the database once by the column's own type."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    bind = table.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    now = bind(utcnow()) if bind else utcnow()
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in (*fields, "created_at"))
    if dialect.name == "postgresql":
        copy_in = f"COPY {quote(table.name)} ({names}) FROM STDIN"
        with connection.connection.cursor() as cursor, cursor.copy(copy_in) as copy:
            for row in rows:
                copy.write_row((*row, now))
        return
    marks = ", ".join("?" for _ in range(len(fields) + 1))
    insert = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"
    with _indexes_rebuilt_after(connection, table.name, len(rows)):
        connection.exec_driver_sql(insert, [(*row, now) for row in rows])


@contextmanager
def _indexes_rebuilt_after(connection: Any, table: str, adding: int) -> Iterator[None]:
    """On SQLite, when a batch at least doubles a table, drop its indexes for the insert and build
    them again after: keeping three indexes of time_entries up to date row by row cost more than
    the rows themselves, and building an index over the whole table once is a sort (measured:
    100,000 time entries 1.18 s with the indexes kept, 0.61 s dropped and rebuilt). With fewer new
    rows than stored ones, rebuilding would cost more than it saves. The statements replayed are
    the database's own (sqlite_master), so the indexes come back exactly as the migrations made
    them; DDL is transactional in SQLite, so a failed import leaves them as they were."""
    # A few hundred rows keep the indexes up to date in milliseconds; not worth counting the table.
    if adding < _REBUILD_FROM or connection.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar_one() > adding:
        yield
        return
    made = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,)
    ).all()
    for name, _ in made:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for _, sql in made:
        connection.exec_driver_sql(sql)


def store_entries(session: Session, new: Sequence[TimeEntry]) -> None:
    """Store time entries as they are (checked before: ``check_hours``), in one statement."""
    _insert(session, TimeEntryRow.__table__, _ENTRY_FIELDS, [_entry_row(e) for e in new])


def store_spend(session: Session, lines: Sequence[SpendLine]) -> None:
    _insert(session, SpendLineRow.__table__, _SPEND_FIELDS, [_spend_row(line) for line in lines])
