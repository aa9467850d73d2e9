"""Hours from the work: Soundstage's activity log (takes requested, review decisions, notes,
layouts edited, consents recorded) turned into draft time entries, and the days on which the
timesheets and the activity disagree.

A person's events on one day are cut into sessions wherever two events are more than ``gap``
apart; each session runs from its first event to its last, padded by ``pad`` on each side (the
work before the first click and after the last one). A day's sessions add up to its hours,
rounded to the quarter hour as payroll does. The drafts are never counted until confirmed.

A year of a studio's activity is a million events, so the sessions are found with numpy (one
sort, one pass of differences) rather than a Python loop over events. Reading the times out of a
million Python objects is most of the cost either way (benchmarks/books.py measures both).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum

import numpy as np

from soundstage.books.model import Activity, ActivityKind, CrewMember, EntrySource, TimeEntry
from soundstage.errors import BooksError

GAP = timedelta(minutes=45)
PAD = timedelta(minutes=15)
TOLERANCE = Decimal(1)
_DAY = 86_400
_QUARTER = 900  # seconds: hours are suggested to the quarter hour
_KINDS = tuple(ActivityKind)
_KIND_INDEX = {kind: i for i, kind in enumerate(_KINDS)}
_KIND_WORDS = {
    ActivityKind.TAKE_REQUESTED: "takes requested",
    ActivityKind.AI_TAKE_REQUESTED: "AI takes requested",
    ActivityKind.REVIEW_DECISION: "review decisions",
    ActivityKind.NOTE: "notes",
    ActivityKind.LAYOUT_EDITED: "layouts edited",
    ActivityKind.CONSENT_RECORDED: "consents recorded",
}


@dataclass(frozen=True, slots=True)
class Session:
    """A stretch of one person's activity with no gap over the limit (times in the production's
    time zone, without tzinfo)."""

    person: str
    start: datetime
    end: datetime
    events: int


_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)


def _local_seconds(activities: Sequence[Activity], tz: tzinfo | None) -> np.ndarray:
    """Seconds since 1970 on the production's wall clock. Naive times are the wall clock when
    ``tz`` is None, and UTC (as the store writes them) when it is given; aware times are moved to
    ``tz``, or to the first activity's own zone when it is None."""
    naive = activities[0].at.tzinfo is None
    epoch = _EPOCH if naive else _EPOCH_UTC
    try:
        # A subtraction per event: numpy's own conversion of datetime objects is 6x slower.
        seconds = np.fromiter(
            ((a.at - epoch).total_seconds() for a in activities), dtype=np.float64, count=len(activities)
        ).astype(np.int64)
    except TypeError:
        raise BooksError("activity times mix naive and time-zone-aware datetimes") from None
    if tz is None:
        if naive:
            return seconds
        tz = activities[0].at.tzinfo
    # The offset changes at most at the top of an hour: look it up once per distinct hour.
    hours, where = np.unique(seconds // 3600, return_inverse=True)
    offsets = np.array(
        [int(datetime.fromtimestamp(int(h) * 3600, tz).utcoffset().total_seconds()) for h in hours],
        dtype=np.int64,
    )
    return seconds + offsets[where]


def _sessions(
    activities: Sequence[Activity], gap: timedelta, tz: tzinfo | None
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(people, session person, start, end, events, day, kind counts) with sessions sorted by
    person and time; a session never crosses midnight (it is split there)."""
    names: dict[str, int] = {}
    people = np.fromiter((names.setdefault(a.person, len(names)) for a in activities), np.int64, len(activities))
    kinds = np.fromiter((_KIND_INDEX[a.kind] for a in activities), np.int64, len(activities))
    seconds = _local_seconds(activities, tz)
    order = np.lexsort((seconds, people))
    people, seconds, kinds = people[order], seconds[order], kinds[order]
    days = seconds // _DAY
    new = np.ones(len(seconds), dtype=bool)
    new[1:] = (people[1:] != people[:-1]) | (days[1:] != days[:-1]) | (np.diff(seconds) > gap.total_seconds())
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(seconds)) - 1
    session_of = np.cumsum(new) - 1
    counts = np.bincount(session_of * len(_KINDS) + kinds, minlength=len(starts) * len(_KINDS))
    counts = counts.reshape(len(starts), len(_KINDS))
    return (
        list(names),
        people[starts],
        seconds[starts],
        seconds[ends],
        ends - starts + 1,
        days[starts],
        counts,
    )


def sessions(activities: Sequence[Activity], *, gap: timedelta = GAP, tz: tzinfo | None = None) -> list[Session]:
    """The sessions of activity, per person in time order (unpadded)."""
    if not activities:
        return []
    names, person, start, end, events, _, _ = _sessions(activities, gap, tz)
    epoch = datetime(1970, 1, 1)
    return [
        Session(names[p], epoch + timedelta(seconds=int(s)), epoch + timedelta(seconds=int(e)), int(n))
        for p, s, e, n in zip(person, start, end, events)
    ]


def suggest_hours(
    activities: Sequence[Activity],
    *,
    gap: timedelta = GAP,
    pad: timedelta = PAD,
    tz: tzinfo | None = None,
    crew: Mapping[str, CrewMember] | None = None,
) -> list[TimeEntry]:
    """Draft time entries, one per person and day with activity: the day's padded sessions to the
    quarter hour (at least a quarter hour), not confirmed, source ``activity``. The task says what
    the activity was and the sessions' times; role and department come from ``crew`` (by name)
    where given. A day with AI takes requested is AI-assisted work, under that person. ``pad`` may be at most half of ``gap``, so padded sessions never overlap."""
    if gap <= timedelta(0) or pad < timedelta(0):
        raise BooksError(f"hours suggest: the gap ({gap}) must be positive and the padding ({pad}) not negative")
    if pad * 2 > gap:
        raise BooksError(f"hours suggest: the padding ({pad}) is more than half the gap ({gap})")
    if not activities:
        return []
    names, person, start, end, events, day, counts = _sessions(activities, gap, tz)
    padded = end - start + 2 * int(pad.total_seconds())
    # One group per person and day: sessions are sorted by person and time, so groups are runs.
    new = np.ones(len(person), dtype=bool)
    new[1:] = (person[1:] != person[:-1]) | (day[1:] != day[:-1])
    first = np.flatnonzero(new)
    group_seconds = np.add.reduceat(padded, first)
    group_counts = np.add.reduceat(counts, first, axis=0)
    quarters = np.maximum((group_seconds + _QUARTER // 2) // _QUARTER, 1)
    last = np.append(first[1:], len(person))
    epoch = date(1970, 1, 1)
    members = {name.casefold(): member for name, member in (crew or {}).items()}
    drafts = []
    for g, (a, b) in enumerate(zip(first, last)):
        name = names[person[a]]
        windows = ", ".join(f"{_clock(s)}-{_clock(e)}" for s, e in zip(start[a:b], end[a:b]))
        done = ", ".join(f"{n} {_KIND_WORDS[k]}" for k, n in zip(_KINDS, group_counts[g]) if n)
        member = members.get(name.casefold())
        drafts.append(
            TimeEntry(
                person=name,
                day=epoch + timedelta(days=int(day[a])),
                hours=Decimal(int(quarters[g])) / 4,
                role=member.role if member else "",
                department=member.department if member else "",
                task=f"from activity: {done}; sessions {windows}",
                confirmed=False,
                source=EntrySource.ACTIVITY,
                ai_assisted=bool(group_counts[g][_KIND_INDEX[ActivityKind.AI_TAKE_REQUESTED]]),
            )
        )
    return drafts


def _clock(seconds: np.int64) -> str:
    minutes = int(seconds) % _DAY // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class Disagreement(StrEnum):
    """How a day's timesheet and activity disagree."""

    NO_TIMESHEET = "activity but no timesheet"
    NO_ACTIVITY = "timesheet but no activity"
    ACTIVITY_OVER = "more activity than timesheet hours"
    TIMESHEET_OVER = "more timesheet hours than activity"


@dataclass(frozen=True, slots=True)
class DayCheck:
    """One person's day where the timesheet and the activity disagree by more than the tolerance."""

    person: str
    day: date
    timesheet_hours: Decimal
    activity_hours: Decimal
    disagreement: Disagreement

    @property
    def difference(self) -> Decimal:
        """Activity hours less timesheet hours."""
        return self.activity_hours - self.timesheet_hours


def reconcile(
    timesheets: Iterable[TimeEntry],
    activities: Sequence[Activity],
    *,
    tolerance: Decimal = TOLERANCE,
    gap: timedelta = GAP,
    pad: timedelta = PAD,
    tz: tzinfo | None = None,
) -> list[DayCheck]:
    """Every person and day where the confirmed timesheet hours and the hours suggested from
    activity differ by more than ``tolerance`` (or one side has none), by person and day.

    Work outside Soundstage (drawing on paper, meetings) leaves no activity, so a timesheet over
    the activity is usual; activity with no timesheet, or over it, is work that was not booked."""
    booked: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    shown: dict[str, str] = {}
    for entry in timesheets:
        if entry.confirmed and entry.source is EntrySource.TIMESHEET:
            key = entry.person.casefold()
            shown.setdefault(key, entry.person)
            booked[(key, entry.day)] += entry.hours
    seen: dict[tuple[str, date], Decimal] = {}
    for draft in suggest_hours(activities, gap=gap, pad=pad, tz=tz):
        key = draft.person.casefold()
        shown.setdefault(key, draft.person)
        seen[(key, draft.day)] = draft.hours
    checks = []
    for key in sorted(booked.keys() | seen.keys()):
        sheet, activity = booked.get(key), seen.get(key)
        if sheet is None:
            kind = Disagreement.NO_TIMESHEET
        elif activity is None:
            kind = Disagreement.NO_ACTIVITY
        elif activity - sheet > tolerance:
            kind = Disagreement.ACTIVITY_OVER
        elif sheet - activity > tolerance:
            kind = Disagreement.TIMESHEET_OVER
        else:
            continue
        checks.append(DayCheck(shown[key[0]], key[1], sheet or Decimal(0), activity or Decimal(0), kind))
    return checks
