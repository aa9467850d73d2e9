"""The production books as plain values: the crew and their rates, time entries, spend lines and
the activity that Soundstage sees, plus the chart of accounts that sorts the spend.

Nothing here knows a database, a file format or a program's rules: ``csvio`` reads these values
from timesheets and ledgers, ``payroll`` turns confirmed hours into wages, ``incentives`` applies
the programs' rules to both. Money is ``Decimal`` with an ISO 4217 currency beside it, never float.

Places are ISO 3166-2 codes (``US-CA``, ``CA-ON``, ``CA-BC``, ``GB``) with an optional zone tag
after a slash: ``US-CA/la-zone`` (inside the Los Angeles 30-mile zone), ``US-CA/out-of-zone``,
``CA-ON/gta``, ``CA-BC/regional``, ``US-NY/upstate``. Programs name the zones they test; a place
without a zone is never taken to be outside one (no uplift is claimed on a guess).
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from soundstage.errors import BooksError

LA_ZONE = "la-zone"
_REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_ZONE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class Union(StrEnum):
    """The guild or union whose agreement covers a crew member's work on this production."""

    SAG_AFTRA = "SAG-AFTRA"
    WGA = "WGA"
    DGA = "DGA"
    TAG = "TAG"  # The Animation Guild, IATSE Local 839: named apart because animation crews say so
    IATSE = "IATSE"
    TEAMSTERS = "Teamsters"
    NONE = "none"


class RateUnit(StrEnum):
    """What a rate pays for: an hour worked, or a day worked (however many hours)."""

    HOUR = "hour"
    DAY = "day"


class EntrySource(StrEnum):
    """Where a time entry came from: a timesheet (payroll, a person's own entry) or Soundstage's
    activity log (a draft until someone confirms it)."""

    TIMESHEET = "timesheet"
    ACTIVITY = "activity"


class SpendKind(StrEnum):
    """What a spend line paid for. Labour paid through a vendor (a loan-out, a contractor's
    invoice) is ``labour``: wage-based programs count it as wages."""

    LABOUR = "labour"
    FRINGE = "fringe"
    STAGE_RENTAL = "stage-rental"
    EQUIPMENT_RENTAL = "equipment-rental"
    COMPUTE_RENTAL = "compute-rental"  # GPU hours, cloud render, storage
    SOFTWARE = "software"
    SERVICES = "services"  # a company's services: a VFX vendor, a post house, a recording studio
    PURCHASE = "purchase"
    TRAVEL = "travel"
    FEE = "fee"  # financing, legal, insurance, bank charges
    OTHER = "other"


class ActivityKind(StrEnum):
    """Work done in Soundstage that is evidence of work (issue 13: hours from the work)."""

    TAKE_REQUESTED = "take-requested"
    AI_TAKE_REQUESTED = "ai-take-requested"  # a take from a generative backend (not previs)
    REVIEW_DECISION = "review-decision"
    NOTE = "note"
    LAYOUT_EDITED = "layout-edited"
    CONSENT_RECORDED = "consent-recorded"


@dataclass(frozen=True, slots=True)
class Place:
    """Where someone lives or where work or a purchase happened: an ISO 3166-2 region and an
    optional zone tag (``US-CA/la-zone``)."""

    region: str
    zone: str = ""

    @classmethod
    def parse(cls, text: str) -> Place:
        """``"US-CA/la-zone"`` -> Place("US-CA", "la-zone"); raises ValueError on a bad code."""
        return _parse_place(text.strip())

    def within(self, region: str) -> bool:
        """Whether this place lies in ``region``: ``US-CA`` lies in ``US``, ``CA-ON`` in ``CA``."""
        return self.region == region or self.region.startswith(region + "-")

    def __str__(self) -> str:
        return f"{self.region}/{self.zone}" if self.zone else self.region


@cache
def _parse_place(text: str) -> Place:
    # Cached: a ledger names a handful of places a hundred thousand times.
    region, _, zone = text.partition("/")
    region, zone = region.strip().upper(), zone.strip().lower()
    if not _REGION.match(region):
        raise ValueError(f"{text!r} is not an ISO 3166-2 place (e.g. US-CA, CA-ON, GB, US-CA/la-zone)")
    if zone and not _ZONE.match(zone):
        raise ValueError(f"{text!r} has a bad zone {zone!r} (lower-case letters, digits and hyphens)")
    return Place(region, zone)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency (ISO 4217)."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.currency} {self.amount:,.2f}"


