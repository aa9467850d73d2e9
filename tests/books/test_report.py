"""The books report: HTML and PDF written atomically, the PDF read back with pypdf and its
numbers checked against the books they came from."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from soundstage.books.csvio import import_crew, import_hours, import_spend
from soundstage.books.facts import load_facts
from soundstage.books.incentives import countable, estimate
from soundstage.books.ledger import Books
from soundstage.books.programs import load_programs
from soundstage.books.report import write_books_report
from soundstage.books.whatif import evaluate, load_design
from soundstage.errors import BooksError

from .test_incentives import E1_FACTS, e1_ledger

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "books"
DESIGNS = REPO / "examples" / "incentives"
MADE = datetime(2026, 5, 11, 9, 0, tzinfo=UTC)


def cents(amount: Decimal) -> str:
    """An amount as the report shows it: to the cent, half up."""
    return f"{amount.quantize(Decimal('0.01'), ROUND_HALF_UP):,.2f}"


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_the_e1_report_carries_the_estimate_figures(tmp_path: Path) -> None:
    books = e1_ledger().books()
    as_of = date(2026, 1, 15)
    result = estimate(books, E1_FACTS, load_programs().select(["ca-4.0"], as_of), as_of)
    html, pdf = write_books_report(tmp_path, books, E1_FACTS, result, currency="USD", title="E1", created_at=MADE)
    assert (html.name, pdf.name) == ("books.html", "books.pdf")
    text = pdf_text(pdf)
    flat = " ".join(text.split())  # sentences wrap over lines
    for figure in ("1,600,000.00", "560,000.00", "537,600.00", "2,800.00", "534,800.00"):
        assert figure in text, figure
    assert "Jobs ratio: 1,200,000.00 qualified wages / 560,000.00 credit = 2.14." in flat
    assert "Refund election: year 1: USD 100,800.00," in flat and "year 5: USD 100,800.00." in flat
    # The hours: ten animators at 15,000 hours each and the director's 2,000, summed from the entries.
    total = sum(entry.hours for entry in books.hours)
    assert f"Confirmed crew hours: {total:,.2f} by 11 people." in flat
    assert re.search(r"animation 10 15,000\.00 1,200,000\.00", text)
    assert "left out: above the line" in flat
    page = html.read_text("utf-8")
    assert "560,000.00" in page and "<svg" in page and "Hours by residence" in page


def test_the_example_ledger_report_with_both_designs(tmp_path: Path) -> None:
    books = Books(
        import_crew(EXAMPLE / "crew.csv"), import_hours(EXAMPLE / "hours.csv"), import_spend(EXAMPLE / "spend.csv")
    )
    facts = load_facts(EXAMPLE / "production.toml")
    as_of = facts.principal_photography
    programs, skipped = countable(load_programs().select(None, as_of), books, facts)
    result = estimate(books, facts, programs, as_of)
    whatifs = [evaluate(load_design(DESIGNS / f"{name}.toml"), books, facts) for name in ("hours-based", "wages-based")]
    _, pdf = write_books_report(
        tmp_path,
        books,
        facts,
        result,
        whatifs,
        currency="CAD",
        created_at=MADE,
        skipped=[(p.id, r) for p, r in skipped],
    )
    text = pdf_text(pdf)
    flat = " ".join(text.split())
    ofttc = result.program("on-ofttc")
    assert ofttc.eligible and cents(ofttc.credit) in text
    assert "Not estimated: uk-avec: no exchange rate CAD->GBP, USD->GBP" in flat
    assert "an animated series averages at least 20 minutes an episode: episode minutes is 8.5, at least 20" in flat
    hours_design = whatifs[0]
    assert hours_design.local_hours > 0 and hours_design.from_hours == Decimal(14) * hours_design.local_hours
    assert cents(hours_design.net) in text
    assert (
        "one full-time- equivalent job is 2,080 hours" in flat or "one full-time-equivalent job is 2,080 hours" in flat
    )
    stack = result.stacks[0]
    assert cents(stack.credit) in text


def test_without_pay_the_report_shows_hours_but_no_wages(tmp_path: Path) -> None:
    books = e1_ledger().books()
    as_of = date(2026, 1, 15)
    result = estimate(books, E1_FACTS, load_programs().select(["ca-4.0"], as_of), as_of)
    html, pdf = write_books_report(
        tmp_path, books, E1_FACTS, result, currency="USD", include_pay=False, created_at=MADE
    )
    text = pdf_text(pdf)
    assert "Wages" not in text and "1,200,000.00" not in text  # the wage total, by department or as QE labour
    assert "15,000.00" in text  # hours still shown
    assert "560,000.00" in text  # the program's credit still shown
    assert "Wages" not in html.read_text("utf-8")


def test_an_unwritable_folder_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    books = e1_ledger().books()
    as_of = date(2026, 1, 15)
    result = estimate(books, E1_FACTS, load_programs().select(["ca-4.0"], as_of), as_of)
    with pytest.raises(BooksError, match=r"cannot write the books report"):
        write_books_report(blocker / "out", books, E1_FACTS, result, currency="USD")
