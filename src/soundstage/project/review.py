"""Review decisions in the database: status changes and approvals under the workflow's rules,
notes (with drawings), each written with its audit event in the caller's one transaction.

The CLI (through ``Production``) and the review room call these same functions, so both are held
to review/workflow.py's rules and leave the same events.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, literal, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from soundstage.errors import PermissionDenied, ReviewError
from soundstage.generate.backend import take_name
from soundstage.project import checks, guardrails, people
from soundstage.project.people import Person, Via
from soundstage.project.production import Context
from soundstage.project.trail import append_event
from soundstage.review.workflow import ALLOWED, TRANSITIONS, Action, Status, authorise, next_status
from soundstage.store.rows import shot_row, take_row
from soundstage.store.tables import NoteRow, ShotRow, TakeRow, utcnow


@dataclass(frozen=True, slots=True)
class Decision:
    """What a status change did."""

    shot: str
    take: str | None  # "012_0030/2" for approvals
    previous: Status
    status: Status
    event_id: int
    by: str = ""  # who decided, as the trail names them


def decide(
    session: Session,
    actor: Person,
    shot_code: str,
    action: Action,
    *,
    take_number: int | None = None,
    note: str = "",
    override_reason: str = "",
    context: Context | None = None,
) -> Decision:
    """Move a shot's status by ``action`` under the workflow's rules, with its event.

    Approving names a take (its newest when ``take_number`` is None); a take whose checks failed,
    or that was not checked, needs ``override_reason``. The status is changed with a conditional UPDATE on the status read,
    so of two people deciding on one shot at the same moment exactly one wins; the other gets a
    ReviewError saying who did. With the production's ``context``, approving checks the AI rules
    of ``[policy]`` first (guardrails: GuardrailRefusal with the rule id and reason, unless a
    producer overrode it).
    """
    authorise(actor.name, actor.role, action)
    # An approval's guardrails need the shot's scene: read with the shot, not in a query of its own.
    shot = shot_row(session, shot_code, with_scene=action is Action.APPROVE and context is not None)
    return _decide(session, actor, shot, action, take_number, note, override_reason, context)


def _decide(
    session: Session,
    actor: Person,
    shot: ShotRow,
    action: Action,
    take_number: int | None,
    note: str,
    override_reason: str,
    context: Context | None,
) -> Decision:
    """``decide`` on the shot row the caller read (and authorised ``action`` for)."""
    approving = action is Action.APPROVE
    current = Status(shot.status)
    if approving and current in (Status.APPROVED, Status.FINAL):
        raise ReviewError(_already_approved(session, shot, current))
    target = next_status(shot.code, current, action)
    take = None
    if approving:
        # The gate: a take that failed a check, or that was not checked (its checks never ran
        # or one raised), is approved only with a reason. The take and its findings: one query.
        take, gate = checks.take_with_standing(session, shot, take_number)
        override_reason = override_reason.strip()
        if gate.needs_override and not override_reason:
            said = "was not checked" if gate.label == "not checked" else f"failed {len(gate.reasons)} check(s)"
            raise ReviewError(
                f"take {take_name(shot.code, take.number)} {said} ({gate.reasons[0]}); "
                "approving it needs an override reason"
            )
    # The AI rules, in this transaction before the status changes (docs/guardrails.md).
    guarded = guardrails.clear_approval(context, session, shot, take) if context and take else None
    changed = session.execute(
        update(ShotRow).where(ShotRow.id == shot.id, ShotRow.status == current.value).values(status=target.value)
    ).rowcount
    if changed != 1:
        # Someone else's transaction changed the status after we read it (PostgreSQL, READ COMMITTED).
        raise ReviewError(f"shot {shot.code} was changed by someone else just now; reload and try again")
    if take is not None:
        _approve_only(session, shot.id, take, actor, override_reason)
    elif target is Status.CHANGES_REQUESTED:
        _clear_approvals(session, shot.id)
    detail: dict[str, Any] = {"from": current.value, "to": target.value, **_provenance(actor)}
    subject = shot.code
    if take is not None:
        subject = take_name(shot.code, take.number)
        detail["recipe_sha256"] = take.recipe_sha256
        if override_reason:
            detail["override_reason"] = override_reason
        if guarded and guarded["overrides"]:
            detail["guardrail_overrides"] = guarded["overrides"]
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
    return Decision(shot.code, subject if take else None, current, target, event.id, actor.name)


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
    _may_note(actor, shot_code, body, shapes, frame)
    return _add_note(session, actor, shot_row(session, shot_code), take_number, frame, body, shapes)


def _may_note(actor: Person, shot_code: str, body: str, shapes: Sequence[dict[str, Any]], frame: int | None) -> None:
    """Refuse a note this person may not write, or one with nothing in it or before frame 0."""
    authorise(actor.name, actor.role, Action.NOTE)
    if not body.strip() and not shapes:
        raise ReviewError(f"shot {shot_code}: a note needs words or a drawing")
    if frame is not None and frame < 0:
        raise ReviewError(f"shot {shot_code}: frame {frame} is before the first frame (0)")


def _add_note(
    session: Session,
    actor: Person,
    shot: ShotRow,
    take_number: int | None,
    frame: int | None,
    body: str,
    shapes: Sequence[dict[str, Any]],
) -> NoteRow:
    """``add_note`` on the shot row the caller read, once ``_may_note`` let it."""
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
    detail: dict[str, Any] = {
        "note": row.id,
        "body": row.body,
        "frame": frame,
        "shapes": len(row.shapes),
        **_provenance(actor),
    }
    append_event(session, actor.name, actor.role.value, Action.NOTE, subject, detail)
    return row


def action_towards(person: Person, shot: str, current: Status, target: Status) -> Action:
    """The status action that takes a shot from ``current`` to ``target`` for this person.

    PermissionDenied when no action leading there is the person's to take; ReviewError when the
    state machine has no way there from ``current``.
    """
    leading = [a for a, (_sources, to) in TRANSITIONS.items() if to is target]
    if not leading:
        raise ReviewError(f"shot {shot}: no decision sets a shot to {target}")
    mine = [a for a in leading if person.role in ALLOWED[a]]
    if not mine:
        authorise(person.name, person.role, leading[0])  # raises, with who may
    for action in mine:
        if current in TRANSITIONS[action][0]:
            return action
    raise ReviewError(f"shot {shot} is {current}: it cannot move to {target} from there")


def note_with_status(
    session: Session,
    person: Person,
    code: str,
    *,
    body: str = "",
    take_number: int | None = None,
    frame: int | None = None,
    shapes: Sequence[dict[str, Any]] = (),
    status: Status | None = None,
    override_reason: str = "",
    context: Context | None = None,
) -> tuple[int, str]:
    """A note (with its drawing) and an optional status change in one transaction; (note id, the
    shot's status after)."""
    # The shot is read once for the note and the decision (an approval's guardrails need its scene).
    shot = shot_row(session, code, with_scene=status is Status.APPROVED and context is not None)
    action = action_towards(person, shot.code, Status(shot.status), status) if status else None
    _may_note(person, shot.code, body, shapes, frame)
    row = _add_note(session, person, shot, take_number, frame, body, shapes)
    after = shot.status
    if action is not None:
        authorise(person.name, person.role, action)
        decision = _decide(session, person, shot, action, take_number, "", override_reason, context)
        after = decision.status.value
    return row.id, after


def cli_person(session: Session, name: str = "", *, token: str = "") -> Person:
    """The person behind a decision made from the command line (or a script through
    ``Production``), with the operating-system user and host it ran as.

    ``token`` is the person's API token: it names them (``name`` may be empty, and must be theirs
    when given). A production on PostgreSQL is shared by a team over the network, so there a
    name alone is not enough and the token is required; on SQLite whoever runs the CLI holds the
    database file already, so ``name`` stands, recorded as said from this console."""
    if token:
        login = people.bearer(session, token)
        if login is None:
            raise PermissionDenied("the API token given (--token or SOUNDSTAGE_TOKEN) is unknown or revoked")
        if name and people.person(session, name).name != login.name:
            raise PermissionDenied(f"the API token given is {login.name}'s, not {name}'s")
        name = login.name
    elif session.get_bind().dialect.name == "postgresql":
        raise PermissionDenied(
            f"{name or 'who is deciding'}: on a PostgreSQL production a decision from the command line needs "
            "the person's API token (--token or SOUNDSTAGE_TOKEN; soundstage user token NAME makes one)"
        )
    found = people.person(session, name)
    return Person(found.name, found.role, Via("cli", _os_user(), socket.gethostname(), token=bool(token)))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return "?"


def _provenance(actor: Person) -> dict[str, object]:
    return actor.via.as_detail() if actor.via is not None else {}


def _clear_approvals(session: Session, shot_id: int) -> None:
    session.execute(
        update(TakeRow)
        .where(TakeRow.shot_id == shot_id, TakeRow.approved_by != "")
        .values(approved_by="", approved_role="", approved_at=None, override_reason="")
    )


def _approve_only(session: Session, shot_id: int, take: TakeRow, actor: Person, override_reason: str) -> None:
    """Approve ``take`` and clear any other approval of the shot's takes, in one UPDATE
    (``_clear_approvals`` and then the take's own flush would be two). ``take`` holds the values
    written, as if they had been flushed; other takes of the shot loaded in the session are
    expired by the UPDATE, so they read what it wrote."""
    chosen = TakeRow.id == take.id
    approval = {
        "approved_by": actor.name,
        "approved_role": actor.role.value,
        "approved_at": utcnow(),
        "override_reason": override_reason,
    }
    cleared = {"approved_by": "", "approved_role": "", "approved_at": None, "override_reason": ""}
    session.execute(
        update(TakeRow)
        .where(TakeRow.shot_id == shot_id, or_(TakeRow.approved_by != "", chosen))
        .values(
            {
                name: case((chosen, literal(value, getattr(TakeRow, name).type)), else_=cleared[name])
                for name, value in approval.items()
            }
        )  # fmt: skip
    )
    for name, value in approval.items():
        set_committed_value(take, name, value)


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
