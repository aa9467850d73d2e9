"""A program pays for work in its jurisdiction: on the example ledger (an Ontario production with
one compositor working from Vancouver) New York has nothing that qualifies and is not eligible,
while British Columbia's labour programs take that compositor's BC hours and nothing else."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

from soundstage.books import Books, estimate, import_crew, import_hours, import_spend, load_facts, load_programs
from soundstage.books.facts import ProductionFacts

LEDGER = Path(__file__).resolve().parents[2] / "examples" / "books"
AS_OF = date(2026, 6, 1)


def _example() -> tuple[Books, ProductionFacts]:
    books = Books(
        import_crew(LEDGER / "crew.csv"), import_hours(LEDGER / "hours.csv"), import_spend(LEDGER / "spend.csv")
    )
    facts = tomllib.loads((LEDGER / "production.toml").read_text("utf-8"))
    return books, load_facts(facts)


def test_a_program_with_no_qualifying_work_in_its_jurisdiction_is_not_eligible() -> None:
    books, facts = _example()
    found = estimate(books, facts, load_programs().select(["ny", "bc-fibc"], AS_OF), AS_OF)

    ny = found.program("ny")
    assert not ny.eligible and ny.credit == 0
    failed = [f for f in ny.findings if not f.passed]
    assert [f.test for f in failed] == ["qualifying-work"]
    assert "US-NY" in failed[0].label

    bc = found.program("bc-fibc")
    bc_hours = sum(
        (e.hours for e in books.hours if e.confirmed and e.location is not None and e.location.within("CA-BC")),
        Decimal(0),
    )
    assert bc_hours > 0
    assert bc.eligible
    assert bc.qualified_labour == sum(
        (w.pay for w in books.wages if w.location is not None and w.location.within("CA-BC")), Decimal(0)
    )
    assert any(f.test == "qualifying-work" and f.passed for f in bc.findings)
