"""Review decisions in the production's database: people, status changes, approvals, notes and
the audit trail, each decision written with its event in one transaction.

The CLI and the web call these through ``Production``; both are held to workflow.py's rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from soundstage.errors import ReviewError
from soundstage.generate.backend import take_name
from soundstage.review.audit import GENESIS, Event, event_hash
from soundstage.review.workflow import Action, Role, Status, authorise, next_status, parse_role
from soundstage.store.rows import shot_row, take_row
from soundstage.store.tables import EventRow, FindingRow, NoteRow, ShotRow, TakeRow, UserRow, utcnow

# Someone working at the production's own machine (CLI user administration): the console user
# has the files and the database already, so no role could stop them; the trail still names them.
CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class Person:
    """Who is acting, as the audit trail records them."""

    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class Decision:
    """What a status change did."""

    shot: str
    take: str | None  # "012_0030/2" for approvals
    previous: Status
    status: Status
    event_id: int


def person(session: Session, name: str) -> Person:
    """The active user ``name``; ReviewError if there is none."""
    row = session.scalars(select(UserRow).where(UserRow.name == name)).first()
    if row is None or not row.active:
        raise ReviewError(f"no active user {name!r} in this production (soundstage user add {name} --role ROLE)")
    return Person(row.name, Role(row.role))


def add_user(session: Session, actor: Person | str, name: str, role: str, password_hash: str = "") -> UserRow:
    """Add a person with a role; ``actor`` is a producer, or CONSOLE for the CLI at the production."""
    name = name.strip()
    if not name or len(name) > 128 or any(c in name for c in "/\n\r\t"):
        raise ReviewError(f"user name {name!r}: 1-128 characters, no slashes or line breaks")
    parsed = parse_role(role)
    actor_name, actor_role = _actor(actor, Action.ADD_USER)
    if session.scalars(select(UserRow.id).where(UserRow.name == name)).first() is not None:
        raise ReviewError(f"user {name!r} exists already (soundstage user role {name} ROLE changes the role)")
    row = UserRow(name=name, role=parsed.value, password_hash=password_hash)
    session.add(row)
    session.flush()
    append_event(session, actor_name, actor_role, Action.ADD_USER, name, {"role": parsed.value})
    return row


def change_role(session: Session, actor: Person | str, name: str, role: str) -> UserRow:
    """Give a person another role (audited)."""
    parsed = parse_role(role)
    actor_name, actor_role = _actor(actor, Action.CHANGE_ROLE)
    row = session.scalars(select(UserRow).where(UserRow.name == name)).first()
    if row is None:
        raise ReviewError(f"no user {name!r} in this production")
    previous, row.role = row.role, parsed.value
    append_event(session, actor_name, actor_role, Action.CHANGE_ROLE, name, {"from": previous, "to": parsed.value})
    return row


def decide(
    session: Session,
    actor: Person,
    shot_code: str,
    action: Action,
    *,
    take_number: int | None = None,
    note: str = "",
    override_reason: str = "",
) -> Decision:
    """Move a shot's status by ``action`` under the workflow's rules, with its event.

    Approving names a take (its newest when ``take_number`` is None); a take whose checks failed
    needs ``override_reason``. The status is changed with a conditional UPDATE on the status read,
    so of two people deciding on one shot at the same moment exactly one wins; the other gets a
    ReviewError saying who did.
    """
    authorise(actor.name, actor.role, action)
    shot = shot_row(session, shot_code)
    current = Status(shot.status)
    if action is Action.APPROVE and current in (Status.APPROVED, Status.FINAL):
        raise ReviewError(_already_approved(session, shot, current))
    target = next_status(shot.code, current, action)
    take = take_row(session, shot, take_number) if action is Action.APPROVE else None
    if take is not None:
        failed = session.scalars(
            select(FindingRow).where(FindingRow.take_id == take.id, FindingRow.verdict == "fail")
        ).all()
        override_reason = override_reason.strip()
        if failed and not override_reason:
            first = failed[0]
            raise ReviewError(
                f"take {take_name(shot.code, take.number)} failed {len(failed)} check(s) ({first.check}: "
                f"{first.reason}); approving it needs an override reason"
            )
    changed = session.execute(
        update(ShotRow).where(ShotRow.id == shot.id, ShotRow.status == current.value).values(status=target.value)
    ).rowcount
    if changed != 1:
        # Someone else's transaction changed the status after we read it (PostgreSQL, READ COMMITTED).
        raise ReviewError(f"shot {shot.code} was changed by someone else just now; reload and try again")
    if action is Action.APPROVE and take is not None:
        _clear_approvals(session, shot.id)
        take.approved_by, take.approved_role, take.approved_at = actor.name, actor.role.value, utcnow()
        take.override_reason = override_reason
    elif target is Status.CHANGES_REQUESTED:
        _clear_approvals(session, shot.id)
    detail: dict[str, Any] = {"from": current.value, "to": target.value}
    subject = shot.code
    if take is not None:
        subject = take_name(shot.code, take.number)
        detail["recipe_sha256"] = take.recipe_sha256
        if override_reason:
            detail["override_reason"] = override_reason
    if note.strip():
        detail["note"] = note.strip()
        session.add(
            NoteRow(
                shot_id=shot.id,
                take_id=take.id if take else None,
                author=actor.name,
                role=actor.role.value,
                body=note.strip(),
            )
        )
    event = append_event(session, actor.name, actor.role.value, action, subject, detail)
    return Decision(shot.code, subject if take else None, current, target, event.id)


def add_note(
    session: Session,
    actor: Person,
    shot_code: str,
    *,
    take_number: int | None = None,
    frame: int | None = None,
    body: str = "",
    shapes: Sequence[dict[str, Any]] = (),
) -> NoteRow:
    """A note on a shot (optionally on a take and an integer frame, with drawn shapes), audited."""
    authorise(actor.name, actor.role, Action.NOTE)
    if not body.strip() and not shapes:
        raise ReviewError(f"shot {shot_code}: a note needs words or a drawing")
    if frame is not None and frame < 0:
        raise ReviewError(f"shot {shot_code}: frame {frame} is before the first frame (0)")
    shot = shot_row(session, shot_code)
    take = take_row(session, shot, take_number) if take_number is not None else None
    row = NoteRow(
        shot_id=shot.id,
        take_id=take.id if take else None,
        author=actor.name,
        role=actor.role.value,
        frame=frame,
        body=body.strip(),
        shapes=list(shapes),
    )
    session.add(row)
    session.flush()
    subject = take_name(shot.code, take.number) if take else shot.code
    detail: dict[str, Any] = {"note": row.id, "body": row.body, "frame": frame, "shapes": len(row.shapes)}
    append_event(session, actor.name, actor.role.value, Action.NOTE, subject, detail)
    return row


def append_event(
    session: Session, actor: str, role: str, action: Action | str, subject: str, detail: dict[str, Any]
) -> EventRow:
    """Append one event to the chain, in the caller's transaction.

    Writers are serialised (SQLite: the write lock of BEGIN IMMEDIATE; PostgreSQL: a transaction
    advisory lock), and prev_sha256 is unique besides, so the chain cannot fork.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7210412)"))  # one fixed key: the audit chain
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


def _actor(actor: Person | str, action: Action) -> tuple[str, str]:
    if isinstance(actor, str):
        return actor, CONSOLE
    authorise(actor.name, actor.role, action)
    return actor.name, actor.role.value


def _clear_approvals(session: Session, shot_id: int) -> None:
    session.execute(
        update(TakeRow)
        .where(TakeRow.shot_id == shot_id, TakeRow.approved_by != "")
        .values(approved_by="", approved_role="", approved_at=None, override_reason="")
    )


def _already_approved(session: Session, shot: ShotRow, status: Status) -> str:
    take = session.scalars(
        select(TakeRow).where(TakeRow.shot_id == shot.id, TakeRow.approved_by != "").limit(1)
    ).first()
    if take is None:
        return f"shot {shot.code} is {status} already"
    at = take.approved_at.strftime("%Y-%m-%d %H:%M") if take.approved_at else "?"
    return (
        f"shot {shot.code} was already approved by {take.approved_by} "
        f"(take {take_name(shot.code, take.number)}, {at} UTC)"
    )
