"""Timesheets, ledgers and crew lists from CSV: headers matched by name and alias, every refused
row named with its file and line, and nothing returned when any row is refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from soundstage.books.csvio import import_crew, import_hours, import_spend
from soundstage.books.model import Place, RateUnit, SpendKind, Union, load_chart
from soundstage.errors import BooksError, RowsRefused, SoundstageError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "books"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


def refusals(path: Path, reader=import_hours, **options) -> list[str]:
    with pytest.raises(RowsRefused) as caught:
        reader(path, **options)
    assert isinstance(caught.value, SoundstageError)
    return str(caught.value).splitlines()


def test_hours_headers_by_alias_case_and_spacing(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "payroll.csv",
        """
Employee Name,Work_Date,HOURS WORKED,Job Title,Dept,Work Location,Shot Code,What for,Gross Pay,CCY,Approved
Ana  Ruiz,2026-03-02,7.5,Animator,animation,US-CA/la-zone,1A-010,blocking,"1,012.50",usd,yes
Bo Chen,2026-03-02,8,Layout artist,layout,CA-ON/gta,,layout pass,,,no
""",
    )
    first, second = import_hours(path)
    assert first.person == "Ana Ruiz" and first.day == date(2026, 3, 2) and first.hours == Decimal("7.5")
    assert first.role == "Animator" and first.location == Place("US-CA", "la-zone") and first.shot == "1A-010"
    assert first.pay == Decimal("1012.50") and first.currency == "USD" and first.confirmed
    assert first.origin == f"{path}:2"
    assert second.location == Place("CA-ON", "gta") and second.pay is None and not second.confirmed


def test_hours_every_bad_row_named_with_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "hours.csv",
        """
person,date,hours,location,pay,currency
Ana Ruiz,2026-03-02,7.5,US-CA,,
Ana Ruiz,02/03/2026,7,US-CA,,
Bo Chen,2026-03-02,-2,US-CA,,
Bo Chen,2026-03-03,25,US-CA,,
Cy Diaz,2026-03-02,14,US-CA,,
Cy Diaz,2026-03-02,11,US-CA,,
Di Egan,2026-03-02,8,US-CA,800,XYZ
Di Egan,2026-03-03,8,US-CA,800,
Ed Fox,2026-03-02,eight,California,,
,2026-03-02,8,US-CA,,
Fay Gil,2026-03-02
""",
    )
    assert refusals(path) == [
        f"{path}:3: date: bad date '02/03/2026' (use YYYY-MM-DD, or give the file's date format)",
        f"{path}:4: negative hours -2",
        f"{path}:5: 25 hours is over 24 in a day",
        f"{path}:6: Cy Diaz has 25 hours on 2026-03-02 (lines 6, 7), over 24 in a day",
        f"{path}:7: Cy Diaz has 25 hours on 2026-03-02 (lines 6, 7), over 24 in a day",
        f"{path}:8: currency: unknown currency 'XYZ' (an ISO 4217 code: USD, CAD, GBP, EUR...)",
        f"{path}:9: pay without a currency",
        f"{path}:10: hours: bad number 'eight'; location: 'California' is not an ISO 3166-2 place (e.g. US-CA, CA-ON, GB, US-CA/la-zone)",
        f"{path}:11: no person",
        f"{path}:12: 2 fields where the header has 6",
    ]


def test_hours_the_same_person_is_summed_whatever_the_case(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "h.csv",
        "person,date,hours\nAna Ruiz,2026-03-02,12\nana ruiz,2026-03-02,12.5\nAna Ruiz,2026-03-03,24\n",
    )
    assert [line.split(": ", 1)[0] for line in refusals(path)] == [f"{path}:2", f"{path}:3"]


def test_missing_unknown_and_repeated_columns_are_refused_at_the_header(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("\nname,Huors,date,day\nAna Ruiz,8,2026-03-02,2026-03-02\n")  # the header on line 2
    assert refusals(path) == [
        f"{path}:2: unknown column 'Huors' (known: person, date, hours, role, department, location, scene, shot, task, confirmed, pay, currency, ai assisted)",
        f"{path}:2: column 'day' repeats column 'date'",
        f"{path}:2: missing column 'hours'",
    ]
    ignored = write(tmp_path, "ignored.csv", "name,hours,date,SSN\nAna Ruiz,8,2026-03-02,123\n")
    assert len(import_hours(ignored, ignore=["ssn"])) == 1
    assert refusals(write(tmp_path, "empty.csv", "")) == [f"{tmp_path / 'empty.csv'}:1: no header row"]


def test_a_date_format_for_files_that_are_not_iso(tmp_path: Path) -> None:
    path = write(tmp_path, "us.csv", "person,date,hours\nAna Ruiz,03/02/2026,8\nAna Ruiz,2026-03-03,8\n")
    assert refusals(path, date_format="%m/%d/%Y") == [f"{path}:3: date: bad date '2026-03-03' (expected %m/%d/%Y)"]


def test_spend_lines_take_their_account_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ledger.csv",
        """
