"""What a decision asks of the database, on SQLite and PostgreSQL: an approval reads each row it
needs once, and a note with its status change appends both events under one lock and one read
of the chain's head, without weakening the chain (a savepoint rolled back leaves no trace)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from soundstage.project import Production, review, trail
from soundstage.project.people import Person
from soundstage.review.audit import verify
from soundstage.review.workflow import Action, Role, Status
from soundstage.store.db import session_scope
from soundstage.store.tables import EventRow, TakeRow

SOL, ADA = Person("Sol", Role.SUPERVISOR), Person("Ada", Role.PRODUCER)


@contextmanager
def _statements(production: Production) -> Iterator[list[str]]:
    """The SELECT, INSERT, UPDATE and DELETE statements sent while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            seen.append(statement)

    event.listen(production.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(production.engine, "before_cursor_execute", record)


def test_an_approval_reads_each_row_once(with_takes) -> None:
    production = with_takes(2)
    code = production.codes[0]
    with _statements(production) as seen, production.context.transaction() as session:
        decision = review.decide(session, SOL, code, Action.APPROVE, context=production.context)
    # The shot with its scene; the take with its findings; which guardrail record tables hold
    # rows, and the one that does here (the imported draft); the status; the approval (and the
    # clearing of any other); the chain's lock (PostgreSQL) and head; the event.
    postgres = production.engine.dialect.name == "postgresql"
    assert len(seen) == (9 if postgres else 8), "\n".join(seen)
    assert decision.take == f"{code}/2" and decision.status is Status.APPROVED
    with session_scope(production.engine) as session:
        approved = session.execute(select(TakeRow.number, TakeRow.approved_by).where(TakeRow.approved_by != ""))
        assert [tuple(row) for row in approved] == [(2, "Sol")]


def test_approving_another_take_moves_the_approval(with_takes) -> None:
    production = with_takes(1)
    code = production.codes[0]
    with production.context.transaction() as session:
        review.decide(session, SOL, code, Action.APPROVE, take_number=1, context=production.context)
    with production.context.transaction() as session:
        review.decide(session, ADA, code, Action.REOPEN)
        review.decide(session, SOL, code, Action.APPROVE, take_number=2, context=production.context)
    with session_scope(production.engine) as session:
        takes = session.execute(
            select(TakeRow.number, TakeRow.approved_by, TakeRow.approved_at).order_by(TakeRow.number)
        )
        assert [(n, by, at is not None) for n, by, at in takes] == [(1, "", False), (2, "Sol", True)]
    assert production.verify_trail().intact


def test_a_note_with_a_status_change_appends_both_events_under_one_read_of_the_head(with_takes) -> None:
    production = with_takes(1)
    code = production.codes[0]
    with _statements(production) as seen, production.context.transaction() as session:
        review.note_with_status(session, SOL, code, body="warmer", status=Status.APPROVED, context=production.context)
    heads = [s for s in seen if "FROM events" in s]
    assert len(heads) == 1, heads
    with session_scope(production.engine) as session:
        events = trail.events(session)
    assert [e.action for e in events[-2:]] == ["note", "approve"]
    assert events[-1].prev_sha256 == events[-2].sha256
    assert verify(events).intact and production.verify_trail().intact


def test_an_event_rolled_back_with_its_savepoint_is_not_chained_on(with_takes) -> None:
    production = with_takes(1)
    with session_scope(production.engine) as session:
        first = trail.append_event(session, "Sol", "supervisor", "note", "x", {"n": 1})
        with session.begin_nested() as savepoint:
            trail.append_event(session, "Sol", "supervisor", "note", "x", {"n": 2})
            savepoint.rollback()
        third = trail.append_event(session, "Sol", "supervisor", "note", "x", {"n": 3})
    assert third.prev_sha256 == first.sha256
    with session_scope(production.engine) as session:
        assert verify(trail.events(session)).intact
        assert len(session.scalars(select(EventRow.id)).all()) == first.id + 1
