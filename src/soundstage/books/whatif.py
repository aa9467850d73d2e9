"""A labour-indexed incentive that the user designs, evaluated on the same books as the real
programs and compared with them: what each pays per confirmed crew hour, per full-time-equivalent
job and per unit of budget.

A design is a TOML file (examples/incentives/):

    name = "Local crew hours"
    currency = "CAD"
    region = "CA-ON"        # "local" means living and working here (default: the production's home)
    fte_hours = 2080        # hours of one full-time-equivalent job (default: 52 weeks x 40 hours)
    include_atl = false     # do above-the-line hours and wages count?
    tax_rate = 0            # the benefit is taxed at this rate (0: not taxable)
    [per_hour]
    amount = 12.00          # per confirmed local crew hour
    [wages]
    share = 0.20            # of local wages
    [spend]
    share = 0.10            # of local non-wage spend
    [cap]
    per_job = 15000         # one person's labour benefit at most this per FTE job they fill
    total = 500000          # the whole benefit at most this

The per-job cap is pro-rated by the hours a person worked (``per_job x hours / fte_hours``), so
splitting one job between two people neither raises nor lowers it.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from soundstage.books.facts import ProductionFacts
from soundstage.books.incentives import Estimate
from soundstage.books.ledger import Books
from soundstage.books.model import Place, SpendKind, currencies
from soundstage.errors import BooksError
from soundstage.files import read_failure

ZERO = Decimal(0)
# One full-time-equivalent job: 52 weeks of 40 hours (the US federal convention, 2,080 hours).
FTE_HOURS = Decimal(2080)
NOT_LOCAL_SPEND = ("rights", "development", "financing", "overhead", "marketing", "distribution", "residuals")


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PerHour(_Part):
    amount: Decimal = Field(ge=0)


class Share(_Part):
    share: Decimal = Field(ge=0, le=1)


class Caps(_Part):
    per_job: Decimal | None = Field(None, ge=0)
    total: Decimal | None = Field(None, ge=0)


class Design(_Part):
    """A labour-indexed incentive design (see the module docstring for the file)."""

    name: str
    description: str = ""
    currency: str
    region: str | None = Field(None, pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
    fte_hours: Decimal = Field(FTE_HOURS, gt=0)
    include_atl: bool = False
    tax_rate: Decimal = Field(ZERO, ge=0, le=1)
    per_hour: PerHour | None = None
    wages: Share | None = None
    spend: Share | None = None
    cap: Caps = Caps()
    exclude_categories: list[str] = list(NOT_LOCAL_SPEND)


def load_design(path: Path) -> Design:
    """A what-if design from TOML; a bad one is a BooksError naming the file and field."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as failure:
        raise BooksError(f"{path}: cannot read the what-if design: {read_failure(failure)}") from None
    try:
        design = Design.model_validate(data)
    except ValidationError as invalid:
        error = invalid.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "(file)"
        raise BooksError(f"{path}: what-if design, field {field}: {error['msg']}") from None
    if design.currency not in currencies():
        raise BooksError(f"{path}: what-if design, field currency: unknown currency {design.currency!r}")
    if design.per_hour is None and design.wages is None and design.spend is None:
        raise BooksError(f"{path}: what-if design pays for nothing: give [per_hour], [wages] or [spend]")
    return design


@dataclass(frozen=True)
class WhatIf:
    """What a design pays on the books, and from what."""

    design: Design
    currency: str
    region: str
    local_hours: Decimal
    local_wages: Decimal
    local_spend: Decimal
    from_hours: Decimal
    from_wages: Decimal
    from_spend: Decimal
    held_by_job_cap: Decimal
    held_by_total_cap: Decimal
    local_people: int
    benefit: Decimal  # gross, after the caps
    tax: Decimal
    net: Decimal