Payee,GL Account,Amount,Cur,Invoice Date,Where,Vendor Local,ATL/BTL,Type,Memo
Harbour Stages,3200,"12,500.00",CAD,2026-03-01,CA-ON/gta,yes,,,stage A March
Voice cast LLC,1500,8000,USD,2026-03-05,US-CA/la-zone,no,,,session 1
GPU Cloud,3100,-250.75,USD,2026-03-31,US-WA,n,btl,compute-rental,credit note
""",
    )
    stage, voices, credit = import_spend(path)
    assert stage.amount == Decimal("12500.00") and stage.currency == "CAD" and stage.vendor_local
    assert stage.atl is None and stage.kind is None  # the chart's: 3200 is BTL, a stage rental
    assert voices.location == Place("US-CA", "la-zone") and not voices.vendor_local
    assert credit.amount == Decimal("-250.75") and credit.atl is False and credit.kind is SpendKind.COMPUTE_RENTAL


def test_spend_every_bad_row_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "spend.csv",
        """
vendor,account,amount,currency,date,local,line,kind
Stage,3200,100,CAD,2026-03-01,yes,,
Stage,9999,100,CAD,2026-03-01,yes,,
Stage,3200,1e5,CAD,2026-03-01,yes,,
Stage,3200,100,,2026-03-01,yes,,
Stage,3200,100,CAD,2026-02-30,maybe,middle,lunch
,3200,100,CAD,2026-03-01,,,
""",
    )
    assert refusals(path, import_spend) == [
        f"{path}:3: account '9999' is not in the chart of accounts (books/data/accounts.toml)",
        f"{path}:4: amount: bad number '1e5'",
        f"{path}:5: no currency",
        f"{path}:6: date: bad date '2026-02-30' (use YYYY-MM-DD, or give the file's date format); local: 'maybe' is not yes or no; "
        "line: 'middle' is neither ATL nor BTL; kind: 'lunch' is not one of labour, fringe, stage-rental, equipment-rental, "
        "compute-rental, software, services, purchase, travel, fee, other",
        f"{path}:7: no vendor",
    ]


def test_an_amount_past_fifteen_whole_digits_is_refused_as_too_large(tmp_path: Path) -> None:
    """Sums of such amounts pass the 28 digits Decimal keeps, and the report then cannot round."""
    path = write(
        tmp_path,
        "spend.csv",
        """
vendor,account,amount,currency,date
Stage,3200,"999,999,999,999,999.99",CAD,2026-03-01
Stage,3200,99999999999999999999999,CAD,2026-03-01
""",
    )
    assert refusals(path, import_spend) == [
        f"{path}:3: amount: number too large '99999999999999999999999' (at most 15 whole digits)"
    ]


def test_spend_accounts_from_the_production_chart(tmp_path: Path) -> None:
    chart = load_chart({"accounts": {"100": {"name": "Everything", "category": "production"}}})
    path = write(
        tmp_path,
        "s.csv",
        "vendor,account,amount,currency,date\nStage,100,5,EUR,2026-01-01\nStage,3200,5,EUR,2026-01-01\n",
    )
    assert refusals(path, import_spend, chart=chart) == [
        f"{path}:3: account '3200' is not in the chart of accounts (soundstage.toml [books])"
    ]


def test_crew_rates_with_effective_dates(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "crew.csv",
        """
