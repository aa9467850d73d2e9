"""The production's incentive estimates, what-ifs, summary and report, from the books in its
database (``project.books``) and the programs on the data search path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from soundstage import plugins
from soundstage.books.bulk import cycle_collection_paused
from soundstage.books.incentives import Estimate, countable, estimate
from soundstage.books.ledger import Books
from soundstage.books.programs import Catalog, builtin_folder, load_programs
from soundstage.books.summary import Summary, summarize
from soundstage.books.whatif import Comparison, WhatIf, compare, evaluate, load_design
from soundstage.project.books import books_settings, load_books
from soundstage.project.production import Context

PROGRAMS_KIND = "incentives"  # the data search path's kind (plugins.search_path)


def program_folders(context: Context) -> list[Path]:
    """Where studios' program files are found, lowest priority first (a later file of the same id
    replaces an earlier one): the data search path of kind ``incentives`` (Soundstage's own
    defaults, each ``$SOUNDSTAGE_PATH`` folder, the production's ``incentives/``), where such a
    folder exists, then the folders ``[books] programs`` names (which must exist)."""
    builtin = builtin_folder().resolve()
    found = [f for f in reversed(plugins.search_path(context.root, PROGRAMS_KIND)) if f.is_dir()]
    found = [f for f in found if f.resolve() != builtin]
    return found + books_settings(context).program_folders(context.root)


def catalog(context: Context) -> Catalog:
    """The shipped programs and the studio's, validated."""
    return load_programs(program_folders(context))


@dataclass(frozen=True)
class Incentives:
    """An estimate of the production's programs, the what-if designs and their comparison."""

    books: Books
    estimate: Estimate
    whatifs: list[WhatIf]
    comparisons: list[Comparison]
    skipped: list[tuple[str, str]]  # programs left out, with why (no exchange rate given)
    currency: str


@cycle_collection_paused()
def incentives(
    context: Context,
    *,
    programs: Sequence[str] = (),
    as_of: date | None = None,
    what_if: Sequence[Path] = (),
) -> Incentives:
    """Estimate every program in effect on ``as_of`` (default today), or those named (an unknown
    id or an expired rule set is one line), from the production's books and ``[books.facts]``."""
    settings = books_settings(context)
    facts = settings.production_facts()
    books = load_books(context)
    day = as_of or date.today()
    chosen = catalog(context).select(list(programs) or None, day)
    skipped: list[tuple[str, str]] = []
    if not programs:  # a program named is estimated or refused; unnamed ones may be left out
        chosen, left_out = countable(chosen, books, facts)
        skipped = [(program.id, why) for program, why in left_out]
    result = estimate(books, facts, chosen, day)
    whatifs = [evaluate(load_design(path), books, facts) for path in what_if]
    fte = whatifs[0].design.fte_hours if whatifs else None
    extra = {"fte_hours": fte} if fte is not None else {}
    comparisons = compare(books, facts, result, whatifs, currency=settings.currency, **extra)
    return Incentives(books, result, whatifs, comparisons, skipped, settings.currency)


@cycle_collection_paused()
def summary(context: Context) -> Summary:
    """The books summed for people, in the ``[books]`` currency."""
    settings = books_settings(context)
    return summarize(load_books(context), settings.production_facts(), settings.currency)


def write_report(
    context: Context,
    out_dir: Path,
    *,
    what_if: Sequence[Path] = (),
    as_of: date | None = None,
    include_pay: bool = True,
) -> list[Path]:
    """``books report``: books.html and books.pdf into ``out_dir`` (books.report)."""
    from soundstage.books.report import write_books_report  # matplotlib and fpdf2 only when asked

    found = incentives(context, as_of=as_of, what_if=what_if)
    facts = books_settings(context).production_facts()
    # No mkdir here: write_atomic makes the folder, and a folder it cannot make is its one line.
    return write_books_report(
        out_dir,
        found.books,
        facts,
        found.estimate,
        found.whatifs,
        currency=found.currency,
        include_pay=include_pay,
        title=context.settings.title,
        skipped=found.skipped,
    )
