"""Client links: ``/share/<token>`` shows one playlist to a guest, after its password if it has
one, and takes their comments if the link allows. The token in the address opens that playlist
and nothing else; the guest's cookie (``soundstage_share``) is a session tied to that one link.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from soundstage.generate.backend import parse_take_name
from soundstage.review import records
from soundstage.review.audit import as_utc
from soundstage.review.records import Person
from soundstage.review.workflow import Role
from soundstage.store.db import session_scope
from soundstage.store.tables import LoginFailureRow, NoteRow, PlaylistTakeRow, ShareRow, ShotRow, TakeRow, utcnow
from soundstage.web import queries
from soundstage.web.app import render
from soundstage.web.auth import (
    SHARE_COOKIE,
    client_address,
    guest_session,
    production_of,
    set_cookie,
    start_session,
    throttled,
)
from soundstage.web.credentials import token_digest, verify_password

router = APIRouter(prefix="/share", include_in_schema=False)

Body = Annotated[str, Form(max_length=10_000, pattern=r"^[^\x00]*$")]
Name = Annotated[str, Form(max_length=64, pattern=r"^[^\x00]*$")]


def live_share(session: Session, token: str) -> ShareRow:
    """The client link behind ``token``; 404 when there is none or it has expired (alike, so a
    guess learns nothing)."""
    share = None
    if 20 <= len(token) <= 128:
        share = session.scalars(select(ShareRow).where(ShareRow.token_sha256 == token_digest(token))).first()
    if share is None or as_utc(share.expires_at) <= utcnow():
        raise HTTPException(404, "this link is not valid or has expired: ask the producer for a new one")
    return share


@router.get("/{token}")
def shared_playlist(request: Request, token: str) -> Response:
    """The guest's view of the playlist (or the password form, 401)."""
    production = production_of(request)
    cookie = None
    with session_scope(production.engine) as session:
        share = live_share(session, token)
        csrf = guest_session(session, request, share.id)
        if csrf is None and share.password_hash:
            return render(request, "share_login.html", {"token": token, "message": ""}, 401)
        if csrf is None:
            # A link without a password opens a guest session at once: comments need its CSRF
            # token and the playlist's images its cookie.
            cookie, csrf = start_session(session, share_id=share.id)
        playlist = queries.playlist(session, share.playlist_id) or {"takes": []}
        comments = client_comments(session, share.playlist_id)
        context = {"token": token, "playlist": playlist, "can_comment": share.can_comment, "comments": comments}
    page = render(request, "share.html", context | {"csrf": csrf})
    if cookie is not None:
        set_cookie(page, SHARE_COOKIE, cookie)
    return page


@router.post("/{token}/login")
def share_login(request: Request, token: str, password: Annotated[str, Form(max_length=256)]) -> Response:
    """Check a client link's password: a guest session and back to the playlist, or 401 / 429."""
    address = client_address(request)
    with session_scope(production_of(request).engine) as session:
        share = live_share(session, token)
        key = f"share:{share.id}"  # throttled like a login name
        if throttled(session, key, address):
            message = "too many tries: wait five minutes"
            return render(request, "share_login.html", {"token": token, "message": message}, 429)
        if not verify_password(share.password_hash, password):
            session.add(LoginFailureRow(name=key, address=address[:64]))
            cookie = None
        else:
            cookie, _csrf = start_session(session, share_id=share.id)
    if cookie is None:
        return render(request, "share_login.html", {"token": token, "message": "wrong password"}, 401)
    response = RedirectResponse(f"/share/{token}", status_code=303)
    set_cookie(response, SHARE_COOKIE, cookie)
    return response


@router.post("/{token}/comments")
def share_comment(
    request: Request,
    token: str,
    take: Annotated[str, Form(max_length=64)],
    body: Body,
    name: Name = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """A guest's comment on a take of the playlist, if the link allows comments."""
    engine = production_of(request).engine
    with session_scope(engine) as session:
        share = live_share(session, token)
        share_id, playlist_id, can_comment = share.id, share.playlist_id, share.can_comment
        expected = guest_session(session, request, share_id)
    if expected is None:
        raise HTTPException(401, "open the link again (and give its password) before commenting")
    if not hmac.compare_digest(csrf.encode(), expected.encode()):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")
    if not can_comment:
        raise HTTPException(403, "this link does not take comments")
    code, number = parse_take_name(take)
    guest = Person(f"{' '.join(name.split()) or 'guest'} (guest)", Role.CLIENT)
    with session_scope(engine) as session:
        in_playlist = session.scalar(
            select(PlaylistTakeRow.id)
            .join(TakeRow, TakeRow.id == PlaylistTakeRow.take_id)
            .join(ShotRow, ShotRow.id == TakeRow.shot_id)
            .where(PlaylistTakeRow.playlist_id == playlist_id, ShotRow.code == code, TakeRow.number == number)
        )
        if in_playlist is None:
            raise HTTPException(404, f"take {take[:40]!r} is not in this playlist")
        records.add_note(session, guest, code, take_number=number, body=body)
    return RedirectResponse(f"/share/{token}", status_code=303)


def client_comments(session: Session, playlist_id: int) -> dict[str, list[dict[str, Any]]]:
    """Comments made through client links on a playlist's takes, by take name, oldest first."""
    rows = session.execute(
        select(ShotRow.code, TakeRow.number, NoteRow.author, NoteRow.body, NoteRow.created_at)
        .join(TakeRow, TakeRow.id == NoteRow.take_id)
        .join(ShotRow, ShotRow.id == TakeRow.shot_id)
        .join(PlaylistTakeRow, PlaylistTakeRow.take_id == TakeRow.id)
        .where(PlaylistTakeRow.playlist_id == playlist_id, NoteRow.role == Role.CLIENT.value)
        .order_by(NoteRow.id)
    )
    comments: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        comments.setdefault(f"{r.code}/{r.number}", []).append(
            {"author": r.author, "body": r.body, "created_at": queries.iso(r.created_at)}
        )
    return comments
