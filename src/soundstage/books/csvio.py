"""Timesheets, ledgers and crew lists from CSV: columns found by a header row, every refused row
reported with its file and line, and nothing returned unless every row was taken.

Header names are matched without regard to case, spaces, underscores, hyphens or dots, and each
column has aliases for what payroll and accounting exports call it (``Employee Name`` is
``person``, ``GL Account`` is ``account``); docs/books.md lists them. A column that is not known
is refused rather than dropped, so a misspelt ``Huors`` never loses a week of hours; columns a
file carries for other purposes are passed in ``ignore``.

The stdlib ``csv`` module and ``Decimal`` do the work: 150,000 rows in about a second
(benchmarks/books.py), so no data-frame library is needed for import.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from soundstage.books.bulk import cycle_collection_paused
from soundstage.books.ledger import HOURS_IN_A_DAY, long_days
from soundstage.books.model import (
    Chart,
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
    load_chart,
)
from soundstage.errors import BooksError, RowsRefused
from soundstage.files import read_failure


@dataclass(frozen=True)
class Column:
    """A column the importer knows: its name, the other headers it answers to, and whether a file
    must have it."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False


HOURS_COLUMNS = (
    Column("person", ("name", "employee", "employee name", "crew member", "worker"), required=True),
    Column("date", ("day", "work date", "date worked"), required=True),
    Column("hours", ("hrs", "hours worked", "total hours"), required=True),
    Column("role", ("job title", "title", "position", "occupation")),
    Column("department", ("dept",)),
    Column("location", ("work location", "place", "where", "work place")),
    Column("scene", ("scene number",)),
    Column("shot", ("shot code",)),
    Column("task", ("what for", "description", "work", "activity")),
    Column("confirmed", ("approved",)),
    Column("pay", ("gross", "gross pay", "wages", "amount")),
    Column("currency", ("ccy", "cur")),
    Column("ai assisted", ("ai", "genai", "ai work")),
)

SPEND_COLUMNS = (
    Column("vendor", ("payee", "supplier"), required=True),
    Column("account", ("account code", "acct", "gl account", "gl"), required=True),
    Column("amount", ("cost", "total", "net amount"), required=True),
    Column("currency", ("ccy", "cur"), required=True),
    Column("date", ("day", "invoice date", "posted", "posting date"), required=True),
    Column("location", ("where", "place", "work location", "purchase location")),
    Column("local", ("vendor local", "local vendor", "is local")),
    Column("line", ("atl btl", "above below", "atl")),
    Column("kind", ("type", "spend kind")),
    Column("department", ("dept",)),
    Column("description", ("memo", "details", "notes")),
)

CREW_COLUMNS = (
    Column("name", ("person", "crew member", "employee", "employee name"), required=True),
    Column("department", ("dept",), required=True),
    Column("role", ("job title", "title", "position", "occupation"), required=True),
    Column("union", ("guild", "union guild")),
    Column("local", ("union local",)),
    Column("resident of", ("residence", "resides in", "home")),
    Column("line", ("atl btl", "above below", "atl")),
    Column("trainee", ("career pathways",)),
    Column("rate", ("pay rate",)),
    Column("unit", ("per", "rate unit")),
    Column("effective", ("effective date", "rate from", "from")),
    Column("currency", ("ccy", "cur")),
)

