"""The books in a production: the example ledger stored in the example production's SQLite
database and estimated from there, CSV imports with bad rows refused whole (file and line named,
nothing stored), hours suggested from the activity the review room records, and the CLI."""

from __future__ import annotations

import shutil
import sqlite3
import tomllib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from soundstage.books import Books, estimate, import_crew, import_hours, import_spend, load_facts, load_programs
from soundstage.books.model import TimeEntry
from soundstage.books.suggest import Disagreement
from soundstage.errors import BooksError, RowsRefused
from soundstage.project import Production
from soundstage.project.takes import TakeOptions
from soundstage.review.workflow import Action

REPO = Path(__file__).resolve().parents[2]
LEDGER = REPO / "examples" / "books"
AS_OF = date(2026, 6, 1)


def _books_section() -> str:
    """The example's production facts as the [books] section of soundstage.toml."""
    facts = (LEDGER / "production.toml").read_text("utf-8").replace("[exchange]", "[books.facts.exchange]")
    return '\n[books]\ncurrency = "CAD"\n[books.facts]\n' + facts


@pytest.fixture
def books_root(rendered_example: Path, tmp_path: Path) -> Path:
    """A copy of the rendered example production with the example's facts under [books]."""
    root = tmp_path / "pilot"
    shutil.copytree(rendered_example, root)
    with (root / "soundstage.toml").open("a", encoding="utf-8") as settings:
        settings.write(_books_section())
    return root


@pytest.fixture
def books(books_root: Path):
    with Production.open(books_root) as production:
        yield production


def _import_example(production: Production) -> None:
    production.import_crew(LEDGER / "crew.csv")
    production.import_hours(LEDGER / "hours.csv")
    production.import_spend(LEDGER / "spend.csv")


def test_the_example_ledger_estimates_the_same_from_the_database_as_from_its_files(books: Production) -> None:
    _import_example(books)
    pure = Books(
        import_crew(LEDGER / "crew.csv"), import_hours(LEDGER / "hours.csv"), import_spend(LEDGER / "spend.csv")
    )
    facts = load_facts(tomllib.loads(_books_section())["books"]["facts"])
    catalog = load_programs()
    ids = ["on-ofttc", "on-ocase", "cptc", "pstc", "on-opstc"]
    expected = estimate(pure, facts, catalog.select(ids, AS_OF), AS_OF)

    found = books.incentives(programs=ids, as_of=AS_OF)

    assert [(w.person, w.hours, w.pay) for w in found.books.wages] == [(w.person, w.hours, w.pay) for w in pure.wages]
    for program in expected.programs:
        stored = found.estimate.program(program.id)
        assert (stored.eligible, stored.qualified, stored.credit, stored.net) == (
            program.eligible,
            program.qualified,
            program.credit,
            program.net,
        )
        assert isinstance(stored.credit, Decimal)
    assert found.estimate.program("on-ofttc").credit > 0
    summary = books.books_summary()
    assert summary.confirmed_hours == sum((e.hours for e in pure.hours if e.confirmed), Decimal(0))


def test_a_timesheet_with_bad_rows_is_refused_whole_naming_each_row(books: Production, tmp_path: Path) -> None:
    _import_example(books)
    before = len(books.hours())
    sheet = tmp_path / "week.csv"
    sheet.write_text(
        "person,date,hours,location,pay,currency\n"
        "Ines Duarte,2026-06-01,8,CA-ON/hamilton,,\n"  # 2: good
        "Ines Duarte,2026-13-01,8,CA-ON/hamilton,,\n"  # 3: bad date
        "Priya Natarajan,2026-06-01,-2,CA-ON/hamilton,,\n"  # 4: negative hours
        "Ray Lindqvist,2026-06-01,8,CA-ON/hamilton,300,XYZ\n"  # 5: unknown currency
        "Ray Lindqvist,2026-06-02,8,CA-ON/hamilton,300,\n"  # 6: pay without currency
        "Ines Duarte,2026-06-03,14,CA-ON/hamilton,,\n"  # 7 and 8: 28 hours in a day
        "Ines Duarte,2026-06-03,14,CA-ON/hamilton,,\n",
        encoding="utf-8",
    )
    with pytest.raises(RowsRefused) as refused:
        books.import_hours(sheet)
    lines = {line for _, line, _ in refused.value.refusals}
    assert lines == {3, 4, 5, 6, 7, 8}
    assert all(str(line).startswith(f"{sheet}:") for line in str(refused.value).splitlines())
    assert len(books.hours()) == before


