"""What each incentive program would pay for a production's books, as of a date: eligibility with
the reason for every test, each line qualified or not with the rule that decided it, caps,
uplifts, stacking (a provincial credit is assistance that reduces the federal base), the net value
after certification, fees and tax, California's jobs ratio and the refund election's cash timing.

The programs are data (``programs.py``); this module is what their named tests mean. The order
of work for one program is the order a production accountant follows:

1. decide every line: the first rule it fails decides it, else it qualifies (labour or other);
2. eligibility tests (minimums, episode length, certificates), each with its figure and source;
3. the base: labour, labour and other spend, or core cost; then caps in file order; then the
   assistance the program's base is net of (federal after provincial);
4. the rate (the first whose facts match), uplifts with their conditions and pools;
5. certified share, fees, tax, jobs ratio, refund schedule.

Money is exact: ``Decimal`` throughout, no rounding (no program in the data sheet states one);
reports round for display only. Amounts in another currency are converted only at a rate the
producer gave (``ProductionFacts.exchange``), else a BooksError names both currencies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from functools import cached_property
from typing import Any

from soundstage.books.facts import ProductionFacts
from soundstage.books.ledger import Books, SpendClass, WageLine
from soundstage.books.model import Place, SpendKind
from soundstage.books.programs import FactFilter, Program, Test, Uplift, check_in_effect
from soundstage.errors import BooksError

ZERO = Decimal(0)
# What counts as animation in a share of core cost (UK AVEC's 51% test): story, animation and
# VFX work, and the render and compute time that makes the pictures.
ANIMATION_KINDS = frozenset({"story", "animation", "vfx", "compute"})


# -- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """Why a line counts or not: the rule that decided it (its id, its words, its source)."""

    qualified: bool
    rule: str
    label: str  # the rule in words
    detail: str = ""  # what about this line failed it
    source: str = ""
    labour: bool = False

    @property
    def reason(self) -> str:
        return f"{self.label}: {self.detail}" if self.detail else self.label


@dataclass(frozen=True, slots=True)
class Finding:
    """One eligibility test (or condition of an uplift): passed or not, with the figure compared."""

    test: str
    label: str
    passed: bool
    detail: str
    source: str


@dataclass(frozen=True, slots=True)
class CapResult:
    """A cap applied: the amount before, the limit, the amount after."""

    cap: str
    label: str
    before: Decimal
    limit: Decimal
    after: Decimal
    source: str

    @property
    def reached(self) -> bool:
        return self.before > self.limit


@dataclass(frozen=True, slots=True)
class UpliftResult:
    """An uplift: the amount it is on, its rate, what it adds (after its pool), and why not if not."""

    uplift: str
    label: str
    applied: bool
    on: Decimal
    rate: Decimal
    amount: Decimal
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    """The lines one decision covered: how much, how many, qualified or not."""

    rule: str
    reason: str
    qualified: bool
    labour: bool
    amount: Decimal
    lines: int
    source: str


@dataclass(frozen=True, slots=True)
class LineResult:
    """One wage line or spend line as a program decided it (amount in the line's currency and in
    the program's)."""

    what: str  # "wages" | "spend"
    description: str
    origin: str
    currency: str
    amount: Decimal
    counted: Decimal  # in the program's currency
    decision: Decision


@dataclass(frozen=True)
class ProgramEstimate:
    """What one program would pay, and how every figure was reached."""

    program: Program
    eligible: bool
    findings: tuple[Finding, ...]
    currency: str
    qualified_labour: Decimal
    qualified_other: Decimal
    not_qualified: Decimal
    caps: tuple[CapResult, ...]
    assistance: Decimal
    base: Decimal
    rate: Decimal
    rate_label: str
    base_credit: Decimal
    uplifts: tuple[UpliftResult, ...]
    credit: Decimal  # gross: base credit + uplifts; zero when not eligible
    would_be: Decimal  # the credit if the eligibility tests passed
    certified_share: Decimal
    certified: Decimal
    fee: Decimal
    tax: Decimal
    net: Decimal
    jobs_ratio: Decimal | None
    qualified_wages: Decimal  # the jobs ratio's numerator (wages, plus the VFX vendor share)
    refund: tuple[Decimal, ...]  # cash by year of the refund election, where there is one
    breakdown: tuple[BreakdownRow, ...]
    budget: Decimal
    _books: Books = field(repr=False, compare=False)
    _wage_decisions: tuple[Decision, ...] = field(repr=False, compare=False)
    _class_decisions: dict[SpendClass, Decision] = field(repr=False, compare=False)
    _to_program: Callable[[Decimal, str], Decimal] = field(repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.program.id

    @property
    def reasons(self) -> list[str]:
        """The failed tests, in words with their figures and sources: why it is not eligible."""
        return [f"{f.label}: {f.detail} ({f.source})" for f in self.findings if not f.passed]

    @property
    def qualified(self) -> Decimal:
        return self.qualified_labour + self.qualified_other

    def lines(self) -> Iterator[LineResult]:
        """Every wage line and every spend line with the decision on it (made lazily: 50,000 spend
        lines are decided as a few hundred classes)."""
        for line, decision in zip(self._books.wages, self._wage_decisions):
            description = f"{line.person}, {line.role} ({line.department}), {line.hours} h at {line.location or '?'}"
            origin = "payroll"
            yield LineResult(
                "wages",
                description,
                origin,
                line.currency,
                line.pay,
                self._to_program(line.pay, line.currency),
                decision,
            )
        _, of_line = self._books.spend_classes
        for line, spend_class in zip(self._books.spend, of_line):
            decision = self._class_decisions[spend_class]
            description = f"{line.vendor}, {line.account} {spend_class.account.name}: {line.description}".rstrip(": ")
            yield LineResult(
                "spend",
                description,
                line.origin,
                line.currency,
                line.amount,
                self._to_program(line.amount, line.currency),
                decision,
            )


@dataclass(frozen=True)
class Stack:
    """Programs claimed together: a federal credit with the provincial ones that reduce its base,
    or a program on its own. Members are eligible programs only."""

    label: str
    programs: tuple[str, ...]
    currency: str
    credit: Decimal
    net: Decimal


@dataclass(frozen=True)
class Estimate:
    """Every program estimated for one production as of one date, and how they stack."""

    as_of: date
    programs: tuple[ProgramEstimate, ...]
    stacks: tuple[Stack, ...]

    def program(self, program_id: str) -> ProgramEstimate:
        """The estimate of one program; KeyError when it was not estimated."""
        for estimate in self.programs:
            if estimate.id == program_id:
                return estimate
        raise KeyError(program_id)


# -- the lines the programs decide ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Item:
    """A wage line or a spend class, in the terms the rules use."""

    wage: bool
    labour: bool
    atl: bool
    trainee: bool
    location: Place | None
    residence: Place | None
    vendor_local: bool
    category: str
    department: str
    department_kind: str
    core: bool
    currency: str
    amount: Decimal
    count: int

    def is_of(self, kinds: Sequence[str]) -> bool:
        """Whether the line is of one of these account categories, department kinds or departments."""
        return self.category in kinds or self.department_kind in kinds or self.department in kinds


def _wage_item(line: WageLine, books: Books) -> _Item:
    return _Item(
        wage=True,
        labour=True,
        atl=line.member.atl,
        trainee=line.member.trainee,
        location=line.location,
        residence=line.member.residence,
        vendor_local=False,
        category="",
        department=line.department.strip().lower(),
        department_kind=books.chart.department_kind(line.department),
        core=True,
        currency=line.currency,
        amount=line.pay,
        count=1,
    )


def _spend_item(spend_class: SpendClass, total: Decimal, count: int) -> _Item:
    return _Item(
        wage=False,
        labour=spend_class.kind is SpendKind.LABOUR,
        atl=spend_class.atl,
        trainee=False,
        location=spend_class.location,
        residence=None,
        vendor_local=spend_class.vendor_local,
        category=spend_class.account.category,
        department=spend_class.department_kind,
        department_kind=spend_class.department_kind,
        core=spend_class.account.core,
        currency=spend_class.currency,
        amount=total,
        count=count,
    )


# -- facts and tests -------------------------------------------------------------------------------


def _same(value: Any, wanted: Any) -> bool:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool) or isinstance(wanted, bool):
        return value is wanted
    return value == wanted or str(value) == str(wanted)


def _matches(facts: ProductionFacts, when: FactFilter, unless: FactFilter) -> bool:
    """``when``: every condition holds; ``unless``: no condition holds."""

    def holds(name: str, wanted: Any) -> bool:
        value = getattr(facts, name)
        if isinstance(wanted, list):
            return any(_same(value, w) for w in wanted)
        return _same(value, wanted)

    return all(holds(k, v) for k, v in when.items()) and not any(holds(k, v) for k, v in unless.items())


def _figure(value: Any) -> str:
    """A compared figure in words: amounts with thousands separators, shares to four places."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:,.2f}"
        return f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


# -- one program ------------------------------------------------------------------------------------


class _Context:
    """One program's view of the books: every item decided, and the metrics its tests ask for."""

    def __init__(
        self,
        program: Program,
        books: Books,
        facts: ProductionFacts,
        wages: list[_Item],
        classes: dict[SpendClass, _Item],
    ) -> None:
        self.program, self.books, self.facts = program, books, facts
        self.currency = program.currency
        self._rates: dict[str, Decimal] = {}
        self.wages, self.classes = wages, classes
        self.wage_decisions = [self.decide(item) for item in wages]
        self.class_decisions = {key: self.decide(item) for key, item in classes.items()}

    # money
    def to_program(self, amount: Decimal, currency: str) -> Decimal:
        if currency == self.currency:
            return amount
        rate = self._rates.get(currency)
        if rate is None:
            try:
                rate = self._rates[currency] = self.facts.rate(currency, self.currency)
            except BooksError as error:
                raise BooksError(f"program {self.program.id}: {error}") from None
        return amount * rate

    def amount(self, item: _Item) -> Decimal:
        return self.to_program(item.amount, item.currency)

    def decided(self) -> Iterator[tuple[_Item, Decision]]:
        yield from zip(self.wages, self.wage_decisions)
        for key, item in self.classes.items():
            yield item, self.class_decisions[key]

    # decisions
    def decide(self, item: _Item) -> Decision:
        program = self.program
        for rule in program.rules:
            if ("labour" if item.labour else "spend") not in rule.applies_to:
                continue
            failed = self._fails(
                rule.test, rule.region or program.jurisdiction, rule.categories, rule.departments, item
            )
            if failed is not None:
                return Decision(False, rule.id, rule.label, failed, program.cite(rule), item.labour)
        if program.base == "core" and not (item.location is not None and item.location.within(program.jurisdiction)):
            where = f"at {item.location}" if item.location else "with no place given"
            return Decision(
                False,
                "core-outside",
                f"core cost outside {program.jurisdiction}: counts in total core cost (the cap), not in its own",
                where,
                labour=item.labour,
            )
        what = "labour" if item.labour else "other spend"
        return Decision(True, "qualified", f"qualified {what}", labour=item.labour)

    def _fails(self, test: str, region: str, categories: list[str], departments: list[str], item: _Item) -> str | None:
        """Why ``item`` fails the line test, or None when it passes."""
        if test == "work_in_jurisdiction":
            if item.location is None:
                return "no place of work given"
            return None if item.location.within(region) else f"done at {item.location}, outside {region}"
        if test == "residents_only":
            if item.wage:
                if item.residence is None:
                    return "no residence given"
                return None if item.residence.within(region) else f"resident of {item.residence}, not {region}"
            home = self.facts.home
            if item.vendor_local and home is not None and home.within(region):
                return None
            return f"vendor not local to {region}"
        if test == "exclude_atl":
            return "above the line" if item.atl else None
        if test == "exclude_trainees":
            return "a trainee" if item.wage and item.trainee else None
        if test == "exclude_categories":
            return f"account category {item.category}" if not item.wage and item.category in categories else None
        if test == "departments":
            return None if item.is_of(departments) else f"department of kind {item.department_kind or 'other'}"
        if test == "labour_only":
            return None if item.labour else "not labour"
        if test == "core_only":
            return None if item.core else f"not a core cost (account category {item.category})"
        raise AssertionError(test)  # the loader refuses unknown tests

    # metrics
    @cached_property
    def total_cost(self) -> Decimal:
        return sum((self.amount(item) for item, _ in self.decided()), ZERO)

    @cached_property
    def budget(self) -> Decimal:
        budget = self.facts.budget
        return self.to_program(budget.amount, budget.currency) if budget is not None else self.total_cost

    @cached_property
    def qualified(self) -> tuple[Decimal, Decimal, Decimal]:
        labour = other = not_qualified = ZERO
        for item, decision in self.decided():
            amount = self.amount(item)
            if not decision.qualified:
                not_qualified += amount
            elif item.labour:
                labour += amount
            else:
                other += amount
        return labour, other, not_qualified

    def in_jurisdiction(self, item: _Item) -> bool:
        return item.location is not None and item.location.within(self.program.jurisdiction)

    def _core(self) -> tuple[Decimal, Decimal]:
        """(total core cost, core cost in the jurisdiction)."""
        total = inside = ZERO
        for item, _ in self.decided():
            if item.core:
                amount = self.amount(item)
                total += amount
                if self.in_jurisdiction(item):
                    inside += amount
        return total, inside

    def metric(self, test: Test) -> Any:
        name = test.metric
        if name == "budget":
            return self.budget
        if name == "total_cost":
            return self.total_cost
        if name == "budget_per_episode":
            return self.budget / self.facts.episodes
        if name == "jurisdiction_spend":
            return sum((self.amount(i) for i, _ in self.decided() if self.in_jurisdiction(i)), ZERO)
        if name == "jurisdiction_budget_share":
            spend = sum((self.amount(i) for i, _ in self.decided() if self.in_jurisdiction(i)), ZERO)
            return spend / self.budget if self.budget else ZERO
        if name == "qualified_spend":
            labour, other, _ = self.qualified
            return labour + other
        if name == "labour_share_of_claim":
            labour, other, _ = self.qualified
            return labour / (labour + other) if labour + other else ZERO
        if name == "core_share_in_jurisdiction":
            total, inside = self._core()
            return inside / total if total else ZERO
        if name == "core_per_slot_hour":
            total, _ = self._core()
            hours = self.facts.episodes * self.facts.episode_minutes / 60
            return total / hours if hours else ZERO
        if name == "animation_share_of_core":
            total = animation = ZERO
            for item, _ in self.decided():
                if item.core:
                    amount = self.amount(item)
                    total += amount
                    if item.is_of(ANIMATION_KINDS):
                        animation += amount
            return animation / total if total else ZERO
        if name in ("category_share_in_jurisdiction", "category_spend_in_jurisdiction"):
            total = inside = ZERO
            for item, _ in self.decided():
                if item.is_of(test.categories):
                    amount = self.amount(item)
                    total += amount
                    if self.in_jurisdiction(item):
                        inside += amount
            if name == "category_spend_in_jurisdiction":
                return inside
            return inside / total if total else ZERO
        if name == "labour_share_outside_zones":
            total = outside = ZERO
            for item, _ in self.decided():
                if item.labour and item.is_of(test.categories) and self.in_jurisdiction(item):
                    amount = self.amount(item)
                    total += amount
                    if item.location.zone and item.location.zone not in test.zones:
                        outside += amount
            return outside / total if total else ZERO
        return getattr(self.facts, name)

    def check(self, test: Test) -> Finding | None:
        """The finding of ``test``, or None when its facts filter says it does not apply."""
        if not _matches(self.facts, test.when, test.unless):
            return None
        label = test.label or test.id or test.metric
        if test.any_of or test.all_of:
            parts = [f for f in (self.check(t) for t in test.any_of or test.all_of) if f is not None]
            passed = any(f.passed for f in parts) if test.any_of else all(f.passed for f in parts)
            joiner = " or " if test.any_of else " and "
            detail = joiner.join(f"{f.detail}" for f in parts)
            return Finding(test.id, label, passed, detail, self.program.cite(test))
        value = self.metric(test)
        passed, wanted = True, []
        if test.at_least is not None:
            passed &= value >= test.at_least
            wanted.append(f"at least {_figure(test.at_least)}")
        if test.at_most is not None:
            passed &= value <= test.at_most
            wanted.append(f"at most {_figure(test.at_most)}")
        if test.more_than is not None:
            passed &= value > test.more_than
            wanted.append(f"more than {_figure(test.more_than)}")
        if test.less_than is not None:
            passed &= value < test.less_than
            wanted.append(f"less than {_figure(test.less_than)}")
        if test.equals is not None:
            passed &= _same(value, test.equals)
            wanted.append(f"must be {_figure(test.equals)}")
        if test.one_of:
            passed &= any(_same(value, w) for w in test.one_of)
            wanted.append(f"one of {', '.join(test.one_of)}")
        detail = f"{test.metric.replace('_', ' ')} is {_figure(value)}, {' and '.join(wanted)}"
        return Finding(test.id or test.metric, label, bool(passed), detail, self.program.cite(test))


def _estimate_one(
    context: _Context, assistance: Decimal, required_ok: bool | None, required_detail: str
) -> ProgramEstimate:
    program, facts = context.program, context.facts
    findings = [f for f in (context.check(t) for t in program.eligibility) if f is not None]
    if required_ok is not None:
        findings.append(
            Finding(
                "requires-one-of",
                f"claimed with one of {', '.join(program.requires_one_of)}",
                required_ok,
                required_detail,
                "",
            )
        )
    labour, other, not_qualified = context.qualified
    # A program pays for work in its jurisdiction: with nothing on the books that qualifies there
    # (no labour or spend the program's line tests take), it is not a claim, whatever else holds.
    findings.append(
        Finding(
            "qualifying-work",
            f"qualifying labour or spend in {program.jurisdiction}",
            labour + other > 0,
            f"qualified labour {program.currency} {labour:,.2f} and other spend {program.currency} {other:,.2f}, "
            "more than 0 in all",
            "",
        )
    )
    eligible = all(f.passed for f in findings)
    caps: list[CapResult] = []

    # The base, then its caps in file order, then the assistance it is net of.
    if program.base == "labour":
        base = labour
    elif program.base == "spend":
        base = labour + other
    else:
        base = context._core()[1]
    other_assistance = ZERO
    if program.assistance_from and facts.other_assistance is not None:
        other_assistance = context.to_program(facts.other_assistance.amount, facts.other_assistance.currency)
    assistance += other_assistance
    for cap in program.caps:
        if not _matches(facts, cap.when, cap.unless):
            continue
        if cap.kind == "base":
            limit = cap.value
        elif cap.kind == "share_of_total_core":
            limit = cap.value * context._core()[0]
        elif cap.kind == "labour_share_of_net_cost":
            net_cost = context.total_cost - (
                assistance if program.assistance_reduces == "net_cost" else other_assistance
            )
            limit = cap.value * net_cost
        else:  # atl_share_of_other: the qualified ATL amount is held to a share of the rest
            atl = sum((context.amount(i) for i, d in context.decided() if d.qualified and i.atl), ZERO)
            limit = base - atl + min(atl, cap.value * (base - atl))
        after = min(base, limit)
        caps.append(CapResult(cap.id, cap.label, base, limit, after, program.cite(cap)))
        base = after
    if program.assistance_reduces == "base" and assistance:
        base = max(ZERO, base - assistance)

    rate_figure = next(r for r in program.rates if _matches(facts, r.when, r.unless))
    rate = rate_figure.value
    base_credit = rate * base
    uplifts = _uplifts(context, base, labour)
    would_be = base_credit + sum((u.amount for u in uplifts), ZERO)
    credit = would_be if eligible else ZERO

    share = Decimal(1)
    if program.certification is not None:
        full = [f for f in (context.check(t) for t in program.certification.full_if) if f is not None]
        share = Decimal(1) if any(f.passed for f in full) else program.certification.share
    certified = credit * share
    fee_figure = next((f for f in program.fees if _matches(facts, f.when, f.unless)), None)
    fee = credit * fee_figure.share if fee_figure is not None else ZERO
    tax = certified * program.tax.rate if program.tax is not None else ZERO

    jobs_ratio, qualified_wages = None, ZERO
    if program.jobs_ratio is not None:
        vfx_vendors = sum(
            (context.amount(i) for i, d in context.decided() if d.qualified and not i.labour and i.category == "vfx"),
            ZERO,
        )
        qualified_wages = labour + program.jobs_ratio.vfx_vendor_share * vfx_vendors
        jobs_ratio = qualified_wages / (rate * base) if eligible and base else None

    refund: tuple[Decimal, ...] = ()
    if program.refund is not None and credit and _matches(facts, program.refund.when, {}):
        net_tax = context.to_program(facts.net_tax.amount, facts.net_tax.currency) if facts.net_tax else ZERO
        # On the credit, as the data sheet's worked example E1 computes it (90% x 560,000).
        total = program.refund.share * max(ZERO, credit - net_tax)
        refund = (total / program.refund.years,) * program.refund.years

    return ProgramEstimate(
        program=program,
        eligible=eligible,
        findings=tuple(findings),
        currency=program.currency,
        qualified_labour=labour,
        qualified_other=other,
        not_qualified=not_qualified,
        caps=tuple(caps),
        assistance=assistance,
        base=base,
        rate=rate,
        rate_label=rate_figure.label,
        base_credit=base_credit,
        uplifts=tuple(uplifts),
        credit=credit,
        would_be=would_be,
        certified_share=share,
        certified=certified,
        fee=fee,
        tax=tax,
        net=certified - fee - tax,
        jobs_ratio=jobs_ratio,
        qualified_wages=qualified_wages,
        refund=refund,
        breakdown=_breakdown(context),
        budget=context.budget,
        _books=context.books,
        _wage_decisions=tuple(context.wage_decisions),
        _class_decisions=context.class_decisions,
        _to_program=context.to_program,
    )


def _uplifts(context: _Context, base: Decimal, labour: Decimal) -> list[UpliftResult]:
    program, facts = context.program, context.facts
    results: list[UpliftResult] = []
    pool_left = {name: pool.share_of_base * base for name, pool in program.pools.items()}
    for uplift in program.uplifts:
        cite = program.cite(uplift)
        if not _matches(facts, uplift.when, uplift.unless):
            results.append(
                UpliftResult(
                    uplift.id, uplift.label, False, ZERO, uplift.rate, ZERO, "does not apply to this production", cite
                )
            )
            continue
        failed = [f for f in (context.check(t) for t in uplift.requires) if f is not None and not f.passed]
        if failed:
            reason = "; ".join(f"{f.label}: {f.detail}" for f in failed)
            results.append(UpliftResult(uplift.id, uplift.label, False, ZERO, uplift.rate, ZERO, reason, cite))
            continue
        on = _uplift_base(context, uplift, base)
        amount = uplift.rate * on
        reason = ""
        if uplift.cap_share_of_labour is not None and amount > uplift.cap_share_of_labour * labour:
            amount = uplift.cap_share_of_labour * labour
            reason = f"held to {_figure(uplift.cap_share_of_labour)} of qualified labour"
        if uplift.pool:
            left = pool_left[uplift.pool]
            if amount > left:
                pool = program.pools[uplift.pool]
                reason = f"held by the {pool.label} ({_figure(pool.share_of_base)} of the base)"
                amount = left
            pool_left[uplift.pool] = left - amount
        results.append(UpliftResult(uplift.id, uplift.label, bool(on), on, uplift.rate, amount, reason, cite))
    return results


def _uplift_base(context: _Context, uplift: Uplift, base: Decimal) -> Decimal:
    """The amount an uplift's rate is on."""
    if uplift.on == "base":
        return base
    if uplift.on == "first_tranche":
        return min(base, uplift.limit or ZERO)
    total = ZERO
    for item, decision in context.decided():
        if decision.qualified and _uplift_counts(context, uplift, item):
            total += context.amount(item)
    return total


def _outside(place: Place | None, zones: Sequence[str]) -> bool:
    # A place with no zone is never taken to be outside one: no uplift on a guess.
    return place is not None and bool(place.zone) and place.zone not in zones


def _local_hire(context: _Context, zones: Sequence[str], item: _Item) -> bool:
    return (
        item.wage
        and item.residence is not None
        and item.residence.within(context.program.jurisdiction)
        and _outside(item.residence, zones)
        and _outside(item.location, zones)
    )


def _uplift_counts(context: _Context, uplift: Uplift, item: _Item) -> bool:
    on = uplift.on
    if on == "spend_outside_zones":
        if not (context.in_jurisdiction(item) and _outside(item.location, uplift.zones)):
            return False
        return not (uplift.exclude_local_hire and _local_hire(context, uplift.zones, item))
    if on == "local_hire":
        return _local_hire(context, uplift.zones, item)
    if on == "labour_in_zones":
        return item.labour and item.location is not None and item.location.zone in uplift.zones
    if on == "categories":
        return item.is_of(uplift.kinds)
    if on == "trainee_labour":
        return item.wage and item.trainee
    raise AssertionError(on)  # the loader refuses unknown uplifts


def _breakdown(context: _Context) -> tuple[BreakdownRow, ...]:
    rows: dict[tuple[str, bool, bool], list] = {}
    for item, decision in context.decided():
        key = (decision.rule, decision.qualified, item.labour)
        row = rows.get(key)
        if row is None:
            rows[key] = [decision, context.amount(item), item.count]
        else:
            row[1] += context.amount(item)
            row[2] += item.count
    return tuple(
        BreakdownRow(d.rule, d.label, q, labour, amount, count, d.source)
        for (_, q, labour), (d, amount, count) in sorted(rows.items(), key=lambda kv: (not kv[0][1], kv[0][0]))
    )


# -- every program ----------------------------------------------------------------------------------


def estimate(books: Books, facts: ProductionFacts, programs: Sequence[Program], as_of: date) -> Estimate:
    """Estimate ``programs`` for ``books`` as of ``as_of``.

    A program whose rule set does not cover ``as_of`` is a BooksError (choose programs with
    ``Catalog.select``). Provincial and state credits are estimated first; a federal program's
    base is then net of the eligible ones of its country and stream (``assistance_from``), as CRA
    counts a provincial credit as assistance."""
    for program in programs:
        check_in_effect(program, as_of)
    wages = [_wage_item(line, books) for line in books.wages]
    totals, _ = books.spend_classes
    classes = {key: _spend_item(key, total, count) for key, (total, count) in totals.items()}
    contexts = {p.id: _Context(p, books, facts, wages, classes) for p in programs}

    first = [p for p in programs if not p.assistance_from and not p.requires_one_of]
    results: dict[str, ProgramEstimate] = {p.id: _estimate_one(contexts[p.id], ZERO, None, "") for p in first}
    for program in programs:
        if program.requires_one_of:
            held = [i for i in program.requires_one_of if i in results and results[i].eligible]
            detail = f"eligible: {', '.join(held)}" if held else "none of them is estimated and eligible"
            results[program.id] = _estimate_one(contexts[program.id], ZERO, bool(held), detail)
    for program in programs:
        if program.assistance_from:
            members = _stack_members(program, programs, results)
            assistance = sum((results[m.id].credit for m in members), ZERO)
            results[program.id] = _estimate_one(contexts[program.id], assistance, None, "")
    ordered = tuple(results[p.id] for p in programs)
    return Estimate(as_of, ordered, _stacks(programs, results))


def _compatible(national: Program, program: Program) -> bool:
    return (
        program.country == national.country
        and program.level in national.assistance_from
        and (program.stream in (national.stream, "any") or not national.stream)
    )


def _stack_members(
    national: Program, programs: Sequence[Program], results: dict[str, ProgramEstimate]
) -> list[Program]:
    """The eligible provincial programs that stack under ``national``: same country and stream
    (OCASE and DAVE, of either stream, only beside a program they need)."""
    members = [p for p in programs if p.stream != "any" and _compatible(national, p) and results[p.id].eligible]
    ids = {p.id for p in members}
    members += [
        p
        for p in programs
        if p.stream == "any" and _compatible(national, p) and results[p.id].eligible and ids & set(p.requires_one_of)
    ]
    return members


def _stacks(programs: Sequence[Program], results: dict[str, ProgramEstimate]) -> tuple[Stack, ...]:
    """The claims that go together, each of eligible programs only: a federal credit with the
    provincial credits under it, then every other eligible program (with the OCASE or DAVE that
    needs it)."""
    stacks: list[Stack] = []
    placed: set[str] = set()

    def add(members: list[Program]) -> None:
        members = [p for p in members if results[p.id].eligible]
        placed.update(p.id for p in members)
        if not members or not any(results[p.id].credit for p in members):
            return
        estimates = [results[p.id] for p in members]
        stacks.append(
            Stack(
                " + ".join(p.id for p in members),
                tuple(p.id for p in members),
                estimates[0].currency,
                sum((e.credit for e in estimates), ZERO),
                sum((e.net for e in estimates), ZERO),
            )
        )

    for national in programs:
        if national.assistance_from:
            add([*_stack_members(national, programs, results), national])
    for program in programs:
        if program.id in placed or program.stream == "any":
            continue
        partners = [
            p
            for p in programs
            if p.stream == "any" and p.country == program.country and program.id in p.requires_one_of
        ]
        add([program, *partners])
    return tuple(stacks)


def countable(
    programs: Sequence[Program], books: Books, facts: ProductionFacts
) -> tuple[list[Program], list[tuple[Program, str]]]:
    """The programs whose currency every amount on the books (and in the facts) converts to at
    the producer's rates, and the others with the reason: what ``incentives`` with no program
    named estimates, rather than failing on a program the production cannot reach."""
    used = {line.currency for line in books.wages} | {c.currency for c in books.spend_classes[0]}
    used |= {m.currency for m in (facts.budget, facts.net_tax, facts.other_assistance) if m is not None}
    chosen, skipped = [], []
    for program in programs:
        missing = []
        for currency in sorted(used):
            try:
                facts.rate(currency, program.currency)
            except BooksError:
                missing.append(f"{currency}->{program.currency}")
        if missing:
            skipped.append((program, f"no exchange rate {', '.join(missing)} (production facts: exchange)"))
        else:
            chosen.append(program)
    return chosen, skipped
