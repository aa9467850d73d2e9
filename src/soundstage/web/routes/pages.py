"""The review room's HTML pages: login, the shot board, a shot, dailies, the audit trail.

Pages read through the same queries as the JSON API and write through the same actions; the
player and the drawing tools (static/*.js) call the JSON API with the page's CSRF token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from soundstage.review import records
from soundstage.review.audit import verify
from soundstage.review.workflow import Status
from soundstage.store.db import read_scope, session_scope
from soundstage.store.tables import CharacterRow, SceneRow, ShotRow
from soundstage.web import actions, queries
from soundstage.web.app import render
from soundstage.web.auth import (
    SESSION_COOKIE,
    Crew,
    Decider,
    Throttled,
    caller,
    client_address,
    end_session,
    log_in,
    production_of,
    set_cookie,
)
from soundstage.web.routes.api import Filter, ShotCode
from soundstage.web.routes.playlists import PlaylistId
from soundstage.web.schemas import MAX_INT, PlaylistIn

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
    return render(request, "login.html", {"message": "", "next": safe_next(next), "name": ""})


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=2000)] = "/board",
) -> Response:
    """Check name and password; a session cookie and on to ``next``, or the form again."""
    context = {"next": safe_next(next), "name": name}
    try:
        token = log_in(production_of(request), name, password, client_address(request))
    except Throttled:
        message = "too many failed logins for this name: wait five minutes"
        return render(request, "login.html", context | {"message": message}, 429)
    if token is None:
        return render(request, "login.html", context | {"message": "wrong name or password"}, 401)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(response, SESSION_COOKIE, token)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End the session (the form carries the CSRF token) and go back to the login form."""
    principal = await caller(request)
    if principal.session_id is not None:
        await run_in_threadpool(end_session, production_of(request), principal.session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def index() -> Response:
    """The board is the front page."""
    return RedirectResponse("/board", status_code=303)


@router.get("/board")
def board(
    request: Request,
    _who: Crew,
    scene: Filter = None,
    status: Filter = None,
    character: Filter = None,
    assignee: Filter = None,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> HTMLResponse:
    """Every shot as a card; the filter form swaps only ``#cards`` when HTMX asks."""
    filters = {"scene": scene or "", "status": status or "", "character": character or "", "assignee": assignee or ""}
    with read_scope(production_of(request).engine) as session:
        shots = queries.board(
            session, scene=scene, status=status, character=character, assignee=assignee, limit=PAGE, offset=offset
        )
        options = {
            "scenes": list(
                session.scalars(
                    select(SceneRow.number).where(SceneRow.position.is_not(None)).order_by(SceneRow.position)
                )
            ),
            "characters": list(session.scalars(select(CharacterRow.name).order_by(CharacterRow.name))),
            "assignees": list(session.scalars(select(ShotRow.assignee).where(ShotRow.assignee != "").distinct())),
            "statuses": [s.value for s in Status],
        }
    context = {"board": shots, "filters": filters, "options": options, "offset": offset, "page": PAGE}
    template = "_cards.html" if request.headers.get("hx-request") == "true" else "board.html"
    return render(request, template, context)


@router.post("/board/playlist")
def playlist_from_board(
    request: Request,
    who: Decider,
    name: Annotated[str, Form(max_length=256)],
    take: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
) -> Response:
    """A playlist of the takes on the board as filtered (supervisor, producer); on to its dailies."""
    body = PlaylistIn(name=name or "dailies", takes=take)
    with session_scope(production_of(request).engine) as session:
        playlist_id = actions.create_playlist(session, who.person, body)
    return RedirectResponse(f"/dailies/{playlist_id}", status_code=303)


@router.get("/shots/{code}")
def shot(request: Request, who: Crew, code: ShotCode) -> HTMLResponse:
    """A shot: take history with recipes, compare two takes, findings, notes with drawings."""
    production = production_of(request)
    with read_scope(production.engine) as session:
        detail = queries.shot_detail(session, code, who.role, production.settings.fps)
    return render(request, "shot.html", {"shot": detail})


@router.get("/dailies")
def dailies_list(request: Request, _who: Crew) -> HTMLResponse:
    """The playlists to review."""
    with read_scope(production_of(request).engine) as session:
        listed = queries.playlists(session)
    return render(request, "dailies_list.html", {"playlists": listed})


@router.get("/dailies/{playlist_id}")
def dailies(request: Request, _who: Crew, playlist_id: PlaylistId) -> HTMLResponse:
    """The player over a playlist's takes."""
    production = production_of(request)
    with read_scope(production.engine) as session:
        playlist = queries.playlist(session, playlist_id)
    if playlist is None:
        raise HTTPException(404, f"no playlist {playlist_id}")
    return render(request, "dailies.html", {"playlist": playlist, "fps": production.settings.fps})


@router.get("/audit")
def audit(
    request: Request,
    _who: Decider,
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> HTMLResponse:
    """The audit trail, a page at a time, and whether its chain is intact."""
    with read_scope(production_of(request).engine) as session:
        trail = records.events(session)
    report = verify(trail)
    page = [e for e in trail if e.id > after][:limit]
    return render(request, "audit.html", {"events": page, "report": report, "after": after, "limit": limit})