@dataclass(frozen=True, slots=True)
class Rate:
    """A pay rate from its effective date until the next rate of the same person."""

    amount: Decimal
    unit: RateUnit
    effective: date
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class CrewMember:
    """A person who works on the production: department and job title, union, residence, above
    or below the line, and rates with effective dates. Voice cast are crew members above the line
    (performers); Career Pathways and other trainees are marked ``trainee``."""

    name: str
    department: str
    role: str
    union: Union = Union.NONE
    union_local: int | None = None  # IATSE local 839, Teamsters local 399...
    residence: Place | None = None
    atl: bool = False
    trainee: bool = False
    rates: tuple[Rate, ...] = ()
    _effective: tuple[date, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Kept in date order, with their effective dates beside them, so rate_on is a bisect, not
        # a scan: payroll asks it for every time entry.
        rates = tuple(sorted(self.rates, key=lambda r: r.effective))
        object.__setattr__(self, "rates", rates)
        object.__setattr__(self, "_effective", tuple(r.effective for r in rates))

    @property
    def union_label(self) -> str:
        """``IATSE Local 839``, ``SAG-AFTRA``, ``none``."""
        return f"{self.union} Local {self.union_local}" if self.union_local else str(self.union)

    @property
    def lives_in_la_zone(self) -> bool | None:
        """True inside the Los Angeles 30-mile zone, False outside it (outside California too),
        None when not stated."""
        if self.residence is not None and not self.residence.within("US-CA"):
            return False
        if self.residence is None or not self.residence.zone:
            return None
        return self.residence.zone == LA_ZONE

    def rate_on(self, day: date) -> Rate | None:
        """The rate in effect on ``day``: the newest one whose effective date is not after it."""
        index = bisect_right(self._effective, day)
        return self.rates[index - 1] if index else None


# Time entries and spend lines are not frozen: a frozen dataclass sets each field through
# object.__setattr__, which made importing 150,000 rows 0.5 s slower. Treat them as values.
@dataclass(slots=True)
class TimeEntry:
    """Hours a person worked on a day, in a role and a place, on a scene, shot or task.

    Entries from activity are drafts (``confirmed=False``) and count for nothing until the person
    or a producer confirms them. ``pay`` is the gross a payroll export reports for the entry (with
    overtime and premiums); without it the person's rate on the day prices the hours."""

    person: str
    day: date
    hours: Decimal
    role: str = ""
    department: str = ""
    location: Place | None = None
    scene: str = ""
    shot: str = ""
    task: str = ""
    confirmed: bool = True
    source: EntrySource = EntrySource.TIMESHEET
    pay: Decimal | None = None
    currency: str | None = None
    origin: str = ""  # "hours.csv:12": where a message about this entry should point
    # Generative AI work (prompting, generating takes), booked under the person who did it:
    # prompt work stays covered work (TAG 2024, IATSE 2024).
    ai_assisted: bool = False


@dataclass(slots=True)
class SpendLine:
    """One cost in the ledger: vendor, account, amount and currency, date, where the work or
    purchase happened, whether the vendor is local. ``atl`` and ``kind`` left as None take the
    account's defaults from the chart of accounts."""

    vendor: str
    account: str
    amount: Decimal
    currency: str
    day: date
    location: Place | None = None
    vendor_local: bool = False
    atl: bool | None = None
    kind: SpendKind | None = None
    department: str = ""
    description: str = ""
    origin: str = ""


@dataclass(frozen=True, slots=True)
class Activity:
    """One thing a person did in Soundstage, with its time: evidence of work, not a time entry."""

    person: str
    at: datetime
    kind: ActivityKind
    shot: str = ""


# -- the chart of accounts ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    """An account of the chart: its category (which programs include or exclude it), whether it is
    above the line, what its lines usually are, and whether it is a core cost (pre-production,
    production and post; UK AVEC's base)."""

    code: str
    name: str
    category: str
    atl: bool
    kind: SpendKind
    core: bool


@dataclass(frozen=True)
class Chart:
    """The chart of accounts and the department vocabulary: each department has a kind
    (``story``, ``animation``, ``vfx``, ``post``, ``production``, ``atl``) that wage programs
    limited to some work (OCASE, DAVE) test."""

    accounts: Mapping[str, Account]
    departments: Mapping[str, str] = field(default_factory=dict)
    source: str = "default"

    def account(self, code: str) -> Account | None:
        """The account with this code, or None."""
        return self.accounts.get(code)

    def department_kind(self, department: str) -> str:
        """The kind of a department (case-insensitive), ``other`` for one the chart does not name."""
        return self.departments.get(department.strip().lower(), "other")


CATEGORIES = frozenset(
    [
        "atl",
        "rights",
        "development",
        "labour",
        "production",
        "animation",
        "vfx",
        "music",
        "post",
        "fringes",
        "rentals",
        "compute",
        "software",
        "travel",
        "insurance",
        "legal",
        "overhead",
        "financing",
        "marketing",
        "distribution",
        "residuals",
    ]
)
DEPARTMENT_KINDS = frozenset({"atl", "story", "animation", "vfx", "post", "production", "other"})


def load_chart(source: Path | Mapping[str, Any] | None = None) -> Chart:
    """The chart of accounts: the default for animation (``books/data/accounts.toml``), a TOML file
    of the same shape, or the ``[books.accounts]``-style mapping from ``soundstage.toml``."""
    if source is None:
        return _default_chart()
    where = "books/data/accounts.toml"
    if isinstance(source, Path):
        where = str(source)
        try:
            data = tomllib.loads(source.read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as failure:
            raise BooksError(f"{source}: cannot read the chart of accounts: {failure}") from None
    else:
        where, data = "soundstage.toml [books]", dict(source)
    return _chart(data, where)


def _chart(data: Mapping[str, Any], where: str) -> Chart:
    accounts: dict[str, Account] = {}
    for code, entry in (data.get("accounts") or {}).items():
        accounts[str(code)] = _account(where, str(code), entry)
    if not accounts:
        raise BooksError(f"{where}: the chart of accounts has no [accounts]")
    departments = {}
    for name, kind in (data.get("departments") or {}).items():
        if kind not in DEPARTMENT_KINDS:
            raise BooksError(
                f"{where}: department {name!r} has kind {kind!r}, not one of {', '.join(sorted(DEPARTMENT_KINDS))}"
            )
        departments[str(name).strip().lower()] = str(kind)
    return Chart(accounts, departments, where)


@cache
def _default_chart() -> Chart:
    text = resources.files("soundstage.books").joinpath("data/accounts.toml").read_text("utf-8")
    return _chart(tomllib.loads(text), "books/data/accounts.toml")


def _account(where: str, code: str, entry: Any) -> Account:
    if not isinstance(entry, Mapping):
        raise BooksError(f"{where}: account {code} must be a table with name and category")
    unknown = set(entry) - {"name", "category", "atl", "kind", "core"}
    if unknown:
        raise BooksError(f"{where}: account {code} has unknown field {sorted(unknown)[0]!r}")
    category = entry.get("category", "")
    if category not in CATEGORIES:
        raise BooksError(
            f"{where}: account {code} has category {category!r}, not one of {', '.join(sorted(CATEGORIES))}"
        )
    try:
        kind = SpendKind(entry.get("kind", "other"))
    except ValueError:
        raise BooksError(f"{where}: account {code} has kind {entry.get('kind')!r}, not a spend kind") from None
    return Account(
        code=code,
        name=str(entry.get("name", code)),
        category=category,
        atl=bool(entry.get("atl", False)),
        kind=kind,
        core=bool(entry.get("core", True)),
    )


@cache
def currencies() -> frozenset[str]:
    """The ISO 4217 codes of the currencies a production can pay in (books/data/currencies.txt)."""
    text = resources.files("soundstage.books").joinpath("data/currencies.txt").read_text("utf-8")
    return frozenset(word for line in text.splitlines() if not line.startswith("#") for word in line.split())