name,department,role,union,resident of,line,rate,effective,currency
Ana Ruiz,animation,Animator,IATSE Local 839,US-CA/la-zone,BTL,42.50/h,2026-01-01,USD
Ana Ruiz,animation,Animator,IATSE Local 839,US-CA/la-zone,BTL,45/h,2026-07-01,USD
Mo Park,voice cast,Voice actor,SAG-AFTRA,US-CA/la-zone,ATL,950/day,2026-01-01,USD
Lu Tran,production,Coordinator,,CA-ON/gta,,,,
""",
    )
    ana, mo, lu = import_crew(path)
    assert ana.union is Union.IATSE and ana.union_local == 839 and ana.union_label == "IATSE Local 839"
    assert [r.amount for r in ana.rates] == [Decimal("42.50"), Decimal(45)]
    assert ana.rate_on(date(2026, 6, 30)).amount == Decimal("42.50") and ana.rate_on(date(2026, 7, 1)).amount == 45
    assert ana.rate_on(date(2025, 12, 31)) is None and ana.lives_in_la_zone is True
    assert mo.atl and mo.rates[0].unit is RateUnit.DAY and mo.union is Union.SAG_AFTRA
    assert lu.union is Union.NONE and lu.rates == () and lu.lives_in_la_zone is False


def test_crew_every_bad_row_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "crew.csv",
        """
name,department,role,union,rate,effective,currency
Ana Ruiz,animation,Animator,TAG,42.50/h,,USD
Bo Chen,layout,Layout artist,Stagehands United,40/h,2026-01-01,USD
Cy Diaz,story,Board artist,,40,2026-01-01,USD
Di Egan,design,Designer,,40/h,2026-01-01,
Ed Fox,rigging,Rigger,,40/h,2026-01-01,USD
Ed Fox,rigging,Lead rigger,,44/h,2026-06-01,USD
Fay Gil,fx,FX artist,,40/h,2026-01-01,USD
Fay Gil,fx,FX artist,,41/h,2026-01-01,USD
""",
    )
    assert refusals(path, import_crew) == [
        f"{path}:2: rate 42.50/h has no effective date",
        f"{path}:3: union: unknown union 'Stagehands United' (one of SAG-AFTRA, WGA, DGA, TAG, IATSE, Teamsters, none, with 'Local N' where it has one)",
        f"{path}:4: rate '40' says neither per hour nor per day (42.50/h, 480/day or a unit column)",
        f"{path}:5: rate 40/h has no currency",
        f"{path}:7: Ed Fox: role differs from line 6 (only the rate may change)",
        f"{path}:9: Fay Gil: a second rate effective 2026-01-01 (see line 8)",
    ]


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(BooksError, match=r"cannot read the CSV file") as caught:
        import_hours(tmp_path / "missing.csv")
    assert "\n" not in str(caught.value)


def test_the_example_ledger_imports_whole() -> None:
    crew = import_crew(EXAMPLE / "crew.csv")
    hours = import_hours(EXAMPLE / "hours.csv")
    spend = import_spend(EXAMPLE / "spend.csv")
    assert len(crew) >= 8 and len(hours) > 100 and len(spend) >= 10
    names = {member.name for member in crew}
    assert {entry.person for entry in hours} <= names


def test_a_cell_with_control_characters_is_refused(tmp_path: Path) -> None:
    """An escape sequence in a name reached the terminal of whoever ran crew list."""
    path = write(
        tmp_path,
        "crew.csv",
        "name,department,role\nAna Ruiz,story,Artist\nEv\x1b]0;pwned\x07il,story,Artist\n",
    )
    assert refusals(path, import_crew) == [f"{path}:3: a cell holds control characters (an escape sequence?)"]
