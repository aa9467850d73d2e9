"""Incentive programs as versioned data files: one TOML file per program and version, every
figure with the source it comes from, found on a search path so a studio adds its own.

The files say *what* a program counts (its rate, base, caps, minimums, exclusions, uplifts,
stacking, currency and effective dates); ``incentives`` says what each named test means. The
vocabulary of tests, metrics and uplifts is fixed here, so a file that names one that does not
exist is refused with its program and field rather than silently ignored. docs/books.md describes
the format.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from soundstage.books.facts import FACT_NAMES
from soundstage.books.model import currencies
from soundstage.errors import BooksError

# Line tests: what makes a wage or spend line count (incentives.py, _RULES).
RULE_TESTS = frozenset(
    {
        "work_in_jurisdiction",  # the work was done, or the purchase used, in the jurisdiction
        "residents_only",  # wages of residents of ``region`` (the jurisdiction unless given)
        "exclude_atl",  # above-the-line wages and spend do not count
        "exclude_trainees",  # trainees' wages do not count (California Career Pathways)
        "exclude_categories",  # accounts of these categories do not count
        "departments",  # only labour in departments of these kinds counts
        "labour_only",  # only labour counts: no other spend
        "core_only",  # only core costs count (UK: pre-production, production, post)
    }
)
# Figures computed from the books and facts that eligibility tests and uplift conditions compare
# (incentives.py, _METRICS); a production fact's name is a metric too.
METRICS = frozenset(
    {
        "budget",
        "budget_per_episode",
        "total_cost",
        "jurisdiction_spend",
        "jurisdiction_budget_share",
        "qualified_spend",
        "labour_share_of_claim",
        "core_share_in_jurisdiction",
        "core_per_slot_hour",
        "animation_share_of_core",
        "category_share_in_jurisdiction",
        "category_spend_in_jurisdiction",
        "labour_share_outside_zones",
    }
)
UPLIFTS = frozenset(
    {
        "base",  # the rate on the whole base (a logo, a size bonus)
        "first_tranche",  # the rate on the first ``limit`` of the base
        "spend_outside_zones",  # qualified lines whose place has a zone not in ``zones``
        "local_hire",  # wages of residents living outside ``zones`` for work outside ``zones``
        "labour_in_zones",  # qualified labour for work in ``zones``
        "categories",  # qualified lines of these account categories or department kinds
        "trainee_labour",  # trainees' wages
    }
)
CAP_KINDS = frozenset({"base", "labour_share_of_net_cost", "atl_share_of_other", "share_of_total_core"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """A document the figures come from."""

    title: str
    url: str = ""
    # "date" in the files; a field named like its type would shadow the type in the annotations.
    dated: date | None = Field(None, alias="date")
    conf: str = Field(pattern=r"^(H|M|L)([/-](H|M|L))?$", description="H statute, M official summary, L single source")


class Cited(_Strict):
    """Anything that states a figure or a rule: the key of its source, and the place in it."""

    source: str
    cite: str = ""


FactFilter = dict[str, Any]


class Test(Cited):
    """A comparison of a metric or fact (``at_least``, ``at_most``, ``more_than``, ``less_than``,
    ``equals``, ``one_of``), or ``any_of`` / ``all_of`` other tests. ``when`` / ``unless`` filter
    on facts: the test applies only to the productions ``when`` matches (every condition holds)
    and ``unless`` does not (no condition holds)."""

    id: str = ""
    label: str = ""
    metric: str = ""
    at_least: Decimal | None = None
    at_most: Decimal | None = None
    more_than: Decimal | None = None
    less_than: Decimal | None = None
    equals: bool | str | int | None = None
    one_of: list[str] = []
    zones: list[str] = []
    categories: list[str] = []
    any_of: list[Test] = []
    all_of: list[Test] = []
    when: FactFilter = {}
    unless: FactFilter = {}

    @model_validator(mode="after")
    def _one_kind(self) -> Test:
        if self.metric and self.metric not in METRICS and self.metric not in FACT_NAMES:
            raise ValueError(f"unknown metric {self.metric!r}")
        if not self.metric and not (self.any_of or self.all_of):
            raise ValueError("a test needs a metric, any_of or all_of")
        compared = (self.at_least, self.at_most, self.more_than, self.less_than, self.equals)
        if self.metric and all(c is None for c in compared) and not self.one_of:
            raise ValueError(f"test of {self.metric!r} needs at_least, at_most, more_than, less_than, equals or one_of")
        return self


class Rule(Cited):
    """A line test: lines failing it are not qualified, and say this rule decided them."""

    id: str
    label: str
    test: str
    applies_to: list[Literal["labour", "spend"]] = ["labour", "spend"]
    region: str = ""
    categories: list[str] = []
    departments: list[str] = []

    @field_validator("test")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in RULE_TESTS:
            raise ValueError(f"unknown line test {value!r} (one of {', '.join(sorted(RULE_TESTS))})")
        return value


class RateFigure(Cited):
    """The program's rate on its base, for the productions ``when`` / ``unless`` match."""

    value: Decimal = Field(ge=0, le=1)
    label: str = ""
    when: FactFilter = {}
    unless: FactFilter = {}


