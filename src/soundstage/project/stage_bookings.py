"""The stages' calendars: days held or booked, by this production or by others
(``soundstage stage hold|book|release``).

A booking is firm: on its days the stage is the holder's, and the schedule of any other
production keeps off it (the solver treats those days as unavailable). A hold is a pencilled
claim: it blocks nobody, and its holder may make it a booking. Each holder has at most one
claim on a stage per day: holding or booking days replaces the holder's own claim on them, and
releasing days takes them out of the holder's claims (a claim released in the middle is left
in two). Nothing is written when a request is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from soundstage.errors import ScheduleError
from soundstage.project.production import Context
from soundstage.schedules.model import DateRange, StageBooking
from soundstage.store.tables import StageBookingRow, StageRow

THIS_PRODUCTION = "this production"  # the holder of this production's own holds and bookings


def _holder(row: StageBookingRow) -> str:
    return row.holder if row.holder is not None else THIS_PRODUCTION


def _booking(stage: str, row: StageBookingRow) -> StageBooking:
    dates = DateRange(date.fromisoformat(row.first), date.fromisoformat(row.last))
    return StageBooking(stage, dates, _holder(row), row.firm)


def _stage_row(session: Session, name: str) -> StageRow:
    row = session.scalar(select(StageRow).where(StageRow.name == name))
    if row is None:
        known = ", ".join(session.scalars(select(StageRow.name).order_by(StageRow.name))) or "none yet"
        raise ScheduleError(f"no stage {name!r} (stages: {known})")
    return row


def _holder_of(by: str | None) -> str | None:
    """The stored holder: None for this production, else the other production's name."""
    if by is None:
        return None
    name = " ".join(by.split())
    if not name or name == THIS_PRODUCTION:
        raise ScheduleError("--by names another production; leave it out for this production's own")
    return name


def _overlap(row: StageBookingRow, dates: DateRange) -> DateRange | None:
    first = max(date.fromisoformat(row.first), dates.first)
    last = min(date.fromisoformat(row.last), dates.last)
    return DateRange(first, last) if first <= last else None


def _cut(session: Session, rows: list[StageBookingRow], dates: DateRange) -> int:
    """Take ``dates`` out of ``rows`` (one holder's claims); the number of days taken."""
    taken = 0
    for row in rows:
        common = _overlap(row, dates)
        if common is None:
            continue
        taken += (common.last - common.first).days + 1
        first, last = date.fromisoformat(row.first), date.fromisoformat(row.last)
        if first < common.first:
            session.add(_copy(row, first, common.first - timedelta(days=1)))
        if common.last < last:
            session.add(_copy(row, common.last + timedelta(days=1), last))
        session.delete(row)
    return taken


def _copy(row: StageBookingRow, first: date, last: date) -> StageBookingRow:
    return StageBookingRow(
        stage_id=row.stage_id, first=first.isoformat(), last=last.isoformat(), holder=row.holder, firm=row.firm
    )


def claim(context: Context, stage: str, dates: DateRange, *, firm: bool, by: str | None = None) -> StageBooking:
    """Hold (``firm`` False) or book ``stage`` on ``dates`` for this production, or for the
    production ``by``. Refused, one line, when a day is outside the stage's availability or is
    firmly booked by another holder."""
    holder = _holder_of(by)
    with context.transaction() as session:
        stage_row = _stage_row(session, stage)
        if stage_row.available_from and stage_row.available_to:
            window = DateRange(date.fromisoformat(stage_row.available_from), date.fromisoformat(stage_row.available_to))
            if dates.first not in window or dates.last not in window:
                raise ScheduleError(f"stage {stage} is available only {window}, not all of {dates}")
        rows = list(session.scalars(select(StageBookingRow).where(StageBookingRow.stage_id == stage_row.id)))
        for row in rows:
            common = _overlap(row, dates)
            if common is not None and row.firm and row.holder != holder:
                raise ScheduleError(f"stage {stage} is booked by {_holder(row)} on {common}")
        _cut(session, [r for r in rows if r.holder == holder], dates)
        made = StageBookingRow(
            stage_id=stage_row.id, first=dates.first.isoformat(), last=dates.last.isoformat(), holder=holder, firm=firm
        )
        session.add(made)
        return _booking(stage, made)


def release(context: Context, stage: str, dates: DateRange, *, by: str | None = None) -> int:
    """Release ``dates`` of this production's (or ``by``'s) holds and bookings of ``stage``;
    the number of days released, and one line when there was nothing to release."""
    holder = _holder_of(by)
    with context.transaction() as session:
        stage_row = _stage_row(session, stage)
        rows = session.scalars(
            select(StageBookingRow).where(StageBookingRow.stage_id == stage_row.id, StageBookingRow.holder.is_(None))
            if holder is None
            else select(StageBookingRow).where(
                StageBookingRow.stage_id == stage_row.id, StageBookingRow.holder == holder
            )
        ).all()
        taken = _cut(session, list(rows), dates)
        if not taken:
            who = THIS_PRODUCTION if holder is None else holder
            raise ScheduleError(f"stage {stage} has no hold or booking of {who} in {dates}")
        return taken


def calendars(session: Session) -> Mapping[str, tuple[StageBooking, ...]]:
    """Every stage's holds and bookings by stage name, in date order."""
    rows = session.execute(
        select(StageRow.name, StageBookingRow).join(StageRow, StageRow.id == StageBookingRow.stage_id)
    ).all()
    found: dict[str, list[StageBooking]] = {}
    for name, row in rows:
        found.setdefault(name, []).append(_booking(name, row))
    return {name: tuple(sorted(b, key=lambda x: (x.dates.first, x.holder))) for name, b in found.items()}
