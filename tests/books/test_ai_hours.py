"""AI-assisted work in the books, under the person who did it (issue 14 item 5: prompt work stays
covered work): booked by hand (hours add --ai-assisted) or from a timesheet's "AI assisted"
column, suggested from the AI takes a person requested, stored, and shown by hours list with
each person's confirmed AI-assisted hours, and by the books report (HTML and PDF) with the same
figures."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from soundstage.books.model import Activity, ActivityKind, TimeEntry
from soundstage.books.suggest import suggest_hours
from soundstage.books.summary import ai_assisted_hours
from soundstage.project import Production
from soundstage.store.db import session_scope
from soundstage.store.tables import JobRow, ShotRow

from conftest import EXAMPLE


@pytest.fixture
def crew_root(tmp_path: Path, cli) -> Path:
    """The example imported and planned, with two crew members on hourly rates."""
    root = tmp_path / "books"
    with Production.init(root) as production:
        production.import_script(EXAMPLE)
        production.plan()
    for name in ("Ada Quinn", "Bo Lee"):
        added = cli("-p", root, "crew", "add", name, "--department", "animation", "--role", "Animator",
                    "--rate", "42.50/h", "--effective", "2026-03-02", "--currency", "CAD")  # fmt: skip
        assert added.code == 0, added.err
    return root


def test_a_day_with_ai_takes_requested_is_suggested_as_ai_assisted_work() -> None:
    day = datetime(2026, 3, 3, 9, 0)
    log = [
        Activity("Ada Quinn", day, ActivityKind.AI_TAKE_REQUESTED, "003_0010"),
        Activity("Ada Quinn", day.replace(minute=20), ActivityKind.NOTE, "003_0010"),
        Activity("Bo Lee", day, ActivityKind.TAKE_REQUESTED, "003_0020"),  # previs: the artists' blocking
    ]
    drafts = {d.person: d for d in suggest_hours(log)}
    assert drafts["Ada Quinn"].ai_assisted and "1 AI takes requested" in drafts["Ada Quinn"].task
    assert not drafts["Bo Lee"].ai_assisted


def test_only_confirmed_ai_assisted_hours_count_under_their_person() -> None:
    on = datetime(2026, 3, 3).date()
    entries = [
        TimeEntry("Ada Quinn", on, Decimal("3"), ai_assisted=True),
        TimeEntry("Ada Quinn", on, Decimal("5")),
        TimeEntry("Bo Lee", on, Decimal("2"), ai_assisted=True, confirmed=False),
    ]
    assert ai_assisted_hours(entries) == {"Ada Quinn": Decimal("3")}


def test_ai_assisted_hours_are_booked_stored_and_listed_under_the_person(crew_root: Path, cli, tmp_path: Path) -> None:
    at = ("-p", crew_root)
    assert cli(*at, "hours", "add", "Ada Quinn", "--date", "2026-03-03", "--hours", "3", "--ai-assisted",
               "--task", "prompt passes on scene 3").code == 0  # fmt: skip
    assert cli(*at, "hours", "add", "Ada Quinn", "--date", "2026-03-04", "--hours", "8").code == 0
    sheet = tmp_path / "hours.csv"
    sheet.write_text(
        "person,date,hours,AI assisted\nBo Lee,2026-03-03,2.5,yes\nBo Lee,2026-03-04,7,\n", encoding="utf-8"
    )
    assert cli(*at, "hours", "import", sheet).code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("person,date,hours,ai_assisted\nBo Lee,2026-03-05,2,perhaps\n", encoding="utf-8")
    refused = cli(*at, "hours", "import", bad)
    assert refused.code == 2 and "is not yes or no" in refused.err

    listed = cli(*at, "hours", "list")  # a fresh open: read back from the database
    assert listed.code == 0, listed.err
    assert "Ada Quinn: 3 h of AI-assisted work (confirmed)" in listed.out
    assert "Bo Lee: 2.5 h of AI-assisted work (confirmed)" in listed.out
    with Production.open(crew_root) as production:
        booked = [(b.entry.person, b.entry.hours, b.entry.ai_assisted) for b in production.hours()]
    assert booked == [
        ("Ada Quinn", Decimal("3"), True),
        ("Ada Quinn", Decimal("8"), False),
        ("Bo Lee", Decimal("2.5"), True),
        ("Bo Lee", Decimal("7"), False),
    ]


def test_takes_from_a_generative_backend_make_the_suggested_day_ai_assisted(crew_root: Path) -> None:
    with Production.open(crew_root) as production:
        production.add_user("Ada Quinn", "artist")
        production.add_user("Bo Lee", "artist")
        first, second = [s.code for s in production.shots()][:2]
        # Jobs as the queue writes them (no diffusers weights nor layouts here to prepare real ones).
        with session_scope(production.engine) as session:
            for code, backend, person in ((first, "diffusers", "Ada Quinn"), (second, "previs", "Bo Lee")):
                shot = session.scalars(select(ShotRow).where(ShotRow.code == code)).one()
                recipe = {"shot": code, "backend": backend, "requested_by": person}
                session.add(JobRow(shot_id=shot.id, backend=backend, recipe=recipe))
        drafts = {d.person: d for d in production.suggest_hours().drafts}
        assert drafts["Ada Quinn"].ai_assisted and "AI takes requested" in drafts["Ada Quinn"].task
        assert not drafts["Bo Lee"].ai_assisted
        stored = {b.entry.person: b.entry.ai_assisted for b in production.hours(drafts_only=True)}
    assert stored == {"Ada Quinn": True, "Bo Lee": False}


def _figures(lines: str) -> dict[str, Decimal]:
    """``NAME FIGURE`` pairs of a table's rows (the PDF's text, or the HTML cells joined by a
    space), as exact amounts."""
    found = re.findall(r"^(Ada Quinn|Bo Lee|All) ([\d,]+\.\d\d)$", lines, re.MULTILINE)
    return {name: Decimal(figure.replace(",", "")) for name, figure in found}


def test_the_books_report_shows_the_ai_assisted_hours_that_hours_list_shows(
    crew_root: Path, cli, tmp_path: Path
) -> None:
    settings = crew_root / "soundstage.toml"
    settings.write_text(settings.read_text(encoding="utf-8") + '\n[books]\ncurrency = "CAD"\n', encoding="utf-8")
    at = ("-p", crew_root)
    for day, hours, ai in (("2026-03-03", "3", True), ("2026-03-04", "8", False), ("2026-03-05", "1.75", True)):
        added = cli(*at, "hours", "add", "Ada Quinn", "--date", day, "--hours", hours, *(["--ai-assisted"] * ai))
        assert added.code == 0, added.err
    sheet = tmp_path / "hours.csv"
    sheet.write_text("person,date,hours,AI assisted\nBo Lee,2026-03-03,2.5,yes\nBo Lee,2026-03-04,7,\n", "utf-8")
    assert cli(*at, "hours", "import", sheet).code == 0
    with Production.open(crew_root) as production:  # a draft counts for nothing, AI or not
        production.add_hours(TimeEntry("Bo Lee", date(2026, 3, 6), Decimal("4"), ai_assisted=True, confirmed=False))

    listed = cli(*at, "hours", "list")
    assert listed.code == 0, listed.err
    shown = dict(re.findall(r"^(.+): ([\d.]+) h of AI-assisted work \(confirmed\)$", listed.out, re.MULTILINE))
    expected = {"Ada Quinn": Decimal("4.75"), "Bo Lee": Decimal("2.5")}
    assert {name: Decimal(v) for name, v in shown.items()} == expected

    for folder, flags in ((tmp_path / "report", ()), (tmp_path / "crew", ("--no-pay",))):
        made = cli(*at, "books", "report", "-o", folder, *flags)
        assert made.code == 0, made.err
        page = (folder / "books.html").read_text("utf-8")
        table = page.split('<table class="ai-hours">', 1)[1].split("</table>", 1)[0]
        cells = re.sub(r"\s*</t[dh]><t[dh][^>]*>\s*", " ", table)  # one row a line: "Ada Quinn 4.75"
        cells = re.sub(r"\s*<tr><t[dh][^>]*>|</t[dh]></tr>", "\n", cells)
        assert _figures(cells) == {**expected, "All": Decimal("7.25")}
        assert "Confirmed AI-assisted hours: <strong>7.25</strong>." in page
        text = "\n".join(p.extract_text() for p in PdfReader(folder / "books.pdf").pages)
        section = text.split("AI-assisted work\n", 1)[1].split("Hours by department", 1)[0]
        assert _figures(section) == {**expected, "All": Decimal("7.25")}
        assert "Confirmed AI-assisted hours: 7.25." in " ".join(text.split())


def test_a_report_without_ai_assisted_work_says_none_and_has_no_table(crew_root: Path, cli, tmp_path: Path) -> None:
    settings = crew_root / "soundstage.toml"
    settings.write_text(settings.read_text(encoding="utf-8") + '\n[books]\ncurrency = "CAD"\n', encoding="utf-8")
    assert cli("-p", crew_root, "hours", "add", "Ada Quinn", "--date", "2026-03-04", "--hours", "8").code == 0
    made = cli("-p", crew_root, "books", "report", "-o", tmp_path / "report")
    assert made.code == 0, made.err
    page = (tmp_path / "report" / "books.html").read_text("utf-8")
    assert "Confirmed AI-assisted hours: <strong>0.00</strong>." in page and "ai-hours" not in page
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(tmp_path / "report" / "books.pdf").pages).split())
    assert "Confirmed AI-assisted hours: 0.00." in text and "AI-assisted work Generative" not in text