class Cap(Cited):
    """A limit: on the base (``value`` an amount), on labour as a share of cost net of assistance,
    on ATL as a share of other costs, or on the base as a share of total core cost."""

    id: str
    label: str
    kind: str
    value: Decimal = Field(ge=0)
    when: FactFilter = {}
    unless: FactFilter = {}

    @field_validator("kind")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in CAP_KINDS:
            raise ValueError(f"unknown cap kind {value!r} (one of {', '.join(sorted(CAP_KINDS))})")
        return value


class Uplift(Cited):
    """An extra rate on part of the base; ``requires`` are tests it needs, ``pool`` a shared limit."""

    id: str
    label: str
    on: str
    rate: Decimal = Field(ge=0, le=1)
    zones: list[str] = []
    kinds: list[str] = []  # account categories or department kinds (for "categories")
    limit: Decimal | None = None  # "first_tranche": the amount of base the rate is on
    cap_share_of_labour: Decimal | None = None  # at most this share of qualified labour
    exclude_local_hire: bool = False
    pool: str = ""
    requires: list[Test] = []
    when: FactFilter = {}
    unless: FactFilter = {}

    @field_validator("on")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in UPLIFTS:
            raise ValueError(f"unknown uplift {value!r} (one of {', '.join(sorted(UPLIFTS))})")
        return value


class Pool(Cited):
    """A limit that several uplifts share, as a share of the base."""

    label: str
    share_of_base: Decimal = Field(ge=0, le=1)


class Tax(Cited):
    """A taxable credit: the rate of tax on it."""

    rate: Decimal = Field(ge=0, le=1)


class Certification(Cited):
    """The share of the credit certified, and the tests any of which certifies all of it."""

    share: Decimal = Field(ge=0, le=1)
    full_if: list[Test] = []


class Fee(Cited):
    """A fee as a share of the credit."""

    share: Decimal = Field(ge=0, le=1)
    label: str = ""
    when: FactFilter = {}
    unless: FactFilter = {}


class Refund(Cited):
    """The refund election: ``share`` of the credit in excess of net tax, paid in ``years`` equal
    yearly parts."""

    share: Decimal = Field(ge=0, le=1)
    years: int = Field(ge=1)
    when: FactFilter = {}


class JobsRatio(Cited):
    """California's jobs ratio: qualified wages over the credit before uplifts, with this share
    of in-state VFX vendor pay counted as wages."""

    vfx_vendor_share: Decimal = Field(ge=0, le=1)


