"""What people look at, read back: the stripboard and day out of days from their HTML (parsed)
and PDF (text extracted with pypdf), the DOOD's CSV, stage occupancy, and the bookings from
iCalendar (parsed with icalendar)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import icalendar
import lxml.html
import pypdf
import pytest

from soundstage.schedules import dood, ical, occupancy, stripboard
from soundstage.schedules.model import DateRange, StageBooking, StageKind
from soundstage.schedules.production import solve_schedule

from .helpers import day, member, problem, scene, sound_stage

INTERIOR = dict(stage_kind=StageKind.SOUND_STAGE, location="STUDIO", int_ext="INT")


@pytest.fixture(scope="module")
def plan():
    """Four scenes of every strip colour over three days, two stages, three cast members."""
    scenes = [
        scene("1", ("ANNA", "BEN"), 8, set="KITCHEN", **INTERIOR),
        scene("2", ("ANNA",), 6, set="ATTIC", day_night="NIGHT", **INTERIOR),
        scene("3", ("BEN", "CARL"), 12, set="PIER", location="PIER"),
        scene("4", ("CARL",), 10, set="PIER", location="PIER", day_night="NIGHT"),
        scene("5", ("ANNA",), 4, set="KITCHEN", **INTERIOR),
    ]
    cast = [member("ANNA", 500, 1), member("BEN", 300, 2, travels=True), member("CARL", 200, 3)]
    busy = StageBooking("Stage 2", DateRange(day(0), day(0)), "Other Show")
    stages = [sound_stage("Stage 1", 900), sound_stage("Stage 2", 400, bookings=(busy,))]
    return problem(scenes, cast, stages, per_day=24, crew=100, move=300)


@pytest.fixture(scope="module")
def schedule(plan):
    return solve_schedule(plan)


def _having(node, tag: str, cls: str) -> list:
    """Descendants ``tag`` of ``node`` with the class ``cls`` (CSS ``tag.cls``)."""
    return node.xpath(f".//{tag}[contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')]")


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_the_stripboard_html_reads_back(plan, schedule) -> None:
    board = stripboard.stripboard(plan, schedule, "Lantern Keepers: stripboard")
    page = lxml.html.fromstring(stripboard.render_html(board))
    strips = _having(page, "tr", "strip")
    breaks = _having(page, "tr", "day-break")
    assert len(strips) == 5 and len(breaks) == len(schedule.days)
    colour = {tr.get("data-scene"): tr.get("data-colour") for tr in strips}
    assert colour == {"1": "white", "2": "blue", "3": "yellow", "4": "green", "5": "white"}
    assert {tr.get("data-scene"): tr.get("class").split()[1] for tr in strips} == colour
    # Strips run in shooting order, and each day ends with its black strip.
    rows = page.xpath("//tbody/tr")
    expected = []
    for shoot_day in schedule.days:
        expected += [("strip", n) for n in shoot_day.scenes] + [("break", str(shoot_day.index))]
    assert [
        ("strip", r.get("data-scene")) if "strip" in r.get("class") else ("break", r.get("data-day")) for r in rows
    ] == expected
    cast_cells = {tr.get("data-scene"): _having(tr, "td", "cast")[0].text_content() for tr in strips}
    assert cast_cells == {"1": "1, 2", "2": "1", "3": "2, 3", "4": "3", "5": "1"}
    assert breaks[0].text_content().startswith(f"End of day 1: {schedule.days[0].date:%a %d %b %Y}")
    assert [li.text_content() for li in page.xpath("//ol/li")] == ["ANNA", "BEN", "CARL"]


def test_the_stripboard_pdf_reads_back(plan, schedule) -> None:
    board = stripboard.stripboard(plan, schedule, "Lantern Keepers: stripboard")
    text = _pdf_text(stripboard.render_pdf(board))
    assert "Lantern Keepers: stripboard" in text
    for shoot_day in schedule.days:
        assert f"End of day {shoot_day.index + 1}: {shoot_day.date:%a %d %b %Y}" in text
    for set_name in ("KITCHEN", "ATTIC", "PIER"):
        assert set_name in text
    assert "1. ANNA" in text and "3. CARL" in text
    # Strips come before their day break.
    assert text.index(plan.scene(schedule.days[0].scenes[0]).set) < text.index("End of day 1")


def test_the_day_out_of_days_matches_the_schedule(plan, schedule) -> None:
    report = dood.day_out_of_days(plan, schedule)
    assert report.dates[0] == schedule.days[0].date and report.dates[-1] == schedule.days[-1].date
    for row in report.rows:
        worked = [report.dates[i] for i, c in enumerate(row.codes) if c in dood.WORKING]
        scenes_days = sorted({d.date for d in schedule.days for n in d.scenes if row.name in plan.scene(n).cast})
        assert worked == scenes_days
        # Work plus hold is exactly what the schedule pays for.
        assert plan.member(row.name).day_rate * (row.work + row.hold) == schedule.cost.cast[row.name]
        codes = [c for c in row.codes if c not in ("", "T")]
        if len(codes) == 1:
            assert codes == ["SWF"]
        else:
            assert codes[0] == "SW" and codes[-1] == "WF" and set(codes[1:-1]) <= {"W", "H"}
    ben = next(r for r in report.rows if r.name == "BEN")
    first = ben.codes.index(next(c for c in ben.codes if c in ("SW", "SWF")))
    assert first == 0 or ben.codes[first - 1] == "T"  # flown in the day before


def test_the_day_out_of_days_html_pdf_and_csv_read_back(plan, schedule) -> None:
    report = dood.day_out_of_days(plan, schedule)
    page = lxml.html.fromstring(dood.render_html(report))
    for tr in page.xpath("//tbody/tr"):
        row = next(r for r in report.rows if r.name == tr.get("data-cast"))
        cells = [td.text_content() for td in tr.xpath("td")]
        assert cells[2 : 2 + len(report.dates)] == list(row.codes)
        assert int(_having(tr, "td", "work")[0].text_content()) == row.work
        assert int(_having(tr, "td", "hold")[0].text_content()) == row.hold
        assert int(_having(tr, "td", "all")[0].text_content()) == row.total
    rows = list(csv.reader(io.StringIO(dood.render_csv(report))))
    assert rows[0][:2] == ["No.", "Cast"] and rows[0][-6:] == list(dood.TOTALS)
    assert [r[1] for r in rows[1:]] == ["ANNA", "BEN", "CARL"]
    assert all(int(r[-1]) == int(r[-6]) + int(r[-5]) + int(r[-4]) for r in rows[1:])
    text = _pdf_text(dood.render_pdf(report))
    lines = text.splitlines()
    for row in report.rows:
        # One line per cast member: name, the codes of the days, then travel, work, hold, total.
        expected = " ".join([f"{row.number}. {row.name}", *(c for c in row.codes if c)])
        expected += f" {row.travel} {row.work} {row.hold} {row.total}"
        assert expected in lines
    assert " ".join(d.strftime("%d/%m") for d in report.dates) in text


def test_stage_occupancy_counts_idle_rented_days(plan, schedule) -> None:
    report = occupancy.occupancy(plan, schedule)
    for booking in schedule.bookings:
        totals = report.totals(booking.stage)
        rented = [d for d in plan.calendar.shoot_days_until(booking.dates.last) if d >= booking.dates.first]
        used = {d.date for d in schedule.days if booking.stage in d.stages}
        assert totals.occupied == len(rented)
        assert totals.used == len(used)
        assert totals.idle == len(rented) - len(used)
        assert (
            plan.stages[[s.name for s in plan.stages].index(booking.stage)].day_rate * totals.occupied
            == schedule.cost.stages[booking.stage]
        )
    page = lxml.html.fromstring(occupancy.render_html(report))
    total_rows = _having(page, "tr", "total")
    assert {tr.get("data-stage") for tr in total_rows} == set(report.stages)
    assert "Occupied" in _pdf_text(occupancy.render_pdf(report))
    assert occupancy.render_csv(report).splitlines()[0].startswith("Stage,Week of,Occupied,Used,Idle")


def test_a_stage_rented_across_an_empty_day_is_occupied_not_used() -> None:
    # Kitchen scenes on Monday and Wednesday, pinned; the pier scene on Tuesday: the stage is
    # rented Monday to Wednesday and idle on Tuesday.
    scenes = [
        scene("1", set="KITCHEN", **INTERIOR),
        scene("2", set="PIER"),
        scene("3", set="KITCHEN", **INTERIOR),
    ]
    plan = problem(scenes, (), [sound_stage("Stage 1", 500)], pins={"1": day(0), "2": day(1), "3": day(2)})
    schedule = solve_schedule(plan)
    totals = occupancy.occupancy(plan, schedule).totals("Stage 1")
    assert (totals.occupied, totals.used, totals.idle) == (3, 2, 1)
    assert schedule.cost.stages["Stage 1"] == Decimal("1500.00")


def test_bookings_read_back_from_icalendar(plan, schedule) -> None:
    data = ical.bookings_calendar(schedule, production="Lantern Keepers")
    assert data == ical.bookings_calendar(schedule, production="Lantern Keepers")  # same bytes
    calendar = icalendar.Calendar.from_ical(data)
    events = list(calendar.walk("VEVENT"))
    bookings = [e for e in events if "booked" in str(e["SUMMARY"])]
    assert len(bookings) == len(schedule.bookings)
    for event, booking in zip(bookings, schedule.bookings):
        assert event.decoded("DTSTART") == booking.dates.first
        assert event.decoded("DTEND") == booking.dates.last.fromordinal(booking.dates.last.toordinal() + 1)
        assert str(event["STATUS"]) == "CONFIRMED"
        assert booking.stage in str(event["SUMMARY"])
    shoot_days = [e for e in events if str(e["SUMMARY"]).startswith("Shoot day")]
    assert [e.decoded("DTSTART") for e in shoot_days] == [d.date for d in schedule.days]
    assert len({str(e["UID"]) for e in events}) == len(events)
