"""What the programs ask about a production that its books do not say: what kind of show it is,
how long its episodes run, its budget, which certificates it holds, and the exchange rates the
producer wants used. Rule files test these by name (``when = { kind = ["series"] }``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from enum import StrEnum

from soundstage.books.model import Money, Place
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
