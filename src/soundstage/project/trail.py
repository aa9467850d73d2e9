"""The audit trail in the database: every human decision appended as one event to a hash chain,
in the caller's transaction, and the chain read back and verified (review/audit.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from soundstage.project.production import Context
from soundstage.review.audit import GENESIS, ChainReport, Event, event_hash
from soundstage.review.audit import verify as verify_chain
from soundstage.review.workflow import Action
from soundstage.store.tables import EventRow, utcnow

# One fixed key of PostgreSQL's transaction advisory locks: the audit chain's.
_CHAIN_LOCK = 7210412


def append_event(
    session: Session, actor: str, role: str, action: Action | str, subject: str, detail: dict[str, Any]
) -> EventRow:
    """Append one event to the chain, in the caller's transaction.

    Writers are serialised (SQLite: the write lock of BEGIN IMMEDIATE; PostgreSQL: a transaction
    advisory lock), and prev_sha256 is unique besides, so the chain cannot fork.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({_CHAIN_LOCK})"))
    last = session.execute(select(EventRow.id, EventRow.sha256).order_by(EventRow.id.desc()).limit(1)).first()
    event = Event(
        id=(last.id + 1) if last else 1,
        # Microseconds are what both databases keep; the hash must see the stored value.
        at=utcnow(),
        actor=actor,
        role=role,
        action=str(action),
        subject=subject,
        detail=detail,
        prev_sha256=last.sha256 if last else GENESIS,
    )
    row = EventRow(
        id=event.id,
        at=event.at,
        actor=actor,
        role=role,
        action=event.action,
        subject=subject,
        detail=detail,
        prev_sha256=event.prev_sha256,
        sha256=event_hash(event),
    )
    session.add(row)
    session.flush()
    return row


def events(session: Session, *, after: int = 0, limit: int | None = None) -> list[Event]:
    """The trail in order (all of it, or a page)."""
    query = select(EventRow).where(EventRow.id > after).order_by(EventRow.id)
    if limit is not None:
        query = query.limit(limit)
    return [
        Event(r.id, r.at, r.actor, r.role, r.action, r.subject, r.detail, r.prev_sha256, r.sha256)
        for r in session.scalars(query)
    ]


def verify(session: Session) -> tuple[ChainReport, list[Event]]:
    """The whole trail and whether its hash chain is intact."""
    trail = events(session)
    return verify_chain(trail), trail


def audit(context: Context) -> tuple[ChainReport, list[Event]]:
    """The audit trail and whether its hash chain is intact, in a transaction of its own."""
    with context.reading() as session:
        return verify(session)
