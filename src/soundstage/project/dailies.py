"""Dailies: playlists of takes (made, read, approved whole), and client links that share one
playlist with a guest, who may comment on its takes where the link allows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from soundstage.errors import ReviewError, ShotError
from soundstage.generate.backend import parse_take_name, take_name
from soundstage.passwords import hash_password, new_token, token_digest
from soundstage.project import board, checks, review
from soundstage.project.board import clip_frames, iso, media_url
from soundstage.project.people import Person, Via
from soundstage.project.production import Context
from soundstage.project.trail import append_event
from soundstage.review.audit import as_utc
from soundstage.review.workflow import Action, Role, Status, authorise
from soundstage.store.tables import (
    GuestNoteRow,
    NoteRow,
    PlaylistRow,
    PlaylistTakeRow,
    ShareRow,
    ShotRow,
    TakeRow,
    utcnow,
)


class PlaylistSummary(BaseModel):
    """A playlist in the list of playlists: how many takes it holds."""

    id: int
    name: str
    created_by: str
    created_at: str | None
    takes: int


class PlaylistTake(BaseModel):
    """A take of a playlist, with its shot's status."""

    name: str
    shot: str
    number: int
    status: str
    image: str
    frames: int
    approved_by: str
    clip_frames: int = 0  # a clip take's frames (its image is then an MP4); 0 for a still


class Playlist(BaseModel):
    """A playlist with its takes in order."""

    id: int
    name: str
    created_by: str
    created_at: str | None
    takes: list[PlaylistTake]


class Approvals(BaseModel):
    """What approving a playlist whole did: takes approved, takes skipped (and why), events."""

    approved: list[str]
    skipped: list[str]
    events: list[int]


@dataclass(frozen=True, slots=True)
class ClientLink:
    """A live client link: which playlist it opens, and on what terms."""

    id: int
    playlist_id: int
    password_hash: str
    can_comment: bool


def playlists(session: Session) -> list[PlaylistSummary]:
    """Every playlist, newest first, with how many takes it holds."""
    count = select(func.count(PlaylistTakeRow.id)).where(PlaylistTakeRow.playlist_id == PlaylistRow.id)
    rows = session.execute(
        select(PlaylistRow, count.scalar_subquery().label("takes")).order_by(PlaylistRow.id.desc())
    ).all()
    return [PlaylistSummary(**_head(p), takes=n) for p, n in rows]


def exists_playlist(session: Session, playlist_id: int) -> bool:
    """Whether there is a playlist ``playlist_id``."""
    return session.get(PlaylistRow, playlist_id) is not None


def playlist(session: Session, playlist_id: int) -> Playlist | None:
    """A playlist with its takes in order (each with its shot's status, image and frames); None if
    there is no such playlist."""
    row = session.get(PlaylistRow, playlist_id)
    if row is None:
        return None
    takes = session.execute(
        select(
            ShotRow.code,
            ShotRow.status,
            ShotRow.frames,
            TakeRow.number,
            TakeRow.output_sha256,
            TakeRow.approved_by,
            board.TAKE_FRAMES.label("take_frames"),
        )  # fmt: skip
        .join(TakeRow, TakeRow.shot_id == ShotRow.id)
        .join(PlaylistTakeRow, PlaylistTakeRow.take_id == TakeRow.id)
        .where(PlaylistTakeRow.playlist_id == playlist_id)
        .order_by(PlaylistTakeRow.position)
    )
    return Playlist(
        **_head(row),
        takes=[
            PlaylistTake(
                name=take_name(t.code, t.number),
                shot=t.code,
                number=t.number,
                status=t.status,
                image=media_url(t.output_sha256, t.take_frames),
                frames=t.frames,
                approved_by=t.approved_by,
                clip_frames=clip_frames(t.take_frames),
            )
            for t in takes
        ],
    )


def _head(row: PlaylistRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "created_by": row.created_by, "created_at": iso(row.created_at)}


