"""Bookings as an iCalendar file (RFC 5545) that calendar apps import.

One all-day event per stage booking (first to last day of the rental: CONFIRMED when booked,
TENTATIVE when on hold) and, optionally, one per shoot day listing its scenes and location.
UIDs are derived from the content, and DTSTAMP is given (default: midnight UTC of the first
day), so the same schedule gives the same file.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta

from icalendar import Calendar, Event

from soundstage.schedules.model import Schedule


def _uid(*parts: object) -> str:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:24]
    return f"{digest}@soundstage"


def bookings_calendar(
    schedule: Schedule, *, production: str = "", shoot_days: bool = True, stamp: datetime | None = None
) -> bytes:
    """The schedule's stage bookings (and shoot days) as iCalendar bytes."""
    calendar = Calendar()
    calendar.add("prodid", "-//Soundstage//stage bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if production:
        calendar.add("x-wr-calname", f"{production}: stages and shoot days")
    if stamp is None:
        first = schedule.days[0].date if schedule.days else datetime(1970, 1, 1).date()
        stamp = datetime.combine(first, time(0, 0), tzinfo=UTC)
    for booking in schedule.bookings:
        event = Event()
        event.add("uid", _uid("booking", booking.stage, booking.dates, booking.holder))
        event.add("dtstamp", stamp)
        event.add("dtstart", booking.dates.first)
        event.add("dtend", booking.dates.last + timedelta(days=1))  # DTEND of a date is exclusive
        event.add("summary", f"{booking.stage} {booking.status}: {booking.holder}")
        event.add("status", "CONFIRMED" if booking.firm else "TENTATIVE")
        event.add("transp", "OPAQUE")
        event.add("categories", ["stage booking"])
        calendar.add_component(event)
    if shoot_days:
        for number, day in enumerate(schedule.days, start=1):
            event = Event()
            event.add("uid", _uid("day", production, day.date))
            event.add("dtstamp", stamp)
            event.add("dtstart", day.date)
            event.add("dtend", day.date + timedelta(days=1))
            event.add("summary", f"Shoot day {number}: scenes {', '.join(day.scenes)}")
            event.add("location", day.location)
            if day.stages:
                event.add("description", "Stages: " + ", ".join(day.stages))
            event.add("categories", ["shoot day"])
            calendar.add_component(event)
    return calendar.to_ical()
