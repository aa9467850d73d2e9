"""What the CLI and the review room call: an estimate as JSON and as a CSV of every decided line,
the [books] settings, the one-value parsers, and the 24-hour check on a person's day."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from soundstage.books.csvio import parse_place, parse_rate, parse_union
from soundstage.books.export import estimate_json, write_lines_csv
from soundstage.books.incentives import estimate
from soundstage.books.ledger import long_days
from soundstage.books.model import Place, RateUnit, TimeEntry, Union
from soundstage.books.programs import load_programs
from soundstage.books.settings import BooksSettings
from soundstage.errors import BooksError

from .test_incentives import E1_FACTS, e1_ledger


def e1_estimate():
    as_of = date(2026, 1, 15)
    books = e1_ledger().books()
    return books, estimate(books, E1_FACTS, load_programs().select(["ca-4.0", "ga"], as_of), as_of)


def test_the_estimate_as_json_keeps_exact_amounts() -> None:
    _, result = e1_estimate()
    data = json.loads(json.dumps(estimate_json(result)))
    ca = data["programs"][0]
    assert ca["program"] == "ca-4.0" and ca["eligible"] is True
    assert ca["credit"] == "560000" and ca["certified"] == "537600" and ca["fee"] == "2800"
    assert Decimal(ca["jobs_ratio"]) == Decimal(1_200_000) / Decimal(560_000)
    assert ca["refund_by_year"] == ["100800"] * 5
    ga = data["programs"][1]
    assert ga["eligible"] is False and ga["findings"][0]["test"] == "minimum-spend"
    assert data["stacks"] == [{"programs": ["ca-4.0"], "currency": "USD", "credit": "560000", "net": "534800"}]


def test_every_decided_line_as_csv() -> None:
    books, result = e1_estimate()
    text = io.StringIO()
    rows = write_lines_csv(result, text)
    table = list(csv.DictReader(io.StringIO(text.getvalue())))
    assert rows == len(table) == 2 * (len(books.wages) + len(books.spend))
    voices = next(r for r in table if r["program"] == "ca-4.0" and r["origin"] == "spend.csv:3")
    assert voices["qualified"] == "no" and voices["rule"] == "atl-excluded" and "(b)(22)(B)(iv)" in voices["source"]
    qualified = sum(Decimal(r["counted"]) for r in table if r["program"] == "ca-4.0" and r["qualified"] == "yes")
    assert qualified == 1_600_000


def test_the_books_settings_section(tmp_path: Path) -> None:
    settings = BooksSettings.model_validate(
        {
            "currency": "CAD",
            "programs": ["incentives"],
            "time_zone": "America/Toronto",
            "facts": {"kind": "feature", "home": "CA-ON"},
            "accounts": {"100": {"name": "All production", "category": "production"}},
        }
    )
    assert settings.chart().account("100").name == "All production" and settings.chart().account("3200") is None
    assert settings.production_facts().home == Place("CA-ON")
    assert settings.program_folders(tmp_path) == [tmp_path / "incentives"]
    assert str(settings.zone()) == "America/Toronto" and settings.gap.total_seconds() == 45 * 60
    assert BooksSettings().chart().account("3200").name == "Stage and facility rental"
    with pytest.raises(BooksError, match="unknown time zone 'Mars/Olympus'"):
        BooksSettings(time_zone="Mars/Olympus").zone()


def test_one_value_parsers_say_what_is_wrong() -> None:
    rate = parse_rate("42.50/h", effective=date(2026, 1, 1), currency="USD")
    assert rate.amount == Decimal("42.50") and rate.unit is RateUnit.HOUR and rate.currency == "USD"
    assert parse_rate("480/day", effective=date(2026, 1, 1), currency="CAD").unit is RateUnit.DAY
    with pytest.raises(BooksError, match=r"^rate '42.50' says neither per hour nor per day"):
        parse_rate("42.50", effective=date(2026, 1, 1), currency="USD")
    with pytest.raises(BooksError, match=r"currency: unknown currency 'USX'"):
        parse_rate("42.50/h", effective=date(2026, 1, 1), currency="USX")
    assert parse_union("Teamsters Local 399") == (Union.TEAMSTERS, 399) and parse_union("") == (Union.NONE, None)
    with pytest.raises(BooksError, match="^union: unknown union 'Guild of Lamplighters'"):
        parse_union("Guild of Lamplighters")
    assert parse_place("us-ca/LA-Zone") == Place("US-CA", "la-zone")
    with pytest.raises(BooksError, match="^resident of: 'California' is not an ISO 3166-2 place"):
        parse_place("California", what="resident of")


def test_a_new_entry_is_checked_with_the_persons_others_of_the_day() -> None:
    day = date(2026, 3, 2)
    stored = [TimeEntry("Ana Ruiz", day, Decimal(10)), TimeEntry("Ana Ruiz", day, Decimal(9))]
    assert long_days(stored) == []
    new = TimeEntry("ana ruiz", day, Decimal(6))
    (*_, (entry, reason)) = long_days([*stored, new])
    assert entry is new and reason == "ana ruiz has 25 hours on 2026-03-02, over 24 in a day"