_SEPARATORS = re.compile(r"[\s_\-./]+")
# At most fifteen whole digits (under a quadrillion): more is a typo, and sums of such amounts
# would pass the 28 digits Decimal keeps, which the report's rounding refuses.
_NUMBER = re.compile(r"-?(\d{1,15}|\d{1,3}(,\d{3}){0,4})(\.\d+)?")
_DIGITS = re.compile(r"-?[\d,]+(\.\d+)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # all but tab and line ends
_TRUE = frozenset({"yes", "y", "true", "t", "1", "x"})
_FALSE = frozenset({"no", "n", "false", "f", "0", ""})
_UNITS = {"h": RateUnit.HOUR, "hr": RateUnit.HOUR, "hour": RateUnit.HOUR, "hourly": RateUnit.HOUR}
_UNITS |= {"d": RateUnit.DAY, "day": RateUnit.DAY, "daily": RateUnit.DAY}


def header_key(text: str) -> str:
    """A header as matched: lower case, runs of spaces, underscores, hyphens, dots and slashes as
    one space (``Work_Location`` and ``work location`` are the same column)."""
    return _SEPARATORS.sub(" ", text.strip().lower()).strip()


class _Bad(ValueError):
    """One thing wrong with one cell; the row's reasons are joined into its one line."""


class _Strict:
    """Reads a row's cells, raising at the first problem: the fast path every good row takes."""

    __slots__ = ()

    def cell(self, parse: Callable[[str], Any], text: str, column: str) -> Any:
        return parse(text)

    def bad(self, reason: str) -> None:
        raise _Bad(reason)


class _Collecting:
    """Reads a row's cells, gathering every problem: a row the fast path refused is read again
    this way, so its one line names all that is wrong with it, with the same parsers."""

    __slots__ = ("problems",)

    def __init__(self) -> None:
        self.problems: list[str] = []

    def cell(self, parse: Callable[[str], Any], text: str, column: str) -> Any:
        return _cell(self.problems, parse, text, column)

    def bad(self, reason: str) -> None:
        self.problems.append(reason)


_STRICT = _Strict()


def _read_rows(table: _Table, make: Callable[[list[str], int, Any], Any]) -> list[Any]:
    """``make(row, line, reader)`` for every row: strictly first, and for a row that fails,
    again collecting its problems, which refuse it."""
    made = []
    for line, row in table.rows():
        try:
            made.append(make(row, line, _STRICT))
            continue
        except ValueError:  # _Bad, or a parser's own ValueError
            pass
        reader = _Collecting()
        make(row, line, reader)
        table.refuse(line, "; ".join(reader.problems) or "bad row")
    return made


@cycle_collection_paused()
def import_hours(path: Path, *, date_format: str | None = None, ignore: Iterable[str] = ()) -> list[TimeEntry]:
    """Time entries from a timesheet export: one per row, confirmed unless a ``confirmed`` column
    says otherwise (a payroll timesheet is signed). Refuses the whole file, naming every bad row:
    missing or unknown columns, a bad date, negative hours, more than 24 hours for one person on
    one day (summed over that person's rows for the day), an unknown currency, pay without a
    currency."""
    table = _Table.read(path, HOURS_COLUMNS, ignore)
    where, ix = str(path), table.index
    parse_day = _day_parser(date_format)
    i_person, i_date, i_hours, i_role, i_department, i_location = (
        ix[c] for c in ("person", "date", "hours", "role", "department", "location")
    )
    i_scene, i_shot, i_task, i_confirmed, i_pay, i_currency, i_ai = (
        ix[c] for c in ("scene", "shot", "task", "confirmed", "pay", "currency", "ai assisted")
    )

    def entry(row: list[str], line: int, read: _Strict | _Collecting) -> TimeEntry:
        person = " ".join(row[i_person].split())
        if not person:
            read.bad("no person")
        day = read.cell(parse_day, row[i_date], "date")
        hours = read.cell(_decimal, row[i_hours], "hours")
        if hours is not None and hours < 0:
            read.bad(f"negative hours {hours}")
        elif hours is not None and hours > HOURS_IN_A_DAY:
            read.bad(f"{hours} hours is over 24 in a day")
        location = read.cell(_place, row[i_location], "location")
        confirmed = read.cell(_flag_true, row[i_confirmed], "confirmed")
        ai_assisted = read.cell(_flag_false, row[i_ai], "ai assisted")
        pay = read.cell(_decimal_or_none, row[i_pay], "pay")
        currency = read.cell(_currency, row[i_currency], "currency")
        if pay is not None and currency is None and not row[i_currency].strip():
            read.bad("pay without a currency")
        return TimeEntry(
            person=person,
            day=day,
            hours=hours,
            role=row[i_role].strip(),
            department=row[i_department].strip(),
            location=location,
            scene=row[i_scene].strip(),
            shot=row[i_shot].strip(),
            task=row[i_task].strip(),
            confirmed=confirmed,
            source=EntrySource.TIMESHEET,
            pay=pay,
            currency=currency,
            origin=f"{where}:{line}",
            ai_assisted=ai_assisted,
        )

    entries = _read_rows(table, entry)
    _refuse_long_days(table, entries)
    table.finish()
    return entries


def _refuse_long_days(table: _Table, entries: list[TimeEntry]) -> None:
    """Every row of a person's day whose rows add up to more than 24 hours."""
    for entry, reason in long_days(entries):
        table.refuse(int(entry.origin.rpartition(":")[2]), reason)


@cycle_collection_paused()
def import_spend(
    path: Path, *, chart: Chart | None = None, date_format: str | None = None, ignore: Iterable[str] = ()
) -> list[SpendLine]:
    """Spend lines from a ledger or cost report export, one per row. The account must be in the
    chart of accounts (the default for animation unless ``chart`` is given); a line's ATL/BTL and
    kind default to its account's. Amounts may be negative (a credit or refund). Refuses the whole
    file, naming every bad row."""
    chart = chart or load_chart()
    table = _Table.read(path, SPEND_COLUMNS, ignore)
    where, ix = str(path), table.index
    parse_day = _day_parser(date_format)
    i_vendor, i_account, i_amount, i_currency, i_date, i_location = (
        ix[c] for c in ("vendor", "account", "amount", "currency", "date", "location")
    )
    i_local, i_line, i_kind, i_department, i_description = (
        ix[c] for c in ("local", "line", "kind", "department", "description")
    )

    def spend_line(row: list[str], line: int, read: _Strict | _Collecting) -> SpendLine:
        vendor = row[i_vendor].strip()
        if not vendor:
            read.bad("no vendor")
        account = row[i_account].strip()
        if account not in chart.accounts:
            read.bad(f"account {account!r} is not in the chart of accounts ({chart.source})")
        amount = read.cell(_decimal, row[i_amount], "amount")
        currency = read.cell(_currency, row[i_currency], "currency")
        if currency is None and not row[i_currency].strip():
            read.bad("no currency")
        return SpendLine(
            vendor=vendor,
            account=account,
            amount=amount,
            currency=currency,
            day=read.cell(parse_day, row[i_date], "date"),
            location=read.cell(_place, row[i_location], "location"),
            vendor_local=read.cell(_flag_false, row[i_local], "local"),
            atl=read.cell(_line, row[i_line], "line"),
            kind=read.cell(_kind, row[i_kind], "kind"),
            department=row[i_department].strip(),
            description=row[i_description].strip(),
            origin=f"{where}:{line}",
        )

    spend = _read_rows(table, spend_line)
    table.finish()
    return spend


@cycle_collection_paused()
def import_crew(path: Path, *, date_format: str | None = None, ignore: Iterable[str] = ()) -> list[CrewMember]:
    """Crew members from a crew list, one row per person and rate: a person with a raise has a
    row for each rate, with its effective date. Refuses the whole file, naming every bad row: a
    rate without an effective date or a currency, an unknown union, a person whose rows disagree
    on anything but the rate."""
    table = _Table.read(path, CREW_COLUMNS, ignore)
    get = table.getter
    parse_day = _day_parser(date_format)
    people: dict[str, tuple[int, dict[str, Any], list[Rate]]] = {}
    for line, row in table.rows():
        problems: list[str] = []
        name = " ".join(get(row, "name").split())
        for column in ("name", "department", "role"):
            if not get(row, column).strip():
                problems.append(f"no {column}")
        union, union_local = _cell(problems, _union, get(row, "union"), "union") or (Union.NONE, None)
        local_text = get(row, "local").strip()
        if local_text:
            if local_text.isdigit():
                union_local = int(local_text)
            else:
                problems.append(f"union local {local_text!r} is not a number")
        residence = _cell(problems, _place, get(row, "resident of"), "resident of")
        atl = _cell(problems, _line, get(row, "line"), "line")
        trainee = _cell(problems, _flag_false, get(row, "trainee"), "trainee")
        rate = _crew_rate(problems, get, row, parse_day)
        if problems:
            table.refuse(line, "; ".join(problems))
            continue
        fields = {
            "department": get(row, "department").strip(),
            "role": get(row, "role").strip(),
            "union": union,
            "union_local": union_local,
            "residence": residence,
            "atl": bool(atl),
            "trainee": trainee,
        }
        first = people.get(name.casefold())
        if first is None:
            people[name.casefold()] = (line, {"name": name, **fields}, [rate] if rate else [])
            continue
        first_line, first_fields, rates = first
        differs = [key for key, value in fields.items() if first_fields[key] != value]
        if differs:
            table.refuse(line, f"{name}: {differs[0]} differs from line {first_line} (only the rate may change)")
        elif rate is not None and any(r.effective == rate.effective for r in rates):
            table.refuse(line, f"{name}: a second rate effective {rate.effective} (see line {first_line})")
        elif rate is not None:
            rates.append(rate)
    table.finish()
    return [CrewMember(**fields, rates=tuple(rates)) for _, fields, rates in people.values()]


def _crew_rate(
    problems: list[str], get: Callable[[list[str], str], str], row: list[str], parse_day: Callable[[str], date]
) -> Rate | None:
    text = get(row, "rate").strip()
    effective_text = get(row, "effective").strip()
    if not text:
        if effective_text:
            problems.append("an effective date without a rate")
        return None
    amount_text, _, unit_text = text.partition("/")
    unit_text = (unit_text or get(row, "unit")).strip().lower()
    unit = _UNITS.get(unit_text)
    if unit is None:
        problems.append(f"rate {text!r} says neither per hour nor per day (42.50/h, 480/day or a unit column)")
    amount = _cell(problems, _decimal, amount_text, "rate")
    if amount is not None and amount <= 0:
        problems.append(f"rate {amount} is not positive")
    if not effective_text:
        problems.append(f"rate {text} has no effective date")
    effective = _cell(problems, parse_day, effective_text, "effective") if effective_text else None
    currency = _cell(problems, _currency, get(row, "currency"), "currency")
    if currency is None:
        problems.append(f"rate {text} has no currency")
    if unit is None or amount is None or effective is None or currency is None:
        return None
    return Rate(amount, unit, effective, currency)


# -- the same parsers for one value (the CLI's crew add, hours add, spend add) ----------------------


def parse_place(text: str, *, what: str = "place") -> Place:
    """``US-CA/la-zone`` as a Place; a BooksError naming ``what`` otherwise."""
    try:
        place = _place(text)
    except _Bad as bad:
        raise BooksError(f"{what}: {bad}") from None
    if place is None:
        raise BooksError(f"{what}: no place given")
    return place


def parse_union(text: str) -> tuple[Union, int | None]:
    """``IATSE Local 839`` -> (IATSE, 839); empty is no union; a BooksError otherwise."""
    try:
        return _union(text)
    except _Bad as bad:
        raise BooksError(f"union: {bad}") from None


def parse_number(text: str, *, what: str) -> Decimal:
    """A number a person typed (an amount, hours), by the rule a ledger's cells follow: digits
    with an optional sign, thousands commas and decimals; no exponents, NaN or Infinity, at most
    fifteen whole digits. A BooksError naming ``what`` otherwise."""
    try:
        return _decimal(text)
    except _Bad as bad:
        raise BooksError(f"{what}: {bad}") from None


def parse_rate(text: str, *, effective: date, currency: str) -> Rate:
    """``42.50/h`` or ``480/day`` as a Rate from ``effective`` in ``currency``; a BooksError
    saying what is wrong otherwise."""
    problems: list[str] = []
    cells = {"rate": text, "unit": "", "effective": effective.isoformat(), "currency": currency}
    rate = _crew_rate(problems, lambda _, column: cells[column], [], _day_parser(None))
    if rate is None:
        raise BooksError("; ".join(problems) or f"bad rate {text!r}")
    return rate


# -- cells ------------------------------------------------------------------------------------------
# The parsers are pure functions of a cell's text, and a ledger repeats the same few dates,
# places, hours and flags a hundred thousand times: each is cached on the text (a refused cell
# raises again each time; only values are cached).


def _cell(problems: list[str], parse: Callable[[str], Any], text: str, column: str) -> Any:
    """The parsed cell, or None with the reason added to the row's problems."""
    try:
        return parse(text)
    except _Bad as bad:
        problems.append(f"{column}: {bad}")
    except ValueError:
        problems.append(f"{column}: bad value {text.strip()!r}")
    return None


def _day_parser(date_format: str | None) -> Callable[[str], date]:
    if date_format is None:

        @lru_cache(maxsize=4096)
        def iso(text: str) -> date:
            text = text.strip()
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise _Bad(f"bad date {text!r} (use YYYY-MM-DD, or give the file's date format)") from None

        return iso

    @lru_cache(maxsize=4096)
    def formatted(text: str) -> date:
        text = text.strip()
        try:
            return datetime.strptime(text, date_format).date()
        except ValueError:
            raise _Bad(f"bad date {text!r} (expected {date_format})") from None

    return formatted


@lru_cache(maxsize=4096)
def _decimal(text: str) -> Decimal:
    text = text.strip()
    # A pattern, not Decimal alone: Decimal also takes "NaN", "1e6" and "Infinity".
    if not _NUMBER.fullmatch(text):
        if _DIGITS.fullmatch(text) and sum(c.isdigit() for c in text.partition(".")[0]) > 15:
            raise _Bad(f"number too large {text!r} (at most 15 whole digits)")
        raise _Bad(f"bad number {text!r}" if text else "empty")
    try:
        return Decimal(text.replace(",", "") if "," in text else text)
    except InvalidOperation:
        raise _Bad(f"bad number {text!r}") from None


def _decimal_or_none(text: str) -> Decimal | None:
    return _decimal(text) if text.strip() else None


@lru_cache(maxsize=1024)
def _currency(text: str) -> str | None:
    code = text.strip().upper()
    if not code:
        return None
    if code not in currencies():
        raise _Bad(f"unknown currency {text.strip()!r} (an ISO 4217 code: USD, CAD, GBP, EUR...)")
    return code


@lru_cache(maxsize=4096)
def _place(text: str) -> Place | None:
    text = text.strip()
    if not text:
        return None
    try:
        return Place.parse(text)
    except ValueError as bad:
        raise _Bad(str(bad)) from None


def _flag(text: str, default: bool) -> bool:
    word = text.strip().lower()
    if not word:
        return default
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _Bad(f"{text.strip()!r} is not yes or no")


@lru_cache(maxsize=4096)
def _flag_true(text: str) -> bool:
    return _flag(text, True)


@lru_cache(maxsize=4096)
def _flag_false(text: str) -> bool:
    return _flag(text, False)


@lru_cache(maxsize=4096)
def _line(text: str) -> bool | None:
    word = header_key(text)
    if not word:
        return None
    if word in ("atl", "above", "above the line", "yes", "y", "true", "1"):
        return True
    if word in ("btl", "below", "below the line", "no", "n", "false", "0"):
        return False
    raise _Bad(f"{text.strip()!r} is neither ATL nor BTL")


@lru_cache(maxsize=4096)
def _kind(text: str) -> SpendKind | None:
    word = header_key(text).replace(" ", "-")
    if not word:
        return None
    try:
        return SpendKind(word)
    except ValueError:
        raise _Bad(f"{text.strip()!r} is not one of {', '.join(k.value for k in SpendKind)}") from None


_UNION_NAMES = {header_key(u.value): u for u in Union} | {"sag": Union.SAG_AFTRA, "non union": Union.NONE}
_UNION = re.compile(r"^(?P<name>[a-z -]+?)\s*(local\s*)?(?P<local>\d+)?$")


def _union(text: str) -> tuple[Union, int | None]:
    """``IATSE Local 700`` -> (IATSE, 700); ``SAG-AFTRA`` -> (SAG-AFTRA, None); empty is none."""
    key = header_key(text)
    if not key:
        return Union.NONE, None
    match = _UNION.match(key)
    union = _UNION_NAMES.get(match.group("name").strip()) if match else None
    if union is None:
        names = ", ".join(u.value for u in Union)
        raise _Bad(f"unknown union {text.strip()!r} (one of {names}, with 'Local N' where it has one)")
    local = match.group("local")
    return union, int(local) if local else None


# -- the table ----------------------------------------------------------------------------------------


class _Table:
    """A CSV file read through its header row, with the refusals gathered as rows are taken."""

    def __init__(self, path: Path, rows: list[list[str]], line_numbers: list[int], index: dict[str, int]) -> None:
        self.path, self._rows, self._lines, self.index = path, rows, line_numbers, index
        self.refusals: list[tuple[str, int | None, str]] = []
        self.width = 0
        self.control = False  # the file holds control characters somewhere

    @classmethod
    def read(cls, path: Path, columns: tuple[Column, ...], ignore: Iterable[str]) -> _Table:
        try:
            with open(path, newline="", encoding="utf-8-sig") as file:
                text = file.read()
            reader = csv.reader(io.StringIO(text, newline=""))
            records, numbers = [], []
            for record in reader:
                records.append(record)
                numbers.append(reader.line_num)
        except (OSError, UnicodeDecodeError, csv.Error) as failure:
            raise BooksError(f"{path}: cannot read the CSV file: {read_failure(failure)}") from None
        where = str(path)
        first = next((i for i, record in enumerate(records) if "".join(record).strip()), None)
        if first is None:
            raise RowsRefused([(where, 1, "no header row")])
        header, header_line = records[first], numbers[first]
        names = {header_key(alias): c.name for c in columns for alias in (c.name, *c.aliases)}
        skipped = {header_key(name) for name in ignore}
        index: dict[str, int] = {}
        problems = []
        for position, cell in enumerate(header):
            key = header_key(cell)
            if not key or key in skipped:
                continue
            name = names.get(key)
            if name is None:
                known = ", ".join(c.name for c in columns)
                problems.append(f"unknown column {cell.strip()!r} (known: {known})")
            elif name in index:
                problems.append(f"column {cell.strip()!r} repeats column {header[index[name]].strip()!r}")
            else:
                index[name] = position
        problems += [f"missing column {c.name!r}" for c in columns if c.required and c.name not in index]
        if problems:
            raise RowsRefused([(where, header_line, p) for p in problems])
        # A column the file lacks reads the empty cell that rows() adds after the last one.
        for column in columns:
            index.setdefault(column.name, len(header))
        table = cls(path, records[first + 1 :], numbers[first + 1 :], index)
        table.width = len(header)
        # One search of the whole file; rows are searched only when it finds something.
        table.control = _CONTROL.search(text) is not None
        return table

    @property
    def getter(self) -> Callable[[list[str], str], str]:
        """``get(row, column)``: the cell's text ("" where the file has no such column)."""
        index = self.index
        return lambda row, column: row[index[column]]

    def rows(self) -> Iterable[tuple[int, list[str]]]:
        """(line, cells and one empty cell more) for every record of the file but blank ones; a
        record with more or fewer fields than the header is refused here."""
        width = self.width
        for line, row in zip(self._lines, self._rows):
            if not "".join(row).strip():
                continue  # a blank line, or a row of empty cells
            if len(row) != width:
                self.refuse(line, f"{len(row)} fields where the header has {width}")
                continue
            if self.control and _CONTROL.search("".join(row)):
                # A name with an escape sequence would reach the terminal of whoever lists it.
                self.refuse(line, "a cell holds control characters (an escape sequence?)")
                continue
            row.append("")
            yield line, row

    def refuse(self, line: int, reason: str) -> None:
        self.refusals.append((str(self.path), line, reason))

    def finish(self) -> None:
        """Raise RowsRefused naming every refused row, if any was."""
        if self.refusals:
            raise RowsRefused(self.refusals)
