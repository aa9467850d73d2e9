"""Hours suggested from activity: sessions cut at gaps over the limit and at midnight, padded,
rounded to the quarter hour; drafts never counted until confirmed; timesheets reconciled."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from soundstage.books.ledger import Books
from soundstage.books.model import Activity, ActivityKind, CrewMember, EntrySource, Rate, RateUnit, TimeEntry
from soundstage.books.suggest import Disagreement, reconcile, sessions, suggest_hours
from soundstage.errors import BooksError

DAY = datetime(2026, 3, 2)


def at(clock: str, day: datetime = DAY) -> datetime:
    hours, minutes = clock.split(":")
    return day + timedelta(hours=int(hours), minutes=int(minutes))


def events(
    person: str, *clocks: str, kind: ActivityKind = ActivityKind.TAKE_REQUESTED, day: datetime = DAY
) -> list[Activity]:
    return [Activity(person, at(clock, day), kind, "1A-010") for clock in clocks]


def test_a_gap_over_the_limit_ends_a_session_and_padding_frames_each() -> None:
    # 09:00-09:30 and, after a 2-hour gap, 11:30-11:40: 30 + 10 minutes, padded by 15 on each
    # side of each session: 60 + 40 = 100 minutes, 1.67 h, to the quarter hour 1.75 h.
    log = events("Ana Ruiz", "09:10", "09:00", "09:30", "11:40", "11:30")  # order does not matter
    found = sessions(log)
    assert [(s.start.time().isoformat(), s.end.time().isoformat(), s.events) for s in found] == [
        ("09:00:00", "09:30:00", 3),
        ("11:30:00", "11:40:00", 2),
    ]
    (draft,) = suggest_hours(log)
    assert draft.person == "Ana Ruiz" and draft.day == date(2026, 3, 2)
    assert draft.hours == Decimal("1.75")
    assert not draft.confirmed and draft.source is EntrySource.ACTIVITY
    assert draft.task == "from activity: 5 takes requested; sessions 09:00-09:30, 11:30-11:40"


def test_a_gap_of_exactly_the_limit_keeps_the_session() -> None:
    log = events("Ana Ruiz", "09:00", "09:45", "10:30")
    assert len(sessions(log, gap=timedelta(minutes=45))) == 1
    assert len(sessions(log, gap=timedelta(minutes=44))) == 3
    (draft,) = suggest_hours(log, gap=timedelta(minutes=45), pad=timedelta(0))
    assert draft.hours == Decimal("1.5")


def test_one_event_is_a_padded_half_hour_and_sessions_split_at_midnight() -> None:
    assert suggest_hours(events("Bo Chen", "14:00"))[0].hours == Decimal("0.5")
    late = events("Bo Chen", "23:40", "23:55") + [
        Activity("Bo Chen", at("00:05", DAY + timedelta(days=1)), ActivityKind.NOTE)
    ]
    drafts = suggest_hours(late, gap=timedelta(hours=1))
    assert [(d.day.isoformat(), d.hours) for d in drafts] == [
        ("2026-03-02", Decimal("0.75")),
        ("2026-03-03", Decimal("0.5")),
    ]


def test_people_are_kept_apart_and_kinds_counted() -> None:
    log = events("Ana Ruiz", "09:00", "09:20") + events("Bo Chen", "09:05", "09:15", kind=ActivityKind.REVIEW_DECISION)
    log += events("Bo Chen", "09:10", kind=ActivityKind.NOTE)
    crew = {"Bo Chen": CrewMember("Bo Chen", "layout", "Layout artist")}
    drafts = {d.person: d for d in suggest_hours(log, crew=crew)}
    assert drafts["Ana Ruiz"].hours == Decimal("0.75") and drafts["Ana Ruiz"].role == ""
    assert drafts["Bo Chen"].hours == Decimal("0.75")  # 10 minutes + 30 of padding = 40, to 0.75
    assert drafts["Bo Chen"].role == "Layout artist" and drafts["Bo Chen"].department == "layout"
    assert "2 review decisions, 1 notes" in drafts["Bo Chen"].task


def test_the_production_time_zone_decides_the_day() -> None:
    # Stored in UTC: 02:00 UTC on 3 March is 18:00 on 2 March in Los Angeles (PST, UTC-8).
    utc = [Activity("Ana Ruiz", datetime(2026, 3, 3, 2, 0), ActivityKind.NOTE)]
    (draft,) = suggest_hours(utc, tz=ZoneInfo("America/Los_Angeles"))
    assert draft.day == date(2026, 3, 2) and draft.task.endswith("sessions 18:00-18:00")
    aware = [Activity("Ana Ruiz", datetime(2026, 3, 3, 2, 0, tzinfo=UTC), ActivityKind.NOTE)]
    assert suggest_hours(aware, tz=ZoneInfo("America/Los_Angeles"))[0].day == date(2026, 3, 2)
    assert suggest_hours(aware)[0].day == date(2026, 3, 3)  # its own zone: UTC
    with pytest.raises(BooksError, match="mix naive and time-zone-aware"):
        suggest_hours(utc + aware)


def test_padding_over_half_the_gap_is_refused() -> None:
    with pytest.raises(BooksError, match=r"padding \(0:30:00\) is more than half the gap \(0:45:00\)"):
        suggest_hours(events("Ana Ruiz", "09:00"), pad=timedelta(minutes=30))


def test_drafts_count_for_nothing_until_confirmed() -> None:
    member = CrewMember(
        "Ana Ruiz", "animation", "Animator", rates=(Rate(Decimal(40), RateUnit.HOUR, date(2026, 1, 1)),)
    )
    drafts = suggest_hours(events("Ana Ruiz", "09:00", "09:30"))
    assert Books([member], drafts, []).wages == []
    confirmed = [TimeEntry(d.person, d.day, d.hours, confirmed=True, source=d.source) for d in drafts]
    (line,) = Books([member], confirmed, []).wages
    assert line.hours == Decimal(1) and line.pay == Decimal(40)


def test_reconcile_names_each_day_that_disagrees() -> None:
    monday, tuesday, wednesday, thursday = (DAY + timedelta(days=n) for n in range(4))
    log = events("Ana Ruiz", "09:00", "09:30", day=monday)  # 1 h of activity
    log += events("Ana Ruiz", "09:00", "09:30", day=tuesday)  # 1 h, no timesheet
    log += events("Ana Ruiz", *(f"{h:02d}:{m:02d}" for h in range(9, 18) for m in (0, 30)), day=thursday)  # 9 h
    sheets = [
        TimeEntry("Ana Ruiz", monday.date(), Decimal("1.5")),  # within the hour's tolerance
        TimeEntry("ana ruiz", wednesday.date(), Decimal(8)),  # no activity
        TimeEntry("Ana Ruiz", thursday.date(), Decimal(4)),
        TimeEntry("Ana Ruiz", thursday.date(), Decimal(3), confirmed=False),  # a draft: not booked
    ]
    checks = reconcile(sheets, log)
    assert [(c.day.isoformat(), c.timesheet_hours, c.activity_hours, c.disagreement) for c in checks] == [
        ("2026-03-03", 0, 1, Disagreement.NO_TIMESHEET),
        ("2026-03-04", 8, 0, Disagreement.NO_ACTIVITY),
        ("2026-03-05", 4, 9, Disagreement.ACTIVITY_OVER),
    ]
    assert checks[2].difference == 5 and all(c.person == "Ana Ruiz" for c in checks)
    assert reconcile(sheets, log, tolerance=Decimal(0))[0].day == monday.date()  # 1.5 h booked, 1 h seen
