"""What the programs ask about a production that its books do not say: what kind of show it is,
how long its episodes run, its budget, which certificates it holds, and the exchange rates the
producer wants used. Rule files test these by name (``when = { kind = ["series"] }``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from soundstage.books.model import Money, Place, currencies
from soundstage.errors import BooksError


class ProductionKind(StrEnum):
    """The kind of production, as the programs sort them. An animated film is a ``feature`` with
    ``animated = true``; a season of a series is one claim."""

    FEATURE = "feature"
    SERIES = "series"
    PILOT = "pilot"
    MINISERIES = "miniseries"
    COMPETITION = "competition"
    SHORT = "short"


@dataclass(frozen=True)
class ProductionFacts:
    """The facts of a production that its rules test. Amounts are ``Money``; ``exchange`` holds
    the producer's rates as {("CAD", "USD"): Decimal("0.72")}: 1 CAD is 0.72 USD (the inverse is
    used the other way). A budget left as None is the total of the books."""

    title: str = ""
    kind: ProductionKind = ProductionKind.SERIES
    animated: bool = True
    episodes: int = 1
    episode_minutes: Decimal = Decimal(0)  # average running time of an episode (a feature: its length)
    budget: Money | None = None
    home: Place | None = None  # where the production is based: "local" in the books means here
    independent: bool = False
    relocating_tv_year: int | None = None  # a TV series relocating to California: its year there
    canadian_content: bool = False  # CAVCO-certified Canadian content
    cancon_points: int = 0
    first_time_producer: bool = False
    bfi_certified: bool = False  # UK: passed the cultural test (BFI certificate)
    georgia_logo: bool = False
    ny_production_plus: bool = False
    scoring_musicians: int = 0
    diversity_workplan: bool = False  # California: the workplan was met
    refund_election: bool = True  # California 4.0: the one-time election to have the excess refunded
    net_tax: Money | None = None  # the claimant's net tax against which a nonrefundable credit is used
    other_assistance: Money | None = None  # government assistance other than the credits estimated
    principal_photography: date | None = None
    exchange: Mapping[tuple[str, str], Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise BooksError(f"production facts: episodes must be at least 1, not {self.episodes}")

    def rate(self, source: str, target: str) -> Decimal:
        """How many ``target`` one ``source`` is; raises BooksError when the producer gave no rate
        (currencies are never mixed on a guess)."""
        if source == target:
            return Decimal(1)
        direct = self.exchange.get((source, target))
        if direct is not None:
            return direct
        inverse = self.exchange.get((target, source))
        if inverse is not None:
            return Decimal(1) / inverse
        raise BooksError(
            f"amounts in {source} must be counted in {target}, but no exchange rate {source}->{target} was given "
            f"(production facts: exchange)"
        )

    def convert(self, money: Money, target: str) -> Decimal:
        """``money`` in ``target``, at the producer's rate."""
        return money.amount * self.rate(money.currency, target)


FACT_NAMES = frozenset(f.name for f in fields(ProductionFacts)) - {"exchange", "title"}


class _MoneyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Decimal
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class _FactsFile(BaseModel):
    """The facts as written in TOML (``[books.facts]`` or a file of their own)."""

    model_config = ConfigDict(extra="forbid")
    title: str = ""
    kind: ProductionKind = ProductionKind.SERIES
    animated: bool = True
    episodes: int = Field(1, ge=1)
    episode_minutes: Decimal = Field(Decimal(0), ge=0)
    budget: _MoneyFile | None = None
    home: str | None = None
    independent: bool = False
    relocating_tv_year: int | None = Field(None, ge=1)
    canadian_content: bool = False
    cancon_points: int = Field(0, ge=0, le=10)
    first_time_producer: bool = False
    bfi_certified: bool = False
    georgia_logo: bool = False
    ny_production_plus: bool = False
    scoring_musicians: int = Field(0, ge=0)
    diversity_workplan: bool = False
    refund_election: bool = True
    net_tax: _MoneyFile | None = None
    other_assistance: _MoneyFile | None = None
    principal_photography: date | None = None
    exchange: dict[str, Decimal] = {}


def load_facts(source: Path | Mapping[str, Any], *, where: str = "soundstage.toml [books.facts]") -> ProductionFacts:
    """Production facts from a TOML file or a mapping; ``exchange`` is written as
    ``"USD/CAD" = 1.37`` (1 USD is 1.37 CAD). A bad value is a BooksError naming the field."""
    if isinstance(source, Path):
        where = str(source)
        try:
            data: Mapping[str, Any] = tomllib.loads(source.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as failure:
            raise BooksError(f"{source}: cannot read the production facts: {failure}") from None
    else:
        data = source
    try:
        parsed = _FactsFile.model_validate(dict(data))
    except ValidationError as invalid:
        error = invalid.errors()[0]
        field_name = ".".join(str(part) for part in error["loc"]) or "(file)"
        raise BooksError(f"{where}: production facts, field {field_name}: {error['msg']}") from None
    known = currencies()
    exchange: dict[tuple[str, str], Decimal] = {}
    for pair, rate in parsed.exchange.items():
        source_code, _, target = pair.upper().partition("/")
        if source_code not in known or target not in known or rate <= 0:
            raise BooksError(
                f'{where}: production facts, field exchange.{pair}: write a positive rate as "USD/CAD" = 1.37'
            )
        exchange[(source_code, target)] = rate
    for name in ("budget", "net_tax", "other_assistance"):
        money = getattr(parsed, name)
        if money is not None and money.currency not in known:
            raise BooksError(f"{where}: production facts, field {name}.currency: unknown currency {money.currency!r}")
    try:
        home = Place.parse(parsed.home) if parsed.home else None
    except ValueError as bad:
        raise BooksError(f"{where}: production facts, field home: {bad}") from None
    values = parsed.model_dump(exclude={"budget", "net_tax", "other_assistance", "home", "exchange"})
    return ProductionFacts(
        **values,
        budget=_money(parsed.budget),
        net_tax=_money(parsed.net_tax),
        other_assistance=_money(parsed.other_assistance),
        home=home,
        exchange=exchange,
    )


def _money(value: _MoneyFile | None) -> Money | None:
    return Money(value.amount, value.currency) if value is not None else None
