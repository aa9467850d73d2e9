"""The program files: the shipped ones load; a bad one is refused naming its file, program and
field; a studio's folder adds programs and replaces shipped ones of the same id."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from soundstage.books.facts import load_facts
from soundstage.books.programs import builtin_folder, load_programs
from soundstage.errors import BooksError

GEORGIA = (builtin_folder() / "ga.toml").read_text("utf-8")


def studio(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "programs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("value = 0.20", "value = 1.20"),
            r"program ga, field rates\.0\.value: Input should be less than or equal to 1",
        ),
        (
            ('source = "ga"\ncite = "20%"', 'source = "gfo"\ncite = "20%"'),
            r"program ga, field \(file\): rates\.0: source 'gfo' is not in \[sources\]",
        ),
        (
            ('metric = "jurisdiction_spend"', 'metric = "spend_in_georgia"'),
            r"program ga, field eligibility\.0: unknown metric 'spend_in_georgia'",
        ),
        (
            ("when = { georgia_logo = true }", "when = { peach_logo = true }"),
            r"program ga, field \(file\): uplifts\.georgia-logo: unknown production fact 'peach_logo'",
        ),
        (
            ('test = "work_in_jurisdiction"', 'test = "work_in_georgia"'),
            r"program ga, field rules\.0\.test: unknown line test 'work_in_georgia'",
        ),
        (('currency = "USD"', 'currency = "USX"'), r"program ga, field currency: unknown currency 'USX'"),
        (('on = "base"', 'on = "everything"'), r"program ga, field uplifts\.0\.on: unknown uplift 'everything'"),
        (
            ('credit = "transferable"', 'credit = "transferable"\nrate = 0.3'),
            r"program ga, field rate: Extra inputs are not permitted",
        ),
    ],
)
def test_a_bad_program_file_names_program_and_field(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in GEORGIA
    folder = studio(tmp_path, "ga.toml", GEORGIA.replace(old, new, 1))
    with pytest.raises(BooksError, match=rf"^{folder / 'ga.toml'}: {message}"):
        load_programs([folder])


def test_a_studio_folder_adds_and_replaces_programs(tmp_path: Path) -> None:
    folder = studio(
        tmp_path,
        "ga-studio.toml",
        GEORGIA.replace('id = "ga"', 'id = "ga-studio"').replace("value = 0.20", "value = 0.25"),
    )
    studio(tmp_path, "ga.toml", GEORGIA.replace("value = 0.20", "value = 0.22"))
    catalog = load_programs([folder])
    assert str(catalog["ga-studio"].rates[0].value) == "0.25" and str(catalog["ga"].rates[0].value) == "0.22"
    assert catalog.files["ga"] == str(folder / "ga.toml")
    studio(tmp_path, "ga-again.toml", GEORGIA)
    with pytest.raises(BooksError, match=r"ga\.toml: program ga is also defined in .*ga-again\.toml$"):
        load_programs([folder])
    with pytest.raises(BooksError, match="the incentive programs folder does not exist"):
        load_programs([tmp_path / "nowhere"])
    broken = studio(tmp_path / "b", "x.toml", "id = [")
    with pytest.raises(BooksError, match=r"x.toml: cannot read the program file"):
        load_programs([broken])


def test_only_the_rule_sets_in_effect_are_estimated_by_default() -> None:
    catalog = load_programs()
    in_2024 = {p.id for p in catalog.select(None, date(2024, 6, 1))}
    assert "ca-3.0" in in_2024 and "ca-4.0" not in in_2024 and "bc-pstc" not in in_2024
    assert {p.id for p in catalog.select(None, date(2037, 1, 1))} == set(catalog) - {"ca-3.0", "ca-4.0", "ny"}


def test_production_facts_are_checked(tmp_path: Path) -> None:
    facts = load_facts(
        {"kind": "feature", "budget": {"amount": 2_500_000, "currency": "USD"}, "exchange": {"usd/cad": 1.37}}
    )
    assert facts.budget.amount == 2_500_000 and facts.rate("CAD", "USD") * facts.rate("USD", "CAD") == 1
    with pytest.raises(
        BooksError, match=r"^soundstage.toml \[books.facts\]: production facts, field kind: Input should be 'feature'"
    ):
        load_facts({"kind": "film"})
    with pytest.raises(BooksError, match=r"field exchange.USD-CAD: write a positive rate"):
        load_facts({"exchange": {"USD-CAD": 1.37}})
    with pytest.raises(BooksError, match=r"field home: 'Ontario' is not an ISO 3166-2 place"):
        load_facts({"home": "Ontario"})
