"""The labour-indexed what-if: local hours, wages and spend priced as a design says, caps per FTE
job and in total, and the comparison with the real programs over the same denominators."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from soundstage.books.facts import ProductionFacts, ProductionKind
from soundstage.books.incentives import estimate
from soundstage.books.model import Money, Place
from soundstage.books.programs import load_programs
from soundstage.books.whatif import Design, compare, evaluate, load_design
from soundstage.errors import BooksError

from .ledgers import Ledger

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "incentives"
FACTS = ProductionFacts(kind=ProductionKind.FEATURE, home=Place("CA-ON"), canadian_content=True, cancon_points=10)


def ontario() -> Ledger:
    """Local BTL crew: 4 people, 1,040 h each at C$50 (C$208,000); a local producer (ATL) 1,040 h
    at C$100; a Quebec resident working in Ontario; local and non-local spend."""
    books = Ledger("CAD")
    books.wages(208_000, people=4, lives="CA-ON/hamilton", works="CA-ON/hamilton", rate=50)
    books.wages(
        104_000, people=1, department="producing", role="Producer", lives="CA-ON", works="CA-ON", atl=True, rate=100
    )
    books.wages(52_000, people=1, lives="CA-QC", works="CA-ON", rate=50)
    books.cost(40_000, "3200", "CA-ON/hamilton", vendor="Local stage")
    books.cost(10_000, "3100", "CA-QC", vendor="Cloud in Quebec", local=False)
    books.cost(5_000, "7100", "CA-ON", vendor="Local publicist")  # marketing: never local spend
    books.cost(20_000, "2600", "CA-ON", vendor="Local loan-out animator")  # labour through a vendor
    return books


def test_an_hours_based_design_by_hand() -> None:
    design = Design(name="Hours", currency="CAD", per_hour={"amount": 12}, spend={"share": "0.05"})
    result = evaluate(design, ontario().books(), FACTS)
    assert result.region == "CA-ON" and result.local_people == 4
    assert result.local_hours == 4 * 1_040  # the producer is ATL, the Quebec resident not local
    assert result.from_hours == 12 * 4_160
    assert result.local_spend == 40_000 and result.from_spend == 2_000
    assert result.local_wages == 208_000 + 20_000 and result.from_wages == 0
    assert result.net == 49_920 + 2_000


def test_the_per_job_cap_is_pro_rated_by_hours() -> None:
    # 30% of C$52,000 = 15,600 a person for 1,040 h; the cap: 20,000 x 1,040 / 2,080 = 10,000.
    design = Design(name="Wages", currency="CAD", wages={"share": "0.30"}, cap={"per_job": 20_000})
    result = evaluate(design, ontario().books(), FACTS)
    assert result.held_by_job_cap == 4 * 5_600
    assert result.from_wages == 4 * 10_000 + Decimal("0.30") * 20_000  # the loan-out has no hours, no cap
    capped = evaluate(
        Design(name="Total", currency="CAD", wages={"share": "0.30"}, cap={"total": 25_000}), ontario().books(), FACTS
    )
    assert capped.benefit == 25_000 and capped.held_by_total_cap == Decimal("0.30") * 228_000 - 25_000
    with_atl = evaluate(
        Design(name="ATL", currency="CAD", per_hour={"amount": 1}, include_atl=True), ontario().books(), FACTS
    )
    assert with_atl.local_hours == 5 * 1_040


def test_a_taxed_design_in_another_currency() -> None:
    facts = ProductionFacts(home=Place("CA-ON"), exchange={("CAD", "USD"): Decimal("0.73")})
    design = Design(name="USD", currency="USD", per_hour={"amount": 10}, tax_rate="0.25")
    result = evaluate(design, ontario().books(), facts)
    assert result.currency == "USD" and result.benefit == 41_600 and result.net == 31_200
    wages = evaluate(Design(name="W", currency="USD", wages={"share": "0.10"}), ontario().books(), facts)
    assert wages.local_wages == Decimal("0.73") * 228_000


def test_the_comparison_uses_the_same_denominators() -> None:
    books = ontario().books()
    facts = ProductionFacts(
        kind=ProductionKind.FEATURE, home=Place("CA-ON"), budget=Money(Decimal(500_000), "CAD"), cancon_points=10
    )
    as_of = date(2026, 1, 15)
    result = estimate(books, facts, load_programs().select(["on-ofttc"], as_of), as_of)
    design = evaluate(Design(name="Hours", currency="CAD", per_hour={"amount": 10}), books, facts)
    rows = {row.name: row for row in compare(books, facts, result, [design], currency="CAD")}
    hours = Decimal(6 * 1_040)
    assert rows["Hours"].net == 41_600 and rows["Hours"].per_crew_hour == Decimal(41_600) / hours
    assert rows["Hours"].per_fte_job == Decimal(41_600) / (hours / 2_080) and rows["Hours"].per_budget == Decimal(
        "0.0832"
    )
    ofttc = result.program("on-ofttc")
    assert rows["on-ofttc"].net == ofttc.net and rows["on-ofttc"].kind == "program"


def test_the_shipped_designs_load_and_bad_ones_are_refused(tmp_path: Path) -> None:
    hours, wages = load_design(EXAMPLES / "hours-based.toml"), load_design(EXAMPLES / "wages-based.toml")
    assert hours.per_hour.amount == 14 and hours.wages is None and hours.fte_hours == 2_080
    assert wages.wages.share == Decimal("0.30") and wages.cap.per_job == 27_000
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ncurrency = "CAD"\n[wages]\nshare = 1.5\n')
    with pytest.raises(
        BooksError, match=r"bad.toml: what-if design, field wages.share: Input should be less than or equal to 1"
    ):
        load_design(bad)
    bad.write_text('name = "x"\ncurrency = "CAD"\n')
    with pytest.raises(BooksError, match="pays for nothing"):
        load_design(bad)
    with pytest.raises(BooksError, match="give its region"):
        evaluate(Design(name="x", currency="CAD", per_hour={"amount": 1}), ontario().books(), ProductionFacts())
