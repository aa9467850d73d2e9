"""The JSON API of shots, notes, decisions, annotations and the audit trail (docs/review.md).

Routes are plain functions: FastAPI runs them in its thread pool, each in one transaction, and
each calls the project's services. Every route declares what it answers (its return type), so
/openapi.json says it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from soundstage.project import board, review, trail
from soundstage.web.auth import Crew, Decider, production_of
from soundstage.web.params import Filters, Offset, ShotCode
from soundstage.web.schemas import (
    ERRORS,
    AuditPage,
    ChainOut,
    CheckpointOut,
    DecisionIn,
    DecisionOut,
    EventOut,
    NoteIn,
    NoteOut,
)

router = APIRouter(prefix="/api", tags=["review"], responses=ERRORS)


def _json(view: BaseModel) -> Response:
    """A view as JSON straight from pydantic's serialiser: FastAPI would validate the returned
    model again and walk it once more (a 1,000-card board costs tens of milliseconds that way).
    The route still declares the model as its response_model, so /openapi.json says it."""
    return Response(view.model_dump_json(), media_type="application/json")


@router.get("/shots", response_model=board.Board)
def list_shots(
    request: Request,
    _who: Crew,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Offset = 0,
) -> Response:
    """The shot board: shots in cut order with status, counts and current take."""
    with production_of(request).reading() as session:
        shots = board.board(session, filters, limit=limit, offset=offset)
    return _json(shots)


@router.get("/shots/{code}", response_model=board.ShotView)
def get_shot(request: Request, who: Crew, code: ShotCode) -> Response:
    """A shot: takes with recipes and findings, notes, and the status actions the caller may take."""
    production = production_of(request)
    with production.reading() as session:
        shot = board.shot_view(session, code, who.role, production.settings.fps)
    return _json(shot)


@router.post("/shots/{code}/notes", status_code=201)
def post_note(request: Request, who: Crew, code: ShotCode, body: NoteIn) -> NoteOut:
    """A note (words, a drawing on a frame) with an optional status change, in one transaction."""
    production = production_of(request)
    with production.transaction() as session:
        note, status = review.note_with_status(
            session,
            who.person,
            code,
            body=body.body,
            take_number=body.take,
            frame=body.frame,
            shapes=[s.model_dump(mode="json") for s in body.shapes],
            status=body.status,
            override_reason=body.override_reason,
            context=production,
        )
    return NoteOut(note=note, status=status)


@router.post("/shots/{code}/decisions")
def post_decision(request: Request, who: Crew, code: ShotCode, body: DecisionIn) -> DecisionOut:
    """A status decision; 409 when the workflow refuses, 403 for a role that may not."""
    production = production_of(request)
    with production.transaction() as session:
        decision = review.decide(
            session,
            who.person,
            code,
            body.workflow_action,
            take_number=body.take,
            note=body.note,
            override_reason=body.override_reason,
            context=production,
        )
    return DecisionOut(status=decision.status.value, take=decision.take, event=decision.event_id)


@router.get("/shots/{code}/annotations")
def get_annotations(request: Request, _who: Crew, code: ShotCode) -> board.Annotations:
    """The shot's drawn notes as vector data by integer frame, for export."""
    production = production_of(request)
    with production.reading() as session:
        return board.annotations(session, code, production.settings.fps)


@router.get("/audit")
def get_audit(
    request: Request,
    _who: Decider,
    after: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """A page of the audit trail, oldest first, after event ``after``."""
    with production_of(request).reading() as session:
        page = trail.events(session, after=after, limit=limit)
    return AuditPage(
        events=[
            EventOut(
                id=e.id,
                at=board.iso(e.at),
                actor=e.actor,
                role=e.role,
                action=e.action,
                subject=e.subject,
                detail=e.detail,
                prev_sha256=e.prev_sha256,
                sha256=e.sha256,
            )
            for e in page
        ]  # fmt: skip
    )


@router.get("/audit/verify")
def verify_audit(request: Request, _who: Decider) -> ChainOut:
    """Check the audit trail as ``soundstage audit verify`` does: the hash chain, the signed
    checkpoints (events deleted from the end or rewritten), and the stored statuses and approvals
    against what the events say; whether it is intact, how many events, one line per problem."""
    check = trail.verify_trail(production_of(request))
    newest = check.newest
    checkpoint = None
    if newest is not None:
        checkpoint = CheckpointOut(events=newest.events, head_sha256=newest.head_sha256, at=board.iso(newest.at))
    return ChainOut(
        intact=check.intact,
        events=check.chain.events,
        problems=check.problems,
        head_sha256=check.trail[-1].sha256 if check.trail else None,
        chain_intact=check.chain.intact,
        checkpoint=checkpoint,
        anchors=list(check.anchors.checked),
    )