def test_rows_that_would_not_price_are_refused_against_the_books(books: Production, tmp_path: Path) -> None:
    _import_example(books)
    ines = next(m for m in books.crew() if m.name == "Ines Duarte")
    early = (ines.rates[0].effective - timedelta(days=1)).isoformat()
    books.add_hours(TimeEntry("Ines Duarte", date(2026, 6, 10), Decimal(20)))
    sheet = tmp_path / "payroll.csv"
    sheet.write_text(
        "person,date,hours\n"
        "Nobody Known,2026-06-01,8\n"  # 2: not on the crew
        f"Ines Duarte,{early},8\n"  # 3: before her first rate
        "Ines Duarte,2026-06-10,6\n"  # 4: 26 hours with the 20 booked
        "Ines Duarte,2026-06-11,6\n",  # 5: good
        encoding="utf-8",
    )
    before = len(books.hours())
    with pytest.raises(RowsRefused) as refused:
        books.import_hours(sheet)
    assert {line for _, line, _ in refused.value.refusals} == {2, 3, 4}
    assert "over 24" in str(refused.value)
    assert len(books.hours()) == before


def test_a_ledger_with_an_account_the_chart_lacks_stores_nothing(books: Production, tmp_path: Path) -> None:
    ledger = tmp_path / "spend.csv"
    ledger.write_text(
        "vendor,account,amount,currency,date\n"
        "Harbourfront Studios,3200,4800.00,CAD,2026-03-01\n"
        "Mystery Co,9999,10.00,CAD,2026-03-01\n"
        "Cloud GPUs,3200,1.5e3,CAD,2026-03-01\n",
        encoding="utf-8",
    )
    with pytest.raises(RowsRefused) as refused:
        books.import_spend(ledger)
    assert {line for _, line, _ in refused.value.refusals} == {3, 4}
    assert books.books_summary().spend == 0


def test_hours_are_suggested_from_review_activity_and_count_only_once_confirmed(books: Production) -> None:
    _import_example(books)
    for name, role in (("Priya Natarajan", "artist"), ("June Okafor", "producer")):
        books.add_user(name, role)
    code = books.shots(scene="3")[0].code
    books.queue_takes(code, TakeOptions(requested_by="Priya Natarajan"))
    books.decide(code, Action.SUBMIT, by="Priya Natarajan")
    books.note(code, "the lamp should glow warmer", by="June Okafor")
    today = books.audit()[1][-1].at.date()
    hours_before = books.books_summary().confirmed_hours

    report = books.suggest_hours()

    drafts = {d.person: d for d in report.drafts}
    assert set(drafts) == {"Priya Natarajan", "June Okafor"}
    priya = drafts["Priya Natarajan"]
    # A few seconds of work padded by 15 minutes each side: half an hour, to the quarter.
    assert (priya.day, priya.hours, priya.confirmed) == (today, Decimal("0.5"), False)
    assert "takes requested" in priya.task and "review decisions" in priya.task
    assert priya.role == "Layout lead"
    assert books.books_summary().confirmed_hours == hours_before  # drafts count for nothing
    assert books.suggest_hours().replaced == 2  # running it again replaces its drafts

    disagreements = {c.person: c.disagreement for c in books.hours_disagreements()}
    assert disagreements["Priya Natarajan"] is Disagreement.NO_TIMESHEET

    confirmed = books.confirm_hours(person="Priya Natarajan")
    assert [e.person for e in confirmed] == ["Priya Natarajan"]
    assert books.books_summary().confirmed_hours == hours_before + Decimal("0.5")
    assert books.suggest_hours().kept == 1  # a confirmed day is not suggested again

    books.add_hours(TimeEntry("June Okafor", today, Decimal(8)))
    with pytest.raises(RowsRefused, match="count the day twice"):
        books.confirm_hours(person="June Okafor")


def test_a_studio_program_on_the_data_search_path_replaces_the_shipped_one(books: Production, books_root: Path) -> None:
    folder = books_root / "incentives"
    folder.mkdir()
    shipped = (REPO / "src" / "soundstage" / "books" / "programs" / "ga.toml").read_text("utf-8")
    (folder / "ga.toml").write_text(shipped.replace('name = "', 'name = "Studio copy of ', 1), encoding="utf-8")
    _import_example(books)
    found = books.incentives(programs=["ga"], as_of=AS_OF)
    assert found.estimate.program("ga").program.name.startswith("Studio copy of ")