def create_playlist(session: Session, person: Person, name: str, takes: list[str]) -> int:
    """A playlist of takes named "012_0030/2"; ShotError naming the first take that does not exist."""
    wanted = list(dict.fromkeys(parse_take_name(take) for take in takes))  # keeps order, drops repeats
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
    authorise(person.name, person.role, Action.MAKE_PLAYLIST)
    row = PlaylistRow(name=name.strip() or "dailies", created_by=person.name)
    session.add(row)
    session.flush()
    session.add_all(PlaylistTakeRow(playlist_id=row.id, take_id=found[key], position=i) for i, key in enumerate(wanted))
    detail = {"name": row.name, "takes": [take_name(code, number or 0) for code, number in wanted]}
    append_event(session, person.name, person.role.value, Action.MAKE_PLAYLIST, f"playlist {row.id}", detail)
    return row.id


def approve_playlist(
    session: Session,
    person: Person,
    playlist_id: int,
    *,
    note: str = "",
    override_reason: str = "",
    context: Context | None = None,
    overrides: Mapping[str, str] | None = None,
) -> Approvals:
    """Approve every take of a playlist: one decision (and event) per take, all in the caller's
    transaction, so either all are approved or, when one is refused, none is. Takes whose shot is
    approved or final already (by someone, or by an earlier take of this playlist) are skipped.

    A take that failed a check or was not checked is approved only with its own reason:
    ``overrides`` maps its name ("012_0030/2") to that reason. One reason is never spread over
    several such takes: ``override_reason`` stands only for the one take of the playlist that
    needs it, and is refused when several do."""
    authorise(person.name, person.role, Action.APPROVE)
    rows = session.execute(
        select(ShotRow.code, ShotRow.status, TakeRow.number, TakeRow.id)
        .join(TakeRow, TakeRow.shot_id == ShotRow.id)
        .join(PlaylistTakeRow, PlaylistTakeRow.take_id == TakeRow.id)
        .where(PlaylistTakeRow.playlist_id == playlist_id)
        .order_by(PlaylistTakeRow.position)
    ).all()
    gates = checks.standings(session, [take_id for *_, take_id in rows])
    reasons = {name.strip(): reason.strip() for name, reason in (overrides or {}).items() if reason.strip()}
    flagged = [take_name(code, number) for code, status, number, take_id in rows if gates[take_id].needs_override]
    if override_reason.strip():
        unnamed = [name for name in flagged if name not in reasons]
        if len(unnamed) > 1:
            raise ReviewError(
                f"playlist {playlist_id}: {len(unnamed)} takes failed a check or were not checked "
                f"({', '.join(unnamed)}); give each its own override reason, not one for all"
            )
        reasons |= dict.fromkeys(unnamed, override_reason.strip())
    approved, skipped, events = [], [], []
    done: set[str] = set()
    for code, status, number, take_id in rows:
        name = take_name(code, number)
        if code in done or status in (Status.APPROVED, Status.FINAL):
            skipped.append(f"{name}: shot {code} is approved already")
            continue
        decision = review.decide(
            session,
            person,
            code,
            Action.APPROVE,
            take_number=number,
            note=note,
            # Only a take that needs an override carries one, its own: it would be a false
            # record on the others.
            override_reason=reasons.get(name, "") if gates[take_id].needs_override else "",
            context=context,  # the AI rules (guardrails) check each approval
        )
        done.add(code)
        approved.append(name)
        events.append(decision.event_id)
    return Approvals(approved=approved, skipped=skipped, events=events)


