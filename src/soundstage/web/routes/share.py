"""Client links: ``/share/<token>`` shows one playlist to a guest, after its password if it has
one, and takes their comments if the link allows. The token in the address opens that playlist
and nothing else; the guest's cookie (``soundstage_share``) is a session tied to that one link.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from soundstage.project import dailies, people
from soundstage.project.dailies import ClientLink
from soundstage.web.auth import (
    SHARE_COOKIE,
    Throttled,
    check_login_csrf,
    client_address,
    login_page,
    production_of,
    set_cookie,
    throttle_message,
    throttled_answer,
)
from soundstage.web.render import render

router = APIRouter(prefix="/share", include_in_schema=False)

Body = Annotated[str, Form(max_length=10_000, pattern=r"^[^\x00]*$")]
Name = Annotated[str, Form(max_length=64, pattern=r"^[^\x00]*$")]


def live_link(session: Session, token: str) -> ClientLink:
    """The client link behind ``token``; 404 when there is none or it has expired (alike, so a
    guess learns nothing)."""
    link = dailies.client_link(session, token)
    if link is None:
        raise HTTPException(404, "this link is not valid or has expired: ask the producer for a new one")
    return link


@router.get("/{token}")
def shared_playlist(request: Request, token: str) -> Response:
    """The guest's view of the playlist (or the password form, 401)."""
    cookie = None
    production = production_of(request)
    # Reads, but for a new guest session: no guest holds the write lock (SQLite has one writer)
    # that the crew's decisions wait for by opening the page.
    with production.reading() as session:
        link = live_link(session, token)
        csrf = people.guest_session(session, request.cookies.get(SHARE_COOKIE), link.id)
    if csrf is None and link.password_hash:
        return login_page(request, "share_login.html", {"token": token, "message": ""}, 401)
    if csrf is None:
        # A link without a password opens a guest session at once: comments need its CSRF
        # token and the playlist's images its cookie.
        with production.transaction() as session:
            cookie, csrf = people.start_session(session, share_id=link.id)
    with production.reading() as session:
        playlist = dailies.playlist(session, link.playlist_id)
        comments = dailies.client_comments(session, link.playlist_id, share_id=link.id)
    context = {
        "token": token,
        "playlist": playlist or {"takes": []},
        "can_comment": link.can_comment,
        "comments": comments,
    }
    page = render(request, "share.html", context | {"csrf": csrf})
    if cookie is not None:
        set_cookie(page, SHARE_COOKIE, cookie, request=request)
    return page


@router.post("/{token}/login")
def share_login(
    request: Request,
    token: str,
    password: Annotated[str, Form(max_length=256)],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Check a client link's password: a guest session and back to the playlist, or 401 / 429
    (403 without the form's CSRF token)."""
    check_login_csrf(request, csrf)
    try:
        production = production_of(request)
        with production.reading() as session:
            link = live_link(session, token)
        cookie = people.link_log_in(production, link.id, link.password_hash, password, client_address(request))
    except Throttled as held:
        message = throttle_message(held, "tries of this link's password")
        return throttled_answer(
            login_page(request, "share_login.html", {"token": token, "message": message}, 429), held
        )
    if cookie is None:
        return login_page(request, "share_login.html", {"token": token, "message": "wrong password"}, 401)
    response = RedirectResponse(f"/share/{token}", status_code=303)
    set_cookie(response, SHARE_COOKIE, cookie, request=request)
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
    production = production_of(request)
    with production.reading() as session:  # the write below is the comment's own
        link = live_link(session, token)
        expected = people.guest_session(session, request.cookies.get(SHARE_COOKIE), link.id)
    if expected is None:
        raise HTTPException(401, "open the link again (and give its password) before commenting")
    if not hmac.compare_digest(csrf.encode(), expected.encode()):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")
    if not link.can_comment:
        raise HTTPException(403, "this link does not take comments")
    with production.transaction() as session:
        if not dailies.guest_comment(session, link, name, take, body):
            raise HTTPException(404, f"take {take[:40]!r} is not in this playlist")
    return RedirectResponse(f"/share/{token}", status_code=303)