def evaluate(design: Design, books: Books, facts: ProductionFacts) -> WhatIf:
    """``design`` on ``books``: local crew hours (confirmed, living and working in the region,
    below the line unless the design includes ATL), local wages on those hours plus local
    loan-outs, local non-wage spend (local vendors, spent in the region, not rights, financing,
    marketing and the like), each priced as the design says, then the caps."""
    region = design.region or (facts.home.region if facts.home else None)
    if region is None:
        raise BooksError(f"what-if {design.name!r}: give its region, or the production's home place in the facts")
    currency = design.currency

    def local(place: Place | None) -> bool:
        return place is not None and place.within(region)

    per_person: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for line in books.wages:
        if (design.include_atl or not line.atl) and local(line.residence) and local(line.location):
            person = per_person[line.person]
            person[0] += line.hours
            person[1] += line.pay * facts.rate(line.currency, currency)
    loan_outs = local_spend = ZERO
    totals, _ = books.spend_classes
    for spend_class, (amount, _) in totals.items():
        if not (spend_class.vendor_local and local(spend_class.location)):
            continue
        if spend_class.account.category in design.exclude_categories:
            continue
        if spend_class.atl and not design.include_atl:
            continue
        converted = amount * facts.rate(spend_class.currency, currency)
        if spend_class.kind is SpendKind.LABOUR:
            loan_outs += converted
        else:
            local_spend += converted

    rate_per_hour = design.per_hour.amount if design.per_hour else ZERO
    wage_share = design.wages.share if design.wages else ZERO
    spend_share = design.spend.share if design.spend else ZERO
    from_hours = from_wages = held_by_job = ZERO
    for hours, wages in per_person.values():
        earned_hours, earned_wages = rate_per_hour * hours, wage_share * wages
        earned = earned_hours + earned_wages
        if design.cap.per_job is not None:
            limit = design.cap.per_job * hours / design.fte_hours
            if earned > limit:
                # The cap holds both parts back in proportion, so the split stays readable.
                held_by_job += earned - limit
                earned_hours, earned_wages = earned_hours * limit / earned, earned_wages * limit / earned
        from_hours += earned_hours
        from_wages += earned_wages
    from_wages += wage_share * loan_outs
    from_spend = spend_share * local_spend
    benefit = from_hours + from_wages + from_spend
    held_by_total = ZERO
    if design.cap.total is not None and benefit > design.cap.total:
        held_by_total, benefit = benefit - design.cap.total, design.cap.total
    tax = benefit * design.tax_rate
    return WhatIf(
        design=design,
        currency=currency,
        region=region,
        local_hours=sum((p[0] for p in per_person.values()), ZERO),
        local_wages=sum((p[1] for p in per_person.values()), ZERO) + loan_outs,
        local_spend=local_spend,
        from_hours=from_hours,
        from_wages=from_wages,
        from_spend=from_spend,
        held_by_job_cap=held_by_job,
        held_by_total_cap=held_by_total,
        local_people=len(per_person),
        benefit=benefit,
        tax=tax,
        net=benefit - tax,
    )


@dataclass(frozen=True)
class Comparison:
    """One incentive, real or designed, in the same terms: its net benefit in the comparison's
    currency, per confirmed crew hour, per full-time-equivalent job and per unit of budget."""

    name: str
    kind: str  # "what-if" | "program" | "stack"
    currency: str
    net: Decimal
    per_crew_hour: Decimal
    per_fte_job: Decimal
    per_budget: Decimal


def compare(
    books: Books,
    facts: ProductionFacts,
    estimate: Estimate,
    whatifs: list[WhatIf],
    *,
    currency: str,
    fte_hours: Decimal = FTE_HOURS,
) -> list[Comparison]:
    """Every design, every eligible program and every stack of ``estimate``, in ``currency``
    (at the producer's rates), over the same denominators: all confirmed crew hours on the books,
    those hours in FTE jobs of ``fte_hours``, and the budget (the facts' or the books' total)."""
    hours = books.confirmed_hours
    if facts.budget is not None:
        budget = facts.convert(facts.budget, currency)
    else:
        budget = sum((line.pay * facts.rate(line.currency, currency) for line in books.wages), ZERO)
        budget += sum(
            (amount * facts.rate(c.currency, currency) for c, (amount, _) in books.spend_classes[0].items()), ZERO
        )
    jobs = hours / fte_hours

    def row(name: str, kind: str, net: Decimal, source_currency: str) -> Comparison:
        value = net * facts.rate(source_currency, currency)
        return Comparison(
            name,
            kind,
            currency,
            value,
            value / hours if hours else ZERO,
            value / jobs if jobs else ZERO,
            value / budget if budget else ZERO,
        )

    rows = [row(w.design.name, "what-if", w.net, w.currency) for w in whatifs]
    rows += [row(p.program.id, "program", p.net, p.currency) for p in estimate.programs if p.eligible and p.net]
    rows += [row(s.label, "stack", s.net, s.currency) for s in estimate.stacks if len(s.programs) > 1]
    return rows