def test_the_commands_book_and_estimate_and_refuse_with_exit_2(books_root: Path, cli, tmp_path: Path) -> None:
    at = ("--production", books_root)
    added = cli(*at, "crew", "add", "Ada Quinn", "--department", "animation", "--role", "Animator",
                "--union", "IATSE Local 839", "--resident-of", "CA-ON/hamilton", "--rate", "42.50/h",
                "--effective", "2026-03-02", "--currency", "CAD")  # fmt: skip
    assert added.code == 0, added.err
    no_date = cli(*at, "crew", "add", "Bo Lee", "--department", "animation", "--role", "Animator", "--day", "480")
    assert no_date.code == 2 and "effective date" in no_date.err
    assert cli(*at, "hours", "add", "Ada Quinn", "--date", "2026-03-02", "--hours", "8").code == 0
    assert cli(*at, "spend", "add", "Steeltown Workstations", "--account", "3300", "--amount", "2,600.00",
               "--date", "2026-03-02", "--location", "CA-ON/hamilton", "--local").code == 0  # fmt: skip
    assert cli(*at, "crew", "list").code == 0
    with Production.open(books_root) as production:
        (ada,) = production.crew()
    assert (ada.union_label, str(ada.residence), ada.rates[0].amount) == (
        "IATSE Local 839",
        "CA-ON/hamilton",
        Decimal("42.50"),
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("person,date,huors\nAda Quinn,2026-03-03,8\n", encoding="utf-8")
    refused = cli(*at, "hours", "import", bad)
    assert refused.code == 2 and str(bad) in refused.err
    estimated = cli(*at, "incentives", "--program", "on-ofttc", "--as-of", "2026-06-01", "--format", "json")
    assert estimated.code == 0, estimated.err
    assert '"program": "on-ofttc"' in estimated.out
    # 8 hours at 42.50 are 340.00 of Ontario labour; OFTTC pays 35% of it.
    with Production.open(books_root) as production:
        ofttc = production.incentives(programs=["on-ofttc"], as_of=AS_OF).estimate.program("on-ofttc")
    assert ofttc.qualified_labour == Decimal("340.00")
    unknown = cli(*at, "incentives", "--program", "xx-1")
    assert unknown.code == 2 and "xx-1" in unknown.err
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder\n")
    report = cli(*at, "books", "report", "-o", blocker)  # was a FileExistsError traceback
    assert report.code == 2 and "notes.txt is a file, not a folder" in report.err
    past_ids = cli(*at, "hours", "confirm", "--id", "99999999999999999999")  # was an OverflowError in SQLite
    assert past_ids.code == 2 and "2147483647" in past_ids.err and len(past_ids.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("amount", "reason"),
    [("1e99999", "bad number '1e99999'"), ("9999999999999999", "number too large"), ("NaN", "bad number")],
)
def test_an_amount_the_ledger_would_refuse_is_refused_on_the_command_line_too(
    books_root: Path, cli, amount: str, reason: str
) -> None:
    """``spend add`` takes amounts by the rule ``spend import`` does: 1e99999 was booked and then
    the report failed on it with a traceback."""
    at = ("--production", books_root)
    refused = cli(*at, "spend", "add", "V", "--account", "3300", "--amount", amount, "--date", "2026-03-02")
    assert refused.code == 2 and refused.err.startswith("error: --amount: ") and reason in refused.err
    assert len(refused.err.strip().splitlines()) == 1, refused.err
    with sqlite3.connect(books_root / "soundstage.db") as db:
        assert db.execute("select count(*) from spend_lines").fetchone() == (0,)
    assert cli(*at, "books", "report", "-o", books_root.parent / "report").code == 0


def test_a_rate_needs_its_effective_date_and_a_raise_is_a_second_rate(books: Production) -> None:
    from soundstage.project.books import parse_member_rate

    with pytest.raises(BooksError, match="effective date"):
        parse_member_rate("Ada", rate="42.50/h", currency="CAD")
    _import_example(books)
    raise_ = parse_member_rate("Ines Duarte", day="500", effective=date(2026, 9, 1), currency="CAD")
    assert raise_ is not None
    member = books.add_rate("Ines Duarte", raise_)
    assert [r.effective for r in member.rates][-1] == date(2026, 9, 1)
    with pytest.raises(BooksError, match="already"):
        books.add_rate("Ines Duarte", raise_)


def test_the_report_is_written_from_the_stored_books_with_pay_only_when_asked(
    books: Production, tmp_path: Path
) -> None:
    from soundstage.books.report import money

    _import_example(books)
    net = books.incentives(programs=["on-ofttc"], as_of=AS_OF).estimate.program("on-ofttc").net
    html, pdf = books.books_report(tmp_path / "producer", as_of=AS_OF)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = html.read_text("utf-8")
    assert money(net) in text
    wages = money(books.books_summary().wages)
    assert wages in text
    crew_html, _ = books.books_report(tmp_path / "crew", as_of=AS_OF, include_pay=False)
    assert wages not in crew_html.read_text("utf-8")
