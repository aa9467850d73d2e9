"""Hours from the work: the activity Soundstage records (takes requested, review decisions,
notes), turned into draft time entries per person and day that count once confirmed, and the
days where timesheets and activity disagree. The sessions are ``books.suggest``'s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, select, update

from soundstage.books.model import Activity, ActivityKind, EntrySource, TimeEntry
from soundstage.books.suggest import DayCheck, reconcile, suggest_hours
from soundstage.errors import BooksError, RowsRefused
from soundstage.project.book_rows import CONFIRMED, DRAFT, entries, store_entries
from soundstage.project.books import books_settings, check_hours, crew
from soundstage.project.production import Context
from soundstage.review.workflow import Action
from soundstage.store.tables import EventRow, JobRow, ShotRow, TimeEntryRow

_DECISIONS = frozenset(
    {Action.START, Action.SUBMIT, Action.APPROVE, Action.REQUEST_CHANGES, Action.FINAL, Action.REOPEN, Action.ASSIGN}
)


def activities(context: Context) -> list[Activity]:
    """What people did in Soundstage, each with its person and time: takes they requested (the
    job's queue time), review decisions and notes (the audit trail).

    Not here: layouts edited by hand (the layout file's change carries no person), and the
    guardrails' records (consents, notices, overrides): they are audited events, but like adding
    users they are administration, not work on the film."""
    found: list[Activity] = []
    with context.reading() as session:
        for actor, at, action, subject in session.execute(
            select(EventRow.actor, EventRow.at, EventRow.action, EventRow.subject)
        ):
            if action == Action.NOTE:
                kind = ActivityKind.NOTE
            elif action in _DECISIONS:
                kind = ActivityKind.REVIEW_DECISION
            else:
                continue  # adding users, sharing playlists: administration, not work on the film
            found.append(Activity(actor, at, kind, subject.partition("/")[0]))
        requester = JobRow.recipe["requested_by"].as_string()
        jobs = select(requester, JobRow.created_at, ShotRow.code, JobRow.backend).join(
            ShotRow, ShotRow.id == JobRow.shot_id
        )
        for person, at, code, made_by in session.execute(jobs):
            if person:
                # A generative backend's take is AI-assisted work; previs renders the blocking.
                kind = ActivityKind.TAKE_REQUESTED if made_by == "previs" else ActivityKind.AI_TAKE_REQUESTED
                found.append(Activity(person, at, kind, code))
    return found


@dataclass(frozen=True)
class SuggestReport:
    """What ``hours suggest`` did: drafts stored (replacing earlier drafts of the same days) and
    the person-days it left alone because they were confirmed already."""

    drafts: list[TimeEntry]
    replaced: int
    kept: int


def suggest(context: Context) -> SuggestReport:
    """Draft time entries per person and day from the activity (books.suggest.suggest_hours with
    the ``[books]`` gap, padding and time zone). A day whose activity draft was confirmed is kept;
    earlier drafts of the other days are replaced, so running it again is safe."""
    settings = books_settings(context)
    members = {m.name: m for m in crew(context)}
    drafts = suggest_hours(activities(context), gap=settings.gap, pad=settings.pad, tz=settings.zone(), crew=members)
    with context.transaction() as session:
        confirmed = {
            (p.casefold(), d)
            for p, d in session.execute(
                select(TimeEntryRow.person, TimeEntryRow.day).where(
                    TimeEntryRow.source == EntrySource.ACTIVITY.value, TimeEntryRow.status == CONFIRMED
                )
            )
        }
        fresh = [d for d in drafts if (d.person.casefold(), d.day.isoformat()) not in confirmed]
        old = delete(TimeEntryRow).where(
            TimeEntryRow.source == EntrySource.ACTIVITY.value, TimeEntryRow.status == DRAFT
        )
        replaced = session.execute(old).rowcount or 0
        for draft in fresh:
            draft.origin = f"activity {draft.person} {draft.day}"
        store_entries(session, fresh)
    return SuggestReport(fresh, replaced, len(drafts) - len(fresh))


def confirm(
    context: Context, *, ids: Sequence[int] = (), person: str = "", first: date | None = None, last: date | None = None
) -> list[TimeEntry]:
    """Confirm drafts so they count: those of ``ids``, or of ``person`` and/or days ``first`` to
    ``last``. A draft for a day that already has confirmed hours of that person is refused (the
    day would be counted twice), as is one that would not price."""
    if not (ids or person or first or last):
        raise BooksError("hours confirm: name the drafts (--id, --person, --from/--to)")
    where = [TimeEntryRow.status == DRAFT]
    if ids:
        where.append(TimeEntryRow.id.in_(list(ids)))
    if person:
        where.append(TimeEntryRow.person == person)
    if first:
        where.append(TimeEntryRow.day >= first.isoformat())
    if last:
        where.append(TimeEntryRow.day <= last.isoformat())
    with context.transaction() as session:
        drafts = entries(session, *where)
        if ids and len(drafts) != len(set(ids)):
            missing = sorted(set(ids) - {i for i, _ in drafts})
            raise BooksError(f"hours confirm: no draft with id {', '.join(map(str, missing))}")
        booked = {
            (p, d)
            for p, d in session.execute(
                select(TimeEntryRow.person, TimeEntryRow.day).where(
                    TimeEntryRow.status == CONFIRMED, TimeEntryRow.person.in_({e.person for _, e in drafts})
                )
            )
        }
        twice = [
            (e.origin, None, f"{e.person} has confirmed hours on {e.day} already; confirming would count the day twice")
            for _, e in drafts
            if (e.person, e.day.isoformat()) in booked
        ]
        if twice:
            raise RowsRefused(twice)
        for _, entry in drafts:
            entry.confirmed = True
        check_hours(session, context, [e for _, e in drafts])
        if drafts:
            session.execute(
                update(TimeEntryRow).where(TimeEntryRow.id.in_([i for i, _ in drafts])).values(status=CONFIRMED)
            )
    return [e for _, e in drafts]


def has_activity(context: Context) -> bool:
    """Whether Soundstage has recorded any activity (a take requested, a review decision, a note)
    to check timesheets against."""
    return bool(activities(context))


def disagreements(context: Context, *, tolerance: Decimal = Decimal(1)) -> list[DayCheck]:
    """Each person's day where the confirmed timesheet and the activity differ by over ``tolerance``.
    With no activity recorded at all there is nothing to check against, and no day is listed
    (rather than every timesheet day as "no activity"): ``has_activity`` tells that case apart."""
    settings = books_settings(context)
    found = activities(context)
    if not found:
        return []
    with context.reading() as session:
        sheets = [e for _, e in entries(session, TimeEntryRow.source == EntrySource.TIMESHEET.value)]
    return reconcile(sheets, found, tolerance=tolerance, gap=settings.gap, pad=settings.pad, tz=settings.zone())
