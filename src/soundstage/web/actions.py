"""What the review room writes, each inside the caller's one transaction: a note with a status
change, decisions, playlists (and approving one whole), client links, guest comments.

Every decision goes through review/records.py, so the web is held to the same workflow rules as
the CLI and leaves the same audit events.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from soundstage.errors import ReviewError, ShotError
from soundstage.generate.backend import parse_take_name, take_name
from soundstage.review import records
from soundstage.review.records import Person
from soundstage.review.workflow import ALLOWED, TRANSITIONS, Action, Status, authorise
from soundstage.store.rows import shot_row
from soundstage.store.tables import (
    FindingRow,
    PlaylistRow,
    PlaylistTakeRow,
    ShareRow,
    ShotRow,
    TakeRow,
    utcnow,
)
from soundstage.web.credentials import hash_password, new_token, token_digest
from soundstage.web.schemas import NoteIn, PlaylistApproveIn, PlaylistIn, ShareIn


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


def note(session: Session, person: Person, code: str, body: NoteIn) -> tuple[int, str]:
    """A note (with its drawing) and an optional status change in one transaction; (note id,
    the shot's status after)."""
    shot = shot_row(session, code)
    action = action_towards(person, shot.code, Status(shot.status), body.status) if body.status else None
    row = records.add_note(
        session,
        person,
        shot.code,
        take_number=body.take,
        frame=body.frame,
        body=body.body,
        shapes=[s.model_dump(mode="json") for s in body.shapes],
    )
    status = shot.status
    if action is not None:
        decision = records.decide(
            session, person, shot.code, action, take_number=body.take, override_reason=body.override_reason
        )
        status = decision.status.value
    return row.id, status


def create_playlist(session: Session, person: Person, body: PlaylistIn) -> int:
    """A playlist of takes named "012_0030/2"; ShotError naming the first take that does not exist."""
    wanted = list(dict.fromkeys(parse_take_name(name) for name in body.takes))  # keeps order, drops repeats
    codes = {code for code, _ in wanted}
    found = {
        (code, number): take_id
        for take_id, code, number in session.execute(
            select(TakeRow.id, ShotRow.code, TakeRow.number)
            .join(ShotRow, ShotRow.id == TakeRow.shot_id)
            .where(ShotRow.code.in_(codes))
        )
    }
    for code, number in wanted:
        if (code, number) not in found:
            raise ShotError(f"no take {take_name(code, number or 0)} in this production")
    playlist = PlaylistRow(name=body.name.strip() or "dailies", created_by=person.name)
    session.add(playlist)
    session.flush()
    session.add_all(
        PlaylistTakeRow(playlist_id=playlist.id, take_id=found[key], position=i) for i, key in enumerate(wanted)
    )
    return playlist.id


def approve_playlist(session: Session, person: Person, playlist_id: int, body: PlaylistApproveIn) -> dict[str, Any]:
    """Approve every take of a playlist: one decision (and event) per take, all in the caller's
    transaction, so either all are approved or, when one is refused, none is. Takes whose shot
    is approved or final already (by someone, or by an earlier take of this playlist) are skipped.
    """
    authorise(person.name, person.role, Action.APPROVE)
    flagged = exists().where(FindingRow.take_id == TakeRow.id, FindingRow.verdict == "fail")
    rows = session.execute(
        select(ShotRow.code, ShotRow.status, TakeRow.number, flagged.label("flagged"))
        .join(TakeRow, TakeRow.shot_id == ShotRow.id)
        .join(PlaylistTakeRow, PlaylistTakeRow.take_id == TakeRow.id)
        .where(PlaylistTakeRow.playlist_id == playlist_id)
        .order_by(PlaylistTakeRow.position)
    ).all()
    approved, skipped, events = [], [], []
    done: set[str] = set()
    for code, status, number, is_flagged in rows:
        name = take_name(code, number)
        if code in done or status in (Status.APPROVED, Status.FINAL):
            skipped.append(f"{name}: shot {code} is approved already")
            continue
        decision = records.decide(
            session,
            person,
            code,
            Action.APPROVE,
            take_number=number,
            note=body.note,
            # Only flagged takes carry the override: it would be a false record on the others.
            override_reason=body.override_reason if is_flagged else "",
        )
        done.add(code)
        approved.append(name)
        events.append(decision.event_id)
    return {"approved": approved, "skipped": skipped, "events": events}


def share_playlist(session: Session, person: Person, playlist_id: int, body: ShareIn) -> tuple[str, datetime]:
    """A client link to a playlist (audited); the token, shown once, and when it expires."""
    authorise(person.name, person.role, Action.SHARE)
    token = new_token()
    expires = utcnow() + timedelta(hours=body.expires_in_hours)
    password = hash_password(body.password, who="the client link") if body.password else ""
    share = ShareRow(
        playlist_id=playlist_id,
        token_sha256=token_digest(token),
        password_hash=password,
        can_comment=body.can_comment,
        expires_at=expires,
        created_by=person.name,
    )
    session.add(share)
    session.flush()
    detail = {"share": share.id, "expires_at": expires.isoformat(), "password": bool(password)}
    records.append_event(
        session,
        person.name,
        person.role.value,
        Action.SHARE,
        f"playlist {playlist_id}",
        detail | {"comments": body.can_comment},
    )
    return token, expires
