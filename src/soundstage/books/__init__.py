"""The production books: crew and rates, hours (from timesheets, and suggested from Soundstage's
activity), spend, and what each incentive program would pay for them, beside labour-indexed
designs of the user's own. Plain values in, plain values out: no database, web or CLI here.

    crew, hours, spend = import_crew(p), import_hours(p), import_spend(p)   # csvio
    books = Books(crew, hours, spend, chart)                                # ledger
    facts = load_facts(path_or_mapping)                                     # facts
    catalog = load_programs(extra_folders)                                  # programs
    result = estimate(books, facts, catalog.select(ids, as_of), as_of)      # incentives
    whatif = evaluate(load_design(path), books, facts)                      # whatif
    drafts = suggest_hours(activities); checks = reconcile(timesheets, activities)  # suggest
    soundstage.books.report.write_books_report(out_dir, books, facts, result, [whatif], currency="CAD")

The report (matplotlib, fpdf2) is not imported here: ``hours import`` should not wait for a
plotting library to load.
"""

from soundstage.books.csvio import import_crew, import_hours, import_spend
from soundstage.books.facts import ProductionFacts, ProductionKind, load_facts
from soundstage.books.incentives import Estimate, ProgramEstimate, countable, estimate
from soundstage.books.ledger import Books, WageLine
from soundstage.books.model import (
    Activity,
    ActivityKind,
    CrewMember,
    EntrySource,
    Money,
    Place,
    Rate,
    RateUnit,
    SpendKind,
    SpendLine,
    TimeEntry,
    Union,
    load_chart,
)
from soundstage.books.programs import Catalog, Program, load_programs
from soundstage.books.suggest import reconcile, suggest_hours
from soundstage.books.summary import summarize
from soundstage.books.whatif import compare, evaluate, load_design

__all__ = [
    "Activity",
    "ActivityKind",
    "Books",
    "Catalog",
    "CrewMember",
    "EntrySource",
    "Estimate",
    "Money",
    "Place",
    "ProductionFacts",
    "ProductionKind",
    "Program",
    "ProgramEstimate",
    "Rate",
    "RateUnit",
    "SpendKind",
    "SpendLine",
    "TimeEntry",
    "Union",
    "WageLine",
    "compare",
    "countable",
    "estimate",
    "evaluate",
    "import_crew",
    "import_hours",
    "import_spend",
    "load_chart",
    "load_design",
    "load_facts",
    "load_programs",
    "reconcile",
    "suggest_hours",
    "summarize",
]