class Effective(Cited):
    """The dates a rule set applies to (the as-of date of an estimate: an application, or the
    start of principal photography, as the program says); an open end is left out."""

    start: date | None = Field(None, alias="from")
    end: date | None = Field(None, alias="to")

    def covers(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def __str__(self) -> str:
        if self.start and self.end:
            return f"{self.start} to {self.end}"
        if self.start:
            return f"from {self.start}"
        if self.end:
            return f"until {self.end}"
        return "in force, with no dates in its sources"


class Program(_Strict):
    """One version of one incentive program."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    name: str
    version: str
    jurisdiction: str = Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
    country: str = Field(pattern=r"^[A-Z]{2}$")
    level: Literal["national", "federal", "state", "provincial"]
    stream: Literal["", "domestic", "service", "any"] = ""
    currency: str
    credit: Literal["refundable", "transferable", "nonrefundable", "payable"]
    checked: date
    effective: Effective
    base: Literal["labour", "spend", "core"]
    sources: dict[str, Source]
    rates: list[RateFigure]
    rules: list[Rule] = []
    eligibility: list[Test] = []
    caps: list[Cap] = []
    uplifts: list[Uplift] = []
    pools: dict[str, Pool] = {}
    tax: Tax | None = None
    certification: Certification | None = None
    fees: list[Fee] = []
    refund: Refund | None = None
    jobs_ratio: JobsRatio | None = None
    assistance_from: list[Literal["state", "provincial"]] = []
    assistance_reduces: Literal["base", "net_cost"] = "base"
    excludes: list[str] = []
    requires_one_of: list[str] = []
    notes: list[str] = []

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in currencies():
            raise ValueError(f"unknown currency {value!r}")
        return value

    @model_validator(mode="after")
    def _references(self) -> Program:
        """Every source named exists, every fact filter names a fact, every pool is defined."""
        for where, cited in _cited(self):
            if cited.source not in self.sources:
                raise ValueError(f"{where}: source {cited.source!r} is not in [sources]")
        for where, filters in _filters(self):
            for name in filters:
                if name not in FACT_NAMES:
                    raise ValueError(f"{where}: unknown production fact {name!r}")
        for uplift in self.uplifts:
            if uplift.pool and uplift.pool not in self.pools:
                raise ValueError(f"uplifts.{uplift.id}: pool {uplift.pool!r} is not in [pools]")
        if not any(not rate.when and not rate.unless for rate in self.rates):
            raise ValueError("rates: one rate must apply to every production (no when or unless)")
        return self

    def cite(self, cited: Cited) -> str:
        """``RTC §17053.98.1 (2025-07-03) (a)(4)``: the source and place of a figure, in words."""
        source = self.sources[cited.source]
        dated = f" ({source.dated})" if source.dated else ""
        return f"{source.title}{dated}{' ' + cited.cite if cited.cite else ''}"


def _cited(program: Program) -> Iterable[tuple[str, Cited]]:
    yield "effective", program.effective
    for i, rate in enumerate(program.rates):
        yield f"rates.{i}", rate
    for rule in program.rules:
        yield f"rules.{rule.id}", rule
    for test in _tests(program):
        yield f"test {test.id or test.metric}", test
    for cap in program.caps:
        yield f"caps.{cap.id}", cap
    for uplift in program.uplifts:
        yield f"uplifts.{uplift.id}", uplift
    for name, pool in program.pools.items():
        yield f"pools.{name}", pool
    for name in ("tax", "certification", "refund", "jobs_ratio"):
        if getattr(program, name) is not None:
            yield name, getattr(program, name)
    for i, fee in enumerate(program.fees):
        yield f"fees.{i}", fee


def _tests(program: Program) -> Iterable[Test]:
    stack = list(program.eligibility)
    for uplift in program.uplifts:
        stack += uplift.requires
    if program.certification is not None:
        stack += program.certification.full_if
    while stack:
        test = stack.pop()
        yield test
        stack += test.any_of + test.all_of


def _filters(program: Program) -> Iterable[tuple[str, FactFilter]]:
    for i, rate in enumerate(program.rates):
        yield f"rates.{i}", {**rate.when, **rate.unless}
    for test in _tests(program):
        yield f"test {test.id or test.metric}", {**test.when, **test.unless}
    for cap in program.caps:
        yield f"caps.{cap.id}", {**cap.when, **cap.unless}
    for uplift in program.uplifts:
        yield f"uplifts.{uplift.id}", {**uplift.when, **uplift.unless}
    for i, fee in enumerate(program.fees):
        yield f"fees.{i}", {**fee.when, **fee.unless}
    if program.refund is not None:
        yield "refund", program.refund.when


# -- the catalogue --------------------------------------------------------------------------------


class Catalog(Mapping[str, Program]):
    """The programs found on the search path, by id. A later folder's file replaces an earlier
    one's program of the same id (a studio's corrected figures win over the shipped ones)."""

    def __init__(self, programs: Mapping[str, Program], files: Mapping[str, str]) -> None:
        self._programs = dict(programs)
        self.files = dict(files)

    def __getitem__(self, key: str) -> Program:
        return self._programs[key]

    def __iter__(self):
        return iter(self._programs)

    def __len__(self) -> int:
        return len(self._programs)

    def select(self, ids: Sequence[str] | None, as_of: date) -> list[Program]:
        """The programs to estimate as of ``as_of``: those named (an unknown one, or one whose
        rule set does not cover ``as_of``, is a BooksError), or every program in effect then."""
        if not ids:
            return [p for p in self._programs.values() if p.effective.covers(as_of)]
        chosen = []
        for program_id in ids:
            program = self._programs.get(program_id)
            if program is None:
                raise BooksError(f"unknown incentive program {program_id!r} (known: {', '.join(sorted(self))})")
            check_in_effect(program, as_of)
            chosen.append(program)
        return chosen


def check_in_effect(program: Program, as_of: date) -> None:
    """Raise BooksError when ``program``'s rule set does not apply on ``as_of``."""
    if not program.effective.covers(as_of):
        raise BooksError(
            f"program {program.id}: the rule set {program.version} applies {program.effective}, "
            f"not on {as_of} (field effective)"
        )


def builtin_folder() -> Path:
    """The folder of the programs that ship with Soundstage."""
    return Path(str(resources.files("soundstage.books").joinpath("programs")))


def load_program(path: Path) -> Program:
    """One program file, validated; a bad file is a BooksError naming the file, program and field."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as failure:
        raise BooksError(f"{path}: cannot read the program file: {failure}") from None
    program_id = data.get("id", path.stem)
    try:
        return Program.model_validate(data)
    except ValidationError as invalid:
        error = invalid.errors()[0]
        location = ".".join(str(part) for part in error["loc"]) or "(file)"
        message = error["msg"].removeprefix("Value error, ")
        raise BooksError(f"{path}: program {program_id}, field {location}: {message}") from None


def load_programs(search_path: Iterable[Path] = ()) -> Catalog:
    """The shipped programs, then each folder of ``search_path`` in turn (``*.toml``)."""
    programs: dict[str, Program] = {}
    files: dict[str, str] = {}
    for folder in (builtin_folder(), *search_path):
        if not folder.is_dir():
            raise BooksError(f"{folder}: the incentive programs folder does not exist")
        seen: dict[str, Path] = {}
        for path in sorted(folder.glob("*.toml")):
            program = load_program(path)
            if program.id in seen:
                raise BooksError(f"{path}: program {program.id} is also defined in {seen[program.id]}")
            seen[program.id] = path
            programs[program.id] = program
            files[program.id] = str(path)
    return Catalog(programs, files)
