"""The review room's HTML pages: login, the shot board, a shot, dailies, the audit trail.

Pages read and write through the same services as the JSON API; the player and the drawing
tools (static/*.js) call the JSON API with the page's CSRF token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from soundstage.project import board, dailies, people, trail
from soundstage.web.auth import (
    SESSION_COOKIE,
    Crew,
    Decider,
    Throttled,
    caller,
    check_login_csrf,
    client_address,
    delete_cookie,
    login_page,
    production_of,
    set_cookie,
    throttle_message,
    throttled_answer,
)
from soundstage.web.params import Filters, Offset, PlaylistId, ShotCode
from soundstage.web.render import render
from soundstage.web.schemas import PlaylistIn

router = APIRouter(include_in_schema=False)

PAGE = 200  # shots per board page


def safe_next(target: str) -> str:
    """Where to go after logging in: a path on this site only (never //host or a scheme)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or "\x00" in target:
        return "/board"
    return target


@router.get("/login")
def login_form(request: Request, next: str = "/board") -> HTMLResponse:
    """The login form."""
    return login_page(request, "login.html", {"message": "", "next": safe_next(next), "name": ""})


@router.post("/login")
def login(
    request: Request,
    # No NUL in the name: it is looked up and throttled by, and PostgreSQL's text cannot hold one.
    name: Annotated[str, Form(max_length=128, pattern=r"^[^\x00]*$")],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=2000)] = "/board",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Check name and password; a session cookie and on to ``next``, or the form again (403
    without the form's CSRF token: a form elsewhere must not log a browser into an account)."""
    check_login_csrf(request, csrf)
    context = {"next": safe_next(next), "name": name}
    try:
        previous = request.cookies.get(SESSION_COOKIE, "")
        token = people.log_in(production_of(request), name, password, client_address(request), replacing=previous)
    except Throttled as held:
        page = login_page(request, "login.html", context | {"message": throttle_message(held)}, 429)
        return throttled_answer(page, held)
    if token is None:
        return login_page(request, "login.html", context | {"message": "wrong name or password"}, 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(response, SESSION_COOKIE, token, request=request)
    return response


def _end_session(request: Request, session_id: int) -> None:
    with production_of(request).transaction() as session:
        people.end_session(session, session_id)


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session (the form carries the CSRF token) and go back to the login form."""
    principal = await caller(request)
    if principal.session_id is not None:
        await run_in_threadpool(_end_session, request, principal.session_id)
    response = RedirectResponse("/login", status_code=303)
    delete_cookie(response, SESSION_COOKIE, request=request)
    # The pages seen stay in the browser after the session ends: its cache (the Back button) and
    # the board's filtered pages that HTMX keeps in sessionStorage for its history. On a shared
    # machine the next person must not read them; cookies are left to delete_cookie, since
    # "cookies" here would clear every site of the domain.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@router.get("/")
def index() -> Response:
    """The board is the front page."""
    return RedirectResponse("/board", status_code=303)


@router.get("/board")
def board_page(request: Request, _who: Crew, filters: Filters, offset: Offset = 0) -> HTMLResponse:
    """Every shot as a card; the filter form swaps only ``#cards`` when HTMX asks."""
    with production_of(request).reading() as session:
        shots = board.board(session, filters, limit=PAGE, offset=offset)
        options = board.board_options(session)
    context = {"board": shots, "filters": filters.as_form(), "options": options, "offset": offset, "page": PAGE}
    template = "_cards.html" if request.headers.get("hx-request") == "true" else "board.html"
    page = render(request, template, context)
    # One address, two answers (the page, or HTMX's cards alone): a cache must tell them apart,
    # or Back to a filtered board shows the bare cards.
    page.headers["Vary"] = "HX-Request"
    return page


@router.post("/board/playlist")
def playlist_from_board(
    request: Request,
    who: Decider,
    name: Annotated[str, Form(max_length=256)],
    take: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
) -> Response:
    """A playlist of the takes on the board as filtered (supervisor, producer); on to its dailies.
    The form is checked by the API's own model, so a bad take name or a NUL answers 422 alike."""
    try:
        body = PlaylistIn(name=name or "dailies", takes=take)
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False, include_context=False)) from None
    with production_of(request).transaction() as session:
        playlist_id = dailies.create_playlist(session, who.person, body.name, body.takes)
    return RedirectResponse(f"/dailies/{playlist_id}", status_code=303)


@router.get("/shots/{code}")
def shot(request: Request, who: Crew, code: ShotCode) -> HTMLResponse:
    """A shot: take history with recipes, compare two takes, findings, notes with drawings."""
    production = production_of(request)
    with production.reading() as session:
        detail = board.shot_view(session, code, who.role, production.settings.fps)
    return render(request, "shot.html", {"shot": detail})


@router.get("/dailies")
def dailies_list(request: Request, _who: Crew) -> HTMLResponse:
    """The playlists to review."""
    with production_of(request).reading() as session:
        listed = dailies.playlists(session)
    return render(request, "dailies_list.html", {"playlists": listed})


@router.get("/dailies/{playlist_id}")
def dailies_page(request: Request, _who: Crew, playlist_id: PlaylistId) -> HTMLResponse:
    """The player over a playlist's takes."""
    production = production_of(request)
    with production.reading() as session:
        playlist = dailies.playlist(session, playlist_id)
    if playlist is None:
        raise HTTPException(404, f"no playlist {playlist_id}")
    # As JSON-ready data: the page hands the playlist to the player (static/dailies.js) as JSON.
    data = playlist.model_dump(mode="json")
    return render(request, "dailies.html", {"playlist": data, "fps": float(production.settings.fps)})


@router.get("/audit")
def audit(
    request: Request,
    _who: Decider,
    after: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> HTMLResponse:
    """The audit trail, a page at a time, and whether it is intact as ``audit verify`` checks it
    (hash chain, signed checkpoints, statuses and approvals against the events)."""
    check = trail.verify_trail(production_of(request))
    page = [e for e in check.trail if e.id > after][:limit]
    return render(request, "audit.html", {"events": page, "check": check, "after": after, "limit": limit})