def share_playlist(
    session: Session,
    person: Person,
    playlist_id: int,
    *,
    password: str | None = None,
    expires_in_hours: int = 72,
    can_comment: bool = False,
) -> tuple[str, datetime]:
    """A client link to a playlist (audited); the token, shown once, and when it expires."""
    authorise(person.name, person.role, Action.SHARE)
    token = new_token()
    expires = utcnow() + timedelta(hours=expires_in_hours)
    password_hash = hash_password(password, who="the client link") if password else ""
    share = ShareRow(
        playlist_id=playlist_id,
        token_sha256=token_digest(token),
        password_hash=password_hash,
        can_comment=can_comment,
        expires_at=expires,
        created_by=person.name,
    )
    session.add(share)
    session.flush()
    detail = {"share": share.id, "expires_at": expires.isoformat(), "password": bool(password_hash)}
    append_event(
        session,
        person.name,
        person.role.value,
        Action.SHARE,
        f"playlist {playlist_id}",
        detail | {"comments": can_comment},
    )
    return token, expires


def client_link(session: Session, token: str) -> ClientLink | None:
    """The live client link behind ``token``; None when there is none or it has expired (alike,
    so a guess learns nothing)."""
    share = None
    if 20 <= len(token) <= 128:
        share = session.scalars(select(ShareRow).where(ShareRow.token_sha256 == token_digest(token))).first()
    if share is None or as_utc(share.expires_at) <= utcnow():
        return None
    return ClientLink(share.id, share.playlist_id, share.password_hash, share.can_comment)


def guest_comment(session: Session, link: ClientLink, guest: str, take: str, body: str) -> bool:
    """A guest's comment on a take of the link's playlist, as "NAME (guest)" in the client role;
    False (and nothing written) when the take is not in that playlist."""
    code, number = parse_take_name(take)
    in_playlist = session.scalar(
        select(PlaylistTakeRow.id)
        .join(TakeRow, TakeRow.id == PlaylistTakeRow.take_id)
        .join(ShotRow, ShotRow.id == TakeRow.shot_id)
        .where(PlaylistTakeRow.playlist_id == link.playlist_id, ShotRow.code == code, TakeRow.number == number)
    )
    if in_playlist is None:
        return False
    # The name is the guest's own word; the link it came through is what the trail can vouch for.
    author = Person(f"{' '.join(guest.split()) or 'guest'} (guest)", Role.CLIENT, Via("client link", link=link.id))
    note = review.add_note(session, author, code, take_number=number, body=body)
    session.add(GuestNoteRow(note_id=note.id, share_id=link.id))
    return True


def client_comments(
    session: Session, playlist_id: int, *, share_id: int | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Comments made through client links on a playlist's takes, by take name, oldest first;
    with ``share_id``, only those made through that link (what its guest may read)."""
    query = (
        select(ShotRow.code, TakeRow.number, NoteRow.author, NoteRow.body, NoteRow.created_at)
        .join(TakeRow, TakeRow.id == NoteRow.take_id)
        .join(ShotRow, ShotRow.id == TakeRow.shot_id)
        .join(PlaylistTakeRow, PlaylistTakeRow.take_id == TakeRow.id)
        .where(PlaylistTakeRow.playlist_id == playlist_id, NoteRow.role == Role.CLIENT.value)
        .order_by(NoteRow.id)
    )
    if share_id is not None:
        query = query.join(GuestNoteRow, GuestNoteRow.note_id == NoteRow.id).where(GuestNoteRow.share_id == share_id)
    rows = session.execute(query)
    comments: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        comments.setdefault(f"{r.code}/{r.number}", []).append(
            {"author": r.author, "body": r.body, "created_at": iso(r.created_at)}
        )
    return comments


def guest_may_see(session: Session, share_id: int, sha256: str) -> bool:
    """Whether a media object is the image of a take in the playlist a client link shares."""
    query = (
        select(TakeRow.id)
        .join(PlaylistTakeRow, PlaylistTakeRow.take_id == TakeRow.id)
        .join(ShareRow, ShareRow.playlist_id == PlaylistTakeRow.playlist_id)
        .where(ShareRow.id == share_id, TakeRow.output_sha256 == sha256)
        .exists()
    )
    return bool(session.scalar(select(query)))
