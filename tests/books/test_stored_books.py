"""The books stored at the driver and read back, on SQLite and on PostgreSQL: every value of the
example ledger's time entries and spend lines comes back as imported, a large first import keeps
the tables' indexes, and a refused file leaves the books as they were."""

from __future__ import annotations

from dataclasses import astuple
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import inspect

from soundstage.books import import_hours, import_spend
from soundstage.errors import RowsRefused
from soundstage.project import Production
from soundstage.project.books import load_books

LEDGER = Path(__file__).resolve().parents[2] / "examples" / "books"
BOOKS = '\n[books]\ncurrency = "CAD"\n'


@pytest.fixture
def production(database_url: str, tmp_path: Path):
    root = tmp_path / "books"
    with Production.init(root, database_url=database_url):
        pass
    with (root / "soundstage.toml").open("a", encoding="utf-8") as settings:
        settings.write(BOOKS)
    with Production.open(root) as opened:
        yield opened


def test_the_stored_books_read_back_as_imported(production: Production) -> None:
    production.import_crew(LEDGER / "crew.csv")
    production.import_hours(LEDGER / "hours.csv")
    production.import_spend(LEDGER / "spend.csv")

    stored = load_books(production.context)

    assert [astuple(e) for e in stored.hours] == [astuple(e) for e in import_hours(LEDGER / "hours.csv")]
    assert [astuple(line) for line in stored.spend] == [astuple(line) for line in import_spend(LEDGER / "spend.csv")]


def test_a_large_import_keeps_the_indexes_it_rebuilds(production: Production, tmp_path: Path) -> None:
    production.import_crew(LEDGER / "crew.csv")
    production.import_hours(LEDGER / "hours.csv")
    before = len(production.hours())
    sheet = tmp_path / "year.csv"
    first = date(2026, 3, 2)
    rows = [f"Priya Natarajan,{first + timedelta(days=n)},1.5,CA-ON/hamilton" for n in range(1200)]
    sheet.write_text("person,date,hours,location\n" + "\n".join(rows) + "\n", encoding="utf-8")

    production.import_hours(sheet)  # 1,200 rows onto fewer: the indexes dropped and built again

    assert len(production.hours()) == before + 1200
    indexes = {i["name"] for i in inspect(production.context.engine).get_indexes("time_entries")}
    assert {"ix_time_entries_person", "ix_time_entries_day", "ix_time_entries_status"} <= indexes
    stored = load_books(production.context)
    assert stored.hours[-1].day == first + timedelta(days=1199) and stored.hours[-1].hours == Decimal("1.5")


def test_a_day_over_24_hours_with_the_hours_booked_is_refused_and_nothing_stored(
    production: Production, tmp_path: Path
) -> None:
    production.import_crew(LEDGER / "crew.csv")
    production.import_hours(LEDGER / "hours.csv")
    first = import_hours(LEDGER / "hours.csv")[0]
    sheet = tmp_path / "more.csv"
    sheet.write_text(
        "person,date,hours\n"
        f"{first.person},{first.day},{24 - first.hours + 1}\n"  # 2: one hour too many with the booked
        f"{first.person},{first.day},0\n",  # 3: the same day: refused with it
        encoding="utf-8",
    )
    before = len(production.hours())

    with pytest.raises(RowsRefused) as refused:
        production.import_hours(sheet)

    assert [(path, line) for path, line, _ in refused.value.refusals] == [(str(sheet), 2), (str(sheet), 3)]
    assert f"with {first.hours} booked already" in str(refused.value)
    assert len(production.hours()) == before


def test_hours_check_with_no_activity_says_so_once(production: Production, cli) -> None:
    production.import_crew(LEDGER / "crew.csv")
    production.import_hours(LEDGER / "hours.csv")

    assert production.hours_disagreements() == []
    checked = cli("--production", production.root, "hours", "check")

    assert checked.code == 0, checked.err
    assert checked.out.count("no activity recorded") == 1
    assert "days disagree" not in checked.out
