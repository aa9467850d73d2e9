"""The JSON API of shots, notes, decisions, annotations and the audit trail (docs/review.md).

Routes are plain functions: FastAPI runs them in its thread pool, each in one transaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from soundstage.review import records
from soundstage.review.audit import verify
from soundstage.store.db import read_scope, session_scope
from soundstage.web import actions, queries
from soundstage.web.auth import Crew, Decider, production_of
from soundstage.web.schemas import MAX_INT, DecisionIn, NoteIn

router = APIRouter(prefix="/api", tags=["review"])

ShotCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9_]{1,32}$", description="Shot code, e.g. 012_0030")]
Filter = Annotated[str | None, Query(max_length=128, pattern=r"^[^\x00]*$")]


@router.get("/shots")
def list_shots(
    request: Request,
    _who: Crew,
    scene: Filter = None,
    status: Filter = None,
    character: Filter = None,
    assignee: Filter = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> dict[str, Any]:
    """The shot board: shots in cut order with status, counts and current take."""
    with read_scope(production_of(request).engine) as session:
        return queries.board(
            session, scene=scene, status=status, character=character, assignee=assignee, limit=limit, offset=offset
        )


@router.get("/shots/{code}")
def get_shot(request: Request, who: Crew, code: ShotCode) -> dict[str, Any]:
    """A shot: takes with recipes and findings, notes, and the status actions the caller may take."""
    production = production_of(request)
    with read_scope(production.engine) as session:
        return queries.shot_detail(session, code, who.role, production.settings.fps)


@router.post("/shots/{code}/notes", status_code=201)
def post_note(request: Request, who: Crew, code: ShotCode, body: NoteIn) -> dict[str, Any]:
    """A note (words, a drawing on a frame) with an optional status change, in one transaction."""
    with session_scope(production_of(request).engine) as session:
        note, status = actions.note(session, who.person, code, body)
    return {"note": note, "status": status}


@router.post("/shots/{code}/decisions")
def post_decision(request: Request, who: Crew, code: ShotCode, body: DecisionIn) -> dict[str, Any]:
    """A status decision; 409 when the workflow refuses, 403 for a role that may not."""
    with session_scope(production_of(request).engine) as session:
        decision = records.decide(
            session,
            who.person,
            code,
            body.workflow_action,
            take_number=body.take,
            note=body.note,
            override_reason=body.override_reason,
        )
    return {"status": decision.status.value, "take": decision.take, "event": decision.event_id}


@router.get("/shots/{code}/annotations")
def get_annotations(request: Request, _who: Crew, code: ShotCode) -> dict[str, Any]:
    """The shot's drawn notes as vector data by integer frame, for export."""
    production = production_of(request)
    with read_scope(production.engine) as session:
        return queries.annotations(session, code, production.settings.fps)


@router.get("/audit")
def get_audit(
    request: Request,
    _who: Decider,
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """A page of the audit trail, oldest first, after event ``after``."""
    with read_scope(production_of(request).engine) as session:
        trail = records.events(session, after=after, limit=limit)
    return {
        "events": [
            {
                "id": e.id,
                "at": queries.iso(e.at),
                "actor": e.actor,
                "role": e.role,
                "action": e.action,
                "subject": e.subject,
                "detail": e.detail,
                "prev_sha256": e.prev_sha256,
                "sha256": e.sha256,
            }
            for e in trail
        ]  # fmt: skip
    }


@router.get("/audit/verify")
def verify_audit(request: Request, _who: Decider) -> JSONResponse:
    """Walk the hash chain: whether it is intact, how many events, one line per break."""
    with read_scope(production_of(request).engine) as session:
        report = verify(records.events(session))
    return JSONResponse({"intact": report.intact, "events": report.events, "problems": report.problems})
