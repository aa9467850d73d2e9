"""The audit trail as a hash chain: each event's hash covers its content and the previous event's
hash, so editing or deleting any event breaks every link after it.

Pure functions over event values; ``records.py`` appends them in the transaction that makes the
decision, so a decision and its event are written together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# The first event links to this: 64 zeros.
GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class Event:
    """One decision: who (actor, role), what (action, subject, detail), when (at, UTC)."""

    id: int
    at: datetime
    actor: str
    role: str
    action: str
    subject: str
    detail: dict[str, Any] = field(default_factory=dict)
    prev_sha256: str = GENESIS
    sha256: str = ""


def as_utc(at: datetime) -> datetime:
    """``at`` in UTC; naive times are UTC already (SQLite hands back stored times without a zone)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def event_hash(event: Event) -> str:
    """The sha256 of an event's canonical JSON (sorted keys, UTC time in microseconds), its
    previous hash included. The id is part of it, so moving an event is an edit too."""
    content = {
        "id": event.id,
        "at": as_utc(event.at).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "role": event.role,
        "action": event.action,
        "subject": event.subject,
        "detail": event.detail,
        "prev": event.prev_sha256,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What ``verify`` found: events checked, and one line per break."""

    events: int
    problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(events: Iterable[Event]) -> ChainReport:
    """Walk the chain in id order: every event must link to the one before and hash to what it
    says. A gap in the ids is a deleted event; a wrong hash is an edited one."""
    problems: list[str] = []
    previous_hash, previous_id, count = GENESIS, 0, 0
    for event in events:
        count += 1
        if event.id != previous_id + 1:
            problems.append(f"event {event.id}: events {previous_id + 1}..{event.id - 1} are missing (deleted)")
        if event.prev_sha256 != previous_hash:
            problems.append(f"event {event.id}: does not link to the event before it (an event was removed or edited)")
        if event_hash(event) != event.sha256:
            problems.append(f"event {event.id} ({event.action} {event.subject} by {event.actor}): content was edited")
        previous_hash, previous_id = event.sha256, event.id
    return ChainReport(count, problems)
